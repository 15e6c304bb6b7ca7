"""Heron's inference-table routes: the records a serving endpoint captured (by endpoint and
time, by request id, by trace id), their bodies, a Parquet export, and the endpoint's
per-minute statistics."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from heron.entities.serving import DriftReport, EndpointMinute, InferenceRecord
from heron.errors import InvalidParameter
from heron.server.api.inference_export import to_parquet
from heron.server.wire import Endpoints, Fields, Json
from heron.services.access import requires
from heron.services.drift import DriftService
from heron.services.inference import InferenceService
from heron.web.files import attachment
from heron.web.routes import PolicyRoute


def record_json(r: InferenceRecord) -> Json:
    """A record with Databricks' inference-table columns, plus Heron's."""
    return {
        "request_id": r.request_id,
        "endpoint_id": r.endpoint_id,
        "endpoint_name": r.endpoint_name,
        "request_date": r.request_date,
        "request_time": r.request_time,
        "client_request_id": r.client_request_id,
        "status_code": r.status_code,
        "execution_duration_ms": r.execution_duration_ms,
        "served_entity_id": r.served_entity_id,
        "served_version": r.served_version,
        "requester": r.requester,
        "request": r.request,
        "response": r.response,
        "response_chunks": r.response_chunks,
        "request_artifact": r.request_artifact,
        "response_artifact": r.response_artifact,
        "logging_error_codes": list(r.logging_error_codes),
        "trace_id": r.trace_id,
    }


def minute_json(m: EndpointMinute) -> Json:
    return {
        "minute": m.minute,
        "served_entity": m.served_entity,
        "served_version": m.served_version,
        "requests": m.requests,
        "errors_4xx": m.errors_4xx,
        "errors_5xx": m.errors_5xx,
        "latency_sum_ms": m.latency_sum_ms,
        "latency_buckets": list(m.latency_buckets),
        "shadow_requests": m.shadow_requests,
        "shadow_agreed": m.shadow_agreed,
        "shadow_errors": m.shadow_errors,
        "shadow_latency_diff_sum_ms": m.shadow_latency_diff_sum_ms,
        "capture_dropped": m.capture_dropped,
    }


def drift_json(report: DriftReport) -> Json:
    return {
        "computed_at": report.computed_at,
        "window_start": report.window_start,
        "window_end": report.window_end,
        "reference": report.reference,
        "reference_rows": report.reference_rows,
        "current_rows": report.current_rows,
        "method": report.method,
        "features": list(report.features),
        "message": report.message,
    }


def routes(api: Endpoints, service: InferenceService, drift: DriftService) -> list[PolicyRoute]:
    def search_records(f: Fields) -> Json:
        page = service.search_records(
            f.required_string("endpoint_name"),
            start_time=f.int64("start_time"),
            end_time=f.int64("end_time"),
            max_results=f.int64("max_results") or 100,
            page_token=f.string("page_token"),
        )
        body: Json = {"records": [record_json(r) for r in page]}
        if page.next_page_token:
            body["next_page_token"] = page.next_page_token
        return body

    def get_record(f: Fields) -> Json:
        return {"record": record_json(service.get_record(f.required_string("request_id")))}

    def records_of_trace(f: Fields) -> Json:
        found = service.records_of_trace(f.required_string("trace_id"))
        return {"records": [record_json(r) for r in found]}

    def endpoint_metrics(f: Fields) -> Json:
        minutes = service.minutes(f.required_string("endpoint_name"), since=f.int64("since") or 0)
        return {"minutes": [minute_json(m) for m in minutes]}

    def compute_drift(f: Fields) -> Json:
        window = f.int64("window_minutes") or 60
        if not 1 <= window <= 7 * 24 * 60:
            raise InvalidParameter("window_minutes must be between 1 and 10080")
        report = drift.compute(
            f.required_string("endpoint_name"),
            method=f.string("method") or "auto",
            window_ms=window * 60_000,
        )
        return {"report": drift_json(report)}

    def drift_reports(f: Fields) -> Json:
        reports = drift.reports(f.required_string("endpoint_name"))
        return {"reports": [drift_json(r) for r in reports]}

    async def record_body(request: Request) -> Response:
        request_id = _query(request, "request_id")
        part = request.query_params.get("part", "response")
        chunks = await run_in_threadpool(service.read_body, request_id, part)
        return StreamingResponse(chunks, media_type="application/octet-stream")

    async def export(request: Request) -> Response:
        name = _query(request, "endpoint_name")
        start, end = _time(request, "start_time"), _time(request, "end_time")
        data = await run_in_threadpool(
            lambda: to_parquet(service.all_records(name, start_time=start, end_time=end))
        )
        headers = {"Content-Disposition": attachment(f"{name}-inference.parquet")}
        return Response(data, media_type="application/vnd.apache.parquet", headers=headers)

    read = requires("read", "serving_endpoint", "endpoint_name")
    read_any = requires("read", "serving_endpoint")  # the record names its endpoint
    return [
        api.get("/inference-records/search", search_records, read),
        api.get("/inference-records/get", get_record, read_any),
        api.get("/inference-records/by-trace", records_of_trace, read_any),
        api.get("/serving-endpoints/metrics", endpoint_metrics, read),
        api.get("/serving-endpoints/drift", drift_reports, read),
        api.post(
            "/serving-endpoints/drift/compute",
            compute_drift,
            requires("update", "serving_endpoint", "endpoint_name"),
        ),
        PolicyRoute("/inference-records/body", record_body, methods=["GET"], policy=read_any),
        PolicyRoute("/inference-records/export", export, methods=["GET"], policy=read),
    ]


def _query(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise InvalidParameter(f"Missing value for required parameter '{name}'")
    return value


def _time(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if not value.lstrip("-").isdigit() or len(value) > 18:
        raise InvalidParameter(f"{name} must be a time in milliseconds since epoch")
    return int(value)
