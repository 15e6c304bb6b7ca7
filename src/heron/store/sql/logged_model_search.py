"""The logged-model search compiled to SQLAlchemy Core, paged by the same keyset tokens as runs.

A metric clause is a correlated EXISTS over the model's metric rows (any step, any run, on one
of the scoped datasets when the search names some); param and tag clauses are EXISTS served by
their (model_id, key) primary keys. Ordering by a metric uses its latest value (by timestamp,
then step) as a scalar subquery; a model without it sorts last either way. MLflow's default
order is creation_timestamp DESC, and model_id ends every ORDER BY."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, false, null, or_, select

from heron.errors import InvalidParameter
from heron.search import Comparison
from heron.search.logged_models import DatasetScope, ModelOrderKey
from heron.store.logged_models import LoggedModelQuery
from heron.store.sql.search_sql import (
    SearchStatement,
    SortKey,
    compare,
    experiment_keys,
    key_value_condition,
    page_statement,
    query_fingerprint,
)
from heron.store.sql.tables import (
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
)

_COLUMNS = {
    "name": "name",
    "model_id": "model_id",
    "model_type": "model_type",
    "status": "status",
    "source_run_id": "source_run_id",
    "creation_timestamp": "creation_timestamp_ms",
    "last_updated_timestamp": "last_updated_timestamp_ms",
}
_NUMERIC = ("creation_timestamp_ms", "last_updated_timestamp_ms")
_NULLABLE = ("model_type", "source_run_id")
ACTIVE = "active"


def logged_model_search(query: LoggedModelQuery) -> SearchStatement:
    """Compiles a logged-model search: experiments, active models, filter, order and page.

    Raises:
        InvalidParameter: a bad experiment id, filter value or page token.
    """
    lm = logged_models
    keys: list[SortKey] = []
    seen: set[tuple[str, str, DatasetScope | None]] = set()
    for order in query.order_by:
        if (order.entity, order.key, order.dataset) not in seen:
            seen.add((order.entity, order.key, order.dataset))
            keys.append(_sort_key(order))
    if not any(o.entity == "attribute" and o.key == "creation_timestamp" for o in query.order_by):
        keys.append(SortKey(lm.c.creation_timestamp_ms, False, False, True))
    conditions = [
        lm.c.experiment_id.in_(experiment_keys(query.experiment_ids)),
        lm.c.lifecycle_stage == ACTIVE,
        *(_condition(c, query.datasets) for c in query.filter),
    ]
    if query.datasets and not any(c.entity == "metric" for c in query.filter):
        # Scoped to datasets without a metric clause: models with some metric on one of them.
        conditions.append(exists().where(_metric_of_model(), _on_datasets(query.datasets)))
    fingerprint = query_fingerprint(
        "logged_models",
        sorted(query.experiment_ids),
        query.filter,
        query.datasets,
        query.order_by,
    )
    return page_statement(lm, lm, lm.c.model_id, str, keys, conditions, fingerprint, query)


def _sort_key(order: ModelOrderKey) -> SortKey:
    if order.entity == "attribute":
        name = _COLUMNS.get(order.key)
        if name is None:
            raise InvalidParameter(f"Cannot order logged models by attribute {order.key!r}")
        column = logged_models.c[name]
        return SortKey(column, order.ascending, name in _NULLABLE, name in _NUMERIC)
    m = logged_model_metrics
    scope = [m.c.key == order.key]
    if order.dataset is not None:
        scope.append(_on_datasets([order.dataset]))
    latest = (
        select(case((m.c.is_nan, null()), else_=m.c.value))
        .where(_metric_of_model(), *scope)
        .order_by(m.c.timestamp.desc(), m.c.step.desc(), m.c.run_uuid.asc())
        .limit(1)
        .scalar_subquery()
    )
    return SortKey(latest, order.ascending, True, True)


def _metric_of_model() -> ColumnElement[bool]:
    return logged_model_metrics.c.model_id == logged_models.c.model_id


def _on_datasets(scopes: Sequence[DatasetScope]) -> ColumnElement[bool]:
    m = logged_model_metrics
    return or_(
        *(
            m.c.dataset_name == s.name
            if s.digest is None
            else and_(m.c.dataset_name == s.name, m.c.dataset_digest == s.digest)
            for s in scopes
        )
    )


def _condition(c: Comparison, datasets: Sequence[DatasetScope]) -> ColumnElement[bool]:
    lm = logged_models
    if c.entity == "attribute":
        name = _COLUMNS.get(c.key)
        if name is None:
            raise InvalidParameter(f"Unknown logged model attribute {c.key!r} in the filter")
        return compare(lm.c[name], c, int if name in _NUMERIC else str)
    if c.entity == "metric":
        m = logged_model_metrics
        where: list[ColumnElement[Any]] = [
            _metric_of_model(),
            m.c.key == c.key,
            m.c.is_nan == false(),
            compare(m.c.value, c, float),
        ]
        if datasets:
            where.append(_on_datasets(datasets))
        return exists().where(*where)
    if c.entity in ("param", "tag"):
        table = logged_model_params if c.entity == "param" else logged_model_tags
        return key_value_condition(table, table.c.model_id == lm.c.model_id, c)
    raise InvalidParameter(f"Cannot filter logged models on {c.entity} {c.key!r}")
