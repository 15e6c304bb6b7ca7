"""MLflow REST v3: review queues under /api/3.0/mlflow/review-queues (what
`mlflow.genai.review_queues` calls: create, get-or-create a user's queue, get, list, update,
delete, and add, remove, list and set the status of the traces queued)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from heron.entities.review import (
    ReviewItemType,
    ReviewQueue,
    ReviewQueueItem,
    ReviewQueueType,
    ReviewStatus,
)
from heron.errors import InvalidParameter
from heron.server.routing import MLFLOW_V3, under_prefixes
from heron.server.wire import Endpoints, Fields, Json
from heron.services.access import requires
from heron.services.review_queues import ReviewQueueService

QUEUE_TYPES = {"REVIEW_QUEUE_TYPE_UNSPECIFIED": 0, "USER": 1, "CUSTOM": 2}
ITEM_TYPES = {"REVIEW_ITEM_TYPE_UNSPECIFIED": 0, "TRACE": 1}
STATUSES = {"REVIEW_STATUS_UNSPECIFIED": 0, "PENDING": 1, "COMPLETE": 2, "DECLINED": 3}


def queue_json(q: ReviewQueue) -> Json:
    out: Json = {
        "queue_id": q.queue_id,
        "experiment_id": q.experiment_id,
        "name": q.name,
        "queue_type": q.queue_type.value,
        "creation_time_ms": q.creation_time_ms,
        "last_update_time_ms": q.last_update_time_ms,
        "users": list(q.users),
        "schema_ids": list(q.schema_ids),
    }
    if q.created_by is not None:
        out["created_by"] = q.created_by
    return out


def item_json(i: ReviewQueueItem) -> Json:
    out: Json = {
        "queue_id": i.queue_id,
        "item_type": i.item_type.value,
        "item_id": i.item_id,
        "status": i.status.value,
        "creation_time_ms": i.creation_time_ms,
        "last_update_time_ms": i.last_update_time_ms,
    }
    if i.completed_by is not None:
        out["completed_by"] = i.completed_by
    if i.completed_time_ms is not None:
        out["completed_time_ms"] = i.completed_time_ms
    return out


def _named(f: Fields, field: str, names: dict[str, int], *, required: bool = False) -> str | None:
    """An enum field's name; UNSPECIFIED (or absent) is None, or refused when required."""
    number = f.enum(field, names)
    if not number:
        if required:
            allowed = ", ".join(n for n, v in names.items() if v)
            raise InvalidParameter(f"{field} is one of {allowed}")
        return None
    return next(n for n, v in names.items() if v == number)


def _status(f: Fields, *, required: bool = False) -> ReviewStatus | None:
    name = _named(f, "status", STATUSES, required=required)
    return None if name is None else ReviewStatus(name)


def _page(key: str, rows: list[Json], token: str | None) -> Json:
    out: Json = {key: rows}
    if token:
        out["next_page_token"] = token
    return out


def routes(api: Endpoints, service: ReviewQueueService) -> list[BaseRoute]:
    def create(f: Fields) -> Json:
        kind = _named(f, "queue_type", QUEUE_TYPES, required=True)
        queue = service.create_queue(
            f.required_string("experiment_id"),
            f.required_string("name"),
            ReviewQueueType(kind),
            users=f.strings("users"),
            schema_ids=f.strings("schema_ids"),
            created_by=f.string("created_by"),
        )
        return {"review_queue": queue_json(queue)}

    def user_queue(f: Fields) -> Json:
        queue = service.get_or_create_user_queue(
            f.required_string("experiment_id"), f.required_string("user")
        )
        return {"review_queue": queue_json(queue)}

    def get(f: Fields) -> Json:
        return {"review_queue": queue_json(service.get_queue(f.required_string("queue_id")))}

    def get_by_name(f: Fields) -> Json:
        queue = service.get_queue_by_name(
            f.required_string("experiment_id"), f.required_string("name")
        )
        return {"review_queue": queue_json(queue)}

    def list_queues(f: Fields) -> Json:
        page = service.list_queues(
            f.required_string("experiment_id"),
            user=f.string("user"),
            item_id=f.string("item_id"),
            max_results=f.int32("max_results"),
            page_token=f.string("page_token"),
        )
        return _page("review_queues", [queue_json(q) for q in page], page.next_page_token)

    def update(f: Fields) -> Json:
        queue = service.update_queue(
            f.required_string("queue_id"),
            name=f.string("name"),
            new_owner=f.string("new_owner"),
            users=f.strings("users") if f.boolean("update_users") else None,
            schema_ids=f.strings("schema_ids") if f.boolean("update_schema_ids") else None,
        )
        return {"review_queue": queue_json(queue)}

    def delete(f: Fields) -> Json:
        service.delete_queue(f.required_string("queue_id"))
        return {}

    def add_items(f: Fields) -> Json:
        kind = _named(f, "item_type", ITEM_TYPES)
        added = service.add_items(
            f.required_string("queue_id"),
            f.strings("item_ids"),
            None if kind is None else ReviewItemType(kind),
        )
        return {"items": [item_json(i) for i in added]}

    def remove_items(f: Fields) -> Json:
        service.remove_items(f.required_string("queue_id"), f.strings("item_ids"))
        return {}

    def list_items(f: Fields) -> Json:
        page = service.list_items(
            f.required_string("queue_id"),
            _status(f),
            f.int32("max_results"),
            f.string("page_token"),
        )
        return _page("items", [item_json(i) for i in page], page.next_page_token)

    def set_status(f: Fields) -> Json:
        status = _status(f, required=True)
        assert status is not None  # noqa: S101 (required)
        item = service.set_item_status(
            f.required_string("queue_id"),
            f.required_string("item_id"),
            status,
            f.string("completed_by"),
        )
        return {"item": item_json(item)}

    # A queue_id names its experiment: the service checks read, update or annotate on it.
    reads = requires("read", "experiment", "experiment_id")
    on_queue = requires("read", "experiment")
    changes = requires("update", "experiment")
    in_experiment = requires("update", "experiment", "experiment_id")
    return under_prefixes(
        MLFLOW_V3,
        [
            api.post("/review-queues/create", create, in_experiment),
            api.post("/review-queues/get-or-create-user", user_queue, in_experiment),
            api.get("/review-queues/get", get, on_queue),
            api.get("/review-queues/get-by-name", get_by_name, reads),
            api.get("/review-queues/list", list_queues, reads),
            api.post("/review-queues/update", update, changes),
            api.post("/review-queues/delete", delete, changes),
            api.post("/review-queues/items/add", add_items, changes),
            api.post("/review-queues/items/remove", remove_items, changes),
            api.get("/review-queues/items/list", list_items, on_queue),
            api.post("/review-queues/items/set-status", set_status,
                     requires("annotate", "experiment")),
        ],
    )  # fmt: skip
