"""The changes a request made to governed objects, with their fields before and after, noted
by the services for the audit log (kept with --auth only)."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from heron.services.access import ResourceType


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One object a request changed: its type, id, and the fields it changed (never a
    secret), before and after (None: it did not exist before, or no longer does)."""

    resource: ResourceType
    id: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None


_changes: contextvars.ContextVar[list[Change] | None] = contextvars.ContextVar(
    "heron_changes", default=None
)


def noting() -> bool:
    """Whether the changes are noted: a service reads an object's fields before it changes
    them only then (an audited server), and pays nothing otherwise."""
    return _changes.get() is not None


def changed(
    resource: ResourceType,
    id_: str,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Notes that the current request changed `resource` `id_` (when changes are noted)."""
    changes = _changes.get()
    if changes is not None:
        changes.append(Change(resource=resource, id=id_, before=before, after=after))


def changed_field(resource: ResourceType, id_: str, name: str, before: Any, after: Any) -> None:
    """Notes that one field of `resource` `id_` went from `before` to `after`."""
    changed(resource, id_, before={name: before}, after={name: after})


def changed_fields(
    resource: ResourceType, id_: str, before: Mapping[str, Any], after: Mapping[str, Any]
) -> None:
    """Notes the fields that differ between two views of `resource` `id_` (nothing when
    none does)."""
    keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
    if keys:
        changed(resource, id_, before={k: before.get(k) for k in keys},
                after={k: after.get(k) for k in keys})  # fmt: skip


@contextlib.contextmanager
def noted_changes() -> Iterator[list[Change]]:
    """The changes noted inside the block (and in the worker threads it hands work to)."""
    changes: list[Change] = []
    token = _changes.set(changes)
    try:
        yield changes
    finally:
        _changes.reset(token)
