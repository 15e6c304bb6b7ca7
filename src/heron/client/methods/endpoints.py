"""Managed serving endpoints on `HeronClient`: create, read, update, roll back, delete and
query them, and read what their inference tables captured."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from heron.client.backend import Backend
from heron.entities import Page
from heron.entities.serving import (
    EndpointConfig,
    EndpointResponse,
    InferenceRecord,
    InferenceTableConfig,
    ReplicaState,
    ServedEntity,
    TrafficRoute,
)
from heron.errors import InvalidParameter, InvalidState, TemporarilyUnavailable
from heron.services.serving_endpoints import default_entity_name
from heron.services.serving_state import ConfigUpdate, EndpointStatus

ServedLike = ServedEntity | str


class EndpointMethods:
    """Mixed into `HeronClient`; `backend` is the client's backend.

    A served entity is a `ServedEntity` or a model URI: `models:/fraud/3` (a fixed version)
    or `models:/fraud@champion` (follow the alias as it moves), optionally named
    `canary=models:/fraud/4` (else it is named `fraud-3`, `fraud-champion`). `traffic` maps
    served entity names to percentages adding up to 100.

    Example:
        >>> client.create_endpoint("fraud", ["champ=models:/fraud@champion"])
        >>> client.wait_for_endpoint("fraud")
        >>> client.update_endpoint_config(
        ...     "fraud", ["champ=models:/fraud@champion", "canary=models:/fraud/4"],
        ...     traffic={"champ": 90, "canary": 10})
        >>> client.query_endpoint("fraud", {"dataframe_records": [{"amount": 12.5}]}).body
        {'predictions': [0]}
        >>> client.rollback_endpoint("fraud")  # back to the champion alone
    """

    @property
    def backend(self) -> Backend:
        raise NotImplementedError  # pragma: no cover - HeronClient provides it

    def create_endpoint(
        self,
        name: str,
        served: Sequence[ServedLike],
        traffic: Mapping[str, int] | None = None,
        *,
        shadow_traffic: Mapping[str, int] | None = None,
        tags: Mapping[str, str] | None = None,
        inference_table: InferenceTableConfig | bool | None = None,
    ) -> EndpointStatus:
        """Creates an endpoint serving `served`; its replicas start loading at once (see
        `wait_for_endpoint`). `shadow_traffic` mirrors that share of the requests to an
        entity whose answers are compared, never returned; `inference_table=True` captures
        every request (an `InferenceTableConfig` sets a sampling fraction).

        Raises:
            InvalidParameter: a bad name, model URI or traffic split, or a model version or
                alias that does not exist.
            AlreadyExists: an endpoint has that name.
        """
        table = (
            InferenceTableConfig(enabled=inference_table)
            if isinstance(inference_table, bool)
            else inference_table
        )
        return self.backend.endpoints.create_endpoint(
            name,
            endpoint_config(served, traffic, shadow_traffic),
            tags=dict(tags or {}),
            inference_table=table,
        )

    def get_endpoint(self, name: str) -> EndpointStatus:
        """The endpoint with its state as its replicas report it. Raises NotFound."""
        return self.backend.endpoints.get_endpoint(name)

    def list_endpoints(self) -> list[EndpointStatus]:
        return self.backend.endpoints.list_endpoints()

    def update_endpoint_config(
        self,
        name: str,
        served: Sequence[ServedLike],
        traffic: Mapping[str, int] | None = None,
        *,
        shadow_traffic: Mapping[str, int] | None = None,
    ) -> EndpointStatus:
        """Gives the endpoint a new configuration (a canary split, a new version, ...). The
        replicas roll to it while the old one keeps answering; `rollback_endpoint` returns
        to the one before."""
        config = endpoint_config(served, traffic, shadow_traffic)
        return self.backend.endpoints.update_config(name, config)

    def rollback_endpoint(self, name: str) -> EndpointStatus:
        """Makes the configuration before the newest one the newest again.

        Raises:
            InvalidParameter: the endpoint has had one configuration only.
        """
        return self.backend.endpoints.rollback(name)

    def delete_endpoint(self, name: str) -> None:
        """Deletes the endpoint; its replicas stop. Raises NotFound."""
        self.backend.endpoints.delete_endpoint(name)

    def set_endpoint_tags(
        self, name: str, tags: Mapping[str, str] | None = None, delete: Sequence[str] = ()
    ) -> dict[str, str]:
        """Sets `tags` and removes the keys in `delete`; returns all the endpoint's tags."""
        add = {str(k): str(v) for k, v in (tags or {}).items()}
        return dict(self.backend.endpoints.update_tags(name, add, list(delete)))

    def set_endpoint_inference_table(
        self, name: str, enabled: bool = True, sampling_fraction: float = 1.0
    ) -> InferenceTableConfig:
        """Turns the capture of requests into the endpoint's inference table on or off."""
        table = InferenceTableConfig(enabled=enabled, sampling_fraction=sampling_fraction)
        return self.backend.endpoints.set_inference_table(name, table)

    def wait_for_endpoint(
        self, name: str, timeout_s: float = 300.0, poll_s: float = 0.5
    ) -> EndpointStatus:
        """Waits until the endpoint serves its newest configuration and none of its live
        replicas is still loading; returns the endpoint.

        Raises:
            InvalidState: the update failed (a replica could not load a model, a followed
                alias is gone); the message says why.
            TemporarilyUnavailable: still not ready after `timeout_s`.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            status = self.get_endpoint(name)
            settled = all(r.state != ReplicaState.LOADING for r in status.replicas)
            if status.ready and status.config_update == ConfigUpdate.NOT_UPDATING and settled:
                return status
            if status.config_update == ConfigUpdate.UPDATE_FAILED:
                raise InvalidState(
                    f"Serving endpoint {name!r} failed to update to configuration "
                    f"{status.endpoint.config.config_version}: {status.message}"
                )
            if time.monotonic() > deadline:
                raise TemporarilyUnavailable(
                    f"Serving endpoint {name!r} is not ready after {timeout_s:g} s "
                    f"({status.config_update}, {len(status.replicas)} live replicas): is "
                    "`heron server --serve-endpoints` (or `heron serving worker`) running?"
                )
            time.sleep(poll_s)

    def query_endpoint(
        self,
        name: str,
        data: Any,
        *,
        params: Mapping[str, Any] | None = None,
        content_type: str | None = None,
        served_entity: str | None = None,
    ) -> EndpointResponse:
        """Sends one request to the endpoint through the tracking server (which captures it
        when the endpoint's inference table is on) and returns the answer, with the served
        entity and model version that gave it.

        Args:
            data: MLflow's scoring payload as a dict (`{"dataframe_split": ...}`,
                `{"inputs": ...}`, `{"messages": [...]}`), a pandas DataFrame (sent as
                `dataframe_split`), or bytes/str sent as they are with `content_type`
                (`text/csv`, ...).
            params: the model's inference parameters (MLflow's `params`).
            served_entity: ask one served entity by name instead of the traffic split.

        Raises:
            InvalidParameter: the model refused the payload (the message names the column).
            NotImplementedByServer: the client holds a database, not a server URL.
        """
        body, kind = _payload(data, params)
        return self.backend.invocations.query(
            name, body, content_type=content_type or kind, served_entity=served_entity
        )

    def search_inference_records(
        self,
        endpoint_name: str,
        start_time: int | None = None,
        end_time: int | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[InferenceRecord]:
        """One page of the endpoint's captured requests, newest first, between the times
        given (ms since epoch)."""
        return self.backend.inference.search_records(
            endpoint_name,
            start_time=start_time,
            end_time=end_time,
            max_results=max_results,
            page_token=page_token,
        )

    def get_inference_record(self, request_id: str) -> InferenceRecord:
        """The captured request with that id (an answer's `request_id`). Raises NotFound."""
        return self.backend.inference.get_record(request_id)


def endpoint_config(
    served: Sequence[ServedLike],
    traffic: Mapping[str, int] | None = None,
    shadow_traffic: Mapping[str, int] | None = None,
) -> EndpointConfig:
    """A configuration from served entities (or their model URIs) and traffic splits; the
    service checks the rest (names, percentages adding up to 100)."""
    if isinstance(served, str | ServedEntity):
        served = [served]
    entities = tuple(served_entity(s) for s in served)
    return EndpointConfig(
        config_version=0,
        served_entities=entities,
        routes=_routes(traffic),
        shadow_routes=_routes(shadow_traffic),
    )


def served_entity(spec: ServedLike) -> ServedEntity:
    """A `ServedEntity` from `[NAME=]models:/MODEL/VERSION` or `[NAME=]models:/MODEL@ALIAS`.

    Raises:
        InvalidParameter: any other form.
    """
    if isinstance(spec, ServedEntity):
        return spec
    name, uri = None, spec.strip()
    if not uri.startswith("models:/") and "=" in uri:
        name, _, uri = uri.partition("=")
    rest = uri.removeprefix("models:/") if uri.startswith("models:/") else ""
    model, version, alias = "", None, None
    if "@" in rest:
        model, _, alias = rest.rpartition("@")
    elif "/" in rest:
        model, _, version = rest.rpartition("/")
    if not model or not (alias or (version and version.isdigit())):
        raise InvalidParameter(
            f"Invalid served entity {spec[:200]!r}: use models:/MODEL/VERSION or "
            "models:/MODEL@ALIAS, optionally named as NAME=models:/..."
        )
    return ServedEntity(
        name=name or default_entity_name(model, version, alias),
        entity_name=model,
        entity_version=version,
        entity_alias=alias,
    )


def _routes(traffic: Mapping[str, int] | None) -> tuple[TrafficRoute, ...]:
    return tuple(
        TrafficRoute(served_entity_name=str(k), traffic_percentage=v)
        for k, v in (traffic or {}).items()
    )


def _payload(data: Any, params: Mapping[str, Any] | None) -> tuple[bytes, str]:
    if isinstance(data, bytes | str):
        if params:
            raise InvalidParameter("params go with a dict or DataFrame payload, not raw bytes")
        raw = data.encode("utf-8") if isinstance(data, str) else data
        return raw, "application/json"
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # a pandas DataFrame
        data = {"dataframe_split": data.to_dict(orient="split", index=False)}
    if not isinstance(data, Mapping):
        raise InvalidParameter(
            f"Cannot send a {type(data).__name__} to an endpoint: give a dict of MLflow's "
            "scoring payload, a pandas DataFrame, or bytes with their content_type"
        )
    body = dict(data)
    if params:
        body["params"] = dict(params)
    try:
        return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), "application/json"
    except TypeError as exc:
        raise InvalidParameter(f"The payload cannot be written as JSON: {exc}") from None
