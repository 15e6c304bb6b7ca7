"""Querying serving endpoints over HTTP (`POST /serving-endpoints/{name}/invocations`) and
reading their inference tables (Heron's /api/2.0/heron/inference-records routes)."""

from __future__ import annotations

import urllib.parse
from typing import Any

import orjson

from heron.client.http.transport import Transport
from heron.entities import Page
from heron.entities.replica_headers import SERVED_ENTITY, SERVED_VERSION, TRACE_ID
from heron.entities.serving import EndpointResponse, InferenceRecord
from heron.errors import InvalidParameter
from heron.mlflow_json import Json

RECORDS_API = "/api/2.0/heron/inference-records"


class HttpInvocations:
    """The `InvocationApi` over a transport: the tracking server routes each request to a
    replica of the endpoint and captures it in the endpoint's inference table."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def query(
        self,
        name: str,
        body: bytes,
        *,
        content_type: str = "application/json",
        served_entity: str | None = None,
    ) -> EndpointResponse:
        path = f"/serving-endpoints/{_quoted(name)}"
        if served_entity is not None:
            path += f"/served-models/{_quoted(served_entity)}"
        answer = self._t.send_once(path + "/invocations", body, {"Content-Type": content_type})
        headers = answer.headers
        common: dict[str, Any] = {
            "served_entity": headers.get(SERVED_ENTITY, ""),
            "served_version": headers.get(SERVED_VERSION, ""),
            "request_id": headers.get("x-request-id", ""),
            "trace_id": headers.get(TRACE_ID) or None,
        }
        if headers.get("content-type", "").startswith("text/event-stream"):
            return EndpointResponse(body=None, chunks=_events(answer.content), **common)
        try:
            decoded = orjson.loads(answer.content) if answer.content else None
        except orjson.JSONDecodeError:
            decoded = answer.text
        return EndpointResponse(body=decoded, **common)


def _quoted(name: str) -> str:
    if not name:
        raise InvalidParameter("A serving endpoint name is required")
    return urllib.parse.quote(name, safe="")


def _events(content: bytes) -> list[Any]:
    """The data of each server-sent event, decoded when it is JSON (`[DONE]` left out)."""
    found: list[Any] = []
    for event in content.split(b"\n\n"):
        data = b"\n".join(
            line.removeprefix(b"data:").strip()
            for line in event.splitlines()
            if line.startswith(b"data:")
        )
        if not data or data == b"[DONE]":
            continue
        try:
            found.append(orjson.loads(data))
        except orjson.JSONDecodeError:
            found.append(data.decode("utf-8", "replace"))
    return found


class HttpInference:
    """The `InferenceApi` over a transport."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def search_records(
        self,
        endpoint_name: str,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[InferenceRecord]:
        query = {
            "endpoint_name": endpoint_name,
            "start_time": start_time,
            "end_time": end_time,
            "max_results": max_results,
            "page_token": page_token or None,
        }
        body = self._t.get(RECORDS_API + "/search", query)
        records = [record_in(r) for r in body.get("records", ())]
        return Page(records, body.get("next_page_token") or None)

    def get_record(self, request_id: str) -> InferenceRecord:
        body = self._t.get(RECORDS_API + "/get", {"request_id": request_id})
        return record_in(body["record"])

    def records_of_trace(self, trace_id: str) -> list[InferenceRecord]:
        body = self._t.get(RECORDS_API + "/by-trace", {"trace_id": trace_id})
        return [record_in(r) for r in body.get("records", ())]


def record_in(body: Json) -> InferenceRecord:
    return InferenceRecord(
        request_id=str(body.get("request_id", "")),
        endpoint_id=str(body.get("endpoint_id", "")),
        endpoint_name=str(body.get("endpoint_name", "")),
        request_time=int(body.get("request_time", 0)),
        status_code=int(body.get("status_code", 0)),
        execution_duration_ms=int(body.get("execution_duration_ms", 0)),
        served_entity_id=str(body.get("served_entity_id") or ""),
        served_version=str(body.get("served_version") or ""),
        requester=str(body.get("requester") or ""),
        client_request_id=body.get("client_request_id"),
        request=body.get("request"),
        response=body.get("response"),
        response_chunks=body.get("response_chunks"),
        request_artifact=body.get("request_artifact"),
        response_artifact=body.get("response_artifact"),
        logging_error_codes=tuple(body.get("logging_error_codes") or ()),
        trace_id=body.get("trace_id"),
    )
