"""MLflow's artifact proxy (/api/2.0/mlflow-artifacts/artifacts...), Heron's batch upload beside
it, and run artifact listing: translation only, the files are the ArtifactService's."""

from __future__ import annotations

import mimetypes
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute

from heron.entities import FileInfo
from heron.server.routing import under_prefixes
from heron.server.uploads import in_thread_with_body
from heron.server.wire import (
    Endpoints,
    Fields,
    Json,
    json_response,
    missing,
    parse_json_object,
    read_body,
)
from heron.services.access import PUBLIC, requires
from heron.services.artifacts import PROXY_ROOT, ArtifactService
from heron.services.runs import RunService
from heron.store.artifacts import FileStream, paths
from heron.web.files import attachment, file_response, requested_range
from heron.web.routes import PolicyRoute

PROXY_PREFIXES = ("/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts")
# Heron's own: many small files in one PUT (the body format is heron.store.artifacts.batch).
BATCH_PREFIXES = ("/api/2.0/heron/artifacts/batch", "/ajax-api/2.0/heron/artifacts/batch")
# MLflow compat: the client falls back to a plain PUT when the message starts with this.
_MPU_BODY_LIMIT = 4 * 1024 * 1024
# The proxy names a file by its path in the destination (`<experiment>/<run>/artifacts/...`).
_READ = requires("read", "artifact", "path")
_WRITE = requires("update", "artifact", "path")
_DELETE = requires("delete", "artifact", "path")


def proxy_routes(artifacts: ArtifactService) -> list[BaseRoute]:
    """The proxy under both prefixes; without a destination (--no-serve-artifacts) every
    route answers 503 as MLflow does."""
    if not artifacts.serves_proxy:
        # They touch no file and say only that they are off: anyone may hear it.
        any_file, every_method = "/artifacts/{path:path}", ["GET", "PUT", "DELETE"]
        endpoints = [
            PolicyRoute("/artifacts", _disabled, methods=["GET"], policy=PUBLIC),
            PolicyRoute(any_file, _disabled, methods=every_method, policy=PUBLIC),
            PolicyRoute("/mpu/{action}/{path:path}", _disabled, methods=["POST"], policy=PUBLIC),
        ]
        batches = [PolicyRoute("/{path:path}", _disabled, methods=["PUT"], policy=PUBLIC)]
        return [
            *under_prefixes(PROXY_PREFIXES, endpoints),
            *under_prefixes(BATCH_PREFIXES, batches),
        ]

    async def list_artifacts(request: Request) -> Response:
        query = request.query_params
        base = paths.clean(query.get("path", ""))
        files = await run_in_threadpool(
            listing, artifacts, PROXY_ROOT, base, query.get("page_token")
        )
        # MLflow compat: the proxy lists paths relative to the listed directory.
        return json_response(files_json(files[0], files[1], relative_to=base))

    async def download_artifact(request: Request) -> Response:
        path = paths.clean(request.path_params["path"])
        return await send_artifact(request, artifacts, PROXY_ROOT, path)

    async def upload_artifact(request: Request) -> Response:
        path = paths.clean(request.path_params["path"])
        try:
            await in_thread_with_body(
                request,
                lambda body, length, digests: artifacts.write_artifact(
                    PROXY_ROOT, path, body, length=length, digests=digests
                ),
            )
        except ClientDisconnect:
            return Response(status_code=400)  # nobody reads it: the client is gone
        # MLflow compat: the upload answers 200 with an empty JSON object.
        return json_response({})

    async def upload_batch(request: Request) -> Response:
        base = paths.clean(request.path_params["path"])
        try:
            count = await in_thread_with_body(
                request,
                lambda body, length, digests: artifacts.write_batch(
                    PROXY_ROOT, base, body, length=length, digests=digests
                ),
            )
        except ClientDisconnect:
            return Response(status_code=400)
        return json_response({"files": count})

    async def delete_artifact(request: Request) -> Response:
        path = request.path_params["path"]
        await run_in_threadpool(artifacts.delete_artifact, PROXY_ROOT, path)
        return json_response({})

    multipart = _multipart_endpoint(artifacts)
    return [
        *under_prefixes(
            PROXY_PREFIXES,
            [
                PolicyRoute(
                    "/mpu/{action}/{path:path}", multipart, methods=["POST"], policy=_WRITE
                ),
                PolicyRoute("/artifacts", list_artifacts, methods=["GET"], policy=_READ),
                PolicyRoute(
                    "/artifacts/{path:path}", download_artifact, methods=["GET"], policy=_READ
                ),
                PolicyRoute(
                    "/artifacts/{path:path}", upload_artifact, methods=["PUT"], policy=_WRITE
                ),
                PolicyRoute(
                    "/artifacts/{path:path}", delete_artifact, methods=["DELETE"], policy=_DELETE
                ),
            ],
        ),
        *under_prefixes(
            BATCH_PREFIXES,
            [PolicyRoute("/{path:path}", upload_batch, methods=["PUT"], policy=_WRITE)],
        ),
    ]


def _multipart_endpoint(artifacts: ArtifactService) -> Callable[[Request], Awaitable[Response]]:
    """POST mpu/{create,complete,abort}/<path>: the client sends the parts straight to S3."""

    async def multipart(request: Request) -> Response:
        path = paths.clean(request.path_params["path"])
        action = request.path_params["action"]
        body = await read_body(request.scope, request.receive, _MPU_BODY_LIMIT)
        f = Fields(parse_json_object(body))
        if action not in ("create", "complete", "abort"):
            return PlainTextResponse("Not Found", status_code=404)
        upload_id = f.string("upload_id")
        if action == "create":
            num_parts = f.int64("num_parts") or 1
            upload = await run_in_threadpool(
                artifacts.create_multipart_upload, PROXY_ROOT, path, num_parts
            )
            credentials = [
                {"url": c.url, "part_number": c.part_number, "headers": c.headers}
                for c in upload.credentials
            ]
            return json_response({"upload_id": upload.upload_id, "credentials": credentials})
        if not upload_id:
            raise missing("upload_id")
        if action == "complete":
            parts = [(p.int64("part_number", required=True) or 0, p.required_string("etag"))
                     for p in f.messages("parts")]  # fmt: skip
            await run_in_threadpool(
                artifacts.complete_multipart_upload, PROXY_ROOT, path, upload_id, parts
            )
        else:
            await run_in_threadpool(artifacts.abort_multipart_upload, PROXY_ROOT, path, upload_id)
        return json_response({})

    return multipart


def run_routes(api: Endpoints, runs: RunService, artifacts: ArtifactService) -> list[PolicyRoute]:
    """GET /artifacts/list: the files of a run, relative to its artifact root."""

    def list_run_artifacts(f: Fields) -> Json:
        run_id = f.string("run_id") or f.string("run_uuid")
        if not run_id:
            raise missing("run_id")
        root_uri = runs.get_run(run_id).info.artifact_uri
        items, token = listing(artifacts, root_uri, f.string("path") or "", f.string("page_token"))
        answer = files_json(items, token)
        answer["root_uri"] = root_uri
        return answer

    return [api.get("/artifacts/list", list_run_artifacts, requires("read", "run", "run_id"))]


def listing(
    artifacts: ArtifactService, artifact_uri: str, path: str, page_token: str | None
) -> tuple[list[FileInfo], str | None]:
    """One page when the caller pages (`page_token`), else the whole directory level.
    MLflow compat: MLflow's client never pages artifact listings and expects every file."""
    if page_token is not None:
        page = artifacts.list_artifacts(artifact_uri, path, page_token=page_token or None)
        return list(page), page.next_page_token
    return artifacts.list_all_artifacts(artifact_uri, path), None


def files_json(items: Sequence[FileInfo], token: str | None, *, relative_to: str = "") -> Json:
    """A listing's answer: each file's path (relative to `relative_to`), kind and size."""
    files: list[Json] = []
    for info in items:
        entry: Json = {"path": paths.relative_to(info.path, relative_to), "is_dir": info.is_dir}
        if info.file_size is not None:
            entry["file_size"] = info.file_size
        files.append(entry)
    answer: Json = {"files": files} if files else {}
    if token:
        answer["next_page_token"] = token
    return answer


async def send_artifact(
    request: Request, artifacts: ArtifactService, artifact_uri: str, path: str
) -> Response:
    """The file at `path` under `artifact_uri` as a download, or only the bytes its Range
    header asks for (206; 416 when the range is outside the file)."""
    byte_range = requested_range(request.headers)
    chunks = await run_in_threadpool(
        partial(artifacts.read_artifact, byte_range=byte_range), artifact_uri, path
    )
    return download(path, chunks)


def download(path: str, chunks: FileStream) -> Response:
    """A file as an attachment named after the last part of `path`."""
    name = path.rsplit("/", 1)[-1]
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    headers = {"Content-Disposition": attachment(name), "X-Content-Type-Options": "nosniff"}
    return file_response(chunks, media_type=media_type, headers=headers)


async def _disabled(request: Request) -> Response:
    # MLflow compat: with --no-serve-artifacts the proxy routes exist and answer 503.
    return PlainTextResponse(
        f"Endpoint: {request.url.path} disabled due to the server running with "
        "`--no-serve-artifacts`. Enable artifact serving to use this endpoint.",
        status_code=503,
    )
