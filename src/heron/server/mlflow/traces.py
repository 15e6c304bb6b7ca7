"""MLflow REST: traces (v3 under /api/3.0/mlflow, the legacy v2 paths the client still uses
under /api/2.0/mlflow) and assessments.

MLflow compat: StartTraceV3 is sent when a trace ENDS; its answer tags the trace with
mlflow.trace.spansLocation=TRACKING_STORE, so the client neither uploads traces.json nor reads
it back: spans come over OTLP and are read with traces/get and traces/batchGet."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

from heron.entities.trace import TraceInfo
from heron.errors import InvalidParameter
from heron.mlflow_json import assessments as aj
from heron.mlflow_json import traces as tj
from heron.mlflow_json.proto import parse_field_mask
from heron.server.routing import MLFLOW_V2, MLFLOW_V3, under_prefixes
from heron.server.wire import Endpoints, Fields, Json, missing
from heron.services.access import requires
from heron.services.traces import DEFAULT_SEARCH_TRACES, TraceService

_UPDATE_MASK_FIELDS = {
    "assessment_name": "name",
    "feedback": "value",
    "expectation": "value",
    "rationale": "rationale",
    "metadata": "metadata",
    "valid": "valid",
}


def _page(items: list[Json], key: str, token: str | None) -> Json:
    body: Json = {}
    if items:
        body[key] = items
    if token:
        body["next_page_token"] = token
    return body


def _trace_v2(info: TraceInfo) -> Json:
    """The legacy TraceInfo message."""
    body: Json = {
        "request_id": info.trace_id,
        "experiment_id": info.experiment_id,
        "timestamp_ms": info.request_time,
        "status": info.state.value
        if info.state.value != "STATE_UNSPECIFIED"
        else "TRACE_STATUS_UNSPECIFIED",
    }
    if info.execution_duration is not None:
        body["execution_time_ms"] = info.execution_duration
    if info.trace_metadata:
        body["request_metadata"] = [{"key": k, "value": v} for k, v in info.trace_metadata.items()]
    if info.tags:
        body["tags"] = [{"key": k, "value": v} for k, v in info.tags.items()]
    return body


# Where a request names its experiment, as a path into the JSON body.
_STARTED_IN = "trace.trace_info.trace_location.mlflow_experiment.experiment_id"
_SEARCHED = "locations.mlflow_experiment.experiment_id"


def routes(api: Endpoints, service: TraceService) -> list[BaseRoute]:
    """Every trace and assessment route under both prefixes of its version."""

    def start_trace(f: Fields) -> Json:
        trace = f.message("trace", required=True)
        assert trace is not None  # noqa: S101 (required)
        info = trace.data.get("trace_info")
        if not isinstance(info, dict):
            raise missing("trace.trace_info")
        stored = service.start_trace(tj.parse_trace_info(info))
        return {"trace": {"trace_info": tj.trace_info(stored)}}

    def get_trace_info(f: Fields) -> Json:
        info = service.get_trace_info(f.required_string("trace_id"))
        return {"trace": {"trace_info": tj.trace_info(info)}}

    def get_trace(f: Fields) -> Json:
        return {"trace": tj.trace(service.get_trace(f.required_string("trace_id")))}

    def batch_get_traces(f: Fields) -> Json:
        traces = service.get_traces(f.strings("trace_ids"))
        allowed = set(f.strings("experiment_ids"))
        if allowed:
            traces = [t for t in traces if t.info.experiment_id in allowed]
        return _page([tj.trace(t) for t in traces], "traces", None)

    def batch_get_trace_infos(f: Fields) -> Json:
        traces = service.get_traces(f.strings("trace_ids"), with_spans=False)
        allowed = set(f.strings("experiment_ids"))
        infos = [
            tj.trace_info(t.info) for t in traces if not allowed or t.info.experiment_id in allowed
        ]
        return _page(infos, "trace_infos", None)

    def _search(f: Fields, experiment_ids: list[str]) -> Any:
        max_results = f.int32("max_results")
        return service.search_traces(
            experiment_ids,
            filter_string=f.string("filter"),
            order_by=f.strings("order_by"),
            max_results=DEFAULT_SEARCH_TRACES if max_results is None else max_results,
            page_token=f.string("page_token"),
        )

    def search_traces_v3(f: Fields) -> Json:
        experiment_ids = []
        for location in f.messages("locations"):
            experiment = location.message("mlflow_experiment")
            if experiment is None:
                raise InvalidParameter("Only MLFLOW_EXPERIMENT trace locations can be searched")
            experiment_ids.append(experiment.required_string("experiment_id"))
        page = _search(f, experiment_ids)
        return _page([tj.trace_info(i) for i in page], "traces", page.next_page_token)

    def search_traces_v2(f: Fields) -> Json:
        page = _search(f, f.strings("experiment_ids"))
        return _page([_trace_v2(i) for i in page], "traces", page.next_page_token)

    def get_trace_info_v2(f: Fields) -> Json:
        return {"trace_info": _trace_v2(service.get_trace_info(f.required_string("request_id")))}

    def set_trace_tag(f: Fields) -> Json:
        trace_id = f.string("trace_id") or f.required_string("request_id")
        service.set_trace_tag(trace_id, f.required_string("key"), f.required_string("value"))
        return {}

    def delete_trace_tag(f: Fields) -> Json:
        trace_id = f.string("trace_id") or f.required_string("request_id")
        service.delete_trace_tag(trace_id, f.required_string("key"))
        return {}

    def delete_traces(f: Fields) -> Json:
        max_traces = f.int32("max_traces")
        deleted = service.delete_traces(
            f.required_string("experiment_id"),
            trace_ids=f.strings("request_ids"),
            max_timestamp_millis=f.int64("max_timestamp_millis"),
            max_traces=max_traces,
        )
        return {"traces_deleted": deleted}

    def create_assessment(f: Fields) -> Json:
        raw = f.message("assessment", required=True)
        assert raw is not None  # noqa: S101 (required)
        trace_id = f.required_string("trace_id")
        created = service.create_assessment(aj.parse_assessment(raw.data, trace_id=trace_id))
        return {"assessment": aj.assessment(created)}

    def get_assessment(f: Fields) -> Json:
        found = service.get_assessment(
            f.required_string("trace_id"), f.required_string("assessment_id")
        )
        return {"assessment": aj.assessment(found)}

    def update_assessment(f: Fields) -> Json:
        raw = f.message("assessment", required=True)
        assert raw is not None  # noqa: S101 (required)
        mask = f.data.get("update_mask", f.data.get("updateMask"))
        paths = [] if mask is None else parse_field_mask(mask, "update_mask")
        changes = _changes(dict(raw.data), paths)
        updated = service.update_assessment(
            f.required_string("trace_id"), f.required_string("assessment_id"), changes
        )
        return {"assessment": aj.assessment(updated)}

    def delete_assessment(f: Fields) -> Json:
        service.delete_assessment(f.required_string("trace_id"), f.required_string("assessment_id"))
        return {}

    trace = "/traces/{trace_id}"
    one = trace + "/assessments/{assessment_id}"
    reads = requires("read", "trace", "trace_id")
    updates = requires("update", "trace", "trace_id")
    deletes = requires("delete", "experiment", "experiment_id")
    v3 = [
        api.post("/traces", start_trace, requires("update", "experiment", _STARTED_IN)),
        api.get("/traces/get", get_trace, reads),
        api.get("/traces/batchGet", batch_get_traces, requires("read", "trace", "trace_ids")),
        api.post(
            "/traces/batchGetInfos", batch_get_trace_infos, requires("read", "trace", "trace_ids")
        ),
        api.post("/traces/search", search_traces_v3, requires("read", "experiment", _SEARCHED)),
        api.post("/traces/delete-traces", delete_traces, deletes),
        api.with_path("GET", trace, get_trace_info, reads),
        api.with_path("PATCH", trace + "/tags", set_trace_tag, updates),
        api.with_path("DELETE", trace + "/tags", delete_trace_tag, updates),
        api.with_path("POST", trace + "/assessments", create_assessment, updates),
        api.with_path("GET", one, get_assessment, reads),
        api.with_path("PATCH", one, update_assessment, updates),
        api.with_path("DELETE", one, delete_assessment, updates),
    ]
    legacy = "/traces/{request_id}"
    legacy_updates = requires("update", "trace", "request_id")
    v2 = [
        api.get("/traces", search_traces_v2, requires("read", "experiment", "experiment_ids")),
        api.post("/traces/delete-traces", delete_traces, deletes),
        api.with_path(
            "GET", legacy + "/info", get_trace_info_v2, requires("read", "trace", "request_id")
        ),
        api.with_path("PATCH", legacy + "/tags", set_trace_tag, legacy_updates),
        api.with_path("DELETE", legacy + "/tags", delete_trace_tag, legacy_updates),
    ]
    return [*under_prefixes(MLFLOW_V3, v3), *under_prefixes(MLFLOW_V2, v2)]


def _changes(data: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """The fields an UpdateAssessment names in its update_mask, as service changes."""
    if not paths:
        raise missing("update_mask")
    changes: dict[str, Any] = {}
    for path in paths:
        field = _UPDATE_MASK_FIELDS.get(path)
        if field is None:
            raise InvalidParameter(
                f"Cannot update {path!r} of an assessment; use {', '.join(_UPDATE_MASK_FIELDS)}"
            )
        if path in ("feedback", "expectation"):
            payload = data.get(path)
            if not isinstance(payload, dict):
                raise InvalidParameter(f"update_mask names {path!r} but the assessment has none")
            parsed = aj.parse_assessment({"assessment_name": "x", path: payload})
            changes["value"] = parsed.value
            if parsed.error is not None:
                changes["error"] = parsed.error
        elif path == "assessment_name":
            changes["name"] = data.get("assessment_name")
        else:
            changes[field] = data.get(path)
    return changes
