"""Server meta routes: /health, /version and the capability document server-info."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute

from heron.server.wire import json_response
from heron.services.access import PUBLIC
from heron.web.routes import PolicyRoute

# MLflow compat: clients parse /version as an MLflow version and gate features on it (OTLP
# span export needs >= 3.4), so we report the MLflow release whose wire protocol we speak,
# not Heron's own version.
MLFLOW_WIRE_VERSION = "3.17.2"

SERVER_INFO = {
    "store_type": "SqlStore",
    "workspaces_enabled": False,
    "trace_archival_enabled": False,
    "multipart_uploads_enabled": False,
    "multipart_downloads_enabled": False,
    "presigned_upload_run_id_supported": False,
    "presigned_upload_model_id_supported": False,
    "features_enabled": {"gateway": False},
}


async def health(request: Request) -> Response:
    return PlainTextResponse("OK")


async def version(request: Request) -> Response:
    return PlainTextResponse(MLFLOW_WIRE_VERSION)


def routes(*, multipart_uploads: bool = False, workspaces: bool = False) -> list[BaseRoute]:
    """`multipart_uploads`: the artifact store takes presigned multipart uploads (S3);
    `workspaces`: the server runs with --enable-workspaces."""
    info = {
        **SERVER_INFO,
        "multipart_uploads_enabled": multipart_uploads,
        "workspaces_enabled": workspaces,
    }

    async def server_info(request: Request) -> Response:
        return json_response(info)

    # What a client needs before it can say who it is: public.
    return [
        PolicyRoute("/health", health, methods=["GET"], policy=PUBLIC),
        PolicyRoute("/version", version, methods=["GET"], policy=PUBLIC),
        PolicyRoute("/api/3.0/mlflow/server-info", server_info, methods=["GET"], policy=PUBLIC),
        PolicyRoute(
            "/ajax-api/3.0/mlflow/server-info", server_info, methods=["GET"], policy=PUBLIC
        ),
    ]
