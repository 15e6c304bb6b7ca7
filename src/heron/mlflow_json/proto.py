"""Proto-JSON conventions MLflow's trace messages use: Timestamps as RFC 3339 strings,
Durations as "1.5s", OTel AnyValues, string maps. Pure functions, both ways."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from heron.entities.trace import MAX_TIMESTAMP_MS
from heron.errors import InvalidParameter

Json = dict[str, Any]
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_DURATION = re.compile(r"(-?)([0-9]+)(?:\.([0-9]{1,9}))?s")
_INT64 = (-(2**63), 2**63 - 1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# pb.Timestamp's range, 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z (MAX_TIMESTAMP_MS), in
# ms since the epoch: the moments RFC 3339 (and Python's datetime) can write.
MIN_TIMESTAMP_MS = -62_135_596_800_000
# pb.Duration's range: 315,576,000,000 s (10,000 years) either way, in ms.
MAX_DURATION_MS = 315_576_000_000_999


def shown(value: object, limit: int = 60) -> str:
    """`value` for an error message: its repr, cut to about `limit` characters."""
    if isinstance(value, int) and value.bit_length() > 256:
        return f"an integer of {value.bit_length()} bits"  # repr() refuses past 4,300 digits
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- times -----------------------------------------------------------------------------------


def timestamp(ms: int) -> str:
    """Milliseconds since the epoch as an RFC 3339 string (what pb.Timestamp is in JSON).

    A time outside pb.Timestamp's range, as an older Heron could store, is written as the
    nearest one inside it: one bad row must not make its experiment's traces unreadable."""
    ms = min(max(ms, MIN_TIMESTAMP_MS), MAX_TIMESTAMP_MS)
    moment = _EPOCH + timedelta(seconds=ms // 1000)  # datetime.strftime drops year 1's zeros
    return f"{moment.replace(tzinfo=None).isoformat()}.{ms % 1000:03d}Z"


def duration(ms: int) -> str:
    """Milliseconds as a pb.Duration in JSON; clamped to its range as `timestamp` is, since
    MLflow's client refuses the page a longer one is in."""
    size = min(abs(ms), MAX_DURATION_MS)
    return f"{'-' if ms < 0 else ''}{size // 1000}.{size % 1000:03d}s"


def parse_timestamp(value: object, what: str) -> int:
    """An RFC 3339 string (or an integer of ms) as ms since the epoch.

    Raises:
        InvalidParameter: not a timestamp, or one outside pb.Timestamp's years 1 to 9999.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        ms = value
    else:
        match = _TIMESTAMP.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise InvalidParameter(
                f"{what} must be an RFC 3339 timestamp such as 2025-01-31T12:00:00.5Z, "
                f"got {shown(value)}"
            )
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        try:
            moment = datetime.fromisoformat(
                f"{year}-{month}-{day}T{hour}:{minute}:{second}{'+00:00' if zone in 'Zz' else zone}"
            )
            seconds = int(moment.timestamp())
        except (ValueError, OverflowError):
            raise InvalidParameter(f"{what} is not a valid date and time: {value!r}") from None
        ms = seconds * 1000 + int((fraction or "0").ljust(9, "0")[:3])
    if not MIN_TIMESTAMP_MS <= ms <= MAX_TIMESTAMP_MS:
        raise InvalidParameter(
            f"{what} must be a time from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z "
            f"(as ms since the epoch: {MIN_TIMESTAMP_MS} to {MAX_TIMESTAMP_MS}), "
            f"got {shown(value)}"
        )
    return ms


def parse_duration(value: object, what: str) -> int:
    """A pb.Duration in JSON ("1.5s"), or an integer of ms, as ms.

    Raises:
        InvalidParameter: not a duration, or one longer than pb.Duration's 10,000 years.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        ms = value
    else:
        match = _DURATION.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise InvalidParameter(f"{what} must be a duration such as '1.5s', got {shown(value)}")
        sign, seconds, fraction = match.groups()
        # Past 12 digits it is out of range; int() of thousands would be slow, then refused.
        if len(seconds.lstrip("0")) > 12:
            ms = MAX_DURATION_MS + 1
        else:
            ms = int(seconds) * 1000 + int((fraction or "0").ljust(9, "0")[:3])
        ms = -ms if sign else ms
    if not -MAX_DURATION_MS <= ms <= MAX_DURATION_MS:
        raise InvalidParameter(
            f"{what} must be at most 315576000000s (10,000 years) either way, got {shown(value)}"
        )
    return ms


# -- field masks ---------------------------------------------------------------------------


def field_mask(paths: list[str]) -> str:
    """A pb.FieldMask in proto JSON: its paths in camelCase, joined by commas."""
    return ",".join(_camel_path(p) for p in paths)


def parse_field_mask(value: object, what: str) -> list[str]:
    """A pb.FieldMask in proto JSON ("assessmentName,feedback") as snake_case paths.

    Heron also takes the message form {"paths": [...]}, which its older clients sent.

    Raises:
        InvalidParameter: neither a string of paths nor an object with a list of them.
    """
    if isinstance(value, Mapping) and set(value) <= {"paths"}:
        paths = value.get("paths")
        if isinstance(paths, list) and all(isinstance(p, str) for p in paths):
            return [_snake_path(p.strip()) for p in paths if p.strip()]
    elif isinstance(value, str):
        return [_snake_path(p.strip()) for p in value.split(",") if p.strip()]
    raise InvalidParameter(
        f"{what} must be a field mask: a string of comma-separated field paths such as "
        f"'assessmentName,feedback', got {shown(value)}"
    )


def _camel_path(path: str) -> str:
    return ".".join(
        head + "".join(w.title() for w in rest)
        for head, *rest in (part.split("_") for part in path.split("."))
    )


def _snake_path(path: str) -> str:
    return ".".join(_snake(part) for part in path.split("."))


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
