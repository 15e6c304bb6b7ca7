"""`heron serving worker`: one replica of one serving endpoint, in a process of its own.

It reads what to serve from the database (the endpoint's newest configuration and what its
aliases point at), loads it beside what it serves now, swaps once the new models answered
their health check, and reports what it serves (its `serving_replicas` row, every
`HEARTBEAT_S`). Any number of workers may serve one endpoint, on any machine that reaches
the database and the artifact store. On SIGTERM it reports STOPPING, keeps answering for a
moment (the tracking server's routing is refreshed within half a second), then finishes the
requests in flight and leaves. It exits when its endpoint is deleted."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import uvicorn

from heron.entities.serving import Replica, ReplicaState
from heron.errors import NotFound
from heron.services.build import Services
from heron.services.serving_endpoints import now_ms
from heron.serving.replica import ReplicaApp
from heron.serving.replica_models import ModelLoader
from heron.serving.server import ServeOptions

_log = logging.getLogger("heron.serving")

POLL_S = 1.0  # how often the configuration is read
HEARTBEAT_S = 2.0
DRAIN_S = 1.0  # answering after STOPPING is reported, for routers yet to re-read
RETRY_FAILED_S = 30.0  # a configuration that failed to load is tried again after this


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerOptions:
    endpoint: str
    replica_id: str = ""
    host: str = "127.0.0.1"
    port: int = 0
    advertise_url: str | None = None  # the URL the tracking server calls; default host:port
    serve: ServeOptions = field(default_factory=lambda: ServeOptions(model_dir=""))


class Worker:
    def __init__(self, services: Services, options: WorkerOptions, directory: Path) -> None:
        self.services = services
        self.options = options
        self.replica_id = options.replica_id or uuid.uuid4().hex
        self.app = ReplicaApp(secrets.token_urlsafe(32))
        self.loader = ModelLoader(services.endpoints, services.artifacts, directory, options.serve)
        self.stop = threading.Event()  # the worker stops (a signal, or its endpoint is gone)
        self.deleted = False  # its endpoint was deleted
        self.url = ""
        self.endpoint_id = ""
        self._state = ReplicaState.LOADING
        self._message = ""
        self._failed: tuple[object, float] | None = None  # (what failed, when)
        self._started = now_ms()

    def follow(self) -> None:
        """Follows the endpoint's configuration until it is deleted or the worker stops."""
        last_report = 0.0
        while not self.stop.is_set():
            try:
                self._step()
                if time.monotonic() - last_report >= HEARTBEAT_S:
                    self.report()
                    last_report = time.monotonic()
            except NotFound:
                _log.info("Serving endpoint %r is gone: stopping", self.options.endpoint)
                self.deleted = True
                self.stop.set()
                return
            except Exception:
                _log.exception("Following serving endpoint %r failed", self.options.endpoint)
            self.stop.wait(POLL_S)

    def _step(self) -> None:
        desired = self.services.endpoints.desired(self.options.endpoint)
        config = desired.endpoint.config
        self.endpoint_id = desired.endpoint.endpoint_id
        serving = self.app.serving
        missing = [name for name, v in desired.versions.items() if v is None]
        if missing:
            self._fail(f"No model version to serve for {missing}: the version or alias is gone")
            return
        versions = {name: str(v) for name, v in desired.versions.items()}
        if serving is not None and (serving.config_version, serving.versions) == (
            config.config_version, versions,
        ):  # fmt: skip
            return
        key = (config.config_version, tuple(sorted(versions.items())))
        failed = self._failed
        if (
            failed is not None
            and failed[0] == key
            and time.monotonic() - failed[1] < RETRY_FAILED_S
        ):
            return
        try:
            loaded = self.loader.serving(config, versions, serving)
        except Exception as exc:
            _log.exception("Loading configuration %d failed", config.config_version)
            self._failed = (key, time.monotonic())
            self._fail(f"Loading configuration {config.config_version} failed: {exc}")
            return
        self.app.swap(loaded)
        self._failed = None
        self._state, self._message = ReplicaState.READY, ""
        _log.info("Serving configuration %d: %s", config.config_version, versions)
        self.report()

    def _fail(self, message: str) -> None:
        """FAILED (still serving what it served, if anything) with the reason."""
        self._state, self._message = ReplicaState.FAILED, message
        self.report()

    def report(self, state: ReplicaState | None = None) -> None:
        if not self.endpoint_id:
            return
        serving = self.app.serving
        replica = Replica(
            replica_id=self.replica_id,
            endpoint_id=self.endpoint_id,
            url=self.url,
            token=self.app.token.decode(),
            state=state or self._state,
            config_version=serving.config_version if serving is not None else 0,
            versions=serving.versions if serving is not None else {},
            host=socket.gethostname(),
            pid=os.getpid(),
            message=self._message[:2000],
            started_at=self._started,
            heartbeat_at=now_ms(),
        )
        self.services.endpoints.report_replica(self.options.endpoint, replica)


class _Server(uvicorn.Server):
    """uvicorn, stopping the worker's way on SIGTERM or SIGINT: STOPPING reported first,
    answering for DRAIN_S more, then the requests in flight finished."""

    worker: Worker

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.worker.stop.is_set():  # a second signal: leave now
            self.force_exit = self.should_exit = True
            return
        self.worker.stop.set()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        try:
            self.worker.report(ReplicaState.STOPPING)
        except Exception:
            _log.exception("Reporting STOPPING failed")
        time.sleep(DRAIN_S)
        self.worker.app.stopping = True
        self.should_exit = True


def run_worker(services: Services, options: WorkerOptions) -> None:
    """Serves the endpoint until SIGTERM, or until the endpoint is deleted."""
    desired = services.endpoints.desired(options.endpoint)  # NotFound: nothing to serve
    sock = socket.socket(socket.AF_INET6 if ":" in options.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((options.host, options.port))
    port = sock.getsockname()[1]
    host = f"[{options.host}]" if ":" in options.host else options.host
    with tempfile.TemporaryDirectory(prefix="heron-replica-") as directory:
        worker = Worker(services, options, Path(directory))
        worker.endpoint_id = desired.endpoint.endpoint_id
        worker.url = options.advertise_url or f"http://{host}:{port}"
        worker.report()
        follower = threading.Thread(target=worker.follow, name="heron-follow", daemon=True)
        follower.start()
        config = uvicorn.Config(
            worker.app, log_level="warning", access_log=False, lifespan="on",
            timeout_graceful_shutdown=30,
        )  # fmt: skip
        server = _Server(config)
        server.worker = worker
        watcher = threading.Thread(target=_exit_when_deleted, args=(worker, server), daemon=True)
        watcher.start()
        try:
            server.run(sockets=[sock])
        finally:
            worker.stop.set()
            follower.join(timeout=10)
            try:
                services.endpoints.remove_replica(options.endpoint, worker.replica_id)
            except Exception:
                _log.exception("Removing the replica's row failed")
            sock.close()


def _exit_when_deleted(worker: Worker, server: _Server) -> None:
    worker.stop.wait()
    if worker.deleted:  # nobody routes to it any more: no drain
        worker.app.stopping = True
        server.should_exit = True
