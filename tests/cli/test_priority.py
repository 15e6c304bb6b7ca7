"""Backups run at a low CPU and disk priority (checked in a child process: a process cannot
take its priority back). Linux only (autogroups, ionice), as the machines that run Heron."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import os, sys
from heron.cli.priority import lower_priority
lower_priority(sys.argv[1])
print(os.nice(0), os.sched_getscheduler(0) == os.SCHED_IDLE)
where = "/proc/self/autogroup"
group = open(where).read().split()[-1] if os.path.exists(where) else "-"
print(os.getsid(0) == os.getpid(), group)
print(os.getpid(), flush=True)
sys.stdin.read()
"""


@pytest.mark.parametrize(
    ("level", "nice", "idle_cpu", "io"),
    [
        ("low", "19", "False", "best-effort: prio 7"),
        ("idle", "19", "True", "idle"),
        ("normal", "unchanged", "False", "unchanged"),
    ],
)
def test_a_backup_lowers_its_priority(level: str, nice: str, idle_cpu: str, io: str) -> None:
    if nice == "unchanged":
        nice = str(os.nice(0))
    if io == "unchanged":
        io = _io_priority(str(os.getpid()))
    child = subprocess.Popen(
        [sys.executable, "-c", PROBE, level],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().split() == [nice, idle_cpu]
        # A session (and autogroup) of its own, at nice 19: see heron.cli.priority.
        own_session, autogroup_nice = child.stdout.readline().split()
        if autogroup_nice != "-":  # a kernel with autogroups
            assert (own_session, autogroup_nice) == (
                ("False", _autogroup_nice()) if level == "normal" else ("True", "19")
            )
        pid = child.stdout.readline().strip()
        assert _io_priority(pid) == io
    finally:
        child.communicate("")


def _autogroup_nice() -> str:
    with open("/proc/self/autogroup") as file:
        return file.read().split()[-1]


def _io_priority(pid: str) -> str:
    answer = subprocess.run(["ionice", "-p", pid], capture_output=True, text=True, check=True)
    return answer.stdout.strip()
