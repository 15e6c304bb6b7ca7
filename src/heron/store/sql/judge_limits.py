"""SqlJudgeLimitStore: one row per judge endpoint, the token bucket that the processes
calling it share: a process adds the tokens it used and the pause a 429 asked for, and reads
back what all of them used in the current minute."""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from heron.entities.evaluation import SharedLimits
from heron.store.sql.database import Database, insert_for
from heron.store.sql.tables_evaluation import judge_limits


class SqlJudgeLimitStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def merge_limits(
        self, key: str, tokens: int, paused_until_ms: int, now_ms: int, window_ms: int
    ) -> SharedLimits:
        """Adds `tokens` to the endpoint's current window (a new one when `window_ms` has
        passed since it began) and keeps the later of the two pauses, in one transaction
        (the row locked on PostgreSQL); returns the bucket as it now stands, its times
        counted from `now_ms`."""

        def write(conn: Connection) -> SharedLimits:
            conn.execute(
                insert_for(conn, judge_limits)
                .values(endpoint_key=key, window_start_ms=now_ms, window_tokens=0,
                        paused_until_ms=0)
                .on_conflict_do_nothing(index_elements=["endpoint_key"])
            )  # fmt: skip
            row = conn.execute(
                select(judge_limits).where(judge_limits.c.endpoint_key == key).with_for_update()
            ).one()
            start, used = row.window_start_ms, row.window_tokens
            if now_ms - start >= window_ms or now_ms < start:  # a new minute (or a clock step)
                start, used = now_ms, 0
            paused = max(row.paused_until_ms, paused_until_ms)
            conn.execute(
                update(judge_limits)
                .where(judge_limits.c.endpoint_key == key)
                .values(window_start_ms=start, window_tokens=used + tokens, paused_until_ms=paused)
            )
            return SharedLimits(
                window_tokens=used + tokens,
                window_left_ms=start + window_ms - now_ms,
                pause_left_ms=max(0, paused - now_ms),
            )

        return self._db.write(write)
