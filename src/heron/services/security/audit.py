"""The audit trail: every change to security and governed objects and every denial, written
to the hash-chained audit log; repeated denials from one principal and address coalesced."""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from heron.entities.security import AuditEntry, audit_hash
from heron.services.access import Identity, current_identity, decide
from heron.store.security import AuditQuery, AuditStore

SYSTEM_ADDRESS = "local"
# What the log keeps of each field; longer values are cut (the widths of audit_log's columns)
MAX_PRINCIPAL = 256
MAX_ADDRESS = 64
MAX_REQUEST_ID = 64
MAX_ACTION = 128
MAX_OBJECT_TYPE = 64
MAX_OBJECT_ID = 1000


@dataclass(frozen=True, slots=True)
class RequestContext:
    address: str
    request_id: str


_request: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "heron_request", default=None
)


@contextlib.contextmanager
def request_scope(address: str, request_id: str) -> Iterator[None]:
    token = _request.set(RequestContext(address[:MAX_ADDRESS], request_id[:MAX_REQUEST_ID]))
    try:
        yield
    finally:
        _request.reset(token)


def current_request() -> RequestContext:
    return _request.get() or RequestContext(SYSTEM_ADDRESS, "")


def _json(fields: Mapping[str, Any] | None) -> str | None:
    if fields is None:
        return None
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS, default=str).decode()


@dataclass
class _Window:
    started: float
    pending: int
    last: AuditEntry


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    problem: str = ""


class AuditTrail:
    def __init__(
        self,
        store: AuditStore,
        *,
        coalesce_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._coalesce_s = coalesce_s
        self._clock = clock
        self._windows: dict[tuple[str, str], _Window] = {}
        self._lock = threading.Lock()

    def _entry(
        self, action: str, object_type: str, object_id: str, *, allowed: bool, who: str
    ) -> AuditEntry:
        request = current_request()
        return AuditEntry(
            seq=0, time=int(self._clock() * 1000), principal=who[:MAX_PRINCIPAL],
            address=request.address, request_id=request.request_id, action=action[:MAX_ACTION],
            object_type=object_type[:MAX_OBJECT_TYPE], object_id=object_id[:MAX_OBJECT_ID],
            allowed=allowed,
        )  # fmt: skip

    def change(
        self,
        action: str,
        object_type: str,
        object_id: str,
        *,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        """Records a change made by the caller (never pass a secret in `before`/`after`)."""
        entry = self._entry(
            action, object_type, object_id, allowed=True, who=current_identity().name
        )
        entry = AuditEntry(**{**_fields(entry), "before": _json(before), "after": _json(after)})
        with self._lock:
            flushed = self._expired()
        self._store.append([*flushed, entry])

    def denied(self, action: str, object_type: str, object_id: str, *, who: str = "") -> None:
        """Records a refused request. Within `coalesce_s` of the first, further denials of
        the same principal from the same address are counted, then written as one entry."""
        who = who or current_identity().name
        entry = self._entry(action, object_type, object_id, allowed=False, who=who)
        key = (entry.principal, entry.address)
        now = self._clock()
        with self._lock:
            window = self._windows.get(key)
            if window is not None and now - window.started < self._coalesce_s:
                window.pending += 1
                window.last = entry
                return
            flushed = self._expired(now)
            self._windows[key] = _Window(now, 0, entry)
        self._store.append([*flushed, entry])

    def _expired(self, now: float | None = None) -> list[AuditEntry]:
        """The coalesced counts of windows that have closed (taken off the table; the caller
        holds the lock)."""
        now = self._clock() if now is None else now
        out = []
        for key, window in list(self._windows.items()):
            if now - window.started >= self._coalesce_s:
                del self._windows[key]
                if window.pending:
                    out.append(AuditEntry(**{**_fields(window.last), "count": window.pending}))
        return out

    def flush(self) -> None:
        """Writes every pending count now (at shutdown)."""
        with self._lock:
            pending = [
                AuditEntry(**{**_fields(w.last), "count": w.pending})
                for w in self._windows.values()
                if w.pending
            ]
            self._windows.clear()
        self._store.append(pending)

    def entries(self, query: AuditQuery, identity: Identity | None = None) -> list[AuditEntry]:
        identity = identity or current_identity()
        decide(identity, "read", "audit", "", allowed=identity.is_admin,
               refusal="Only an admin may read the audit log")  # fmt: skip
        return self._store.entries(query)

    def head(self) -> tuple[int, str]:
        """The newest entry's number and hash (note it elsewhere to detect a truncation)."""
        return self._store.head()

    def verify(self, page: int = 1000) -> Verification:
        """Walks the whole chain: every hash, every link, no gap, and the head row."""
        prev, seq, checked = "", 0, 0
        while batch := self._store.entries(AuditQuery(after_seq=seq, max_results=page)):
            for entry in batch:
                if entry.seq != seq + 1:
                    return self._broken(checked, f"entry {seq + 1} is missing")
                if entry.prev_hash != prev or audit_hash(prev, entry) != entry.hash:
                    return self._broken(checked, f"entry {entry.seq} does not match its hash")
                prev, seq, checked = entry.hash, entry.seq, checked + 1
        head_seq, head_hash = self._store.head()
        if (head_seq, head_hash) != (seq, prev):
            return self._broken(checked, f"the log ends at {seq}, its head says {head_seq}")
        return Verification(True, checked, head_seq, head_hash)

    def _broken(self, checked: int, problem: str) -> Verification:
        head_seq, head_hash = self._store.head()
        return Verification(False, checked, head_seq, head_hash, problem)


def _fields(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in AuditEntry.__dataclass_fields__}
