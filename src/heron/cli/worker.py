"""`heron worker`: runs deployment job tasks from the database's queue and the started
scorers' passes over new traces; and the supervisor `heron server` uses to keep its own
worker processes running."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import click

from heron.cli.options import (
    artifacts_destination_option,
    backend_store_option,
    console,
    encryption_key_option,
    masked,
    sensitive_keys_option,
)
from heron.settings import Settings, sensitive_key_patterns

# The settings of a worker `heron server` started (JSON of its own Settings), and its number.
WORKER_SETTINGS_ENV = "HERON_WORKER_SETTINGS"
WORKER_INDEX_ENV = "HERON_WORKER_INDEX"
_RESTART_S = 2.0  # a worker that died is started again after this long
_STOP_S = 15.0  # a worker asked to stop gives its task back; then it is killed


def settings_to_env(settings: Settings) -> str:
    return json.dumps(dataclasses.asdict(settings))


def settings_from_env(text: str) -> Settings:
    """The Settings `settings_to_env` wrote (JSON has no tuples: lists become them again)."""
    values: dict[str, Any] = json.loads(text)
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return Settings(**values)


@click.command()
@backend_store_option
@artifacts_destination_option
@encryption_key_option
@sensitive_keys_option
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="Tasks this process works on at once.")  # fmt: skip
@click.option("--lease", "lease_s", type=click.FloatRange(min=1), default=30.0, show_default=True,
              help="Seconds a task stays claimed without a heartbeat.")  # fmt: skip
@click.option("--task-module", "task_modules", multiple=True, metavar="MODULE",
              help="A module whose functions custom tasks may call (repeatable).")  # fmt: skip
@click.option("--task-command", "task_commands", multiple=True, metavar="PROGRAM",
              help="A program custom tasks may run (repeatable).")  # fmt: skip
@click.option("--monitor-interval", "monitor_s", type=click.FloatRange(min=0), default=30.0,
              show_default=True,
              help="Seconds between passes of the started scorers over new traces (0: none; "
              "with several workers, let one do it).")  # fmt: skip
def worker(
    backend_store_uri: str | None,
    artifacts_destination: str | None,
    encryption_key: str | None,
    sensitive_keys: str | None,
    threads: int,
    lease_s: float,
    task_modules: tuple[str, ...],
    task_commands: tuple[str, ...],
    monitor_s: float,
) -> None:
    """Runs deployment job tasks (evaluate, approve, deploy, checks, custom) until stopped,
    and scores new traces with the scorers started in their experiments.

    Start several, on this machine or others against the same PostgreSQL database: each task
    is claimed by one worker at a time, and one that dies leaves its task to another when its
    lease ends. SIGTERM or Ctrl-C gives the task in flight back at once."""
    from heron.jobs.worker import Worker

    given = os.environ.get(WORKER_SETTINGS_ENV)
    if given and backend_store_uri is None:
        settings = settings_from_env(given)
        first = os.environ.get(WORKER_INDEX_ENV, "0") == "0"
        monitor_s = settings.scorer_monitor_s if first else 0.0
    else:
        settings = Settings.for_home(
            backend_store_uri=backend_store_uri,
            artifacts_destination=artifacts_destination,
            encryption_key=encryption_key,
            sensitive_keys=sensitive_key_patterns(sensitive_keys),
            job_lease_s=lease_s,
            job_task_modules=task_modules,
            job_task_commands=task_commands,
        )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    running = Worker(settings, threads=threads, monitor_s=monitor_s)
    running.start()
    if not given:
        console.print(f"Heron worker on {masked(settings.backend_store_uri)} (pid {os.getpid()})")
    try:
        stop.wait()
    finally:
        running.close()


class WorkerProcesses:
    """`count` `heron worker` processes of `settings`, each started again when it dies."""

    def __init__(self, settings: Settings, count: int) -> None:
        self._env = {**os.environ, WORKER_SETTINGS_ENV: settings_to_env(settings)}
        self._count = count
        self._procs: list[subprocess.Popen[bytes]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="heron-workers", daemon=True)

    @property
    def pids(self) -> list[int]:
        with self._lock:
            return [p.pid for p in self._procs]

    def start(self) -> None:
        with self._lock:
            self._procs = [self._spawn(i) for i in range(self._count)]
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        with self._lock:
            procs, self._procs = self._procs, []
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(_STOP_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _spawn(self, index: int) -> subprocess.Popen[bytes]:
        env = {**self._env, WORKER_INDEX_ENV: str(index)}
        return subprocess.Popen([sys.executable, "-m", "heron.cli", "worker"], env=env)

    def _watch(self) -> None:
        while not self._stop.wait(_RESTART_S):
            with self._lock:
                for i, proc in enumerate(self._procs):
                    if proc.poll() is not None and not self._stop.is_set():
                        self._procs[i] = self._spawn(i)


@contextlib.contextmanager
def job_workers(settings: Settings) -> Iterator[None]:
    """`settings.job_workers` worker processes while the block runs (none with 0)."""
    if settings.job_workers <= 0:
        yield
        return
    from heron.store.sql import open_sql_stores

    # The database is brought up to date here first: a worker starting beside the server on a
    # new SQLite file would race it to create the tables (one of them fails: locked).
    open_sql_stores(
        settings.backend_store_uri, default_artifact_root=settings.default_artifact_root
    ).close()
    processes = WorkerProcesses(settings, settings.job_workers)
    processes.start()
    console.print(f"  job workers:   {settings.job_workers} (heron worker)")
    try:
        yield
    finally:
        processes.stop()
