"""SqlTraceStore: traces, their spans, tags and metadata in SQL rows."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, exists, literal_column, select, update

from heron.entities import LifecycleStage, Page, reserved
from heron.entities.trace import Span, Trace, TraceInfo
from heron.errors import InvalidParameter, NotFound
from heron.store import ids
from heron.store.crypto.fields import Sealer
from heron.store.sql.database import Database, fetch, run, run_many
from heron.store.sql.json_sql import bound_list, in_bound_list
from heron.store.sql.sealed_values import opened_pairs, sealed_pairs
from heron.store.sql.tables import (
    assessments,
    experiment_tags,
    experiments,
    spans,
    trace_metadata,
    trace_tags,
    traces,
)
from heron.store.sql.traces_derived import COST_FIELDS, metadata_columns, span_costs
from heron.store.sql.traces_root import NO_DERIVED, placeholder_row, root_update, token_sum
from heron.store.sql.traces_rows import (
    TRACE_COLUMNS,
    load_infos,
    span_row,
    with_their_spans,
)
from heron.store.sql.traces_sealed import (
    refuse_sealed_clauses,
    sealed_metadata,
)
from heron.store.sql.traces_sealed_spans import seal_span_content
from heron.store.sql.traces_search import trace_search
from heron.store.traces import TraceQuery

_EXPERIMENT = select(experiments.c.artifact_location, experiments.c.lifecycle_stage).where(
    experiments.c.experiment_id == bindparam("experiment_id")
)
_EXISTING = select(traces.c.trace_id, traces.c.experiment_id).where(
    in_bound_list(traces.c.trace_id)
)
_INFOS = select(*TRACE_COLUMNS).where(in_bound_list(traces.c.trace_id))
_DELETE = delete(traces).where(in_bound_list(traces.c.trace_id))
_FROM_ROOT = (
    update(traces)
    .where(traces.c.trace_id == bindparam("tid"), traces.c.state == bindparam("in_progress"))
    .values(
        state=bindparam("state"),
        request_time=bindparam("request_time"),
        execution_duration=bindparam("execution_duration"),
        request_preview=bindparam("request_preview"),
        response_preview=bindparam("response_preview"),
    )
)
_ADD_TOKENS = (
    update(traces)
    .where(traces.c.trace_id == bindparam("tid"))
    .values(
        input_tokens=bindparam("input_tokens"),
        output_tokens=bindparam("output_tokens"),
        total_tokens=bindparam("total_tokens"),
    )
)
# The spans' costs, unless the trace's metadata says what it cost (MLflow's client sends it).
_ADD_COSTS = (
    update(traces)
    .where(
        traces.c.trace_id == bindparam("tid"),
        ~exists().where(
            trace_metadata.c.trace_id == traces.c.trace_id,
            trace_metadata.c.key == literal_column(f"'{reserved.TRACE_COST}'"),  # not a parameter
        ),
    )
    .values({k: bindparam(k) for k in COST_FIELDS})
)
# Assessments keep their trace's start time and app version for the GenAI views' scores.
_OF_TRACE = traces.c.trace_id == assessments.c.trace_id
_SYNC_ASSESSMENTS = (
    update(assessments)
    .where(in_bound_list(assessments.c.trace_id))
    .values(
        trace_time=select(traces.c.request_time).where(_OF_TRACE).scalar_subquery(),
        model_id=select(traces.c.model_id).where(_OF_TRACE).scalar_subquery(),
    )
)
_SET_CLIENT_REQUEST_ID = (
    update(traces)
    .where(traces.c.trace_id == bindparam("tid"))
    .values(client_request_id=bindparam("crid"))
)


@functools.cache
def _upsert(dialect: str, table_name: str) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE for spans, tags and metadata (built once per dialect)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    table = {"spans": spans, "trace_tags": trace_tags, "trace_metadata": trace_metadata}[table_name]
    stmt = insert(table)
    keys = [c.name for c in table.primary_key.columns]
    return stmt.on_conflict_do_update(
        index_elements=keys,
        set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys},
    )


@functools.cache
def _insert_trace(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert(traces).on_conflict_do_nothing(index_elements=["trace_id"])


def _not_found(trace_id: str) -> NotFound:
    return NotFound(f"Trace with ID {trace_id!r} not found")


class SqlTraceStore:
    """Traces in SQL. With field encryption on, `sealer` seals the previews, the spans'
    inputs and outputs, and tags of sensitive keys (refusing the searches that would read
    them)."""

    def __init__(self, database: Database, sealer: Sealer | None = None) -> None:
        self._db = database
        self._sealer = sealer or Sealer(None)

    # -- writes ------------------------------------------------------------------------------

    def start_trace(self, info: TraceInfo) -> TraceInfo:
        values = {
            "trace_id": info.trace_id,
            "experiment_id": int(info.experiment_id),
            "client_request_id": info.client_request_id,
            "request_time": info.request_time,
            "execution_duration": info.execution_duration,
            "state": info.state.value,
            "request_preview": self._sealer.seal_optional(info.request_preview),
            "response_preview": self._sealer.seal_optional(info.response_preview),
        }
        new_row = {
            **values, "input_tokens": None, "output_tokens": None, "total_tokens": None,
            **NO_DERIVED,
        }  # fmt: skip
        usage = info.token_usage

        def write(conn: Connection) -> None:
            location = _experiment_location(conn, info.experiment_id)
            _create_traces(conn, location, [new_row])
            changes = {k: v for k, v in values.items() if k != "trace_id"}
            if usage is not None:
                changes.update(
                    input_tokens=usage.input_tokens,
                    output_tokens=usage.output_tokens,
                    total_tokens=usage.total_tokens,
                )
            changes.update(metadata_columns(info.trace_metadata))
            conn.execute(update(traces).where(traces.c.trace_id == info.trace_id).values(changes))
            _upsert_pairs(conn, "trace_tags", info.trace_id, sealed_pairs(self._sealer, info.tags))
            _upsert_pairs(
                conn,
                "trace_metadata",
                info.trace_id,
                sealed_metadata(self._sealer, info.trace_metadata),
            )
            run(conn, _SYNC_ASSESSMENTS, {"ids": bound_list([info.trace_id])})

        self._db.write(write)
        return self.get_trace_info(info.trace_id)

    def log_spans(
        self,
        experiment_id: str,
        spans_: Sequence[Span],
        *,
        tags: Mapping[str, Mapping[str, str]] | None = None,
        metadata: Mapping[str, Mapping[str, str]] | None = None,
        client_request_ids: Mapping[str, str] | None = None,
    ) -> int:
        by_trace: dict[str, list[Span]] = defaultdict(list)
        for span in spans_:
            by_trace[span.trace_id].append(span)
        new_rows = [placeholder_row(tid, experiment_id, group) for tid, group in by_trace.items()]
        root_updates = []
        names: dict[str, str] = {}
        tokens = []
        costs = []
        for tid, group in by_trace.items():
            root = next((s for s in group if s.parent_span_id is None), None)
            if root is not None:
                root_updates.append(root_update(root, self._sealer))
                names[tid] = root.name
                usage = token_sum(group)
                if usage is not None:
                    tokens.append({"tid": tid, **usage})
                cost = span_costs(group)
                if cost is not None:
                    costs.append({"tid": tid, **cost})
        exp = ids.experiment_key(experiment_id)
        rows = [seal_span_content(self._sealer, s, span_row(s, exp)) for s in spans_]
        name_rows = [
            {"trace_id": t, "key": reserved.TRACE_NAME, "value": n} for t, n in names.items()
        ]
        tag_rows = _pair_rows(
            {tid: sealed_pairs(self._sealer, pairs) for tid, pairs in (tags or {}).items()}
        )
        metadata_rows = _pair_rows(
            {tid: sealed_metadata(self._sealer, pairs) for tid, pairs in (metadata or {}).items()}
        )

        def write(conn: Connection) -> int:
            location = _experiment_location(conn, experiment_id)
            _create_traces(conn, location, new_rows)
            run_many(conn, _upsert(conn.dialect.name, "spans"), rows)
            run_many(conn, _FROM_ROOT, root_updates)
            run_many(conn, _ADD_TOKENS, tokens)
            run_many(
                conn,
                _SET_CLIENT_REQUEST_ID,
                [{"tid": t, "crid": c} for t, c in (client_request_ids or {}).items()],
            )
            run_many(conn, _insert_missing_tag(conn.dialect.name), name_rows)
            run_many(conn, _upsert(conn.dialect.name, "trace_tags"), tag_rows)
            run_many(conn, _upsert(conn.dialect.name, "trace_metadata"), metadata_rows)
            run_many(conn, _ADD_COSTS, costs)
            _set_derived(conn, metadata or {})
            moved = {u["tid"] for u in root_updates}
            moved.update(
                t for t, pairs in (metadata or {}).items() if reserved.TRACE_MODEL_ID in pairs
            )
            if moved:
                run(conn, _SYNC_ASSESSMENTS, {"ids": bound_list(moved)})
            return len(by_trace)

        return self._db.write(write)

    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None:
        def write(conn: Connection) -> None:
            _require(conn, trace_id)
            _upsert_pairs(conn, "trace_tags", trace_id, sealed_pairs(self._sealer, {key: value}))

        self._db.write(write)

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        def write(conn: Connection) -> None:
            _require(conn, trace_id)
            gone = conn.execute(
                delete(trace_tags).where(trace_tags.c.trace_id == trace_id, trace_tags.c.key == key)
            )
            if gone.rowcount == 0:
                raise NotFound(f"No tag with key {key!r} on trace {trace_id!r}")

        self._db.write(write)

    def delete_traces(
        self,
        experiment_id: str,
        *,
        trace_ids: Sequence[str] = (),
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
    ) -> int:
        exp = ids.experiment_key(experiment_id)

        def write(conn: Connection) -> int:
            if trace_ids:
                doomed = [
                    row[0]
                    for row in fetch(conn, _EXISTING, {"ids": bound_list(trace_ids)})
                    if row[1] == exp
                ]
            else:
                query = (
                    select(traces.c.trace_id)
                    .where(
                        traces.c.experiment_id == exp,
                        traces.c.request_time <= (max_timestamp_millis or 0),
                    )
                    .order_by(traces.c.request_time, traces.c.trace_id)
                )
                if max_traces is not None:
                    query = query.limit(max_traces)
                doomed = [row[0] for row in conn.execute(query)]
            run(conn, _DELETE, {"ids": bound_list(doomed)})  # one parameter, however many
            return len(doomed)

        return self._db.write(write)

    # -- reads -------------------------------------------------------------------------------

    def retention_tags(self, key: str) -> dict[str, str]:
        query = select(experiment_tags.c.experiment_id, experiment_tags.c.value).where(
            experiment_tags.c.key == key
        )
        with self._db.read() as conn:
            found = {str(row[0]): row[1] for row in conn.execute(query)}
        return opened_pairs(self._sealer, found, f"experiment tag {key!r} of experiment")

    def get_trace_info(self, trace_id: str) -> TraceInfo:
        with self._db.read() as conn:
            rows = fetch(conn, _INFOS, {"ids": bound_list([trace_id])})
            if not rows:
                raise _not_found(trace_id)
            return load_infos(conn, rows, self._sealer)[0]

    def experiment_of(self, trace_id: str) -> str:
        with self._db.read() as conn:
            rows = fetch(conn, _EXISTING, {"ids": bound_list([trace_id])})
        if not rows:
            raise _not_found(trace_id)
        return str(rows[0][1])

    def get_traces(self, trace_ids: Sequence[str], *, with_spans: bool = True) -> list[Trace]:
        if not trace_ids:
            return []
        with self._db.read() as conn:
            infos = load_infos(
                conn, fetch(conn, _INFOS, {"ids": bound_list(trace_ids)}), self._sealer
            )
            found = (
                with_their_spans(conn, infos, self._sealer)
                if with_spans
                else [Trace(info=i) for i in infos]
            )
        by_id = {t.info.trace_id: t for t in found}
        return [by_id[t] for t in dict.fromkeys(trace_ids) if t in by_id]

    def search_traces(self, query: TraceQuery) -> Page[Trace]:
        refuse_sealed_clauses(self._sealer, query.filter)
        statement = trace_search(query)
        with self._db.read() as conn:
            rows = conn.execute(statement.select).all()
            page_rows = rows[: query.max_results]
            infos = load_infos(
                conn, [tuple(row[: len(TRACE_COLUMNS)]) for row in page_rows], self._sealer
            )
            found = (
                with_their_spans(conn, infos, self._sealer)
                if query.include_spans
                else [Trace(info=i) for i in infos]
            )
        token = None
        if len(rows) > query.max_results:
            token = statement.next_token(rows[query.max_results - 1])
        return Page(found, token)


def _experiment_location(conn: Connection, experiment_id: str) -> str:
    found = fetch(conn, _EXPERIMENT, {"experiment_id": ids.experiment_key(experiment_id)})
    if not found:
        raise NotFound(f"No Experiment with id={experiment_id} exists")
    location, stage = found[0]
    if stage != LifecycleStage.ACTIVE.value:
        raise InvalidParameter(
            f"The experiment {experiment_id} is deleted; restore it before logging traces to it"
        )
    return str(location)


def _create_traces(conn: Connection, location: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Inserts the traces that do not exist yet, with the tags every stored trace carries."""
    if not rows:
        return
    ids = bound_list(r["trace_id"] for r in rows)
    existing = {r[0] for r in fetch(conn, _EXISTING, {"ids": ids})}
    new = [r for r in rows if r["trace_id"] not in existing]
    if not new:
        return
    run_many(conn, _insert_trace(conn.dialect.name), new)
    base = location.rstrip("/")
    tag_rows = []
    for r in new:
        tid = r["trace_id"]
        tag_rows.append(
            {"trace_id": tid, "key": reserved.TRACE_SPANS_LOCATION, "value": "TRACKING_STORE"}
        )
        tag_rows.append(
            {
                "trace_id": tid,
                "key": reserved.TRACE_ARTIFACT_LOCATION,
                "value": f"{base}/traces/{tid}/artifacts",
            }
        )
    run_many(conn, _upsert(conn.dialect.name, "trace_tags"), tag_rows)


def upsert_trace_tags(conn: Connection, trace_id: str, pairs: Mapping[str, str]) -> None:
    """Sets tags of a trace in the write `conn` belongs to (the trace exists)."""
    _upsert_pairs(conn, "trace_tags", trace_id, pairs)


def _upsert_pairs(conn: Connection, table: str, trace_id: str, pairs: Mapping[str, str]) -> None:
    if pairs:
        run_many(
            conn,
            _upsert(conn.dialect.name, table),
            [{"trace_id": trace_id, "key": k, "value": v} for k, v in pairs.items()],
        )


def _set_derived(conn: Connection, metadata: Mapping[str, Mapping[str, str]]) -> None:
    """Copies what the merged metadata says (session, app version, cost) into the traces'
    own columns, one executemany for each set of columns."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for tid, pairs in metadata.items():
        columns = metadata_columns(pairs)
        if columns:
            groups[tuple(sorted(columns))].append({"tid": tid, **columns})
    for names, rows in groups.items():
        run_many(conn, _derived_update(names), rows)


@functools.cache
def _derived_update(names: tuple[str, ...]) -> Any:
    return (
        update(traces)
        .where(traces.c.trace_id == bindparam("tid"))
        .values({n: bindparam(n) for n in names})
    )


@functools.cache
def _insert_missing_tag(dialect: str) -> Any:
    """INSERT of a tag that keeps the value already there (built once per dialect)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert(trace_tags).on_conflict_do_nothing(index_elements=["trace_id", "key"])


def _pair_rows(by_trace: Mapping[str, Mapping[str, str]] | None) -> list[dict[str, str]]:
    """Rows of trace_tags or trace_metadata for the pairs of each trace: one executemany for
    a whole request, however many traces it holds."""
    return [
        {"trace_id": tid, "key": k, "value": v}
        for tid, pairs in (by_trace or {}).items()
        for k, v in pairs.items()
    ]


def _require(conn: Connection, trace_id: str) -> None:
    if not fetch(conn, _EXISTING, {"ids": bound_list([trace_id])}):
        raise _not_found(trace_id)
