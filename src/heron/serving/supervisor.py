"""The replicas `heron server --serve-endpoints` starts on its own machine: `replicas`
`heron serving worker` processes for every serving endpoint in the database, each restarted
when it dies (after a pause that grows while it keeps dying at once), and stopped when the
server stops. A worker whose endpoint is deleted leaves by itself.

The supervisor only starts processes; it never loads a model."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from heron.services.drift import DriftService
from heron.services.serving_endpoints import EndpointService
from heron.settings import Settings

_log = logging.getLogger("heron.serving")

POLL_S = 1.0
STOP_TIMEOUT_S = 30.0
_STABLE_S = 60.0  # a worker up this long restarts at once when it dies
_MAX_PAUSE_S = 30.0


@dataclass(slots=True)
class _Child:
    endpoint: str
    replica_id: str
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    failures: int = 0  # deaths in a row, each soon after its start
    next_start: float = 0.0
    restarts: int = field(default=0)


class Supervisor:
    def __init__(
        self,
        endpoints: EndpointService,
        settings: Settings,
        *,
        replicas: int = 1,
        host: str = "127.0.0.1",
        drift: DriftService | None = None,
        drift_every_s: float = 15 * 60,
    ) -> None:
        self.endpoints = endpoints
        self.drift = drift
        self.drift_every_s = drift_every_s
        self.settings = settings
        self.replicas = replicas
        self.host = host
        self.children: dict[str, _Child] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._prefix = f"{socket.gethostname()[:24]}-{os.getpid()}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="heron-supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops every worker (SIGTERM: they finish what is in flight), then returns."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        running = [c.proc for c in self.children.values() if c.proc and c.proc.poll() is None]
        for proc in running:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for proc in running:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _run(self) -> None:
        pruned = drifted = 0.0
        while not self._stop.is_set():
            try:
                self.tend()
                if time.monotonic() - pruned > 600:
                    self.endpoints.prune_replicas()
                    pruned = time.monotonic()
                if self.drift is not None and time.monotonic() - drifted > self.drift_every_s:
                    drifted = time.monotonic()
                    self._compute_drift(self.drift)
            except Exception:
                _log.exception("Supervising the serving replicas failed")
            self._stop.wait(POLL_S)

    def _compute_drift(self, drift: DriftService) -> None:
        """The scheduled drift reports of the endpoints that name their reference data."""
        for name in drift.watched():
            try:
                drift.compute(name)
            except Exception:
                _log.exception("Computing the input drift of %r failed", name)

    def tend(self) -> None:
        """One round: a worker for every wanted replica, restarted if it died."""
        names = set(self.endpoints.endpoint_names())
        now = time.monotonic()
        for name in names:
            for i in range(self.replicas):
                replica_id = f"{self._prefix}-{name}-{i}"[:64]
                child = self.children.setdefault(replica_id, _Child(name, replica_id))
                self._keep_running(child, now)
        for replica_id, child in list(self.children.items()):
            if child.endpoint not in names and (
                child.proc is None or child.proc.poll() is not None
            ):
                del self.children[replica_id]  # its endpoint is gone, and so is it

    def _keep_running(self, child: _Child, now: float) -> None:
        if child.proc is not None:
            code = child.proc.poll()
            if code is None:
                return
            lived = now - child.started
            child.failures = 0 if lived >= _STABLE_S else child.failures + 1
            pause = 0.0 if child.failures == 0 else min(_MAX_PAUSE_S, 2.0 ** (child.failures - 1))
            child.next_start = now + pause
            child.proc = None
            _log.warning(
                "Replica %s of %r exited (%s); starting it again in %.0f s",
                child.replica_id, child.endpoint, code, pause,
            )  # fmt: skip
        if now < child.next_start:
            return
        child.proc = subprocess.Popen(self._command(child), stdin=subprocess.DEVNULL)  # noqa: S603
        child.started = now
        child.restarts += 1

    def _command(self, child: _Child) -> list[str]:
        return [
            sys.executable, "-m", "heron.cli", "serving", "worker",
            "--endpoint", child.endpoint,
            "--replica-id", child.replica_id,
            "--host", self.host,
            "--backend-store-uri", self.settings.backend_store_uri,
            "--artifacts-destination", self.settings.artifacts_destination,
        ]  # fmt: skip
