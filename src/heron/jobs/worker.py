"""The worker: opens the database the settings name, and runs deployment job tasks from its
queue with every kind of executor until it is stopped. Several workers, on one machine or
many (against PostgreSQL), share the queue: each task is claimed by one of them at a time.
One of them also scores new production traces with the scorers started in their experiments
(registered scorers' monitoring), pass after pass."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from heron.client.client import HeronClient
from heron.client.local import LocalBackend
from heron.clock import now_ms
from heron.entities.deployment_jobs import TaskKind
from heron.jobs.custom import CustomTask
from heron.services import AllowAll
from heron.services.build import Services, build_services
from heron.services.deployment_job_approve import POLL_S, ApproveTask
from heron.services.deployment_job_checks import CheckTask
from heron.services.deployment_job_deploy import DeployTask
from heron.services.deployment_job_runner import Executor, TaskContext
from heron.settings import Settings
from heron.store.crypto.fields import field_cipher
from heron.store.deployment_jobs import Outcome
from heron.store.sql import open_sql_stores

_log = logging.getLogger(__name__)
_MONITOR_LOOKBACK_MS = 3_600_000  # the first pass scores the last hour's traces


def executors(
    services: Services, client: HeronClient, *, approval_poll_s: float = POLL_S
) -> Mapping[TaskKind, Executor]:
    """One executor for each kind of task: the services' own for approve, deploy and
    post-deploy check; those that run model code or custom code need this process."""
    return {
        TaskKind.EVALUATE: _Evaluate(client),
        TaskKind.APPROVE: ApproveTask(services.registry, poll_s=approval_poll_s),
        TaskKind.DEPLOY: DeployTask(services.registry, services.endpoints),
        TaskKind.POST_DEPLOY_CHECK: CheckTask(
            services.registry, services.endpoints, services.inference
        ),
        TaskKind.CUSTOM: CustomTask(services.deployment_jobs.custom_tasks),
    }


class _Evaluate:
    """The evaluate task, its model libraries (NumPy, pandas) loaded when it first runs: a
    worker of a server installed with only the server's packages runs every other kind."""

    def __init__(self, client: HeronClient) -> None:
        self._client = client

    def __call__(self, ctx: TaskContext) -> Outcome:
        try:
            from heron.jobs.evaluate import EvaluateTask
        except ImportError as exc:
            return Outcome(
                error=f"The evaluate task needs the model libraries: pip install "
                f"'heron[pandas]' where `heron worker` runs ({exc})"
            )
        return EvaluateTask(self._client)(ctx)


class Worker:
    """The services of one database and a runner working off its tasks. The worker is a
    trusted part of the installation (it holds the database's credentials), so it acts with
    every right; what a task may do was decided when its job was defined and started."""

    def __init__(
        self,
        settings: Settings,
        *,
        threads: int = 1,
        poll_s: float = 0.5,
        approval_poll_s: float = POLL_S,
        monitor_s: float = 0.0,
    ) -> None:
        """`monitor_s` > 0: a pass of the started scorers over new traces that often."""
        self.settings = settings
        stores = open_sql_stores(
            settings.backend_store_uri,
            default_artifact_root=settings.default_artifact_root,
            sqlite_synchronous=settings.sqlite_synchronous,
            fields=field_cipher(
                settings.encryption_key,
                cache_s=settings.key_cache_s,
                sensitive_keys=settings.sensitive_keys,
            ),
        )
        self.services = build_services(stores, AllowAll(), settings)
        try:
            backend = LocalBackend(
                settings.backend_store_uri,
                artifacts_destination=settings.artifacts_destination,
                encryption_key=settings.encryption_key,
                sensitive_keys=settings.sensitive_keys,
            )
        except BaseException:
            self.services.close()
            raise
        self.client = HeronClient(settings.backend_store_uri, backend=backend)
        self._threads = threads
        self._poll_s = poll_s
        self._approval_poll_s = approval_poll_s
        self._monitor_s = monitor_s
        self._stopped = threading.Event()
        self._monitor = threading.Thread(target=self._monitor_passes, name="heron-monitor")

    def start(self) -> None:
        tasks = executors(self.services, self.client, approval_poll_s=self._approval_poll_s)
        self.services.deployment_runner.start(tasks, threads=self._threads, poll_s=self._poll_s)
        if self._monitor_s > 0:
            self._monitor.start()

    def close(self) -> None:
        """Stops taking tasks (a task in flight is given up at its next wait: its lease runs
        out and another worker goes on with it), ends the monitoring pass in flight, then
        closes the database."""
        self._stopped.set()
        if self._monitor.is_alive():
            self._monitor.join()
        self.services.close()
        self.client.close()

    def _monitor_passes(self) -> None:
        """Scores new traces with the started scorers every `monitor_s` (what
        `heron scorers monitor` does, inside the worker `heron server` starts)."""
        since = now_ms() - _MONITOR_LOOKBACK_MS
        while not self._stopped.is_set():
            started = now_ms()
            try:
                self._monitor_pass(since)
            except ImportError as exc:  # a server installed with only the server's packages
                _log.warning("Started scorers need pip install 'heron[models]' here (%s)", exc)
            except Exception:  # the next pass tries the same window again
                _log.exception("A pass of the started scorers failed")
            else:  # overlap: traces that ended late still count
                since = started - int(self._monitor_s * 1000)
            self._stopped.wait(self._monitor_s)

    def _monitor_pass(self, since: int) -> None:
        if not self.client.backend.scorers.active_configs():
            return  # nothing started: the scorers' libraries are not even loaded
        from heron.genai.monitoring import score_new_traces

        score_new_traces(since, client=self.client, stop=self._stopped)
