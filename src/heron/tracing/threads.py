"""Carrying the current span (and the active run) into other threads: `copy_context`."""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def copy_context(fn: Callable[P, R]) -> Callable[P, R]:
    """`fn` bound to the caller's context as it is now: wherever the result is called (a
    thread, a thread pool), spans it starts are children of the span that was current here,
    in the same trace, and it sees the same active run and experiment. A new thread starts
    with an empty context otherwise, so its spans would begin traces of their own.

    Each call runs in its own copy of that context, so one wrapped function can be handed
    to many threads at once (a pool's `map`), and what a call changes stays in that call.

    Example:
        >>> with heron.start_span("fan-out"):
        ...     with ThreadPoolExecutor() as pool:
        ...         answers = list(pool.map(heron.tracing.copy_context(lookup), questions))
    """
    captured = contextvars.copy_context()

    @functools.wraps(fn)
    def in_context(*args: P.args, **kwargs: P.kwargs) -> R:
        return captured.copy().run(fn, *args, **kwargs)

    return in_context
