"""Values the fuzzer sends: ordinary ones shaped like MLflow's messages, and hostile ones.

The hostile values are derived from the tables (`heron.store.sql.tables`): a string one past
each text column's width, integers one past each integer column's range, as numbers and as
decimal strings, so every column is tried against every field the wire carries."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Integer, String

from heron.store.sql.tables import metadata

WIRE = json.loads((Path(__file__).with_name("wire.json")).read_text())
MESSAGES: dict[str, list[list[Any]]] = WIRE["messages"]
ENUMS: dict[str, list[str]] = WIRE["enums"]

# Fields of Heron's own API (/api/2.0/heron/...), which MLflow's spec does not list.
HERON_FIELDS = [
    ["name", "string", True], ["comment", "string", False], ["catalog_name", "string", False],
    ["full_name", "string", False], ["version", "string", False], ["webhook_id", "string", False],
    ["experiment_ids", "string[]", False], ["filter", "string", False],
    ["order_by", "string[]", False], ["max_results", "int32", False],
    ["page_token", "string", False], ["owner", "string", False],
]  # fmt: skip


def column_widths() -> list[int]:
    """The width of every text column of the schema."""
    return sorted(
        {
            column.type.length
            for table in metadata.tables.values()
            for column in table.columns
            if isinstance(column.type, String) and column.type.length
        }
    )


def column_integers() -> list[int]:
    """The integers just inside and just outside each integer column's range."""
    limits = set()
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, BigInteger):
                limits.add(2**63 - 1)
            elif isinstance(column.type, Integer):
                limits.add(2**31 - 1)
    return sorted({n for limit in limits for n in (limit, limit + 1, -limit - 1, -limit - 2)})


WIDTHS = column_widths()
INTEGERS = column_integers()
STRINGS = [
    "", " ", "a\x00b", "²", "٣", "é" * 40, "🦆", "../../etc/passwd", "%2e%2e%2f", "a/../b",
    "/abs", "C:\\x", "\\u0000", "NaN", "Infinity", "-1", "1.5", "1e400", "0x10", "null",
    "true", "[]", "{}", "'", '"', "`", "%", "_", "\\", "9" * 5000, "x" * 100_000,
    "metrics.a > 1 AND " * 120 + "params.b = 'c'", "tags.`a b` LIKE '" + "%" * 20_000 + "'",
    "attributes.start_time > " + "9" * 30, "name = 'x' OR name = 'y'", "s3://other/bucket",
    "file:///etc/passwd", "http://127.0.0.1:1/", "models:/x/1", "runs:/x/y", "m-" + "0" * 32,
    "tr-" + "0" * 32, "0" * 32, "\ud800",
    # filters comparing an integer column with a number past its range
    *(f"{key} > {n}" for key in ("version_number", "attributes.start_time") for n in INTEGERS),
]  # fmt: skip
NUMBERS = [
    *INTEGERS, 0, -1, 1, 2**64, 2**200, 1.5, -0.0, 1e308, -1e308, 5e-324, *map(str, INTEGERS),
    "9" * 5000, "1.5", "NaN", "Infinity", "-Infinity", "1e400", "²",
]  # fmt: skip
OTHERS = [None, True, False, [], {}, [None], {"key": None}, [[[[[]]]]], {"a": {"b": {"c": 1}}}]


def hostile(rng: random.Random) -> Any:
    """A value no field should take quietly: one past a column, a wrong type, a trick."""
    pick = rng.random()
    if pick < 0.35:
        width = rng.choice(WIDTHS)
        return rng.choice("ab-_.") * (width + rng.choice([1, 1, 0, 5]))
    if pick < 0.6:
        return rng.choice(STRINGS)
    if pick < 0.85:
        return rng.choice(NUMBERS)
    return rng.choice(OTHERS)


class Values:
    """Ordinary values for each field, from the objects the server holds (`known`)."""

    def __init__(self, rng: random.Random, known: dict[str, list[Any]]) -> None:
        self.rng = rng
        self.known = known

    def body(self, fields: list[list[Any]], mutations: int, depth: int = 0) -> dict[str, Any]:
        """A message with its required fields and some others, `mutations` of them hostile."""
        rng = self.rng
        chosen = [f for f in fields if f[2] or rng.random() < 0.5]
        body: dict[str, Any] = {}
        for name, kind, _ in chosen:
            body[name] = self.value(name, kind, depth)
        for _ in range(mutations):
            if not fields:
                break
            name = rng.choice(fields)[0] if rng.random() < 0.9 else rng.choice(self.names())
            if rng.random() < 0.1:
                body.pop(name, None)
            else:
                body[name] = hostile(rng)
        return body

    def names(self) -> list[str]:
        return sorted(self.known)

    def value(self, name: str, kind: str, depth: int = 0) -> Any:
        rng = self.rng
        if kind.endswith("[]"):
            count = rng.choice([0, 1, 1, 2, 3]) if depth < 3 else 0
            return [self.value(name, kind[:-2], depth + 1) for _ in range(count)]
        if kind.startswith("enum "):
            return rng.choice(ENUMS.get(kind[5:], ["X"]))
        if kind.startswith("map<"):
            return {rng.choice(self.known["key"]): rng.choice(self.known["value"])}
        if kind in MESSAGES:
            return self._message(kind, depth)
        if kind in ("pb.Timestamp",):
            return rng.choice(["2024-01-01T00:00:00Z", "2024-05-06T07:08:09.123456Z"])
        if kind == "pb.Duration":
            return rng.choice(["1.5s", "0s", "12s"])
        if kind == "pb.Value":
            return rng.choice([1, "x", True, {"a": [1, 2]}, None])
        if kind in ("int64", "int32", "uint32", "fixed32", "fixed64"):
            return self._known(name, lambda: rng.choice([0, 1, 2, 10, 1_700_000_000_000]))
        if kind in ("double", "float"):
            return rng.choice([0.5, 1, -2.25, "NaN", "Infinity"])
        if kind == "bool":
            return rng.choice([True, False, "true", "false"])
        if kind == "bytes":
            return base64.b64encode(rng.randbytes(rng.choice([8, 16]))).decode()
        return self._known(name, lambda: rng.choice(self.known["text"]))

    def _message(self, kind: str, depth: int) -> Any:
        if depth > 3:
            return {}
        # Nested fields get their hostile values too (a dataset's source_type, a tag's key).
        mutations = 1 if self.rng.random() < 0.15 else 0
        return self.body(MESSAGES[kind], mutations, depth + 1)

    def _known(self, name: str, otherwise: Any) -> Any:
        found = self.known.get(name)
        if found and self.rng.random() < 0.9:
            return self.rng.choice(found)
        return otherwise()
