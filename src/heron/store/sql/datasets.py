"""SqlDatasetStore: evaluation datasets, their experiments, and their records (one per distinct
inputs: a record with the same inputs merges into the one there)."""

from __future__ import annotations

import base64
import hashlib
import json
import operator
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from heron.entities import Page
from heron.entities.evaluation import DatasetRecord, DatasetVersion, EvaluationDataset
from heron.errors import InvalidParameter, NotFound
from heron.search.grammar import Comparison, OrderKey
from heron.store.ids import experiment_key_or_none
from heron.store.sql.database import Database
from heron.store.sql.dataset_versions import (
    get_version,
    list_versions,
    merged_schema,
    record_version,
    state_columns,
    states_at,
    version_time,
)
from heron.store.sql.tables_evaluation import (
    evaluation_dataset_experiments as links,
)
from heron.store.sql.tables_evaluation import (
    evaluation_dataset_records as records,
)
from heron.store.sql.tables_evaluation import (
    evaluation_datasets as datasets,
)
from heron.store.sql.visibility import visible as visible_rows
from heron.store.visibility import Visibility


def input_hash(inputs: Any) -> str:
    """SHA-256 of the inputs as JSON with sorted keys: what makes two records the same one."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, default=str).decode()


def _load(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def _dataset(row: Any, experiment_ids: Sequence[str]) -> EvaluationDataset:
    return EvaluationDataset(
        dataset_id=row.dataset_id,
        name=row.name,
        digest=row.digest,
        created_time=row.created_time,
        last_update_time=row.last_update_time,
        tags=_load(row.tags) or {},
        schema=row.dataset_schema,
        profile=row.profile,
        created_by=row.created_by,
        last_updated_by=row.last_updated_by,
        experiment_ids=list(experiment_ids),
        version=row.version,
    )


_RECORD_COLUMNS = (
    records.c.dataset_record_id, records.c.dataset_id, records.c.inputs, records.c.outputs,
    records.c.expectations, records.c.tags, records.c.source, records.c.created_time,
    records.c.last_update_time, records.c.created_by, records.c.last_updated_by,
)  # fmt: skip


def _record(row: Any) -> DatasetRecord:
    """A row of _RECORD_COLUMNS (unpacked by position: a page is 1,000 of them)."""
    record_id, dataset_id, inputs, outputs, expectations, tags, source, created, updated = row[:9]
    loads = orjson.loads
    return DatasetRecord(
        dataset_record_id=record_id, dataset_id=dataset_id, inputs=loads(inputs),
        outputs=None if outputs is None else loads(outputs),
        expectations=None if expectations is None else loads(expectations),
        tags=None if tags is None else loads(tags),
        source=None if source is None else loads(source),
        created_time=created, last_update_time=updated, created_by=row[9],
        last_updated_by=row[10],
    )  # fmt: skip


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        value = int(base64.urlsafe_b64decode(token.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        value = -1
    if value < 0:
        raise InvalidParameter(f"Invalid page_token {token!r}")
    return value


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode()


class SqlDatasetStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def create_dataset(self, dataset: EvaluationDataset) -> EvaluationDataset:
        def write(conn: Connection) -> None:
            conn.execute(
                insert(datasets).values(
                    dataset_id=dataset.dataset_id,
                    name=dataset.name,
                    tags=_json(dict(dataset.tags)),
                    dataset_schema=dataset.schema,
                    profile=dataset.profile,
                    digest=dataset.digest,
                    created_time=dataset.created_time,
                    last_update_time=dataset.last_update_time,
                    created_by=dataset.created_by,
                    last_updated_by=dataset.last_updated_by,
                )
            )
            self._link(conn, dataset.dataset_id, dataset.experiment_ids)

        self._db.write(write)
        return self.get_dataset(dataset.dataset_id)

    def _link(self, conn: Connection, dataset_id: str, experiment_ids: Sequence[str]) -> None:
        have = {
            r[0]
            for r in conn.execute(
                select(links.c.experiment_id).where(links.c.dataset_id == dataset_id)
            )
        }
        new = [int(e) for e in dict.fromkeys(experiment_ids) if int(e) not in have]
        if new:
            conn.execute(
                insert(links), [{"dataset_id": dataset_id, "experiment_id": e} for e in new]
            )

    def get_dataset(self, dataset_id: str) -> EvaluationDataset:
        with self._db.read() as conn:
            row = conn.execute(select(datasets).where(datasets.c.dataset_id == dataset_id)).first()
            if row is None:
                raise NotFound(f"Evaluation dataset {dataset_id!r} does not exist")
            ids = conn.execute(
                select(links.c.experiment_id)
                .where(links.c.dataset_id == dataset_id)
                .order_by(links.c.experiment_id)
            ).scalars()
            return _dataset(row, [str(i) for i in ids])

    def search_datasets(
        self,
        experiment_ids: Sequence[str],
        filters: Sequence[Comparison],
        order_by: Sequence[OrderKey],
        max_results: int,
        page_token: str | None,
        *,
        visible: Visibility | None = None,
        creator: str | None = None,
    ) -> Page[EvaluationDataset]:
        query = select(datasets)
        if experiment_ids:
            linked = select(links.c.dataset_id).where(
                links.c.experiment_id.in_([int(e) for e in experiment_ids])
            )
            query = query.where(datasets.c.dataset_id.in_(linked))
        shown = visible_rows(links.c.experiment_id, visible, key=experiment_key_or_none)
        if shown is not None:
            readable = select(links.c.dataset_id).where(shown)
            query = query.where(
                or_(datasets.c.dataset_id.in_(readable), datasets.c.created_by == creator)
            )
        with self._db.read() as conn:
            rows = [r for r in conn.execute(query).all() if all(_matches(r, c) for c in filters)]
            for key in reversed(order_by or [OrderKey("attribute", "created_time", False)]):
                rows.sort(key=operator.attrgetter(key.key), reverse=not key.ascending)
            start = _offset(page_token)
            page = rows[start : start + max_results]
            pairs = conn.execute(
                select(links.c.dataset_id, links.c.experiment_id).where(
                    links.c.dataset_id.in_([r.dataset_id for r in page])
                )
            ).all()
        by_dataset: dict[str, list[str]] = {}
        for dataset_id, experiment_id in sorted(pairs, key=lambda p: p[1]):
            by_dataset.setdefault(dataset_id, []).append(str(experiment_id))
        more = start + max_results < len(rows)
        return Page(
            [_dataset(r, by_dataset.get(r.dataset_id, [])) for r in page],
            _token(start + max_results) if more else None,
        )

    def delete_dataset(self, dataset_id: str) -> None:
        def write(conn: Connection) -> None:
            conn.execute(delete(records).where(records.c.dataset_id == dataset_id))
            conn.execute(delete(links).where(links.c.dataset_id == dataset_id))
            if not conn.execute(
                delete(datasets).where(datasets.c.dataset_id == dataset_id)
            ).rowcount:
                raise NotFound(f"Evaluation dataset {dataset_id!r} does not exist")

        self._db.write(write)

    def update_dataset(
        self,
        dataset_id: str,
        *,
        tags: Mapping[str, str] | None = None,
        add_experiments: Sequence[str] = (),
        remove_experiments: Sequence[str] = (),
        updated_by: str | None = None,
        now: int,
    ) -> EvaluationDataset:
        def write(conn: Connection) -> None:
            self._exists(conn, dataset_id)
            values: dict[str, Any] = {"last_update_time": now}
            if updated_by is not None:
                values["last_updated_by"] = updated_by
            if tags is not None:
                values["tags"] = _json(dict(tags))
            conn.execute(
                update(datasets).where(datasets.c.dataset_id == dataset_id).values(**values)
            )
            self._link(conn, dataset_id, add_experiments)
            if remove_experiments:
                conn.execute(
                    delete(links).where(
                        links.c.dataset_id == dataset_id,
                        links.c.experiment_id.in_([int(e) for e in remove_experiments]),
                    )
                )

        self._db.write(write)
        return self.get_dataset(dataset_id)

    def _exists(self, conn: Connection, dataset_id: str, *, lock: bool = False) -> Any:
        """The dataset's row (NotFound without one). With `lock`, held until the transaction
        ends (PostgreSQL; SQLite writes one at a time): two changes of records at once make
        two versions one after the other, not the same version twice."""
        query = select(datasets).where(datasets.c.dataset_id == dataset_id)
        row = conn.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise NotFound(f"Evaluation dataset {dataset_id!r} does not exist")
        return row

    def upsert_records(
        self, dataset_id: str, items: Sequence[Mapping[str, Any]], *, user: str | None, now: int
    ) -> tuple[int, int]:
        """(inserted, updated). A record whose inputs are already there merges into that one:
        its expectations and tags are added to (a key given again is replaced), its outputs
        and source replaced when given. When a record changed, the records' new states are a
        new version of the dataset (and its digest changes); otherwise nothing is written."""

        def write(conn: Connection) -> tuple[int, int]:
            dataset = self._exists(conn, dataset_id, lock=True)
            stamp = version_time(dataset, now)
            hashed = {input_hash(i["inputs"]): i for i in items}  # the last of equal inputs wins
            existing = {
                r.input_hash: r
                for r in conn.execute(
                    select(records).where(
                        records.c.dataset_id == dataset_id, records.c.input_hash.in_(list(hashed))
                    )
                )
            }
            new = [
                _new_row(dataset_id, h, i, user, stamp)
                for h, i in hashed.items()
                if h not in existing
            ]
            changed = _changed(existing, hashed, user, stamp)
            if not new and not changed:
                return 0, len(existing)
            if new:
                conn.execute(insert(records), new)
            for state in changed:
                conn.execute(
                    update(records)
                    .where(records.c.dataset_record_id == state["dataset_record_id"])
                    .values(**{k: state[k] for k in _MERGED})
                )
            conn.execute(
                update(datasets)
                .where(datasets.c.dataset_id == dataset_id)
                .values(dataset_schema=merged_schema(dataset.dataset_schema, list(hashed.values())))
            )
            record_version(
                conn, dataset, written=[*new, *changed],
                replaced=[c["dataset_record_id"] for c in changed],
                counts=(len(new), len(changed), 0), num_records=self._count(conn, dataset_id),
                user=user, now=stamp,
            )  # fmt: skip
            return len(new), len(existing)

        return self._db.write(write)

    def _count(self, conn: Connection, dataset_id: str) -> int:
        return int(
            conn.execute(
                select(func.count()).select_from(records).where(records.c.dataset_id == dataset_id)
            ).scalar_one()
        )

    def get_records(
        self,
        dataset_id: str,
        max_results: int,
        page_token: str | None,
        *,
        version: int | None = None,
    ) -> Page[DatasetRecord]:
        """One page of records, oldest first (keyset paging on time and id): the present
        ones, or those of `version`."""
        columns = _RECORD_COLUMNS if version is None else state_columns()
        created, record_id_column = columns[7], columns[0]
        query = select(*columns).where(
            records.c.dataset_id == dataset_id
            if version is None
            else states_at(dataset_id, version)
        )
        if page_token:
            time, record_id = _keyset(page_token)
            query = query.where(
                or_(created > time, and_(created == time, record_id_column > record_id))
            )
        query = query.order_by(created, record_id_column)
        with self._db.read() as conn:
            self._exists(conn, dataset_id)
            if version is not None:
                get_version(conn, dataset_id, version)  # raises NotFound
            rows = [tuple(r) for r in conn.execute(query.limit(max_results + 1))]
        page = [_record(r) for r in rows[:max_results]]
        token = None
        if len(rows) > max_results:
            last = rows[max_results - 1]
            token = base64.urlsafe_b64encode(f"{last[7]}:{last[0]}".encode()).decode()
        return Page(page, token)

    def delete_records(
        self, dataset_id: str, record_ids: Sequence[str], *, user: str | None = None, now: int = 0
    ) -> int:
        """Deleting records is a new version of the dataset (when any was there)."""

        def write(conn: Connection) -> int:
            dataset = self._exists(conn, dataset_id, lock=True)
            found = list(
                conn.execute(
                    select(records.c.dataset_record_id).where(
                        records.c.dataset_id == dataset_id,
                        records.c.dataset_record_id.in_(list(record_ids)),
                    )
                ).scalars()
            )
            if not found:
                return 0
            conn.execute(delete(records).where(records.c.dataset_record_id.in_(found)))
            record_version(
                conn, dataset, written=[], replaced=found, counts=(0, 0, len(found)),
                num_records=self._count(conn, dataset_id), user=user,
                now=version_time(dataset, now),
            )  # fmt: skip
            return len(found)

        return self._db.write(write)

    def list_versions(
        self, dataset_id: str, max_results: int, page_token: str | None
    ) -> Page[DatasetVersion]:
        with self._db.read() as conn:
            self._exists(conn, dataset_id)
            return list_versions(conn, dataset_id, max_results, page_token)

    def get_version(self, dataset_id: str, version: int) -> DatasetVersion:
        with self._db.read() as conn:
            self._exists(conn, dataset_id)
            return get_version(conn, dataset_id, version)


def _keyset(token: str) -> tuple[int, str]:
    try:
        time, record_id = base64.urlsafe_b64decode(token.encode()).decode().split(":", 1)
        return int(time), record_id
    except (ValueError, UnicodeDecodeError):
        raise InvalidParameter(f"Invalid page_token {token!r}") from None


def _new_row(
    dataset_id: str, digest: str, item: Mapping[str, Any], user: str | None, now: int
) -> dict[str, Any]:
    return {
        "dataset_record_id": "dr-" + uuid.uuid4().hex,
        "dataset_id": dataset_id,
        "input_hash": digest,
        "inputs": _json(item["inputs"]),
        "outputs": _json(item.get("outputs")),
        "expectations": _json(item.get("expectations")),
        "tags": _json(item.get("tags")),
        "source": _json(item.get("source")),
        "created_time": now,
        "last_update_time": now,
        "created_by": user,
        "last_updated_by": user,
    }


_MERGED = ("expectations", "tags", "outputs", "source", "last_update_time", "last_updated_by")


def _changed(
    existing: Mapping[str, Any], hashed: Mapping[str, Mapping[str, Any]], user: str | None, now: int
) -> list[dict[str, Any]]:
    """The new states (whole rows) of the records the items change; records they leave as
    they are, not listed."""
    out = []
    for h, row in existing.items():
        state = dict(row._mapping)
        item = hashed[h]
        for column in ("expectations", "tags"):
            if item.get(column):
                state[column] = _json({**(_load(getattr(row, column)) or {}), **item[column]})
        for column in ("outputs", "source"):
            if item.get(column) is not None:
                state[column] = _json(item[column])
        if any(state[c] != getattr(row, c) for c in ("expectations", "tags", "outputs", "source")):
            state["last_update_time"] = now
            state["last_updated_by"] = user or row.last_updated_by
            out.append(state)
    return out


def _matches(row: Any, c: Comparison) -> bool:
    value = (_load(row.tags) or {}).get(c.key) if c.entity == "tag" else getattr(row, c.key)
    if value is None:
        return c.op == "!=" or c.op == "NOT IN"
    text = str(value)
    if c.op == "=":
        return text == c.value
    if c.op == "!=":
        return text != c.value
    if c.op in ("IN", "NOT IN"):
        listed = c.value if isinstance(c.value, tuple) else ()
        return (text in listed) == (c.op == "IN")
    pattern = "".join(
        ".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in str(c.value)
    )
    return (
        re.fullmatch(pattern, text, re.DOTALL | (re.IGNORECASE if c.op == "ILIKE" else 0))
        is not None
    )
