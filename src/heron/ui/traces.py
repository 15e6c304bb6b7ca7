"""An experiment's traces: the list with its filters (status, time range, tags, search text
or the trace filter grammar), sort and keyset pages.

The filters are form fields in the URL; they are turned into one filter string of the trace
search grammar (clauses joined by AND), so what the page shows is exactly what
`search_traces` answers, and a bad filter comes back as the server's own message."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from starlette.datastructures import QueryParams

from heron.clock import now_ms
from heron.entities import Page, reserved
from heron.entities.trace import TraceInfo, TraceState
from heron.errors import InvalidParameter
from heron.services.traces import TraceService
from heron.ui.runs_table import literal, quoted
from heron.ui.trace_view import value_text

TRACES_PER_PAGE = 50
STATUSES = (TraceState.OK, TraceState.ERROR, TraceState.IN_PROGRESS)
# the last ... -> milliseconds
RANGES = {"1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000}
RANGE_LABELS = {"": "Any time", "1h": "Last hour", "24h": "Last 24 hours", "7d": "Last 7 days",
                "30d": "Last 30 days", "custom": "Between…"}  # fmt: skip
# column -> the order_by field that sorts it
SORTS = {"time": "timestamp_ms", "duration": "execution_time_ms", "status": "status",
         "name": "name"}  # fmt: skip
# Text that compares something is the filter grammar; any other text searches trace names.
_GRAMMAR = re.compile(r"(=|<|>|\b(?:LIKE|ILIKE|IN|IS)\b)", re.IGNORECASE)
_TAG = re.compile(r"^\s*([^=]+?)\s*=\s*(.*?)\s*$")
# query parameter -> the trace metadata it filters on (the GenAI views' fields too)
METADATA_FIELDS = {"user": reserved.TRACE_USER, "session": reserved.TRACE_SESSION,
                   "env": reserved.SOURCE_TYPE, "version": reserved.TRACE_MODEL_ID}  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceFilters:
    text: str = ""
    status: str = ""
    range: str = ""
    start: str = ""  # datetime-local text (UTC), with range "custom"
    end: str = ""
    tags: Sequence[str] = ()  # "key=value"
    metadata: Sequence[tuple[str, str]] = ()  # (query parameter in METADATA_FIELDS, value)
    span_type: str = ""
    sort: str = "time"
    descending: bool = True
    page_token: str | None = None

    @classmethod
    def from_query(cls, query: QueryParams) -> TraceFilters:
        sort = query.get("sort", "time")
        return cls(
            text=query.get("q", "").strip(),
            status=query.get("status", ""),
            range=query.get("range", ""),
            start=query.get("from", "").strip(),
            end=query.get("to", "").strip(),
            tags=[t for t in query.getlist("tag") if t.strip()],
            metadata=metadata_of(query),
            span_type=query.get("span_type", "").strip(),
            sort=sort if sort in SORTS else "time",
            descending=query.get("dir", "desc") != "asc",
            page_token=query.get("page") or None,
        )

    @property
    def active(self) -> bool:
        return bool(
            self.text or self.status or self.range or self.tags or self.metadata or self.span_type
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceList:
    traces: list[TraceInfo] = field(default_factory=list)
    next_page_token: str | None = None
    filter_string: str = ""
    error: str | None = None


def filter_string(filters: TraceFilters, *, now: int | None = None) -> str:
    """The trace search filter the page's fields mean. InvalidParameter for a field that
    cannot be turned into one (an unknown status, a tag without '=', a bad date)."""
    clauses: list[str] = []
    if filters.status:
        if filters.status not in STATUSES:
            raise InvalidParameter(
                f"Unknown trace status {filters.status!r}; use one of {', '.join(STATUSES)}"
            )
        clauses.append(f"trace.status = {literal(filters.status)}")
    if filters.range in RANGES:
        since = (now_ms() if now is None else now) - RANGES[filters.range]
        clauses.append(f"timestamp_ms >= {since}")
    elif filters.range == "custom":
        if filters.start:
            clauses.append(f"timestamp_ms >= {datetime_ms('From', filters.start)}")
        if filters.end:
            clauses.append(f"timestamp_ms <= {datetime_ms('To', filters.end)}")
    elif filters.range:
        raise InvalidParameter(
            f"Unknown time range {filters.range!r}; use one of {', '.join(RANGE_LABELS)}"
        )
    clauses += field_clauses(filters.tags, filters.metadata, filters.span_type)
    text = filters.text
    if text:
        if _GRAMMAR.search(text):
            clauses.append(text)
        else:
            clauses.append(f"name ILIKE {literal('%' + text + '%')}")
    return " AND ".join(clauses)


def metadata_of(query: QueryParams) -> list[tuple[str, str]]:
    """The metadata fields of the URL (user, session, env, version) that hold a value."""
    return [(f, query[f].strip()) for f in METADATA_FIELDS if query.get(f, "").strip()]


def field_clauses(
    tags: Sequence[str], metadata: Sequence[tuple[str, str]], span_type: str
) -> list[str]:
    """Filter clauses for tags ("key=value"), metadata fields and a span type.

    Raises:
        InvalidParameter: a tag without '='.
    """
    clauses = []
    for tag in tags:
        match = _TAG.match(tag)
        if not match:
            raise InvalidParameter(f"Tag filter {tag!r} must read key=value")
        clauses.append(f"tags.{quoted(match[1])} = {literal(match[2])}")
    for name, value in metadata:
        clauses.append(f"metadata.{quoted(METADATA_FIELDS[name])} = {literal(value)}")
    if span_type:
        clauses.append(f"span.type = {literal(span_type)}")
    return clauses


def datetime_ms(label: str, text: str) -> int:
    """A datetime-local value ('2024-05-01T13:30', read as UTC) as ms since the epoch."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidParameter(
            f"{label} time {text!r} is not a date and time like 2024-05-01T13:30"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def load(service: TraceService, experiment_id: str, filters: TraceFilters) -> TraceList:
    """One page of traces; a filter the service refuses comes back as `error` (shown above
    the list, the fields keeping what the user chose), never as an exception."""
    try:
        text = filter_string(filters)
        order = f"{SORTS[filters.sort]} {'DESC' if filters.descending else 'ASC'}"
        page: Page[TraceInfo] = service.search_traces(
            [experiment_id],
            filter_string=text or None,
            order_by=[order],
            max_results=TRACES_PER_PAGE,
            page_token=filters.page_token,
        )
    except InvalidParameter as exc:
        return TraceList(error=exc.message)
    return TraceList(
        traces=list(page.items), next_page_token=page.next_page_token, filter_string=text
    )


def user_tags(info: TraceInfo) -> list[tuple[str, str]]:
    """The tags a user set (not MLflow's or Heron's own), sorted."""
    return sorted(
        (k, v) for k, v in info.tags.items() if not k.startswith((reserved.SYSTEM_PREFIX, "heron."))
    )


MAX_ASSESSMENT_COLUMNS = 8


def assessment_columns(infos: Sequence[TraceInfo]) -> list[tuple[str, str]]:
    """(kind, name) of the feedback and expectations the page's traces carry, feedback first,
    at most MAX_ASSESSMENT_COLUMNS: one column each in the traces list."""
    found = {(a.kind.value, a.name) for info in infos for a in info.assessments if a.valid}
    ordered = sorted(found, key=lambda column: (column[0] != "feedback", column[1]))
    return ordered[:MAX_ASSESSMENT_COLUMNS]


def assessment_cell(info: TraceInfo, kind: str, name: str) -> str:
    """The newest valid assessment of that kind and name on the trace, as text ("" if none)."""
    matching = [a for a in info.assessments if a.valid and a.kind.value == kind and a.name == name]
    if not matching:
        return ""
    newest = max(matching, key=lambda a: (a.last_update_time, a.assessment_id))
    return value_text(newest.value)
