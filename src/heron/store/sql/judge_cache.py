"""SqlJudgeCacheStore: judges' verdicts by cache key, with how often each was reused."""

from __future__ import annotations

import orjson
from sqlalchemy import Connection, insert, select, update

from heron.entities.evaluation import CachedVerdict
from heron.store.crypto.fields import Sealer
from heron.store.sql.database import Database
from heron.store.sql.tables_evaluation import judge_cache


class SqlJudgeCacheStore:
    """Verdicts; with field encryption on, `sealer` seals their rationales (copies of the
    assessments' rationales, which are sealed)."""

    def __init__(self, database: Database, sealer: Sealer | None = None) -> None:
        self._db = database
        self._sealer = sealer or Sealer(None)

    def get_verdict(self, key: str) -> CachedVerdict | None:
        """The verdict kept under `key`, counting the hit; None when there is none."""

        def write(conn: Connection) -> CachedVerdict | None:
            row = conn.execute(select(judge_cache).where(judge_cache.c.cache_key == key)).first()
            if row is None:
                return None
            conn.execute(
                update(judge_cache)
                .where(judge_cache.c.cache_key == key)
                .values(hits=judge_cache.c.hits + 1)
            )
            return CachedVerdict(
                key=row.cache_key,
                scorer_digest=row.scorer_digest,
                model=row.model,
                value=None if row.value is None else orjson.loads(row.value),
                rationale=self._sealer.open_optional(
                    row.rationale, f"The rationale of cached verdict {key!r}"
                ),
                input_tokens=row.input_tokens,
                output_tokens=row.output_tokens,
                cost_usd=row.cost_usd,
                create_time=row.create_time,
                hits=row.hits + 1,
            )

        return self._db.write(write)

    def put_verdict(self, verdict: CachedVerdict) -> None:
        """Keeps the verdict; one already under its key stays (the first answer wins)."""

        def write(conn: Connection) -> None:
            there = conn.execute(
                select(judge_cache.c.cache_key).where(judge_cache.c.cache_key == verdict.key)
            ).first()
            if there is not None:
                return
            conn.execute(
                insert(judge_cache).values(
                    cache_key=verdict.key,
                    scorer_digest=verdict.scorer_digest,
                    model=verdict.model,
                    value=orjson.dumps(verdict.value).decode(),
                    rationale=self._sealer.seal_optional(verdict.rationale),
                    input_tokens=verdict.input_tokens,
                    output_tokens=verdict.output_tokens,
                    cost_usd=verdict.cost_usd,
                    create_time=verdict.create_time,
                    hits=0,
                )
            )

        self._db.write(write)
