"""SqlRunStore's reads: runs with their data in a constant number of queries, metric
histories column by column, and history page tokens."""

from __future__ import annotations

import base64
import functools
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    literal,
    null,
    select,
    tuple_,
    union_all,
)

from heron.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    JsonKeyValues,
    JsonMetrics,
    LifecycleStage,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    MetricColumns,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    reserved,
)
from heron.errors import InvalidParameter
from heron.store.crypto.fields import Sealer
from heron.store.sql.database import fetch
from heron.store.sql.json_sql import bound_list, in_bound_list, json_array_agg, json_array_of
from heron.store.sql.sealed_values import opened_json
from heron.store.sql.search_sql import bindable
from heron.store.sql.tables import (
    datasets,
    latest_metrics,
    metrics,
    params,
    run_input_tags,
    run_inputs,
    run_model_inputs,
    run_model_outputs,
    runs,
    tags,
)

_RUN_COLUMNS = tuple(runs.c)  # run_info reads rows of these, in this order
RUN_BY_ID = select(*_RUN_COLUMNS).where(runs.c.run_uuid == bindparam("run_id"))
RUN_EXISTS = select(runs.c.run_uuid).where(runs.c.run_uuid == bindparam("run_id"))
_HISTORY_ORDER = (metrics.c.step, metrics.c.timestamp, metrics.c.value, metrics.c.is_nan)
HISTORY = (
    select(*_HISTORY_ORDER)
    .where(
        metrics.c.run_uuid == bindparam("run_id"),
        metrics.c.key == bindparam("key"),
        tuple_(*_HISTORY_ORDER)
        > tuple_(bindparam("s"), bindparam("t"), bindparam("v"), bindparam("n")),
    )
    .order_by(*_HISTORY_ORDER)
    .limit(bindparam("limit"))
)
# Before every point: steps are int64 and timestamps are never negative.
HISTORY_START = (-(2**63), -1, 0.0, False)
NO_LIMIT = 2**62


@functools.cache
def _pairs_of(dialect: str, table: Table) -> Select[Any]:
    """(run_uuid, JSON array of {"key", "value"} objects) per run, for JsonKeyValues."""
    fields = {"key": table.c.key, "value": table.c.value}
    return (
        select(table.c.run_uuid, json_array_agg(dialect, fields, table.c.key))
        .where(in_bound_list(table.c.run_uuid))
        .group_by(table.c.run_uuid)
    )


@functools.cache
def _latest_metrics_of(dialect: str) -> Select[Any]:
    """(run_uuid, JSON array of the latest point of each key) per run, for JsonMetrics."""
    m = latest_metrics.c
    return (
        select(m.run_uuid, json_array_of(dialect, m.point_json, m.key))
        .where(in_bound_list(m.run_uuid))
        .group_by(m.run_uuid)
    )


# Enum members by value: a dict lookup, where calling the enum costs microseconds a run.
_STATUSES = {s.value: s for s in RunStatus}
_STAGES = {s.value: s for s in LifecycleStage}


def load_runs(conn: Connection, rows: Sequence[Any], sealer: Sealer) -> list[Run]:
    """Runs with their data and inputs in a constant number of queries. Params, tags and
    latest metrics come as one JSON text per run, built by the database: the server sends
    them on without an object per value (JsonKeyValues, JsonMetrics); sealed values are
    opened in them."""
    ids = [row[0] for row in rows]
    if not ids:
        return []
    dialect = conn.dialect.name
    bound = {"ids": bound_list(ids)}
    run_params = {
        run_id: opened_json(sealer, text, "param")
        for run_id, text in fetch(conn, _pairs_of(dialect, params), bound)
    }
    run_tags = {
        run_id: opened_json(sealer, text, "tag")
        for run_id, text in fetch(conn, _pairs_of(dialect, tags), bound)
    }
    run_metrics = dict(fetch(conn, _latest_metrics_of(dialect), bound))
    inputs = _inputs_of(conn, bound)
    model_inputs, model_outputs = _models_of(conn, bound)
    return [
        Run(
            info=run_info(row),
            data=RunData(
                metrics=JsonMetrics(run_metrics[row[0]]) if row[0] in run_metrics else [],
                params=JsonKeyValues(run_params[row[0]]) if row[0] in run_params else {},
                tags=JsonKeyValues(run_tags[row[0]]) if row[0] in run_tags else {},
            ),
            dataset_inputs=inputs.get(row[0], ()),
            model_inputs=model_inputs.get(row[0], ()),
            model_outputs=model_outputs.get(row[0], ()),
        )
        for row in rows
    ]


# The logged models runs used and produced, in one query: step is NULL for an input.
_MODELS_OF = union_all(
    select(run_model_inputs.c.run_uuid, run_model_inputs.c.model_id, null(), literal(False))
    .where(in_bound_list(run_model_inputs.c.run_uuid)),
    select(run_model_outputs.c.run_uuid, run_model_outputs.c.model_id, run_model_outputs.c.step,
           literal(True))
    .where(in_bound_list(run_model_outputs.c.run_uuid)),
)  # fmt: skip


def _models_of(
    conn: Connection, bound: Mapping[str, str]
) -> tuple[dict[str, list[LoggedModelInput]], dict[str, list[LoggedModelOutput]]]:
    used: dict[str, list[LoggedModelInput]] = defaultdict(list)
    produced: dict[str, list[LoggedModelOutput]] = defaultdict(list)
    rows = sorted(fetch(conn, _MODELS_OF, bound), key=lambda r: (r[0], r[1]))
    for run_uuid, model_id, step, is_output in rows:
        if is_output:
            produced[run_uuid].append(LoggedModelOutput(model_id=model_id, step=step))
        else:
            used[run_uuid].append(LoggedModelInput(model_id=model_id))
    return used, produced


DATASET_SUMMARIES = (
    select(datasets.c.experiment_id, datasets.c.name, datasets.c.digest, run_input_tags.c.value)
    .distinct()
    .join(run_inputs, run_inputs.c.dataset_uuid == datasets.c.dataset_uuid)
    .outerjoin(
        run_input_tags,
        and_(
            run_input_tags.c.run_uuid == run_inputs.c.run_uuid,
            run_input_tags.c.dataset_uuid == run_inputs.c.dataset_uuid,
            run_input_tags.c.key == reserved.DATASET_CONTEXT,
        ),
    )
    .where(in_bound_list(datasets.c.experiment_id))
    .order_by(datasets.c.experiment_id, datasets.c.name, datasets.c.digest, run_input_tags.c.value)
)
_INPUT_TAGS_OF = select(
    run_input_tags.c.run_uuid,
    run_input_tags.c.dataset_uuid,
    run_input_tags.c.key,
    run_input_tags.c.value,
).where(in_bound_list(run_input_tags.c.run_uuid))
_INPUTS_OF = (
    select(
        run_inputs.c.run_uuid, datasets.c.dataset_uuid, datasets.c.name, datasets.c.digest,
        datasets.c.source_type, datasets.c.source, datasets.c.schema, datasets.c.profile,
    )
    .join(datasets, datasets.c.dataset_uuid == run_inputs.c.dataset_uuid)
    .where(in_bound_list(run_inputs.c.run_uuid))
)  # fmt: skip


def _inputs_of(conn: Connection, bound: Mapping[str, str]) -> dict[str, list[DatasetInput]]:
    found: dict[str, list[DatasetInput]] = defaultdict(list)
    inputs = fetch(conn, _INPUTS_OF, bound)
    if not inputs:
        return found
    input_tags: dict[tuple[str, str], list[InputTag]] = defaultdict(list)
    for run_uuid, dataset_uuid, key, value in fetch(conn, _INPUT_TAGS_OF, bound):
        input_tags[(run_uuid, dataset_uuid)].append(InputTag(key=key, value=value))
    for run_uuid, dataset_uuid, name, digest, source_type, source, schema, profile in inputs:
        found[run_uuid].append(
            DatasetInput(
                dataset=Dataset(
                    name=name,
                    digest=digest,
                    source_type=source_type,
                    source=source,
                    schema=schema or "",
                    profile=profile or "",
                ),
                tags=input_tags[(run_uuid, dataset_uuid)],
            )
        )
    return found


def run_info(row: Sequence[Any]) -> RunInfo:
    """A row whose first columns are those of `runs`, in table order (see _RUN_COLUMNS)."""
    run_uuid, experiment_id, name, user_id, status, start, end, artifact_uri, stage = row[:9]
    return RunInfo(
        run_id=run_uuid,
        run_name=name,
        experiment_id=str(experiment_id),
        user_id=user_id,
        status=_STATUSES[status],
        start_time=start,
        end_time=end,
        artifact_uri=artifact_uri,
        lifecycle_stage=_STAGES[stage],
    )


def metric_of_row(key: str, row: Any) -> Metric:
    value = math.nan if row.is_nan else float(row.value)
    return Metric(key=key, value=value, timestamp=row.timestamp, step=row.step)


def history_columns(key: str, rows: Sequence[Sequence[Any]]) -> MetricColumns:
    """(step, timestamp, value, is_nan) rows of one key, column by column."""
    steps, timestamps, values, nans = (list(map(itemgetter(i), rows)) for i in range(4))
    if any(nans):
        values = [math.nan if nan else value for value, nan in zip(values, nans, strict=True)]
    return MetricColumns([key] * len(steps), values, timestamps, steps)


# Sampled histories (the charts' bulk-interval call). Measured on 100,000 points: reading
# them as plain tuples from the cursor and choosing in Python beat both a distinct-steps query
# plus `step IN (...)` and numbering the steps with window functions in SQL (slower still).
_m = metrics.c
STEP_MIN, STEP_MAX = -(2**63), 2**63 - 1  # the whole range of a BIGINT step
HISTORY_POINTS = (
    select(_m.step, _m.timestamp, _m.value, _m.is_nan)
    .where(
        _m.run_uuid == bindparam("run"),
        _m.key == bindparam("key"),
        _m.step.between(bindparam("lo"), bindparam("hi")),
    )
    .order_by(_m.step, _m.timestamp)
)


def sampled_history(
    conn: Connection, run_id: str, key: str, max_results: int, lo: int, hi: int
) -> list[Metric]:
    """At most `max_results` steps spread evenly over the range, the first and last always
    in, plus the points holding the smallest and the largest value."""
    rows = fetch(conn, HISTORY_POINTS, {"run": run_id, "key": key, "lo": lo, "hi": hi})
    steps = sorted({row[0] for row in rows})
    if len(steps) > max_results:
        if max_results == 1:
            keep = {steps[-1]}
        else:
            last = len(steps) - 1
            keep = {steps[round(i * last / (max_results - 1))] for i in range(max_results)}
        finite = [row for row in rows if not row[3]]
        extremes = (
            {min(finite, key=itemgetter(2)), max(finite, key=itemgetter(2))} if finite else set()
        )
        rows = [row for row in rows if row[0] in keep or row in extremes]
    return [
        Metric(key=key, value=math.nan if nan else float(value), timestamp=ts, step=step)
        for step, ts, value, nan in rows
    ]


def encode_history_token(step: int, timestamp: int, value: float, is_nan: bool) -> str:
    raw = orjson.dumps([step, timestamp, value, bool(is_nan)])
    return base64.urlsafe_b64encode(raw).decode()


def decode_history_token(token: str) -> tuple[int, int, float, bool]:
    try:
        step, timestamp, value, is_nan = orjson.loads(base64.urlsafe_b64decode(token))
        if not (
            type(step) is int  # not a bool: PostgreSQL compares no BIGINT with one
            and type(timestamp) is int
            and type(value) in (int, float)
            and isinstance(is_nan, bool)
            and all(map(bindable, (step, timestamp, value)))
        ):
            raise ValueError(token)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise InvalidParameter(
            f"Invalid page_token {token!r}: pass back the token you were given"
        ) from None
    return step, timestamp, float(value), is_nan
