"""Proto-JSON conventions MLflow's trace messages use: Timestamps as RFC 3339 strings,
Durations as "1.5s", OTel AnyValues, string maps. Pure functions, both ways."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from heron.errors import InvalidParameter

Json = dict[str, Any]
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$"
)
_DURATION = re.compile(r"^(-?)(\d+)(?:\.(\d{1,9}))?s$")
_INT64 = (-(2**63), 2**63 - 1)


# -- times -----------------------------------------------------------------------------------


def timestamp(ms: int) -> str:
    """Milliseconds since the epoch as an RFC 3339 string (what pb.Timestamp is in JSON)."""
    moment = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def duration(ms: int) -> str:
    return f"{ms // 1000}.{ms % 1000:03d}s"


def parse_timestamp(value: object, what: str) -> int:
    """An RFC 3339 string (or an integer of ms) as ms since the epoch."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _TIMESTAMP.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidParameter(
            f"{what} must be an RFC 3339 timestamp such as 2025-01-31T12:00:00.5Z, got {value!r}"
        )
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime.fromisoformat(
            f"{year}-{month}-{day}T{hour}:{minute}:{second}{'+00:00' if zone in 'Zz' else zone}"
        )
    except ValueError:
        raise InvalidParameter(f"{what} is not a valid date and time: {value!r}") from None
    millis = int((fraction or "0").ljust(9, "0")[:3])
    return int(moment.timestamp()) * 1000 + millis


def parse_duration(value: object, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidParameter(f"{what} must be a duration such as '1.5s', got {value!r}")
    sign, seconds, fraction = match.groups()
    ms = int(seconds) * 1000 + int((fraction or "0").ljust(9, "0")[:3])
    return -ms if sign else ms


# -- OTel AnyValue ---------------------------------------------------------------------------


def any_value(value: Any) -> Json:
    """A Python JSON value as an OTel AnyValue in proto JSON."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"bool_value": value}
    if isinstance(value, int):
        if _INT64[0] <= value <= _INT64[1]:
            return {"int_value": value}
        return {"string_value": str(value)}
    if isinstance(value, float):
        if math.isfinite(value):
            return {"double_value": value}
        return {
            "double_value": "NaN"
            if math.isnan(value)
            else ("Infinity" if value > 0 else "-Infinity")
        }
    if isinstance(value, str):
        return {"string_value": value}
    if isinstance(value, Mapping):
        return {
            "kvlist_value": {
                "values": [{"key": str(k), "value": any_value(v)} for k, v in value.items()]
            }
        }
    if isinstance(value, list | tuple):
        return {"array_value": {"values": [any_value(v) for v in value]}}
    return {"string_value": str(value)}


def from_any_value(value: Any) -> Any:
    """An OTel AnyValue in proto JSON (snake_case or camelCase keys) as a Python JSON value."""
    if not isinstance(value, dict) or not value:
        return None
    for key, item in value.items():
        name = _NAMES.get(key) or _snake(key)
        if name == "string_value" or name == "bool_value":
            return item
        if name == "int_value":
            return item if type(item) is int else int(item)
        if name == "double_value":
            return float(item)
        if name == "bytes_value":
            return item  # already base64 text in JSON
        if name == "array_value":
            return [from_any_value(v) for v in (item or {}).get("values", ())]
        if name == "kvlist_value":
            return {
                kv.get("key", ""): from_any_value(kv.get("value"))
                for kv in (item or {}).get("values", ())
            }
    return None


_KINDS = ("string_value", "bool_value", "int_value", "double_value", "bytes_value",
          "array_value", "kvlist_value")  # fmt: skip
# Both spellings looked up at once: a regex per key cost most of reading a trace's spans.
_NAMES = {
    **{k: k for k in _KINDS},
    **{k.split("_")[0] + k.split("_")[1].title(): k for k in _KINDS},
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def key_values(attributes: Mapping[str, Any]) -> list[Json]:
    return [{"key": k, "value": any_value(v)} for k, v in attributes.items()]


def string_map(value: object, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidParameter(f"{what} must be an object of string values")
    return dict(value)
