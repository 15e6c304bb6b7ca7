"""Params and tags whose keys are sensitive, sealed in their tables: the values as stored, the
JSON the run reads send on opened, and the searches refused because they would read a
sealed value."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import orjson

from heron.errors import InvalidParameter
from heron.store.crypto.fields import PREFIX, Sealer

# Presence needs no value: `params.x IS NULL` still answers on a sealed key.
_PRESENCE = ("IS NULL", "IS NOT NULL")


def sealed_pairs(sealer: Sealer, pairs: Mapping[str, str]) -> dict[str, str]:
    """The values to store: those of sensitive keys sealed, the others as they are."""
    if not sealer.on:
        return dict(pairs)
    return {key: sealer.seal_value(key, value) for key, value in pairs.items()}


def opened_json(sealer: Sealer, text: str, kind: str) -> str:
    """A JSON array of {"key", "value"} pairs with sealed values opened (the text itself when
    none is sealed: one substring search, so reads with nothing sealed cost nothing more)."""
    if PREFIX not in text:
        return text
    pairs = orjson.loads(text)
    for pair in pairs:
        value = pair["value"]
        if isinstance(value, str) and value.startswith(PREFIX):
            pair["value"] = sealer.open(value, f"The value of {kind} {pair['key']!r}")
    return orjson.dumps(pairs).decode()


def refuse_sealed_keys(sealer: Sealer, clauses: Iterable[tuple[str, str, str | None]]) -> None:
    """Refuses a filter or order on the value of a sealed key: `(entity, key, op)` each, op
    None for an order. The database holds ciphertext there: any answer would be wrong.

    Raises:
        InvalidParameter: naming the key.
    """
    if not sealer.on:
        return
    for entity, key, op in clauses:
        if entity in ("param", "tag") and op not in _PRESENCE and sealer.is_sensitive(key):
            doing = "order by" if op is None else "filter on"
            raise InvalidParameter(
                f"Cannot {doing} the value of {entity} {key!r}: its values are encrypted in the "
                "database (it matches a --sensitive-keys pattern); only `IS NULL` and "
                "`IS NOT NULL` can be asked of it"
            )


def opened_pairs(sealer: Sealer, pairs: dict[str, str], kind: str) -> dict[str, str]:
    """Key/value pairs with sealed values opened (the same dict when none is sealed)."""
    for key, value in pairs.items():
        if value.startswith(PREFIX):
            pairs[key] = sealer.open(value, f"The value of {kind} {key!r}")
    return pairs
