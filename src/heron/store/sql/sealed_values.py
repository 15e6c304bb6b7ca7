"""Params and tags whose keys are sensitive, sealed in their tables: the values as stored, the
JSON the run reads send on opened, and the searches refused because they would read a
sealed value."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

import orjson

from heron.errors import HeronError, InvalidParameter
from heron.store.crypto.fields import PREFIX, Sealer

# Presence needs no value: `params.x IS NULL` still answers on a sealed key.
PRESENCE_OPS = ("IS NULL", "IS NOT NULL")


def sealed_pairs(sealer: Sealer, pairs: Mapping[str, str]) -> dict[str, str]:
    """The values to store: those of sensitive keys sealed, the others as they are."""
    if not sealer.on:
        return dict(pairs)
    return {key: sealer.seal_value(key, value) for key, value in pairs.items()}


def opened_json(sealer: Sealer, text: str, kind: str) -> str:
    """A JSON array of {"key", "value"} pairs with sealed values opened (the text itself when
    none is sealed: one substring search, so reads with nothing sealed cost nothing more).
    Each sealed value is replaced in the text where it stands: no decoding of the pairs."""

    def open_all(text: str) -> str:
        try:
            return _SEALED_VALUE.sub(
                lambda m: m.group(1) + orjson.dumps(sealer.open(m.group(2), kind)).decode(), text
            )
        except HeronError:
            _open_pairs_one_by_one(sealer, text, kind)  # raises again, naming the key
            raise

    return opened_text(sealer, text, open_all)


def opened_text(sealer: Sealer, text: str, open_all: Callable[[str], str]) -> str:
    """`open_all(text)`: a text holding sealed values with them opened, kept by the cipher so
    the same text read again within the keys' cache time is not opened again; the text
    itself when it holds none (one substring search)."""
    if PREFIX not in text:
        return text
    cipher = sealer.cipher
    if cipher is None:
        return open_all(text)  # refused: no key
    hit = cipher.recalled(text)
    if hit is not None:
        return hit
    generation = cipher.generation()
    opened = open_all(text)
    cipher.remember(text, opened, generation)
    return opened


# A sealed value in a pair as SQLite's json_object or PostgreSQL's json_build_object writes
# it ("value":"..." or "value" : "..."). Base64, key ids and colons hold no quote or
# backslash, so an escaped quote in a plaintext value never starts or ends a match.
_SEALED_VALUE = re.compile(r'("value"\s*:\s*)"(' + re.escape(PREFIX) + r'[^"\\]*)"')


def _open_pairs_one_by_one(sealer: Sealer, text: str, kind: str) -> None:
    for pair in orjson.loads(text):
        value = pair["value"]
        if isinstance(value, str) and value.startswith(PREFIX):
            sealer.open(value, f"The value of {kind} {pair['key']!r}")


def refuse_sealed_keys(sealer: Sealer, clauses: Iterable[tuple[str, str, str | None]]) -> None:
    """Refuses a filter or order on the value of a sealed key: `(entity, key, op)` each, op
    None for an order. The database holds ciphertext there: any answer would be wrong.

    Raises:
        InvalidParameter: naming the key.
    """
    if not sealer.on:
        return
    for entity, key, op in clauses:
        if entity in ("param", "tag") and op not in PRESENCE_OPS and sealer.is_sensitive(key):
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
