"""The HTTP backend: Heron's (or MLflow's) REST API, behind the same methods as the services."""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import mimetypes
import os
import posixpath
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import orjson

from heron import integrity, mlflow_json
from heron.client import multipart, wire
from heron.client.http_logged_models import (
    HttpLoggedModels,
    batch_metrics,
    model_inputs_json,
    model_outputs_json,
)
from heron.client.http_namespaces import HttpNamespaces
from heron.client.http_registry import HttpRegistry
from heron.client.http_traces import HttpTraces
from heron.client.http_webhooks import HttpWebhooks
from heron.entities import (
    DatasetInput,
    Experiment,
    FileInfo,
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelOutput,
    Metric,
    Page,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from heron.errors import HeronError, TemporarilyUnavailable, error_for_code
from heron.store.artifacts import batch, paths

API = "/api/2.0/mlflow"
ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
BATCH_API = "/api/2.0/heron/artifacts/batch"  # heron.server.mlflow.artifacts.BATCH_PREFIXES
_RETRY_STATUSES = frozenset({429, 502, 503, 504})
_MAX_ATTEMPTS = 3
_HASH_CHUNK = 1 << 20
_SMALL_FILE = 1 << 20  # bytes: sent from memory in one piece
_FALLBACK_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "ENDPOINT_NOT_FOUND",
    503: "TEMPORARILY_UNAVAILABLE",
}


class Transport:
    """One keep-alive connection pool to a tracking server; turns error bodies into errors."""

    def __init__(self, base_url: str, *, timeout_s: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=timeout_s,
            headers=_auth_headers(),
            follow_redirects=False,
        )

    def get(self, path: str, params: Mapping[str, Any]) -> mlflow_json.Json:
        query = {k: v for k, v in params.items() if v is not None}
        return self._send("GET", path, params=query)

    def post(self, path: str, body: Mapping[str, Any]) -> mlflow_json.Json:
        return self.send_json("POST", path, body)

    def send_json(self, method: str, path: str, body: Mapping[str, Any]) -> mlflow_json.Json:
        """A JSON body with any method (MLflow's PATCH and DELETE routes take one too)."""
        payload = orjson.dumps({k: v for k, v in body.items() if v is not None})
        return self._send(
            method, path, content=payload, headers={"Content-Type": "application/json"}
        )

    def send_bytes(self, path: str, content: bytes, headers: Mapping[str, str]) -> mlflow_json.Json:
        """POSTs a raw body (an OTLP export) with its own headers; errors as for JSON calls."""
        return self._send("POST", path, content=content, headers=dict(headers))

    def _send(self, method: str, path: str, **kwargs: Any) -> mlflow_json.Json:
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                raise TemporarilyUnavailable(
                    f"Could not reach the tracking server at {self.base_url}: {exc}"
                ) from None
            if response.status_code in _RETRY_STATUSES and attempt < _MAX_ATTEMPTS:
                time.sleep(0.2 * 2**attempt)
                continue
            return _body_or_raise(response)
        raise AssertionError("unreachable")  # pragma: no cover

    def upload(self, path: str, content: BinaryIO | Iterable[bytes]) -> None:
        """PUTs a raw body streamed from `content`; a seekable file is retried like a call."""
        file = content if hasattr(content, "seek") else None
        seekable = isinstance(file, io.IOBase) and file.seekable()
        start = file.tell() if isinstance(file, io.IOBase) and seekable else 0
        if isinstance(file, io.IOBase) and seekable and _size_from(file, start) <= _SMALL_FILE:
            content = file.read()  # one read and one send, not a stream of pieces
        headers = {"Content-Type": mimetypes.guess_type(path)[0] or "application/octet-stream"}
        digest = _sha256_of(content, start if seekable else None)
        if digest is not None:  # the server checks it before it keeps the file
            headers["Content-Digest"] = integrity.sha256_header(digest)
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            try:
                response = self._client.put(path, content=content, headers=headers)
            except httpx.TransportError as exc:
                raise TemporarilyUnavailable(
                    f"Could not upload to the tracking server at {self.base_url}: {exc}"
                ) from None
            retry = response.status_code in _RETRY_STATUSES and attempt < _MAX_ATTEMPTS
            if retry and isinstance(file, io.IOBase) and seekable:
                file.seek(start)
                time.sleep(0.2 * 2**attempt)
                continue
            if not response.is_success:
                _body_or_raise(response)
            return

    def download(self, path: str) -> Iterator[bytes]:
        """Streams a GET's body; the request is sent (and errors raised) by this call."""
        request = self._client.build_request("GET", path)
        try:
            response = self._client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise TemporarilyUnavailable(
                f"Could not reach the tracking server at {self.base_url}: {exc}"
            ) from None
        if not response.is_success:
            response.read()
            response.close()
            _body_or_raise(response)
        return _stream(response)

    def close(self) -> None:
        self._client.close()


def _size_from(file: io.IOBase, start: int) -> int:
    """How many bytes `file` holds from `start` on; leaves it at `start`."""
    end = file.seek(0, io.SEEK_END)
    file.seek(start)
    return end - start


def _sha256_of(content: BinaryIO | Iterable[bytes], start: int | None) -> bytes | None:
    """The digest of what an upload will send: bytes, or a seekable file read from `start`
    (and put back there); None for a stream that can be read only once."""
    if isinstance(content, bytes | bytearray | memoryview):
        return hashlib.sha256(content).digest()
    if start is None or not isinstance(content, io.IOBase):
        return None
    digest = hashlib.sha256()
    while chunk := content.read(_HASH_CHUNK):
        digest.update(chunk)
    content.seek(start)
    return digest.digest()


def _stream(response: httpx.Response) -> Iterator[bytes]:
    try:
        yield from response.iter_bytes()
    finally:
        response.close()


def _auth_headers() -> dict[str, str]:
    """MLflow's environment variables for basic or bearer auth, so the same setup works."""
    token = os.environ.get("HERON_TRACKING_TOKEN") or os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        return {"Authorization": f"Bearer {token}"}
    user = os.environ.get("MLFLOW_TRACKING_USERNAME")
    if user:
        password = os.environ.get("MLFLOW_TRACKING_PASSWORD", "")
        encoded = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {encoded}"}
    return {}


def _body_or_raise(response: httpx.Response) -> mlflow_json.Json:
    try:
        body = orjson.loads(response.content) if response.content else {}
    except orjson.JSONDecodeError:
        body = None
    if response.is_success and isinstance(body, dict):
        return body
    if isinstance(body, dict) and "error_code" in body:
        raise error_for_code(str(body["error_code"]), str(body.get("message", "")))
    code = _FALLBACK_CODES.get(response.status_code, "INTERNAL_ERROR")
    text = response.text.strip()[:200] or response.reason_phrase
    raise error_for_code(
        code,
        f"{response.request.method} {response.request.url.path} answered "
        f"{response.status_code}: {text}",
    )


class HttpExperiments:
    """The experiment methods over `/api/2.0/mlflow/experiments/...`."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create_experiment(
        self,
        name: str,
        *,
        artifact_location: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        body = self._t.post(
            f"{API}/experiments/create",
            {
                "name": name,
                "artifact_location": artifact_location or None,
                "tags": mlflow_json.key_values(tags or {}),
            },
        )
        return str(body["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        body = self._t.get(f"{API}/experiments/get", {"experiment_id": experiment_id})
        return wire.experiment_in(body["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment:
        body = self._t.get(f"{API}/experiments/get-by-name", {"experiment_name": name})
        return wire.experiment_in(body["experiment"])

    def search_experiments(
        self,
        *,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        body = self._t.post(
            f"{API}/experiments/search",
            {
                "filter": filter_string or None,
                "order_by": list(order_by or []),
                "view_type": ViewType(view_type).name,
                "max_results": max_results,
                "page_token": page_token or None,
            },
        )
        items = [wire.experiment_in(e) for e in body.get("experiments", ())]
        return Page(items, body.get("next_page_token") or None)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._t.post(
            f"{API}/experiments/update", {"experiment_id": experiment_id, "new_name": new_name}
        )

    def delete_experiment(self, experiment_id: str) -> None:
        self._t.post(f"{API}/experiments/delete", {"experiment_id": experiment_id})

    def restore_experiment(self, experiment_id: str) -> None:
        self._t.post(f"{API}/experiments/restore", {"experiment_id": experiment_id})

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self._t.post(
            f"{API}/experiments/set-experiment-tag",
            {"experiment_id": experiment_id, "key": key, "value": value},
        )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._t.post(
            f"{API}/experiments/delete-experiment-tag", {"experiment_id": experiment_id, "key": key}
        )


class HttpRuns:
    """The run methods over `/api/2.0/mlflow/runs/...` and `/metrics/...`."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create_run(
        self,
        experiment_id: str,
        *,
        user_id: str | None = None,
        run_name: str | None = None,
        start_time: int | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Run:
        body = self._t.post(
            f"{API}/runs/create",
            {
                "experiment_id": experiment_id,
                "user_id": user_id,
                "run_name": run_name,
                "start_time": start_time,
                "tags": mlflow_json.key_values(tags or {}),
            },
        )
        return wire.run_in(body["run"])

    def get_run(self, run_id: str) -> Run:
        body = self._t.get(f"{API}/runs/get", {"run_id": run_id, "run_uuid": run_id})
        return wire.run_in(body["run"])

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        body = self._t.post(
            f"{API}/runs/update",
            {
                "run_id": run_id,
                "run_uuid": run_id,
                "end_time": end_time,
                "status": None if status is None else str(status),
                "run_name": run_name or None,
            },
        )
        return wire.run_info_in(body["run_info"])

    def delete_run(self, run_id: str) -> None:
        self._t.post(f"{API}/runs/delete", {"run_id": run_id})

    def restore_run(self, run_id: str) -> None:
        self._t.post(f"{API}/runs/restore", {"run_id": run_id})

    def log_metric(
        self, run_id: str, key: str, value: float, timestamp: int, step: int = 0
    ) -> None:
        metric = mlflow_json.metric(Metric(key=key, value=value, timestamp=timestamp, step=step))
        self._t.post(f"{API}/runs/log-metric", {"run_id": run_id, "run_uuid": run_id, **metric})

    def log_param(self, run_id: str, key: str, value: str) -> None:
        self._t.post(
            f"{API}/runs/log-parameter",
            {"run_id": run_id, "run_uuid": run_id, "key": key, "value": value},
        )

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        self._t.post(
            f"{API}/runs/set-tag",
            {"run_id": run_id, "run_uuid": run_id, "key": key, "value": value},
        )

    def delete_tag(self, run_id: str, key: str) -> None:
        self._t.post(f"{API}/runs/delete-tag", {"run_id": run_id, "key": key})

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        model_metrics: Sequence[LoggedModelMetric] = (),
    ) -> None:
        self._t.post(
            f"{API}/runs/log-batch",
            {
                "run_id": run_id,
                "metrics": batch_metrics(metrics, model_metrics),
                "params": [{"key": p.key, "value": p.value} for p in params],
                "tags": [{"key": t.key, "value": t.value} for t in tags],
            },
        )

    def get_metric_history(
        self,
        run_id: str,
        key: str,
        *,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Metric]:
        body = self._t.get(
            f"{API}/metrics/get-history",
            {
                "run_id": run_id,
                "run_uuid": run_id,
                "metric_key": key,
                "max_results": max_results,
                "page_token": page_token or None,
            },
        )
        items = [wire.metric_in(m) for m in body.get("metrics", ())]
        return Page(items, body.get("next_page_token") or None)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        body = self._t.post(
            f"{API}/runs/search",
            {
                "experiment_ids": list(experiment_ids),
                "filter": filter_string or None,
                "run_view_type": ViewType(run_view_type).name,
                "max_results": max_results,
                "order_by": list(order_by or []),
                "page_token": page_token or None,
            },
        )
        items = [wire.run_in(r) for r in body.get("runs", ())]
        return Page(items, body.get("next_page_token") or None)

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[LoggedModelInput] = (),
    ) -> None:
        body = {"run_id": run_id, "datasets": [mlflow_json.dataset_input(d) for d in datasets]}
        if models:
            body["models"] = model_inputs_json(models)
        self._t.post(f"{API}/runs/log-inputs", body)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        self._t.post(
            f"{API}/runs/outputs", {"run_id": run_id, "models": model_outputs_json(models)}
        )


class HttpArtifacts:
    """`mlflow-artifacts:` URIs through the server's proxy (`/api/2.0/mlflow-artifacts/...`),
    streamed both ways. Other artifact URIs (a server run with `--no-serve-artifacts` hands
    out storage URIs) are written and read directly, as MLflow's client does."""

    def __init__(self, transport: Transport) -> None:
        from heron.client.artifacts import ServiceArtifacts
        from heron.services import AllowAll
        from heron.services.artifacts import ArtifactService

        self._t = transport
        self._direct = ServiceArtifacts(ArtifactService(AllowAll(), destination=None))
        self.multipart_min_bytes = multipart.MIN_FILE_BYTES
        self.part_bytes = multipart.PART_BYTES
        self._batches = True  # until the server shows it has no batch upload

    def put(self, artifact_uri: str, path: str, content: BinaryIO | Iterable[bytes]) -> None:
        """Big files go up in parts straight to the storage when the server's store takes
        multipart uploads (S3); otherwise, and for everything else, in one streamed PUT."""
        if not paths.is_proxied(artifact_uri):
            return self._direct.put(artifact_uri, path, content)
        opened = _file_from_start(content)
        if opened is not None and opened[1] >= self.multipart_min_bytes:
            full = paths.join(paths.proxied_path(artifact_uri), path)
            try:
                multipart.upload(self._t, full, *opened, self.part_bytes)
            except multipart.Unsupported:
                pass
            else:
                return None
        self._t.upload(_artifact_url(artifact_uri, path), content)
        return None

    def put_many(self, artifact_uri: str, files: Sequence[tuple[Path, str]]) -> None:
        """Small files go up in batches (Heron's batch upload, heron.store.artifacts.batch),
        the others one PUT each, several at once. A server with no batch upload (MLflow's)
        gets one PUT a file."""
        from heron.client import artifacts

        if not paths.is_proxied(artifact_uri):
            return self._direct.put_many(artifact_uri, files)
        groups, big = artifacts.batches(files, batch.FILE_BYTES, batch.BODY_BYTES)
        calls = [functools.partial(self._put_batch, artifact_uri, group) for group in groups]
        calls += [functools.partial(artifacts.upload_file, self, artifact_uri, *f) for f in big]
        artifacts.in_parallel(calls)
        return None

    def _put_batch(self, artifact_uri: str, files: Sequence[tuple[Path, str]]) -> None:
        from heron.client import artifacts

        if self._batches:
            body = bytearray()
            for local, path in files:
                content = local.read_bytes()
                body += batch.record_header(path, content)
                body += content
            base = paths.proxied_path(artifact_uri)
            try:
                self._t.upload(
                    f"{BATCH_API}/{urllib.parse.quote(base, safe='/')}", io.BytesIO(body)
                )
                return
            except HeronError as exc:
                if exc.code != "ENDPOINT_NOT_FOUND":
                    raise
                self._batches = False
        artifacts.put_each(self, artifact_uri, files)

    def list(self, artifact_uri: str, path: str = "") -> list[FileInfo]:
        if not paths.is_proxied(artifact_uri):
            return self._direct.list(artifact_uri, path)
        full = paths.join(paths.proxied_path(artifact_uri), path)
        found: list[FileInfo] = []
        token: str | None = None
        while True:
            # An empty page_token asks a Heron server for pages (MLflow's answers in one go).
            body = self._t.get(ARTIFACTS_API, {"path": full, "page_token": token or ""})
            for entry in body.get("files", ()):
                # MLflow compat: the proxy lists names relative to the listed directory.
                name = posixpath.basename(str(entry["path"]).rstrip("/"))
                size = entry.get("file_size")
                found.append(
                    FileInfo(
                        path=f"{path}/{name}" if path else name,
                        is_dir=bool(entry.get("is_dir", False)),
                        file_size=None if size is None else int(size),
                    )
                )
            token = body.get("next_page_token") or None
            if not token:
                return found

    def read(self, artifact_uri: str, path: str) -> Iterator[bytes]:
        if not paths.is_proxied(artifact_uri):
            return self._direct.read(artifact_uri, path)
        return self._t.download(_artifact_url(artifact_uri, path))


def _file_from_start(content: object) -> tuple[int, int] | None:
    """(descriptor, size) of a real file positioned at its start, else None."""
    if not isinstance(content, io.IOBase):
        return None
    try:
        if content.tell() != 0:
            return None
        fd = content.fileno()
        return fd, os.fstat(fd).st_size
    except (OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return None


def _artifact_url(artifact_uri: str, path: str) -> str:
    full = paths.join(paths.proxied_path(artifact_uri), path)
    return f"{ARTIFACTS_API}/{urllib.parse.quote(full, safe='/')}"


class HttpBackend:
    """A tracking server at an `http(s)://` URI."""

    def __init__(self, uri: str) -> None:
        self._transport = Transport(uri)
        self._experiments = HttpExperiments(self._transport)
        self._runs = HttpRuns(self._transport)
        self._artifacts = HttpArtifacts(self._transport)
        self._registry = HttpRegistry(self._transport)
        self._logged_models = HttpLoggedModels(self._transport)
        self._traces = HttpTraces(self._transport)
        self._namespaces = HttpNamespaces(self._transport)
        self._webhooks = HttpWebhooks(self._transport)

    @property
    def experiments(self) -> HttpExperiments:
        return self._experiments

    @property
    def runs(self) -> HttpRuns:
        return self._runs

    @property
    def artifacts(self) -> HttpArtifacts:
        return self._artifacts

    @property
    def registry(self) -> HttpRegistry:
        return self._registry

    @property
    def logged_models(self) -> HttpLoggedModels:
        return self._logged_models

    @property
    def traces(self) -> HttpTraces:
        return self._traces

    @property
    def namespaces(self) -> HttpNamespaces:
        return self._namespaces

    @property
    def webhooks(self) -> HttpWebhooks:
        return self._webhooks

    def close(self) -> None:
        self._transport.close()
