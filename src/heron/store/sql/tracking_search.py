"""Run and experiment searches compiled to SQLAlchemy Core (on the keyset paging of search_sql).

Filters on params, tags and datasets become correlated EXISTS subqueries (the (run_uuid, key)
primary keys serve them); a metric filter becomes `run_uuid IN (the runs of these experiments
whose latest value passes)`, read from the (experiment_id, key, is_nan, value) index of
latest_metrics. Order keys on params, tags and later metrics become LEFT OUTER JOINs, one alias
per key; a run whose latest metric value is NaN sorts as one without it.

When the first order key is a metric, the search is two statements run one after the other:
the runs with a value for it, joined in the order of that index (so a page reads about as many
index entries as it shows, even with 100,000 runs in the experiment), then, only when those run
out, the runs without one. A single LEFT JOIN would have to read and sort every run first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    and_,
    case,
    exists,
    false,
    null,
    select,
    true,
)

from heron.entities import reserved
from heron.errors import InvalidParameter
from heron.search import Comparison, OrderKey
from heron.store.experiments import ExperimentQuery
from heron.store.ids import experiment_key_or_none
from heron.store.runs import RunQuery
from heron.store.sql import tables as t
from heron.store.sql.search_sql import (
    SearchStatement,
    SortKey,
    compare,
    decode_token,
    dedupe_order,
    experiment_keys,
    key_value_condition,
    lifecycle_stages,
    page_statement,
    query_fingerprint,
    rows_after,
    select_page,
)
from heron.store.sql.visibility import visible
from heron.store.sql.workspaces import in_workspace

_RUN_COLUMNS = {
    "run_id": "run_uuid",
    "run_name": "name",
    "status": "status",
    "user_id": "user_id",
    "artifact_uri": "artifact_uri",
    "lifecycle_stage": "lifecycle_stage",
    "start_time": "start_time",
    "end_time": "end_time",
}
_EXPERIMENT_COLUMNS = ("name", "experiment_id", "creation_time", "last_update_time")


def run_search(query: RunQuery) -> SearchStatement:
    """Compiles a run search: experiments, lifecycle stages, filter, order and page.

    Raises:
        InvalidParameter: a bad experiment id, filter value or page token.
    """
    runs = t.runs
    ids = experiment_keys(query.experiment_ids)
    orders = dedupe_order(query.order_by or (OrderKey("attribute", "start_time", False),))
    on_start = any(o.entity == "attribute" and o.key == "start_time" for o in orders)
    if not on_start:  # MLflow compat: start_time DESC, then run_uuid
        orders.append(OrderKey("attribute", "start_time", False))
    conditions = [
        runs.c.experiment_id.in_(ids),
        runs.c.lifecycle_stage.in_(lifecycle_stages(query.view_type)),
        *(_run_condition(c, ids) for c in query.filter),
    ]
    fingerprint = query_fingerprint(
        "runs", sorted(query.experiment_ids), query.filter, query.order_by, query.view_type
    )
    if orders[0].entity == "metric":
        return _metric_first(query, ids, orders, conditions, fingerprint)
    source, keys = _run_sort_keys(runs, orders)
    return page_statement(runs, source, runs.c.run_uuid, str, keys, conditions, fingerprint, query)


def _metric_first(
    query: RunQuery,
    ids: list[int],
    orders: list[OrderKey],
    conditions: list[ColumnElement[bool]],
    fingerprint: str,
) -> SearchStatement:
    """Runs with a value for the leading metric, in the index's order, then the others."""
    runs, pk = t.runs, t.runs.c.run_uuid
    lead, rest = orders[0], orders[1:]
    lm = t.latest_metrics.alias()
    has_value = and_(
        lm.c.run_uuid == pk,
        lm.c.experiment_id.in_(ids),
        lm.c.key == lead.key,
        lm.c.is_nan == false(),
    )
    valued_source, valued_rest = _run_sort_keys(runs.join(lm, has_value), rest)
    valued = [SortKey(lm.c.value, lead.ascending, False, True), *valued_rest]
    plain_source, plain_rest = _run_sort_keys(runs, rest)
    missing = [SortKey(null(), lead.ascending, True, True), *plain_rest]
    without = [*conditions, pk.not_in(_metric_runs(ids, lead.key))]
    limit = query.max_results + 1
    if query.page_token is None:
        first = select_page(runs, valued_source, pk, valued, conditions, limit)
        then = select_page(runs, plain_source, pk, missing, without, limit)
        return SearchStatement(first, len(valued), "run_uuid", fingerprint, then)
    values, last_id = decode_token(query.page_token, fingerprint, missing, pk, str)
    if values[0] is None:  # the last page ended among the runs without the metric
        after = rows_after(plain_rest, values[1:], pk, last_id)
        only = select_page(runs, plain_source, pk, missing, [*without, *after], limit)
        return SearchStatement(only, len(missing), "run_uuid", fingerprint)
    after = rows_after(valued, values, pk, last_id)
    first = select_page(runs, valued_source, pk, valued, [*conditions, *after], limit)
    then = select_page(runs, plain_source, pk, missing, without, limit)
    return SearchStatement(first, len(valued), "run_uuid", fingerprint, then)


def _metric_runs(ids: list[int], key: str, *passing: ColumnElement[bool]) -> Select[Any]:
    """The runs of these experiments with a (non-NaN) latest value of `key` that passes."""
    lm = t.latest_metrics
    return select(lm.c.run_uuid).where(
        lm.c.experiment_id.in_(ids), lm.c.key == key, lm.c.is_nan == false(), *passing
    )


def experiment_search(query: ExperimentQuery) -> SearchStatement:
    """Compiles an experiment search: lifecycle stages, filter, order and page.

    Raises:
        InvalidParameter: a bad filter value or page token.
    """
    experiments = t.experiments
    keys = []
    for order in dedupe_order(query.order_by or (OrderKey("attribute", "creation_time", False),)):
        if order.entity != "attribute" or order.key not in _EXPERIMENT_COLUMNS:
            raise InvalidParameter(f"Cannot order experiments by {order.entity} {order.key!r}")
        column = experiments.c[order.key]
        keys.append(SortKey(column, order.ascending, False, order.key != "name"))
    conditions = [
        experiments.c.lifecycle_stage.in_(lifecycle_stages(query.view_type)),
        in_workspace(experiments.c.workspace),
        *(_experiment_condition(c) for c in query.filter),
    ]
    shown = visible(experiments.c.experiment_id, query.visible, key=experiment_key_or_none)
    if shown is not None:
        conditions.append(shown)
    fingerprint = query_fingerprint("experiments", query.filter, query.order_by, query.view_type)
    pk = experiments.c.experiment_id
    return page_statement(experiments, experiments, pk, int, keys, conditions, fingerprint, query)


def _run_sort_keys(
    source: FromClause, orders: Sequence[OrderKey]
) -> tuple[FromClause, list[SortKey]]:
    keys = []
    for order in orders:
        source, key = _run_sort_key(source, order)
        keys.append(key)
    return source, keys


def _run_sort_key(source: FromClause, order: OrderKey) -> tuple[FromClause, SortKey]:
    runs = t.runs
    if order.entity == "attribute":
        name = _RUN_COLUMNS.get(order.key)
        if name is None or name == "lifecycle_stage":
            raise InvalidParameter(f"Cannot order runs by attribute {order.key!r}")
        numeric = name in ("start_time", "end_time")
        return source, SortKey(runs.c[name], order.ascending, name == "end_time", numeric)
    table = {"metric": t.latest_metrics, "param": t.params, "tag": t.tags}.get(order.entity)
    if table is None:
        raise InvalidParameter(f"Cannot order runs by {order.entity} {order.key!r}")
    alias = table.alias()
    joined = source.outerjoin(
        alias, and_(alias.c.run_uuid == runs.c.run_uuid, alias.c.key == order.key)
    )
    if order.entity == "metric":  # NaN sorts as missing
        expr: ColumnElement[Any] = case((alias.c.is_nan, null()), else_=alias.c.value)
        return joined, SortKey(expr, order.ascending, True, True)
    return joined, SortKey(alias.c.value, order.ascending, True, False)


def _run_condition(c: Comparison, ids: list[int]) -> ColumnElement[bool]:
    runs = t.runs
    if c.entity == "attribute":
        name = _RUN_COLUMNS.get(c.key)
        if name is None:
            raise InvalidParameter(f"Unknown run attribute {c.key!r} in the filter")
        numeric = name in ("start_time", "end_time")
        return compare(runs.c[name], c, int if numeric else str)
    if c.entity == "metric":
        return runs.c.run_uuid.in_(
            _metric_runs(ids, c.key, compare(t.latest_metrics.c.value, c, float))
        )
    if c.entity in ("param", "tag"):
        table = t.params if c.entity == "param" else t.tags
        return key_value_condition(table, table.c.run_uuid == runs.c.run_uuid, c)
    if c.key == "context":
        rit = t.run_input_tags
        return exists().where(
            rit.c.run_uuid == runs.c.run_uuid,
            rit.c.key == reserved.DATASET_CONTEXT,
            compare(rit.c.value, c, str),
        )
    if c.key not in ("name", "digest"):
        raise InvalidParameter(f"Unknown dataset field {c.key!r} in the filter")
    ri, ds = t.run_inputs, t.datasets
    return (
        exists()
        .select_from(ri.join(ds, ds.c.dataset_uuid == ri.c.dataset_uuid))
        .where(ri.c.run_uuid == runs.c.run_uuid, compare(ds.c[c.key], c, str))
    )


def _experiment_condition(c: Comparison) -> ColumnElement[bool]:
    experiments = t.experiments
    if c.entity == "tag":
        tags = t.experiment_tags
        owner = tags.c.experiment_id == experiments.c.experiment_id
        return key_value_condition(tags, owner, c)
    if c.entity == "attribute" and c.key == "experiment_id" and c.op in ("=", "!="):
        # Ids are integers here and decimal strings on the wire: a string that names no
        # integer equals no experiment.
        text = c.value if isinstance(c.value, str) else ""
        if not (text.isascii() and text.isdigit() and len(text) < 19):
            return false() if c.op == "=" else true()
        number = Comparison(c.entity, c.key, c.op, int(text))
        return compare(experiments.c.experiment_id, number, int)
    if c.entity != "attribute" or c.key not in ("name", "creation_time", "last_update_time"):
        raise InvalidParameter(f"Cannot filter experiments on {c.entity} {c.key!r}")
    return compare(experiments.c[c.key], c, str if c.key == "name" else int)
