"""What the GenAI views (overview, sessions, versions) are asked, read from the URL: a time
window (last hour, day, 7 days, 30 days, or custom), a grain, and filters by tag, user,
session, environment, span type and app version, plus any clause of the trace filter grammar.

The filters become one filter string of the trace search grammar, so the views aggregate
exactly the traces the Traces tab lists for the same string; each chart point links there with
its own time range added."""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.datastructures import QueryParams

from heron.clock import now_ms
from heron.entities.trace import SpanType
from heron.errors import InvalidParameter
from heron.ui import traces

MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
RANGES = {"1h": HOUR, "24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY}
RANGE_LABELS = {"1h": "Last hour", "24h": "Last 24 hours", "7d": "Last 7 days",
                "30d": "Last 30 days", "custom": "Between…"}  # fmt: skip
GRAINS = {"1m": MINUTE, "5m": 5 * MINUTE, "15m": 15 * MINUTE, "1h": HOUR, "6h": 6 * HOUR,
          "1d": DAY, "7d": 7 * DAY}  # fmt: skip
GRAIN_LABELS = {"": "Auto", "1m": "Minute", "5m": "5 minutes", "15m": "15 minutes",
                "1h": "Hour", "6h": "6 hours", "1d": "Day", "7d": "Week"}  # fmt: skip
_AUTO_POINTS = 200  # auto grain: the finest with at most this many points
SPAN_TYPES = tuple(v for k, v in vars(SpanType).items() if k.isupper())
# what the tabs of the GenAI view carry from one to the next
KEPT = ("range", "from", "to", "grain", "tag", "user", "session", "env", "span_type", "version",
        "q")  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class GenAIQuery:
    range: str = "7d"
    start: str = ""  # datetime-local (UTC), with range "custom"
    end: str = ""
    grain: str = ""  # "" is auto
    tags: Sequence[str] = ()  # "key=value"
    metadata: Sequence[tuple[str, str]] = ()  # (query parameter, value)
    span_type: str = ""
    text: str = ""  # trace filter grammar

    @classmethod
    def from_query(cls, query: QueryParams, default_range: str = "7d") -> GenAIQuery:
        return cls(
            range=query.get("range") or default_range,
            start=query.get("from", "").strip(),
            end=query.get("to", "").strip(),
            grain=query.get("grain", ""),
            tags=[t for t in query.getlist("tag") if t.strip()],
            metadata=traces.metadata_of(query),
            span_type=query.get("span_type", "").strip(),
            text=query.get("q", "").strip(),
        )

    @property
    def filtered(self) -> bool:
        return bool(self.tags or self.metadata or self.span_type or self.text)

    def value(self, field: str) -> str:
        return dict(self.metadata).get(field, "")

    def window(self, *, now: int | None = None) -> tuple[int, int]:
        """[start, end) in ms since the epoch. Raises InvalidParameter for a bad range."""
        end = now_ms() if now is None else now
        if self.range in RANGES:
            return end - RANGES[self.range], end + 1  # the current ms included
        if self.range != "custom":
            raise InvalidParameter(
                f"Unknown time range {self.range!r}; use one of {', '.join(RANGE_LABELS)}"
            )
        start = traces.datetime_ms("From", self.start) if self.start else end - 7 * DAY
        stop = traces.datetime_ms("To", self.end) if self.end else end + 1
        if stop <= start:
            raise InvalidParameter("The window ends before it starts: choose a later To time")
        return start, stop

    def grain_ms(self, start: int, end: int) -> int:
        """The chosen grain, or the finest one giving at most 200 points."""
        if self.grain:
            if self.grain not in GRAINS:
                raise InvalidParameter(
                    f"Unknown grain {self.grain!r}; use one of {', '.join(GRAINS)}"
                )
            return GRAINS[self.grain]
        fitting = [g for g in GRAINS.values() if (end - start) / g <= _AUTO_POINTS]
        return fitting[0] if fitting else GRAINS["7d"]

    def filter_string(self) -> str:
        """The trace filter the fields mean (clauses joined by AND)."""
        clauses = traces.field_clauses(self.tags, self.metadata, self.span_type)
        if self.text:
            clauses.append(self.text)
        return " AND ".join(clauses)


def grain_label(grain_ms: int) -> str:
    """ "1 hour", "15 minutes": a grain as the page says it."""
    for unit, size in (("week", 7 * DAY), ("day", DAY), ("hour", HOUR), ("minute", MINUTE)):
        if grain_ms >= size and grain_ms % size == 0:
            count = grain_ms // size
            return f"{count} {unit}" + ("s" if count > 1 else "")
    return f"{grain_ms / 1000:g} s"


def in_range(filter_string: str, start: int, end: int, *extra: str) -> str:
    """The filter narrowed to the traces that started in [start, end), and `extra` clauses."""
    clauses = [filter_string, f"timestamp_ms >= {start}", f"timestamp_ms < {end}", *extra]
    return " AND ".join(c for c in clauses if c)


def traces_link(experiment_id: str, filter_string: str, **params: str) -> str:
    """The Traces tab showing the traces of a filter string (sorted as `params` say)."""
    query = urllib.parse.urlencode({"q": filter_string, **params})
    return f"/experiments/{urllib.parse.quote(experiment_id, safe='')}/traces?{query}"


def kept(query: QueryParams) -> str:
    """The query string of the GenAI view's state, for links between its tabs."""
    items = [(k, v) for k, v in query.multi_items() if k in KEPT and v]
    return "?" + urllib.parse.urlencode(items) if items else ""
