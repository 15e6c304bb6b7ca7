"""SqlReviewQueueStore: review queues, their reviewers and label schemas (in the order
given), and the traces queued in them with their status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from heron.entities import Page
from heron.entities.review import (
    ReviewItemType,
    ReviewQueue,
    ReviewQueueItem,
    ReviewQueueType,
    ReviewStatus,
)
from heron.errors import AlreadyExists, NotFound
from heron.store.sql import keyset_tokens
from heron.store.sql.database import Database
from heron.store.sql.tables_review import review_queue_items as items
from heron.store.sql.tables_review import review_queue_schemas as queue_schemas
from heron.store.sql.tables_review import review_queue_users as queue_users
from heron.store.sql.tables_review import review_queues as queues


def _item(row: Any) -> ReviewQueueItem:
    return ReviewQueueItem(
        queue_id=row.queue_id,
        item_id=row.item_id,
        item_type=ReviewItemType(row.item_type),
        status=ReviewStatus(row.status),
        creation_time_ms=row.creation_time_ms,
        last_update_time_ms=row.last_update_time_ms,
        completed_by=row.completed_by,
        completed_time_ms=row.completed_time_ms,
    )


def _members(conn: Connection, queue_ids: list[str]) -> tuple[dict[str, list[str]], ...]:
    users: dict[str, list[str]] = {q: [] for q in queue_ids}
    schema_ids: dict[str, list[str]] = {q: [] for q in queue_ids}
    for row in conn.execute(
        select(queue_users)
        .where(queue_users.c.queue_id.in_(queue_ids))
        .order_by(queue_users.c.position)
    ):
        users[row.queue_id].append(row.user_name)
    for row in conn.execute(
        select(queue_schemas)
        .where(queue_schemas.c.queue_id.in_(queue_ids))
        .order_by(queue_schemas.c.position)
    ):
        schema_ids[row.queue_id].append(row.schema_id)
    return users, schema_ids


def _queues(conn: Connection, rows: list[Any]) -> list[ReviewQueue]:
    users, schema_ids = _members(conn, [r.queue_id for r in rows])
    return [
        ReviewQueue(
            queue_id=r.queue_id,
            experiment_id=str(r.experiment_id),
            name=r.name,
            queue_type=ReviewQueueType(r.queue_type),
            created_by=r.created_by,
            creation_time_ms=r.creation_time_ms,
            last_update_time_ms=r.last_update_time_ms,
            users=tuple(users[r.queue_id]),
            schema_ids=tuple(schema_ids[r.queue_id]),
        )
        for r in rows
    ]


def _write_members(conn: Connection, queue: ReviewQueue) -> None:
    conn.execute(delete(queue_users).where(queue_users.c.queue_id == queue.queue_id))
    conn.execute(delete(queue_schemas).where(queue_schemas.c.queue_id == queue.queue_id))
    if queue.users:
        conn.execute(
            insert(queue_users),
            [
                {"queue_id": queue.queue_id, "user_name": u, "position": i}
                for i, u in enumerate(queue.users)
            ],
        )
    if queue.schema_ids:
        conn.execute(
            insert(queue_schemas),
            [
                {"queue_id": queue.queue_id, "schema_id": s, "position": i}
                for i, s in enumerate(queue.schema_ids)
            ],
        )


def _taken(queue: ReviewQueue) -> AlreadyExists:
    return AlreadyExists(
        f"Experiment {queue.experiment_id} already has a review queue named {queue.name!r}"
    )


class SqlReviewQueueStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def create_queue(self, queue: ReviewQueue) -> ReviewQueue:
        def write(conn: Connection) -> None:
            row = {
                "queue_id": queue.queue_id,
                "experiment_id": int(queue.experiment_id),
                "name": queue.name,
                "queue_type": queue.queue_type.value,
                "created_by": queue.created_by,
                "creation_time_ms": queue.creation_time_ms,
                "last_update_time_ms": queue.last_update_time_ms,
            }
            try:
                with conn.begin_nested():
                    conn.execute(insert(queues), [row])
            except IntegrityError:
                raise _taken(queue) from None
            _write_members(conn, queue)

        self._db.write(write)
        return queue

    def _one(self, *where: Any) -> ReviewQueue | None:
        with self._db.read() as conn:
            rows = list(conn.execute(select(queues).where(*where)))
            return _queues(conn, rows)[0] if rows else None

    def get_queue(self, queue_id: str) -> ReviewQueue:
        found = self._one(queues.c.queue_id == queue_id)
        if found is None:
            raise NotFound(f"No review queue with id {queue_id!r}")
        return found

    def get_queue_by_name(self, experiment_id: str, name: str) -> ReviewQueue:
        found = self._one(queues.c.experiment_id == int(experiment_id), queues.c.name == name)
        if found is None:
            raise NotFound(f"No review queue {name!r} in experiment {experiment_id}")
        return found

    def list_queues(
        self,
        experiment_id: str,
        *,
        user: str | None,
        item_id: str | None,
        max_results: int,
        page_token: str | None,
    ) -> Page[ReviewQueue]:
        scope = f"review-queues/{experiment_id}/{user}/{item_id}"
        query = select(queues).where(queues.c.experiment_id == int(experiment_id))
        if user is not None:
            query = query.where(
                queues.c.queue_id.in_(
                    select(queue_users.c.queue_id).where(queue_users.c.user_name == user)
                )
            )
        if item_id is not None:
            query = query.where(
                queues.c.queue_id.in_(select(items.c.queue_id).where(items.c.item_id == item_id))
            )
        if page_token:
            time, last = keyset_tokens.decode(scope, page_token)
            query = query.where(
                or_(
                    queues.c.creation_time_ms < time,
                    and_(queues.c.creation_time_ms == time, queues.c.queue_id > last),
                )
            )
        query = query.order_by(queues.c.creation_time_ms.desc(), queues.c.queue_id)
        with self._db.read() as conn:
            found = _queues(conn, list(conn.execute(query.limit(max_results + 1))))
        if len(found) <= max_results:
            return Page(found)
        end = found[max_results - 1]
        token = keyset_tokens.encode(scope, end.creation_time_ms, end.queue_id)
        return Page(found[:max_results], token)

    def update_queue(self, queue: ReviewQueue) -> ReviewQueue:
        def write(conn: Connection) -> None:
            values = {
                "name": queue.name,
                "created_by": queue.created_by,
                "last_update_time_ms": queue.last_update_time_ms,
            }
            try:
                with conn.begin_nested():
                    conn.execute(
                        update(queues).where(queues.c.queue_id == queue.queue_id).values(**values)
                    )
            except IntegrityError:
                raise _taken(queue) from None
            _write_members(conn, queue)

        self._db.write(write)
        return queue

    def delete_queue(self, queue_id: str) -> None:
        self._db.write(
            lambda conn: conn.execute(delete(queues).where(queues.c.queue_id == queue_id))
        )

    def add_items(
        self, queue_id: str, item_type: ReviewItemType, item_ids: Sequence[str], now: int
    ) -> list[ReviewQueueItem]:
        def write(conn: Connection) -> None:
            there = set(
                conn.execute(
                    select(items.c.item_id).where(
                        items.c.queue_id == queue_id, items.c.item_id.in_(list(item_ids))
                    )
                ).scalars()
            )
            new = [i for i in item_ids if i not in there]
            last = conn.execute(
                select(func.max(items.c.position)).where(items.c.queue_id == queue_id)
            ).scalar()
            start = 0 if last is None else last + 1
            if new:
                conn.execute(
                    insert(items),
                    [
                        {
                            "queue_id": queue_id,
                            "item_id": i,
                            "item_type": item_type.value,
                            "position": start + n,
                            "status": ReviewStatus.PENDING.value,
                            "creation_time_ms": now,
                            "last_update_time_ms": now,
                        }
                        for n, i in enumerate(new)
                    ],
                )

        self._db.write(write)
        with self._db.read() as conn:
            rows = conn.execute(
                select(items).where(
                    items.c.queue_id == queue_id, items.c.item_id.in_(list(item_ids))
                )
            )
            by_id = {r.item_id: _item(r) for r in rows}
        return [by_id[i] for i in item_ids if i in by_id]

    def remove_items(self, queue_id: str, item_ids: Sequence[str]) -> None:
        self._db.write(
            lambda conn: conn.execute(
                delete(items).where(
                    items.c.queue_id == queue_id, items.c.item_id.in_(list(item_ids))
                )
            )
        )

    def list_items(
        self,
        queue_id: str,
        status: ReviewStatus | None,
        max_results: int,
        page_token: str | None,
    ) -> Page[ReviewQueueItem]:
        scope = f"review-items/{queue_id}/{status.value if status else ''}"
        query = select(items).where(items.c.queue_id == queue_id)
        if status is not None:
            query = query.where(items.c.status == status.value)
        if page_token:
            position, _ = keyset_tokens.decode(scope, page_token)
            query = query.where(items.c.position > position)
        query = query.order_by(items.c.position).limit(max_results + 1)
        with self._db.read() as conn:
            rows = list(conn.execute(query))
        if len(rows) <= max_results:
            return Page([_item(r) for r in rows])
        end = rows[max_results - 1]
        token = keyset_tokens.encode(scope, end.position, end.item_id)
        return Page([_item(r) for r in rows[:max_results]], token)

    def set_item_status(
        self, queue_id: str, item_id: str, status: ReviewStatus, completed_by: str | None, now: int
    ) -> ReviewQueueItem:
        done = status is not ReviewStatus.PENDING
        values = {
            "status": status.value,
            "completed_by": completed_by if done else None,
            "completed_time_ms": now if done else None,
            "last_update_time_ms": now,
        }
        where = (items.c.queue_id == queue_id, items.c.item_id == item_id)

        def write(conn: Connection) -> int:
            return conn.execute(update(items).where(*where).values(**values)).rowcount

        if not self._db.write(write):
            raise NotFound(f"Trace {item_id!r} is not in review queue {queue_id!r}")
        with self._db.read() as conn:
            return _item(conn.execute(select(items).where(*where)).one())

    def count_items(self, queue_id: str) -> dict[ReviewStatus, int]:
        query = (
            select(items.c.status, func.count())
            .where(items.c.queue_id == queue_id)
            .group_by(items.c.status)
        )
        with self._db.read() as conn:
            counts = {ReviewStatus(s): n for s, n in conn.execute(query)}
        return {s: counts.get(s, 0) for s in ReviewStatus}
