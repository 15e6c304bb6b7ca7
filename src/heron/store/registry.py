"""The model registry's store ports: registered models, model versions, where sources live.

Every write takes `actor` (who is asking) so the version's activity log is written in the
same transaction as the change it records. A write that is a webhook event (a model or a
version created, a version tag set or deleted, an alias set or deleted, a stage changed) also
queues one delivery per active webhook listening to it, in that same transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from heron.entities import Page
from heron.entities.registry import (
    Catalog,
    ModelVersion,
    ModelVersionEvent,
    ModelVersionStage,
    RegisteredModel,
    Schema,
    Webhook,
    WebhookDelivery,
)
from heron.search import Comparison, OrderKey
from heron.store.visibility import Visibility


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistryQuery:
    """A search of registered models or of model versions (the filter names their fields)."""

    filter: Sequence[Comparison] = ()
    order_by: Sequence[OrderKey] = ()
    max_results: int = 100
    page_token: str | None = None
    include_prompts: bool = False  # MLflow compat: prompts are left out unless asked for
    visible: Visibility | None = None  # the models (by name) the caller may see; None: all


@dataclass(frozen=True, slots=True, kw_only=True)
class NewModelVersion:
    source: str
    storage_location: str
    run_id: str | None = None
    run_link: str | None = None
    model_id: str | None = None
    description: str | None = None
    tags: Mapping[str, str] | None = None


class RegisteredModelStore(Protocol):
    def create_registered_model(
        self,
        name: str,
        *,
        tags: Mapping[str, str],
        description: str | None,
        actor: str | None,
        deployment_job_id: str | None = None,
    ) -> RegisteredModel:
        """Raises AlreadyExists, or NotFound when `deployment_job_id` names no job."""
        ...

    def get_registered_model(self, name: str) -> RegisteredModel:
        """Raises NotFound."""
        ...

    def search_registered_models(self, query: RegistryQuery) -> Page[RegisteredModel]: ...

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Raises NotFound, AlreadyExists."""
        ...

    def update_registered_model(
        self,
        name: str,
        *,
        description: str | None,
        set_description: bool = True,
        deployment_job_id: str | None = None,
        set_deployment_job: bool = False,
    ) -> RegisteredModel:
        """Sets the description and/or the deployment job (None detaches it) when asked to.
        Raises NotFound (the model, or the job)."""
        ...

    def delete_registered_model(self, name: str) -> None:
        """Deletes the model with its versions, tags, aliases and activity."""
        ...

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None: ...

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Raises NotFound when the model or the tag does not exist."""
        ...

    def set_registered_model_alias(
        self, name: str, alias: str, version: str, *, actor: str | None
    ) -> None:
        """Points `alias` at `version`, moving it when it pointed elsewhere."""
        ...

    def delete_registered_model_alias(self, name: str, alias: str, *, actor: str | None) -> None:
        """Raises NotFound when the model or the alias does not exist."""
        ...

    def get_latest_versions(
        self, name: str, stages: Sequence[ModelVersionStage]
    ) -> list[ModelVersion]:
        """The newest version in each of `stages` (every stage when empty)."""
        ...


class ModelVersionStore(Protocol):
    def create_model_version(
        self, name: str, version: NewModelVersion, *, actor: str | None
    ) -> ModelVersion:
        """The next version number of `name` (never one used before). Raises NotFound."""
        ...

    def get_model_version(self, name: str, version: str) -> ModelVersion:
        """Raises NotFound."""
        ...

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """Raises NotFound."""
        ...

    def search_model_versions(self, query: RegistryQuery) -> Page[ModelVersion]: ...

    def update_model_version(
        self, name: str, version: str, *, description: str | None, actor: str | None
    ) -> ModelVersion: ...

    def transition_model_version_stage(
        self,
        name: str,
        version: str,
        stage: ModelVersionStage,
        *,
        archive_existing_versions: bool,
        actor: str | None,
    ) -> ModelVersion: ...

    def delete_model_version(self, name: str, version: str) -> None:
        """Deletes the version with its tags and aliases; its number is never reused."""
        ...

    def set_model_version_tag(
        self, name: str, version: str, key: str, value: str, *, actor: str | None
    ) -> None: ...

    def delete_model_version_tag(
        self, name: str, version: str, key: str, *, actor: str | None
    ) -> None: ...

    def add_model_version_event(
        self,
        name: str,
        version: str,
        kind: str,
        detail: Mapping[str, Any],
        *,
        actor: str | None,
    ) -> ModelVersionEvent:
        """Appends to the activity log (comments, approvals, deployments)."""
        ...

    def list_model_version_events(self, name: str, version: str) -> list[ModelVersionEvent]:
        """The version's activity, oldest first. Raises NotFound."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedModelSource:
    model_id: str
    name: str
    artifact_location: str
    source_run_id: str | None
    experiment_id: str


class ModelSourceStore(Protocol):
    """Where a version's files are: the LoggedModels and runs a source URI may name."""

    def find_logged_model(self, model_id: str) -> LoggedModelSource | None: ...

    def find_run_logged_model(self, run_id: str, name: str) -> LoggedModelSource | None:
        """The newest LoggedModel named `name` that run `run_id` produced."""
        ...

    def find_run_artifact_uri(self, run_id: str) -> str | None: ...


class NamespaceStore(Protocol):
    """Catalogs and schemas of three-level model names (`catalog.schema.model`)."""

    def create_catalog(self, name: str, *, comment: str | None, owner: str | None) -> Catalog:
        """Raises AlreadyExists."""
        ...

    def get_catalog(self, name: str) -> Catalog:
        """Raises NotFound."""
        ...

    def list_catalogs(self) -> list[Catalog]: ...

    def delete_catalog(self, name: str) -> None:
        """Raises NotFound, or InvalidParameter while the catalog has schemas."""
        ...

    def create_schema(
        self, catalog_name: str, name: str, *, comment: str | None, owner: str | None
    ) -> Schema:
        """Raises NotFound (no such catalog), AlreadyExists."""
        ...

    def get_schema(self, catalog_name: str, name: str) -> Schema:
        """Raises NotFound."""
        ...

    def list_schemas(self, catalog_name: str) -> list[Schema]:
        """Raises NotFound when the catalog does not exist."""
        ...

    def delete_schema(self, catalog_name: str, name: str) -> None:
        """Raises NotFound, or InvalidParameter while registered models live in the schema."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuedDelivery:
    """A delivery a dispatcher has claimed: it owns attempt number `attempt` until it
    finishes it (or the lease runs out)."""

    delivery_id: str
    webhook: Webhook
    entity: str
    action: str
    body: str  # the JSON POSTed, the same on every attempt
    attempt: int


def delivery_body(entity: str, action: str, data: Mapping[str, Any], timestamp_ms: int) -> str:
    """The JSON a delivery POSTs (and signs): `{"entity", "action", "timestamp", "data"}` in
    MLflow's form (lower-case names, an ISO 8601 time), fixed when the event happens."""
    moment = datetime.fromtimestamp(timestamp_ms / 1000, UTC).isoformat()
    body = {"entity": entity.lower(), "action": action.lower(), "timestamp": moment}
    return orjson.dumps({**body, "data": dict(data)}).decode()


class WebhookStore(Protocol):
    def create_webhook(self, webhook: Webhook) -> Webhook: ...

    def get_webhook(self, webhook_id: str) -> Webhook:
        """Raises NotFound."""
        ...

    def list_webhooks(self, *, max_results: int, page_token: str | None) -> Page[Webhook]: ...

    def update_webhook(self, webhook: Webhook) -> Webhook:
        """Replaces every field but the id and creation time. Raises NotFound."""
        ...

    def delete_webhook(self, webhook_id: str) -> None:
        """Deletes it with its delivery log. Raises NotFound."""
        ...

    def record_delivery(self, delivery: WebhookDelivery) -> None: ...

    def claim_delivery(self, now: int, lease_ms: int) -> QueuedDelivery | None:
        """Takes one due delivery of an active webhook whose lease ran out, counting a new
        attempt and leasing it until `now + lease_ms`; None when nothing is due. Two workers
        never claim the same attempt."""
        ...

    def finish_delivery(self, attempt: WebhookDelivery, retry_at: int | None) -> None:
        """Logs the attempt; then the delivery is retried at `retry_at` (ms) or, when None,
        leaves the queue."""
        ...

    def next_due(self) -> int | None:
        """When the earliest queued delivery is due (ms since epoch), if any."""
        ...

    def list_deliveries(self, webhook_id: str) -> list[WebhookDelivery]:
        """Newest first."""
        ...
