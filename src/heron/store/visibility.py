"""Visibility: which objects of one type a search may return to its caller, as the SQL stores
apply it inside their queries (never page by page after them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Visibility:
    """What a caller may see of one type of object, named by id (experiments, serving
    endpoints) or by name (registered models, prompts).

    `ids` None means every object, else only those in `ids`; `prefixes` adds every
    three-level name (`catalog.schema.model`) that starts with one of them (`catalog.` or
    `catalog.schema.`: the models the grants on a catalog or schema reach). Whatever is
    allowed, an object in `hidden` or under one of `hidden_prefixes` is never shown (an
    explicit DENY wins)."""

    ids: frozenset[str] | None = None
    prefixes: tuple[str, ...] = ()
    hidden: frozenset[str] = frozenset()
    hidden_prefixes: tuple[str, ...] = ()

    @property
    def everything(self) -> bool:
        return self.ids is None and not self.hidden and not self.hidden_prefixes

    @property
    def nothing(self) -> bool:
        return self.ids is not None and not self.ids and not self.prefixes

    def shows(self, key: str) -> bool:
        """Whether an object of this id or name is visible (for lists kept in memory)."""
        nested = key.count(".") == 2
        if key in self.hidden or (nested and key.startswith(self.hidden_prefixes)):
            return False
        if self.ids is None:
            return True
        return key in self.ids or (nested and key.startswith(self.prefixes))


EVERYTHING = Visibility()
NOTHING = Visibility(ids=frozenset())
