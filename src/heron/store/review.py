"""The store ports of human review: label schemas, and review queues with their items."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from heron.entities import Page
from heron.entities.review import (
    LabelSchema,
    ReviewItemType,
    ReviewQueue,
    ReviewQueueItem,
    ReviewStatus,
)


class LabelSchemaStore(Protocol):
    def create_schema(self, schema: LabelSchema) -> LabelSchema:
        """Raises AlreadyExists when the experiment has a schema of that name."""
        ...

    def get_schema(self, schema_id: str) -> LabelSchema: ...  # raises NotFound

    def get_schema_by_name(self, experiment_id: str, name: str) -> LabelSchema: ...

    def list_schemas(
        self, experiment_id: str, max_results: int, page_token: str | None
    ) -> Page[LabelSchema]:
        """Newest first (MLflow's order)."""
        ...

    def update_schema(self, schema: LabelSchema) -> LabelSchema:
        """Writes every field but the id, experiment, type and creation. Raises
        AlreadyExists when the new name is taken."""
        ...

    def delete_schema(self, schema_id: str) -> None: ...  # no error when it is gone


class ReviewQueueStore(Protocol):
    def create_queue(self, queue: ReviewQueue) -> ReviewQueue:
        """Raises AlreadyExists when the experiment has a queue of that name."""
        ...

    def get_queue(self, queue_id: str) -> ReviewQueue: ...  # raises NotFound

    def get_queue_by_name(self, experiment_id: str, name: str) -> ReviewQueue: ...

    def list_queues(
        self,
        experiment_id: str,
        *,
        user: str | None,
        item_id: str | None,
        max_results: int,
        page_token: str | None,
    ) -> Page[ReviewQueue]:
        """Newest first; with `user`, the queues assigned to them; with `item_id`, the
        queues that hold it."""
        ...

    def update_queue(self, queue: ReviewQueue) -> ReviewQueue:
        """Writes its name, owner, users and schemas."""
        ...

    def delete_queue(self, queue_id: str) -> None: ...  # no error when it is gone

    def add_items(
        self, queue_id: str, item_type: ReviewItemType, item_ids: Sequence[str], now: int
    ) -> list[ReviewQueueItem]:
        """The items, in the order given; one already queued keeps its status."""
        ...

    def remove_items(self, queue_id: str, item_ids: Sequence[str]) -> None: ...

    def list_items(
        self,
        queue_id: str,
        status: ReviewStatus | None,
        max_results: int,
        page_token: str | None,
    ) -> Page[ReviewQueueItem]:
        """In the order they were queued."""
        ...

    def set_item_status(
        self, queue_id: str, item_id: str, status: ReviewStatus, completed_by: str | None, now: int
    ) -> ReviewQueueItem: ...  # raises NotFound

    def count_items(self, queue_id: str) -> dict[ReviewStatus, int]: ...
