"""The versions of an evaluation dataset's records in SQL: each change of records writes a
version row and keeps the records' new states beside their old ones (first_version ..
last_version), so any version's records can be read back; and the dataset's schema of fields,
as MLflow infers it from the records added."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, insert, or_, select, update

from heron.entities import Page
from heron.entities.evaluation import DatasetVersion
from heron.entities.evaluation import dataset_digest as digest
from heron.errors import InvalidParameter, NotFound
from heron.store.sql.tables_evaluation import (
    evaluation_dataset_record_versions as states,
)
from heron.store.sql.tables_evaluation import (
    evaluation_dataset_versions as versions,
)
from heron.store.sql.tables_evaluation import (
    evaluation_datasets as datasets,
)

STATE_COLUMNS = (
    "dataset_record_id", "dataset_id", "inputs", "outputs", "expectations", "tags", "source",
    "created_time", "last_update_time", "created_by", "last_updated_by",
)  # fmt: skip


def version_time(dataset: Any, now: int) -> int:
    """The time of a new version: after the previous one, so two versions made in the same
    millisecond still get different digests."""
    return max(now, int(dataset.last_update_time) + 1)


def record_version(
    conn: Connection,
    dataset: Any,
    *,
    written: Sequence[Mapping[str, Any]],
    replaced: Sequence[str],
    counts: tuple[int, int, int],
    num_records: int,
    user: str | None,
    now: int,
) -> int:
    """Makes version (dataset.version + 1): the records `replaced` (changed or deleted) end
    there, the states `written` (rows of the records table) begin there. `counts` are the
    records (inserted, updated, deleted). Returns the version."""
    number = int(dataset.version) + 1
    if replaced:
        conn.execute(
            update(states)
            .where(states.c.dataset_record_id.in_(list(replaced)), states.c.last_version.is_(None))
            .values(last_version=number)
        )
    if written:
        rows = [{c: row[c] for c in STATE_COLUMNS} for row in written]
        conn.execute(insert(states), [{**r, "first_version": number} for r in rows])
    inserted, updated, deleted = counts
    conn.execute(
        insert(versions).values(
            dataset_id=dataset.dataset_id, version=number, digest=digest(dataset.name, now),
            created_time=now, created_by=user, num_records=num_records, inserted_count=inserted,
            updated_count=updated, deleted_count=deleted,
        )
    )  # fmt: skip
    conn.execute(
        update(datasets)
        .where(datasets.c.dataset_id == dataset.dataset_id)
        .values(
            version=number, digest=digest(dataset.name, now), last_update_time=now,
            last_updated_by=user or dataset.last_updated_by,
            profile=orjson.dumps({"num_records": num_records}).decode(),
        )
    )  # fmt: skip
    return number


def _version(row: Any) -> DatasetVersion:
    return DatasetVersion(
        dataset_id=row.dataset_id, version=row.version, digest=row.digest,
        created_time=row.created_time, created_by=row.created_by, num_records=row.num_records,
        inserted_count=row.inserted_count, updated_count=row.updated_count,
        deleted_count=row.deleted_count,
    )  # fmt: skip


def list_versions(
    conn: Connection, dataset_id: str, max_results: int, page_token: str | None
) -> Page[DatasetVersion]:
    """Newest first; the token is the version the next page starts below."""
    query = select(versions).where(versions.c.dataset_id == dataset_id)
    if page_token:
        if not page_token.isdigit() or len(page_token) > 9:
            raise InvalidParameter(f"Invalid page_token {page_token!r}")
        query = query.where(versions.c.version < int(page_token))
    rows = conn.execute(query.order_by(versions.c.version.desc()).limit(max_results + 1)).all()
    more = len(rows) > max_results
    page = [_version(r) for r in rows[:max_results]]
    return Page(page, str(page[-1].version) if more else None)


def get_version(conn: Connection, dataset_id: str, number: int) -> DatasetVersion:
    row = conn.execute(
        select(versions).where(versions.c.dataset_id == dataset_id, versions.c.version == number)
    ).first()
    if row is None:
        raise NotFound(f"Evaluation dataset {dataset_id!r} has no version {number}")
    return _version(row)


def state_columns() -> tuple[Any, ...]:
    """The columns of a record's state, in the order the records table's reads use."""
    return tuple(states.c[c] for c in STATE_COLUMNS)


def states_at(dataset_id: str, number: int) -> Any:
    """The where-clause of the records of version `number`."""
    return (
        (states.c.dataset_id == dataset_id)
        & (states.c.first_version <= number)
        & or_(states.c.last_version.is_(None), states.c.last_version > number)
    )


def merged_schema(existing: str | None, items: Sequence[Mapping[str, Any]]) -> str | None:
    """The dataset's schema with the fields of `items` added, as MLflow infers it: the type
    of each input, output and expectation field the first time it is seen."""
    if not items and not existing:
        return None
    schema: dict[str, Any] = (
        orjson.loads(existing)
        if existing
        else {"inputs": {}, "outputs": {}, "expectations": {}, "version": "1.0"}
    )
    for item in items:
        for key, value in (item.get("inputs") or {}).items():
            schema["inputs"].setdefault(key, field_type(value))
        outputs = item.get("outputs")
        if isinstance(outputs, Mapping):
            for key, value in outputs.items():
                schema["outputs"].setdefault(key, field_type(value))
        elif outputs is not None and not schema["outputs"]:
            schema["outputs"] = field_type(outputs)
        for key, value in (item.get("expectations") or {}).items():
            schema["expectations"].setdefault(key, field_type(value))
    return json.dumps(schema)  # MLflow's spacing, as its server writes it


def field_type(value: Any) -> str:
    """MLflow's names of JSON types (bool before int: a bool is an int in Python)."""
    for kind, name in ((bool, "boolean"), (int, "integer"), (float, "float"), (str, "string"),
                       (list, "array"), (dict, "object")):  # fmt: skip
        if isinstance(value, kind):
            return name
    return "null" if value is None else "unknown"
