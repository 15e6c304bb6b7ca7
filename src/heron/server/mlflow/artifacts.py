"""MLflow's artifact proxy (/api/2.0/mlflow-artifacts/artifacts...), Heron's batch upload beside
it, and run artifact listing."""

from __future__ import annotations

import asyncio
import mimetypes
import queue
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from heron import integrity
from heron.entities import FileInfo
from heron.errors import InvalidParameter, NotImplementedByServer
from heron.server.files import attachment, file_response
from heron.server.routing import under_prefixes
from heron.server.wire import (
    Endpoints,
    Fields,
    Json,
    json_response,
    missing,
    parse_json_object,
    read_body,
)
from heron.services import RunService
from heron.store.artifacts import (
    ArtifactRepository,
    FileStream,
    batch,
    paths,
    supports_multipart,
)
from heron.store.artifacts.locations import repository_for

PROXY_PREFIXES = ("/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts")
# Heron's own: many small files in one PUT (the body format is heron.store.artifacts.batch).
BATCH_PREFIXES = ("/api/2.0/heron/artifacts/batch", "/ajax-api/2.0/heron/artifacts/batch")
UPLOAD_BATCH_BYTES = 1 << 20  # request body handed to the writer thread in batches this big
_READ_AHEAD = 4  # batches received ahead of the writer thread
_PAGE = 1000
# MLflow compat: the client falls back to a plain PUT when the message starts with this.
MULTIPART_UNSUPPORTED = "Multipart upload is not supported for the current artifact repository"
_MPU_BODY_LIMIT = 4 * 1024 * 1024
T = TypeVar("T")


def proxy_routes(repository: ArtifactRepository | None) -> list[BaseRoute]:
    """The proxy under both prefixes; with `repository` None (--no-serve-artifacts) every
    route answers 503 as MLflow does."""
    if repository is None:
        endpoints: list[Route] = [
            Route("/artifacts", _disabled, methods=["GET"]),
            Route("/artifacts/{path:path}", _disabled, methods=["GET", "PUT", "DELETE"]),
            Route("/mpu/{action}/{path:path}", _disabled, methods=["POST"]),
        ]
        batches = [Route("/{path:path}", _disabled, methods=["PUT"])]
        return [
            *under_prefixes(PROXY_PREFIXES, endpoints),
            *under_prefixes(BATCH_PREFIXES, batches),
        ]
    repo = repository

    async def list_artifacts(request: Request) -> Response:
        query = request.query_params
        base = paths.clean(query.get("path", ""))
        files = await run_in_threadpool(_listing, repo, base, query.get("page_token"))
        return json_response(_files_json(files[0], base, files[1]))

    async def download_artifact(request: Request) -> Response:
        path = paths.clean(request.path_params["path"])
        chunks = await run_in_threadpool(repo.read, path)
        return _file_response(path, chunks)

    async def upload_artifact(request: Request) -> Response:
        path = paths.clean(request.path_params["path"])
        try:
            await _in_thread_with_body(request, lambda body: repo.write(path, body))
        except ClientDisconnect:
            return Response(status_code=400)  # nobody reads it: the client is gone
        # MLflow compat: the upload answers 200 with an empty JSON object.
        return json_response({})

    async def upload_batch(request: Request) -> Response:
        base = paths.clean(request.path_params["path"])
        try:
            count = await _in_thread_with_body(request, lambda body: _write_batch(repo, base, body))
        except ClientDisconnect:
            return Response(status_code=400)
        return json_response({"files": count})

    async def delete_artifact(request: Request) -> Response:
        await run_in_threadpool(repo.delete, request.path_params["path"])
        return json_response({})

    return [
        *under_prefixes(
            PROXY_PREFIXES,
            [
                Route("/mpu/{action}/{path:path}", _multipart_endpoint(repo), methods=["POST"]),
                Route("/artifacts", list_artifacts, methods=["GET"]),
                Route("/artifacts/{path:path}", download_artifact, methods=["GET"]),
                Route("/artifacts/{path:path}", upload_artifact, methods=["PUT"]),
                Route("/artifacts/{path:path}", delete_artifact, methods=["DELETE"]),
            ],
        ),
        *under_prefixes(BATCH_PREFIXES, [Route("/{path:path}", upload_batch, methods=["PUT"])]),
    ]


def _write_batch(repo: ArtifactRepository, base: str, body: Iterator[bytes]) -> int:
    """Writes each file of a batch body (heron.store.artifacts.batch) under `base`."""
    count = 0
    for path, content in batch.records(body):
        repo.write(paths.join(base, paths.clean(path)), content)
        count += 1
    return count


def _multipart_endpoint(repo: ArtifactRepository) -> Callable[[Request], Awaitable[Response]]:
    """POST mpu/{create,complete,abort}/<path>: the client sends the parts straight to S3."""

    async def multipart(request: Request) -> Response:
        path = paths.clean(request.path_params["path"])
        action = request.path_params["action"]
        body = await read_body(request.scope, request.receive, _MPU_BODY_LIMIT)
        f = Fields(parse_json_object(body))
        if action not in ("create", "complete", "abort"):
            return PlainTextResponse("Not Found", status_code=404)
        if not supports_multipart(repo):
            raise NotImplementedByServer(MULTIPART_UNSUPPORTED)
        upload_id = f.string("upload_id")
        if action == "create":
            num_parts = f.int64("num_parts") or 1
            upload = await run_in_threadpool(repo.create_multipart_upload, path, num_parts)
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
            await run_in_threadpool(repo.complete_multipart_upload, path, upload_id, parts)
        else:
            await run_in_threadpool(repo.abort_multipart_upload, path, upload_id)
        return json_response({})

    return multipart


def run_routes(
    api: Endpoints, run_service: RunService, proxied: ArtifactRepository | None
) -> list[Route]:
    """GET /artifacts/list: the files of a run, relative to its artifact root."""

    def list_run_artifacts(f: Fields) -> Json:
        run_id = f.string("run_id") or f.string("run_uuid")
        if not run_id:
            raise InvalidParameter("Missing value for required parameter 'run_id'")
        root_uri = run_service.get_run(run_id).info.artifact_uri
        repo, root = repository_for(root_uri, proxied)
        base = paths.join(root, f.string("path") or "")
        items, token = _listing(repo, base, f.string("page_token"))
        answer = _files_json(items, root, token)
        answer["root_uri"] = root_uri
        return answer

    return [api.get("/artifacts/list", list_run_artifacts)]


def _listing(
    repo: ArtifactRepository, base: str, page_token: str | None
) -> tuple[list[FileInfo], str | None]:
    """One page when the caller pages (`page_token`), else the whole directory level.
    MLflow compat: MLflow's client never pages artifact listings and expects every file."""
    if page_token is not None:
        page = repo.list(base, max_results=_PAGE, page_token=page_token or None)
        return list(page), page.next_page_token
    items: list[FileInfo] = []
    token: str | None = None
    while True:
        page = repo.list(base, max_results=_PAGE, page_token=token)
        items.extend(page)
        token = page.next_page_token
        if token is None:
            return items, None


def _files_json(items: list[FileInfo], relative_to: str, token: str | None) -> Json:
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


def _file_response(path: str, chunks: FileStream) -> Response:
    name = path.rsplit("/", 1)[-1]
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    headers = {"Content-Disposition": attachment(name), "X-Content-Type-Options": "nosniff"}
    return file_response(chunks, media_type=media_type, headers=headers)


async def _in_thread_with_body(request: Request, consume: Callable[[Iterator[bytes]], T]) -> T:
    """Runs `consume` in a worker thread on the request's body, checked against its
    Content-Length and digest headers as it streams (integrity.verified).

    A small body is read at once: one hand-off to the thread. A large one is received on the
    event loop up to _READ_AHEAD batches of ~1 MiB ahead of the thread, so receiving the next
    batch overlaps writing (and hashing) the last one."""
    length = _content_length(request)
    digests = integrity.expected_digests(request.headers)
    if length is not None and length <= UPLOAD_BATCH_BYTES:
        body = iter((await request.body(),))
        return await run_in_threadpool(
            consume, integrity.verified(body, length=length, digests=digests)
        )
    pipe = _BodyPipe()
    receiving = asyncio.ensure_future(pipe.fill(request.stream()))
    try:
        return await run_in_threadpool(
            consume, integrity.verified(pipe.pieces(), length=length, digests=digests)
        )
    finally:
        receiving.cancel()  # done already, unless `consume` stopped early


class _BodyPipe:
    """A request body passed from the event loop (fill) to a worker thread (pieces) in
    batches of ~1 MiB of uvicorn's pieces (not joined: that would copy every byte once more),
    at most _READ_AHEAD batches waiting. A failure to receive (the client went away) is
    raised in the thread."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._room = asyncio.Semaphore(_READ_AHEAD)
        self._queue: queue.SimpleQueue[list[bytes] | Exception | None] = queue.SimpleQueue()

    async def fill(self, stream: AsyncIterator[bytes]) -> None:
        try:
            pieces: list[bytes] = []
            size = 0
            async for piece in stream:
                pieces.append(piece)
                size += len(piece)
                if size >= UPLOAD_BATCH_BYTES:
                    await self._put(pieces)
                    pieces, size = [], 0
            if pieces:
                await self._put(pieces)
            self._queue.put(None)
        except Exception as exc:  # handed to the thread, which raises it
            self._queue.put(exc)

    async def _put(self, pieces: list[bytes]) -> None:
        await self._room.acquire()
        self._queue.put(pieces)

    def pieces(self) -> Iterator[bytes]:
        while (batch := self._queue.get()) is not None:
            if isinstance(batch, Exception):
                raise batch
            self._loop.call_soon_threadsafe(self._room.release)
            yield from batch


def _content_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


async def _disabled(request: Request) -> Response:
    # MLflow compat: with --no-serve-artifacts the proxy routes exist and answer 503.
    return PlainTextResponse(
        f"Endpoint: {request.url.path} disabled due to the server running with "
        "`--no-serve-artifacts`. Enable artifact serving to use this endpoint.",
        status_code=503,
    )
