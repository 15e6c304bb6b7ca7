"""The file routes MLflow's UI (and the tools written against it) call outside the proto API:
GET /get-artifact (a run's file), GET /model-versions/get-artifact (a registered version's),
GET /ajax-api/{2.0,3.0}/mlflow/get-trace-artifact (a trace's TraceData JSON), POST
/ajax-api/2.0/mlflow/upload-artifact (a small file into a run), and the UI telemetry switch.

Files go through the ArtifactService as the proxy's do (paths confined to their root) and
leave as attachments with nosniff, never rendered inline by the browser."""

from __future__ import annotations

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from heron.errors import BadRequest, InvalidParameter, NotFound
from heron.mlflow_json import traces as tj
from heron.server.mlflow.artifacts import send_artifact
from heron.server.wire import json_response, read_body
from heron.services.access import PUBLIC, requires
from heron.services.build import Services
from heron.store.artifacts import paths
from heron.web.routes import PolicyRoute

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # MLflow's limit on the UI's upload


def _required(request: Request, *names: str) -> str:
    """The first of `names` the query gives. MLflow compat: a missing one is BAD_REQUEST."""
    for name in names:
        value = request.query_params.get(name)
        if value:
            return value
    raise BadRequest(f'Request must include the "{names[0]}" query parameter.')


def routes(services: Services) -> list[BaseRoute]:
    """The UI's file routes, each with its policy."""
    runs, registry, artifacts = services.runs, services.registry, services.artifacts

    async def get_artifact(request: Request) -> Response:
        run_id = _required(request, "run_id", "run_uuid")
        path = paths.clean(_required(request, "path"))
        run = await run_in_threadpool(runs.get_run, run_id)
        return await send_artifact(request, artifacts, run.info.artifact_uri, path)

    async def get_model_version_artifact(request: Request) -> Response:
        name, version = _required(request, "name"), _required(request, "version")
        path = paths.clean(_required(request, "path"))
        root = await run_in_threadpool(registry.get_model_version_download_uri, name, version)
        return await send_artifact(request, artifacts, root, path)

    async def get_trace_artifact(request: Request) -> Response:
        trace_id = _required(request, "request_id")
        trace = await run_in_threadpool(services.traces.get_trace, trace_id)
        if request.query_params.get("path"):
            raise NotFound(f"Trace {trace_id!r} has no attachments: Heron keeps none")
        body = orjson.dumps(tj.trace_data(trace))
        headers = {"X-Content-Type-Options": "nosniff"}
        return Response(body, media_type="application/json", headers=headers)

    async def upload_artifact(request: Request) -> Response:
        run_id = request.query_params.get("run_uuid")
        if not run_id:
            raise InvalidParameter("Request must specify run_uuid.")
        raw_path = request.query_params.get("path")
        if not raw_path:
            raise InvalidParameter("Request must specify path.")
        path = paths.clean(raw_path)
        data = await read_body(request.scope, request.receive, MAX_UPLOAD_BYTES)
        if not data:
            raise InvalidParameter("Request must specify data.")
        run = await run_in_threadpool(runs.get_run, run_id)
        await run_in_threadpool(
            artifacts.write_artifact, run.info.artifact_uri, path, [data], length=len(data)
        )
        return json_response({})

    async def ui_telemetry(request: Request) -> Response:
        # MLflow compat: the UI asks whether to send usage telemetry; Heron collects none.
        return json_response({"status": "disabled"})

    ajax2, ajax3 = "/ajax-api/2.0/mlflow", "/ajax-api/3.0/mlflow"
    reads_trace = requires("read", "trace", "request_id")
    return [
        PolicyRoute(
            "/get-artifact", get_artifact, methods=["GET"], policy=requires("read", "run", "run_id")
        ),
        PolicyRoute(
            "/model-versions/get-artifact",
            get_model_version_artifact,
            methods=["GET"],
            policy=requires("read", "registered_model", "name"),
        ),
        *(
            PolicyRoute(
                f"{p}/get-trace-artifact", get_trace_artifact, methods=["GET"], policy=reads_trace
            )
            for p in (ajax2, ajax3)
        ),
        PolicyRoute(
            f"{ajax2}/upload-artifact",
            upload_artifact,
            methods=["POST"],
            policy=requires("update", "run", "run_uuid"),
        ),
        PolicyRoute(
            f"{ajax3}/ui-telemetry",
            ui_telemetry,
            methods=["GET", "POST"],
            policy=PUBLIC,  # a fixed answer about no object, like server-info
        ),
    ]
