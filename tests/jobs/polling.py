"""Waiting for a deployment job run to get somewhere."""

from __future__ import annotations

import time
from collections.abc import Callable

from heron.entities.deployment_jobs import JobRun, RunState


def wait_for(
    get: Callable[[], JobRun], done: Callable[[JobRun], bool], timeout_s: float = 30
) -> JobRun:
    deadline = time.monotonic() + timeout_s
    while True:
        run = get()
        if done(run) or time.monotonic() > deadline:
            return run
        time.sleep(0.05)


def state_is(*states: RunState) -> Callable[[JobRun], bool]:
    return lambda run: run.state in states
