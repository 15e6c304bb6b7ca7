"""Background work (backups) at a low CPU and disk priority, so the server's requests come
first on a busy machine.

Linux with autogroup scheduling (`/proc/sys/kernel/sched_autogroup_enabled`, on in most
kernels) shares the CPU first between sessions, then between the processes of a session: a
niced process started beside the server still takes its session's full share. So a backup
started outside a terminal's job control (by cron, a script, a service manager) moves into a
session of its own and lowers that session's priority too."""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform

LEVELS = ("low", "idle", "normal")

# ioprio_set(2) has no Python binding: its syscall number, by machine.
_IOPRIO_SET = {"x86_64": 251, "aarch64": 30, "i686": 289, "armv7l": 314}
_IOPRIO_WHO_PROCESS = 1
_IOPRIO_CLASS_BE = 2  # best effort, levels 0 (first) to 7 (last)
_IOPRIO_CLASS_IDLE = 3  # only when no other process uses the disk
_IOPRIO_CLASS_SHIFT = 13


def lower_priority(level: str) -> None:
    """`low`: nice 19 and the last best-effort disk level; `idle`: the CPU and the disk only
    when nothing else wants them (SCHED_IDLE and the idle I/O class: it may wait long on a
    saturated machine); `normal`: unchanged. Where the system lacks one, it is skipped."""
    if level == "normal":
        return
    os.nice(19 - os.nice(0))
    _lower_autogroup()
    if level == "idle" and hasattr(os, "SCHED_IDLE"):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    io_class, io_level = (_IOPRIO_CLASS_IDLE, 0) if level == "idle" else (_IOPRIO_CLASS_BE, 7)
    _set_io_priority(io_class, io_level)


def _lower_autogroup() -> None:
    """Into a session of its own, whose autogroup gets nice 19. A shell's job (a process group
    leader) stays in the terminal's session (Ctrl-C still reaches it), and its autogroup,
    which the terminal's other programs share, is left alone."""
    autogroup = "/proc/self/autogroup"
    if not os.path.exists(autogroup):
        return
    if os.getsid(0) != os.getpid():
        try:
            os.setsid()
        except OSError:  # a process group leader
            return
    with contextlib.suppress(OSError), open(autogroup, "w") as file:
        file.write("19")


def _set_io_priority(io_class: int, io_level: int) -> None:
    number = _IOPRIO_SET.get(platform.machine())
    if number is None or platform.system() != "Linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall(number, _IOPRIO_WHO_PROCESS, 0, (io_class << _IOPRIO_CLASS_SHIFT) | io_level)
