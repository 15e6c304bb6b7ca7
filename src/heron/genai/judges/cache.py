"""The judge cache: a verdict already given to the same prompt by the same judge (scorer digest
and model) is reused instead of paid for again. An evaluation uses the tracking server's
cache (shared by everyone who evaluates there); outside one, a cache in this process."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Protocol

from heron.entities.evaluation import CachedVerdict

log = logging.getLogger("heron.genai")


def cache_key(scorer_digest: str, model: str, prompt: str) -> str:
    """SHA-256 of what decides a verdict: the judge's definition, its model and the prompt
    (which holds the row's inputs, outputs and expectations)."""
    text = f"{scorer_digest}\n{model}\n{prompt}"
    return hashlib.sha256(text.encode()).hexdigest()


class JudgeCache(Protocol):
    def get_verdict(self, key: str) -> CachedVerdict | None: ...

    def put_verdict(self, verdict: CachedVerdict) -> None: ...


class MemoryCache:
    """The last `size` verdicts, in this process."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._items: OrderedDict[str, CachedVerdict] = OrderedDict()
        self._lock = threading.Lock()

    def get_verdict(self, key: str) -> CachedVerdict | None:
        with self._lock:
            verdict = self._items.get(key)
            if verdict is not None:
                self._items.move_to_end(key)
            return verdict

    def put_verdict(self, verdict: CachedVerdict) -> None:
        with self._lock:
            self._items[verdict.key] = verdict
            self._items.move_to_end(verdict.key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class SharedCache:
    """The tracking server's cache (or the local database's), with this process's in front;
    when the server has none (an MLflow server) or fails, the process's cache alone."""

    def __init__(self, remote: JudgeCache) -> None:
        self._remote: JudgeCache | None = remote

    def get_verdict(self, key: str) -> CachedVerdict | None:
        found = _process_cache.get_verdict(key)
        if found is not None or self._remote is None:
            return found
        try:
            found = self._remote.get_verdict(key)
        except Exception as exc:
            self._give_up(exc)
            return None
        if found is not None:
            _process_cache.put_verdict(found)
        return found

    def put_verdict(self, verdict: CachedVerdict) -> None:
        _process_cache.put_verdict(verdict)
        if self._remote is None:
            return
        try:
            self._remote.put_verdict(verdict)
        except Exception as exc:
            self._give_up(exc)

    def _give_up(self, exc: Exception) -> None:
        log.warning("Heron judge cache: the server's cache failed (%s); caching in process", exc)
        self._remote = None


_process_cache = MemoryCache()
_current: contextvars.ContextVar[JudgeCache | None] = contextvars.ContextVar(
    "heron_judge_cache", default=None
)


def current_cache() -> JudgeCache:
    """The cache judges use here: the evaluation's, else this process's."""
    return _current.get() or _process_cache


@contextlib.contextmanager
def using_cache(cache: JudgeCache | None) -> Iterator[None]:
    """Judges in this context (and copies of it) use `cache`; None turns caching off."""
    token = _current.set(cache if cache is not None else _NoCache())
    try:
        yield
    finally:
        _current.reset(token)


class _NoCache:
    def get_verdict(self, key: str) -> CachedVerdict | None:
        return None

    def put_verdict(self, verdict: CachedVerdict) -> None:
        return None
