"""The Protocols of managed serving endpoints every client backend implements: the endpoints
themselves, their inference records, and querying them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from heron.entities import Page
from heron.entities.serving import (
    EndpointConfig,
    EndpointResponse,
    InferenceRecord,
    InferenceTableConfig,
)
from heron.services.serving_state import EndpointStatus


class EndpointApi(Protocol):
    """What `heron.services.serving_endpoints.EndpointService` offers, in process or over
    HTTP (Databricks' serving-endpoints REST API)."""

    def create_endpoint(
        self,
        name: str,
        config: EndpointConfig,
        *,
        tags: Mapping[str, str] | None = None,
        inference_table: InferenceTableConfig | None = None,
    ) -> EndpointStatus: ...

    def get_endpoint(self, name: str) -> EndpointStatus: ...

    def list_endpoints(self) -> list[EndpointStatus]: ...

    def delete_endpoint(self, name: str) -> None: ...

    def update_config(self, name: str, config: EndpointConfig) -> EndpointStatus: ...

    def rollback(self, name: str) -> EndpointStatus: ...

    def update_tags(
        self, name: str, add: Mapping[str, str], remove: Sequence[str]
    ) -> Mapping[str, str]: ...

    def set_inference_table(
        self, name: str, config: InferenceTableConfig
    ) -> InferenceTableConfig: ...


class InferenceApi(Protocol):
    """What `heron.services.inference.InferenceService` offers to read: the records of an
    endpoint's inference table."""

    def search_records(
        self,
        endpoint_name: str,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[InferenceRecord]: ...

    def get_record(self, request_id: str) -> InferenceRecord: ...

    def records_of_trace(self, trace_id: str) -> list[InferenceRecord]: ...


class InvocationApi(Protocol):
    """Sends a request to a serving endpoint, as `POST /serving-endpoints/{name}/invocations`
    does (through the tracking server, which routes it to a replica and captures it)."""

    def query(
        self,
        name: str,
        body: bytes,
        *,
        content_type: str = "application/json",
        served_entity: str | None = None,
    ) -> EndpointResponse: ...
