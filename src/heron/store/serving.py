"""Store ports of managed serving: endpoints with their configurations, their replicas, and
the inference tables with the per-minute statistics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from heron.entities import Page
from heron.entities.serving import (
    DriftReport,
    EndpointConfig,
    EndpointMinute,
    InferenceRecord,
    InferenceTableConfig,
    Replica,
    ServingEndpoint,
)
from heron.store.visibility import Visibility


class EndpointStore(Protocol):
    def create_endpoint(self, endpoint: ServingEndpoint) -> None:
        """Stores a new endpoint with its first configuration. Raises AlreadyExists."""
        ...

    def get_endpoint(self, name: str) -> ServingEndpoint:
        """Raises NotFound."""
        ...

    def list_endpoints(self, visible: Visibility | None = None) -> list[ServingEndpoint]:
        """Every endpoint (those `visible` shows), by name."""
        ...

    def delete_endpoint(self, name: str) -> None:
        """Deletes the endpoint, its configurations and its replicas' rows (not its
        inference records). Raises NotFound."""
        ...

    def add_config(
        self, name: str, config: EndpointConfig, *, expected_version: int, now: int
    ) -> ServingEndpoint:
        """Makes `config` (its `config_version` is `expected_version + 1`) the newest
        configuration. Raises NotFound, or RESOURCE_CONFLICT when another update came first."""
        ...

    def get_config(self, endpoint_id: str, config_version: int) -> EndpointConfig | None: ...

    def update_tags(
        self, name: str, add: Mapping[str, str], remove: Sequence[str], now: int
    ) -> Mapping[str, str]:
        """Sets the `add` tags and removes the `remove` keys; returns every tag."""
        ...

    def set_inference_table(self, name: str, config: InferenceTableConfig, now: int) -> None: ...


class ReplicaStore(Protocol):
    def put_replica(self, replica: Replica) -> None:
        """Inserts or replaces the replica's row (a restarted replica keeps its id). Raises
        NotFound when its endpoint is gone."""
        ...

    def list_replicas(self, endpoint_id: str | None = None) -> list[Replica]: ...

    def delete_replica(self, replica_id: str) -> None: ...

    def delete_silent_replicas(self, before: int) -> int:
        """Deletes the replicas whose last heartbeat is before `before` (ms); how many."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class InferenceQuery:
    endpoint_id: str
    start_time: int | None = None  # ms, inclusive
    end_time: int | None = None  # ms, exclusive
    max_results: int = 100
    page_token: str | None = None


class InferenceStore(Protocol):
    def add_records(self, records: Sequence[InferenceRecord]) -> None:
        """Inserts a batch in one transaction (a record already there is left as it is)."""
        ...

    def search_records(self, query: InferenceQuery) -> Page[InferenceRecord]:
        """Newest first. Raises InvalidParameter for a bad page token."""
        ...

    def get_record(self, request_id: str) -> InferenceRecord:
        """Raises NotFound."""
        ...

    def records_of_trace(self, trace_id: str) -> list[InferenceRecord]: ...

    def put_minutes(self, writer_id: str, minutes: Sequence[EndpointMinute]) -> None:
        """Writes this writer's figures of each minute whole (replacing what it wrote
        before for the same minute, entity and version)."""
        ...

    def read_minutes(self, endpoint_id: str, since: int) -> list[EndpointMinute]:
        """Every writer's figures since `since` (ms), added up per minute, entity and
        version, oldest first."""
        ...

    def put_drift_report(self, report: DriftReport) -> None: ...

    def drift_reports(self, endpoint_id: str, limit: int) -> list[DriftReport]:
        """The newest reports first."""
        ...
