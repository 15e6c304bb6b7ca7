"""SqlTraceLinkStore: traces linked to runs (trace_run_links) and to the prompt versions they
used (the trace's `mlflow.linkedPrompts` tag, a JSON list of {"name", "version"}, as MLflow
writes it and the search and GenAI views read it)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, select

from heron.entities import reserved
from heron.errors import NotFound
from heron.store.sql.database import Database, fetch, run_many
from heron.store.sql.json_sql import bound_list, in_bound_list
from heron.store.sql.tables import trace_run_links, trace_tags, traces
from heron.store.sql.traces import upsert_trace_tags

_EXISTING = select(traces.c.trace_id).where(in_bound_list(traces.c.trace_id, "ids"))
_LINKED = select(trace_run_links.c.trace_id).where(
    trace_run_links.c.run_id == bindparam("run_id"), in_bound_list(trace_run_links.c.trace_id)
)
_LINKED_PROMPTS = select(trace_tags.c.value).where(
    trace_tags.c.trace_id == bindparam("trace_id"), trace_tags.c.key == reserved.LINKED_PROMPTS
)


class SqlTraceLinkStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def link_traces_to_run(self, trace_ids: Sequence[str], run_id: str) -> int:
        wanted = list(dict.fromkeys(trace_ids))

        def write(conn: Connection) -> int:
            found = {row[0] for row in fetch(conn, _EXISTING, {"ids": bound_list(wanted)})}
            params = {"run_id": run_id, "ids": bound_list(found)}
            linked = {row[0] for row in fetch(conn, _LINKED, params)}
            new = [t for t in wanted if t in found and t not in linked]
            now = int(time.time() * 1000)
            rows: list[dict[str, Any]] = [
                {"trace_id": t, "run_id": run_id, "linked_time": now} for t in new
            ]
            if rows:
                run_many(conn, trace_run_links.insert(), rows)
            return len(rows)

        return self._db.write(write)

    def link_prompts_to_trace(self, trace_id: str, versions: Sequence[tuple[str, str]]) -> None:
        def write(conn: Connection) -> None:
            if not fetch(conn, _EXISTING, {"ids": bound_list([trace_id])}):
                raise NotFound(f"Trace with ID '{trace_id}' not found.")
            current = fetch(conn, _LINKED_PROMPTS, {"trace_id": trace_id})
            links = _prompt_links(current[0][0] if current else None)
            for name, version in versions:
                if {"name": name, "version": version} not in links:
                    links.append({"name": name, "version": version})
            upsert_trace_tags(
                conn, trace_id, {reserved.LINKED_PROMPTS: orjson.dumps(links).decode()}
            )

        self._db.write(write)


def _prompt_links(text: str | None) -> list[dict[str, str]]:
    """The links a tag holds; what is not a list of {name, version} is dropped."""
    try:
        found = orjson.loads(text) if text else []
    except orjson.JSONDecodeError:
        return []
    if not isinstance(found, list):
        return []
    return [
        {"name": str(item["name"]), "version": str(item["version"])}
        for item in found
        if isinstance(item, dict) and "name" in item and "version" in item
    ]
