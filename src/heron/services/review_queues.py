"""ReviewQueueService: queues of traces for people to review, with MLflow's rules. A USER
queue is one reviewer's (named for them, asking every label schema of its experiment); a
CUSTOM queue has a name, up to 10 reviewers and the schemas it asks. Each queued trace is
PENDING until a reviewer marks it COMPLETE or DECLINED."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence

from heron.clock import now_ms
from heron.entities import Page
from heron.entities.review import (
    LabelSchema,
    ReviewItemType,
    ReviewQueue,
    ReviewQueueItem,
    ReviewQueueType,
    ReviewStatus,
)
from heron.errors import (
    AlreadyExists,
    InvalidParameter,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from heron.services.access import Action, Authorizer, attributed
from heron.services.experiment_checks import checked_experiment
from heron.services.label_schemas import LabelSchemaService
from heron.store import ids
from heron.store.experiments import ExperimentStore
from heron.store.review import ReviewQueueStore
from heron.store.traces import TraceStore

MAX_NAME = 250  # review_queues.name
MAX_USER = 250  # review_queue_users.user_name: also an assessment's source_id
MAX_SCHEMA_ID = 36  # label_schemas.schema_id
MAX_ITEM_ID = 50  # review_queue_items.item_id
MAX_USERS = 10
MAX_ITEMS = 1000  # traces added or removed in one call
MAX_RESULTS = 1000
RESERVED_NAME = "default"


class ReviewQueueService:
    def __init__(
        self,
        store: ReviewQueueStore,
        schemas: LabelSchemaService,
        experiments: ExperimentStore,
        traces: TraceStore,
        authorizer: Authorizer,
    ) -> None:
        self._store = store
        self._schemas = schemas
        self._experiments = experiments
        self._traces = traces
        self._authorizer = authorizer

    def _experiment(self, experiment_id: str, action: Action) -> str:
        return checked_experiment(self._authorizer, self._experiments, experiment_id, action)

    def _queue(self, queue_id: str, action: Action) -> ReviewQueue:
        if not isinstance(queue_id, str) or not queue_id or len(queue_id) > 36:
            raise NotFound(f"No review queue with id {str(queue_id)[:40]!r}")
        queue = self._store.get_queue(queue_id)
        self._experiment(queue.experiment_id, action)
        return queue

    def create_queue(
        self,
        experiment_id: str,
        name: str,
        queue_type: ReviewQueueType,
        *,
        users: Sequence[str] = (),
        schema_ids: Sequence[str] = (),
        created_by: str | None = None,
    ) -> ReviewQueue:
        """Raises InvalidParameter for a bad field (saying which), AlreadyExists when the
        experiment has a queue of that name."""
        found = self._experiment(experiment_id, "update")
        people = _users(users)
        if queue_type is ReviewQueueType.USER:
            name = _user(name)
            if people and people != [name]:
                raise InvalidParameter(
                    "A user queue's one reviewer is the user it is named for: "
                    f"name={name!r}, users={people!r}"
                )
            people = [name]
            if schema_ids:
                raise InvalidParameter(
                    "A user queue asks every label schema of its experiment: give no schema_ids"
                )
        else:
            name = _custom_name(name)
        now = now_ms()
        queue = ReviewQueue(
            queue_id="rq-" + uuid.uuid4().hex,
            experiment_id=found,
            name=name,
            queue_type=queue_type,
            created_by=_owner(attributed(created_by)),
            creation_time_ms=now,
            last_update_time_ms=now,
            users=tuple(people),
            schema_ids=tuple(self._schema_ids(found, schema_ids)),
        )
        return self._store.create_queue(queue)

    def get_or_create_user_queue(self, experiment_id: str, user: str) -> ReviewQueue:
        """The user's own queue, made when it does not exist yet."""
        name = _user(user)
        try:
            return self.create_queue(experiment_id, name, ReviewQueueType.USER, created_by=name)
        except AlreadyExists:
            queue = self._store.get_queue_by_name(ids.experiment_id(experiment_id), name)
            if queue.queue_type is not ReviewQueueType.USER:
                raise AlreadyExists(
                    f"A custom queue is named {name!r}: it cannot be that user's queue"
                ) from None
            return queue

    def may_change(self, experiment_id: str) -> bool:
        """Whether the caller may change the experiment's queues and label schemas (update
        on the experiment, what their API routes need): the UI offers its forms only then."""
        try:
            self._experiment(experiment_id, "update")
        except (PermissionDenied, Unauthenticated):
            return False
        return True

    def get_queue(self, queue_id: str) -> ReviewQueue:
        return self._queue(queue_id, "read")

    def get_queue_by_name(self, experiment_id: str, name: str) -> ReviewQueue:
        found = self._experiment(experiment_id, "read")
        return self._store.get_queue_by_name(found, name)

    def list_queues(
        self,
        experiment_id: str,
        *,
        user: str | None = None,
        item_id: str | None = None,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[ReviewQueue]:
        """Newest first; with `user`, the queues assigned to them; with `item_id`, the queues
        that hold that trace."""
        found = self._experiment(experiment_id, "read")
        return self._store.list_queues(
            found,
            user=None if user is None else _user(user),
            item_id=item_id or None,
            max_results=_limit(max_results),
            page_token=page_token or None,
        )

    def update_queue(
        self,
        queue_id: str,
        *,
        name: str | None = None,
        new_owner: str | None = None,
        users: Sequence[str] | None = None,
        schema_ids: Sequence[str] | None = None,
    ) -> ReviewQueue:
        """Changes a custom queue's name, owner, reviewers (None: unchanged, empty: none)
        or schemas. Raises InvalidParameter for a user queue, and for new schemas once
        traces are queued (the questions of a queue with answers stay as they are)."""
        old = self._queue(queue_id, "update")
        if old.queue_type is ReviewQueueType.USER:
            raise InvalidParameter("A user queue cannot be changed")
        new_schemas = old.schema_ids
        if schema_ids is not None:
            new_schemas = tuple(self._schema_ids(old.experiment_id, schema_ids))
            if new_schemas != old.schema_ids and any(self.progress(old).values()):
                raise InvalidParameter(
                    "The queue holds traces: remove them before changing its label schemas"
                )
        owner = old.created_by if new_owner is None else _owner(new_owner)
        new = dataclasses.replace(
            old,
            name=old.name if name is None else _custom_name(name),
            created_by=owner,
            users=old.users if users is None else tuple(_users(users)),
            schema_ids=new_schemas,
            last_update_time_ms=now_ms(),
        )
        return self._store.update_queue(new)

    def delete_queue(self, queue_id: str) -> None:
        """Deletes the queue (the assessments given in it stay); no error when it is gone."""
        try:
            queue = self._queue(queue_id, "update")
        except NotFound:
            return
        self._store.delete_queue(queue.queue_id)

    def add_items(
        self, queue_id: str, item_ids: Sequence[str], item_type: ReviewItemType | None = None
    ) -> list[ReviewQueueItem]:
        """Queues traces of the queue's experiment; one already queued keeps its status.
        Raises NotFound for a trace that is not in the experiment."""
        queue = self._queue(queue_id, "update")
        wanted = _item_ids(item_ids)
        for trace_id in wanted:
            if self._traces.experiment_of(trace_id) != queue.experiment_id:
                raise NotFound(
                    f"Trace {trace_id!r} is not in experiment {queue.experiment_id}, the "
                    "queue's: only its traces can be queued"
                )
        kind = item_type or ReviewItemType.TRACE
        return self._store.add_items(queue.queue_id, kind, wanted, now_ms())

    def remove_items(self, queue_id: str, item_ids: Sequence[str]) -> None:
        queue = self._queue(queue_id, "update")
        self._store.remove_items(queue.queue_id, _item_ids(item_ids))

    def list_items(
        self,
        queue_id: str,
        status: ReviewStatus | None = None,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[ReviewQueueItem]:
        queue = self._queue(queue_id, "read")
        return self._store.list_items(
            queue.queue_id, status, _limit(max_results), page_token or None
        )

    def set_item_status(
        self, queue_id: str, item_id: str, status: ReviewStatus, completed_by: str | None = None
    ) -> ReviewQueueItem:
        """Marks a queued trace COMPLETE or DECLINED (by `completed_by`, required) or
        PENDING again (without it). A reviewer needs to annotate the experiment."""
        queue = self._queue(queue_id, "annotate")
        if status is ReviewStatus.PENDING:
            if completed_by:
                raise InvalidParameter("completed_by is not set when reopening a trace (PENDING)")
            by = None
        else:
            if not completed_by or not completed_by.strip():
                raise InvalidParameter(f"completed_by is required to mark a trace {status.value}")
            by = _user(attributed(completed_by))
        return self._store.set_item_status(queue.queue_id, item_id, status, by, now_ms())

    def questions(self, queue: ReviewQueue) -> list[LabelSchema]:
        """The label schemas a queue asks: a user queue, every schema of its experiment."""
        if queue.queue_type is ReviewQueueType.USER:
            return self._schemas.schemas_of(queue.experiment_id)
        return [self._schemas.get_schema(s) for s in queue.schema_ids]

    def progress(self, queue: ReviewQueue) -> dict[ReviewStatus, int]:
        """How many of the queue's traces are in each status."""
        self._queue(queue.queue_id, "read")
        return self._store.count_items(queue.queue_id)

    def _schema_ids(self, experiment_id: str, schema_ids: Sequence[str]) -> list[str]:
        found = list(dict.fromkeys(s.strip() for s in schema_ids))
        for schema_id in found:
            if not schema_id or len(schema_id) > MAX_SCHEMA_ID:
                raise InvalidParameter(f"A schema_id has 1 to {MAX_SCHEMA_ID} characters")
            if self._schemas.get_schema(schema_id).experiment_id != experiment_id:
                raise InvalidParameter(
                    f"Label schema {schema_id!r} belongs to another experiment than the queue"
                )
        return found


def _user(user: str) -> str:
    """A reviewer's name as stored: trimmed and in lower case (matched to the source of the
    assessments they give without regard to case)."""
    found = user.strip().lower() if isinstance(user, str) else ""
    if not found or len(found) > MAX_USER:
        raise InvalidParameter(f"A user has 1 to {MAX_USER} characters, not {user!r}")
    return found


def _owner(owner: str) -> str:
    found = owner.strip()
    if not found or len(found) > MAX_USER:
        raise InvalidParameter(f"A queue's owner has 1 to {MAX_USER} characters")
    return found


def _users(users: Sequence[str]) -> list[str]:
    found = list(dict.fromkeys(_user(u) for u in users))
    if len(found) > MAX_USERS:
        raise InvalidParameter(f"A review queue has at most {MAX_USERS} users, not {len(found)}")
    return found


def _custom_name(name: str) -> str:
    found = name.strip() if isinstance(name, str) else ""
    if not found or len(found) > MAX_NAME:
        raise InvalidParameter(f"A review queue's name has 1 to {MAX_NAME} characters")
    if found.lower() == RESERVED_NAME:
        raise InvalidParameter(f"{found!r} is reserved for the default user queue")
    return found


def _item_ids(item_ids: Sequence[str]) -> list[str]:
    found = list(dict.fromkeys(i.strip() for i in item_ids))
    if not found or len(found) > MAX_ITEMS:
        raise InvalidParameter(f"item_ids lists 1 to {MAX_ITEMS} trace ids")
    for item_id in found:
        if not item_id or len(item_id) > MAX_ITEM_ID:
            raise InvalidParameter(f"A trace id has 1 to {MAX_ITEM_ID} characters: {item_id!r}")
    return found


def _limit(max_results: int | None) -> int:
    limit = 100 if max_results is None else max_results
    if not 1 <= limit <= MAX_RESULTS:
        raise InvalidParameter(f"max_results is between 1 and {MAX_RESULTS}, not {limit}")
    return limit
