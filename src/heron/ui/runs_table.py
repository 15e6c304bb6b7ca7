"""The runs table of an experiment page: columns, sort, filter, one keyset page, nesting.

Only one page of runs is loaded and rendered at a time (the store pages by keyset tokens), so
the table costs the same with 100 runs in the experiment or 100,000."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from heron.entities import Run, ViewType, reserved
from heron.errors import InvalidParameter
from heron.services import RunService
from heron.ui.rendering import duration, ms_time, number

PAGE_SIZES = (25, 50, 100, 250)
DEFAULT_PAGE_SIZE = 100
DEFAULT_KEYS_PER_KIND = 5
VIEWS = {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY, "all": ViewType.ALL}

# attribute column -> (label, the order_by field that sorts it, or None when unsortable)
ATTRIBUTES: dict[str, tuple[str, str | None]] = {
    "start_time": ("Created", "attributes.start_time"),
    "status": ("Status", "attributes.status"),
    "duration": ("Duration", None),
    "user_id": ("User", "attributes.user_id"),
    "source": ("Source", f"tags.{'`' + reserved.SOURCE_NAME + '`'}"),
    "end_time": ("Ended", "attributes.end_time"),
    "run_id": ("Run ID", "attributes.run_id"),
}
DEFAULT_ATTRIBUTES = ("start_time", "status", "duration", "user_id")
KINDS = ("attributes", "metrics", "params", "tags")


@dataclass(frozen=True, slots=True)
class Column:
    id: str  # "metrics.acc", "params.lr", "tags.team", "attributes.status"
    kind: str
    key: str
    label: str
    sort_field: str | None  # what order_by names, None when the store cannot sort by it


@dataclass(frozen=True, slots=True)
class Row:
    run: Run
    depth: int  # 0 for top-level runs, 1 for their children, ...
    parent_id: str | None
    child_count: int
    cells: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class TableRequest:
    experiment_id: str
    filter: str = ""
    sort: str = "attributes.start_time"  # a column id
    descending: bool = True
    columns: Sequence[str] = ()  # column ids; empty means "choose from the page"
    page_token: str | None = None
    view: str = "active"
    page_size: int = DEFAULT_PAGE_SIZE
    hidden: frozenset[str] = frozenset()  # run ids the user hid from the table (?hide=)


@dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    columns: list[Column]
    rows: list[Row]
    next_page_token: str | None
    available: dict[str, list[str]]  # kind -> keys seen on this page, sorted
    error: str | None = None
    sort: str = ""
    descending: bool = True
    column_ids: list[str] = field(default_factory=list)
    hidden_on_page: int = 0


def column(column_id: str) -> Column:
    """A column from its id; InvalidParameter for an id that names no column."""
    kind, _, key = column_id.partition(".")
    if kind not in KINDS or not key:
        raise InvalidParameter(
            f"Unknown column {column_id!r}: use attributes.<name>, metrics.<key>, "
            "params.<key> or tags.<key>"
        )
    if kind == "attributes":
        if key not in ATTRIBUTES:
            raise InvalidParameter(
                f"Unknown attribute column {key!r}; use one of {', '.join(ATTRIBUTES)}"
            )
        label, sort_field = ATTRIBUTES[key]
        return Column(column_id, kind, key, label, sort_field)
    return Column(column_id, kind, key, key, f"{kind}.{quoted(key)}")


def quoted(key: str) -> str:
    """A key as the filter grammar reads it, whatever characters it holds."""
    if "`" not in key:
        return f"`{key}`"
    return '"' + key.replace('"', '""') + '"'


def literal(text: str) -> str:
    """`text` as a quoted string of the filter grammar."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def load(service: RunService, request: TableRequest) -> Table:
    """One page of the table. A bad filter or sort comes back as `error` (shown above the
    table, the search box keeping what the user typed), never as an exception."""
    if request.view not in VIEWS:
        raise InvalidParameter(f"Unknown view {request.view!r}; use one of {', '.join(VIEWS)}")
    sort_column = column(request.sort)
    order = []
    if sort_column.sort_field is not None:
        order.append(f"{sort_column.sort_field} {'DESC' if request.descending else 'ASC'}")
    try:
        page = service.search_runs(
            [request.experiment_id],
            filter_string=request.filter or None,
            run_view_type=VIEWS[request.view],
            max_results=request.page_size,
            order_by=order,
            page_token=request.page_token,
        )
    except InvalidParameter as exc:
        return Table(columns=[], rows=[], next_page_token=None, available={}, error=exc.message)
    runs = [r for r in page.items if r.info.run_id not in request.hidden]
    available = _keys_on_page(runs)
    ids = list(request.columns) or _default_columns(available)
    columns = [column(c) for c in ids]
    return Table(
        columns=columns,
        rows=_nested_rows(runs, columns),
        next_page_token=page.next_page_token,
        available=available,
        sort=sort_column.id,
        descending=request.descending,
        column_ids=[c.id for c in columns],
        hidden_on_page=len(page.items) - len(runs),
    )


def _keys_on_page(runs: Sequence[Run]) -> dict[str, list[str]]:
    metrics: set[str] = set()
    params: set[str] = set()
    tags: set[str] = set()
    for run in runs:
        metrics.update(m.key for m in run.data.metrics)
        params.update(run.data.params)
        tags.update(k for k in run.data.tags if not k.startswith(reserved.SYSTEM_PREFIX))
    return {
        "attributes": list(ATTRIBUTES),
        "metrics": sorted(metrics),
        "params": sorted(params),
        "tags": sorted(tags),
    }


def _default_columns(available: Mapping[str, list[str]]) -> list[str]:
    return [
        *(f"attributes.{a}" for a in DEFAULT_ATTRIBUTES),
        *(f"metrics.{k}" for k in available["metrics"][:DEFAULT_KEYS_PER_KIND]),
        *(f"params.{k}" for k in available["params"][:DEFAULT_KEYS_PER_KIND]),
    ]


def cell(run: Run, col: Column) -> str:
    """The text of one cell."""
    if col.kind == "metrics":
        for metric in run.data.metrics:
            if metric.key == col.key:
                return number(metric.value)
        return ""
    if col.kind == "params":
        return run.data.params.get(col.key, "")
    if col.kind == "tags":
        return run.data.tags.get(col.key, "")
    info = run.info
    if col.key == "start_time":
        return ms_time(info.start_time)
    if col.key == "end_time":
        return ms_time(info.end_time)
    if col.key == "duration":
        return duration(info.start_time, info.end_time)
    if col.key == "source":
        return run.data.tags.get(reserved.SOURCE_NAME, "").rsplit("/", 1)[-1]
    return str(getattr(info, col.key))


def _nested_rows(runs: Sequence[Run], columns: Sequence[Column]) -> list[Row]:
    """The page's runs in order, each child moved under its parent when the parent is on
    this page too (a child whose parent is elsewhere stays where the sort put it)."""
    on_page = {r.info.run_id for r in runs}
    children: dict[str, list[Run]] = {}
    top: list[Run] = []
    for run in runs:
        parent = run.data.tags.get(reserved.PARENT_RUN_ID)
        if parent and parent in on_page and parent != run.info.run_id:
            children.setdefault(parent, []).append(run)
        else:
            top.append(run)
    rows: list[Row] = []
    placed: set[str] = set()

    def place(run: Run, depth: int) -> None:
        run_id = run.info.run_id
        if run_id in placed:  # a cycle of parent tags: show each run once
            return
        placed.add(run_id)
        kids = children.get(run_id, [])
        parent = run.data.tags.get(reserved.PARENT_RUN_ID)
        rows.append(Row(run, depth, parent, len(kids), [cell(run, c) for c in columns]))
        for kid in kids:
            place(kid, depth + 1)

    for run in top:
        place(run, 0)
    for run in runs:  # runs only reachable through a cycle
        place(run, 0)
    return rows
