"""Search SQL on real SQLite and PostgreSQL: filters,
orders with NULLS LAST, and keyset pages that never repeat or skip a row."""

from __future__ import annotations

import base64
import json
import math
import random
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, event, insert

from heron.entities import ViewType
from heron.errors import InvalidParameter, NotFound
from heron.search import (
    Comparison,
    OrderKey,
    parse_experiment_filter,
    parse_run_filter,
    parse_run_order_by,
)
from heron.store.experiments import ExperimentQuery
from heron.store.runs import RunQuery
from heron.store.sql import tables
from heron.store.sql.database import engine_url
from heron.store.sql.run_writes import point_json
from heron.store.sql.search_sql import SearchStatement
from heron.store.sql.tracking_search import experiment_search, run_search


@dataclass
class FakeRun:
    """What a seeded run holds, so tests can compute the expected order in Python."""

    run_id: str
    experiment_id: int
    name: str
    start_time: int
    end_time: int | None = None
    status: str = "FINISHED"
    user_id: str = "ann"
    lifecycle_stage: str = "active"
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    datasets: list[tuple[str, str, str]] = field(default_factory=list)  # name, digest, context


HAND_RUNS = [
    FakeRun(
        "r1",
        1,
        "alpha",
        1000,
        2000,
        metrics={"acc": 0.9, "loss": math.nan},
        params={"lr": "0.1"},
        tags={"team": "vision", "mlflow.parentRunId": "r0"},
        datasets=[("train", "d1", "training")],
    ),
    FakeRun(
        "r2",
        1,
        "beta",
        2000,
        None,
        status="RUNNING",
        user_id="bob",
        metrics={"acc": 0.5},
        params={"lr": "0.01"},
        tags={"team": "Vision", "my key": "xzy"},
        datasets=[("eval", "d2", "eval")],
    ),
    FakeRun(
        "r3", 1, "gamma", 3000, 3500, status="FAILED", metrics={"loss": 0.3}, tags={"my key": "x_y"}
    ),
    FakeRun("r4", 1, "delta", 4000, 4100, lifecycle_stage="deleted", metrics={"acc": 0.95}),
    FakeRun("r5", 3, "omega", 500, 600, metrics={"acc": 0.99}),
]


def _random_runs(count: int) -> list[FakeRun]:
    """Runs with many ties and missing keys (experiment 2), for the paging tests."""
    rng = random.Random(7)  # noqa: S311 - reproducible test data
    out = []
    for i in range(count):
        run = FakeRun(
            f"p{i:02d}{uuid.UUID(int=rng.getrandbits(128)).hex[:6]}",
            2,
            rng.choice(["a", "b", "c"]),
            rng.choice([100, 200, 300]),
            rng.choice([None, 10, 20]),
            status=rng.choice(["FINISHED", "FAILED"]),
            lifecycle_stage=rng.choice(["active", "active", "deleted"]),
        )
        for key in ("m", "n"):
            value = rng.choice([None, math.nan, -math.inf, 0.5, 1.0, 1.0, 2.0])
            if value is not None:
                run.metrics[key] = value
        for store, choices in ((run.params, [None, "x", "y"]), (run.tags, [None, "u", "v"])):
            value = rng.choice(choices)
            if value is not None:
                store["k"] = value
        out.append(run)
    return out


PAGING_RUNS = _random_runs(40)
EXPERIMENTS = [  # id, name, lifecycle, creation_time, last_update_time, tags
    (1, "exp-a", "active", 10, 50, {"team": "vision"}),
    (2, "exp-b", "active", 10, 40, {"team": "nlp", "x y": "1"}),
    (3, "Other", "active", 20, 40, {}),
    (4, "gone", "deleted", 10, 60, {"team": "vision"}),
    (5, "exp-c", "active", 10, 50, {}),
]


def _seed(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(tables.experiments),
            [
                {
                    "experiment_id": i,
                    "name": n,
                    "artifact_location": f"/a/{i}",
                    "lifecycle_stage": s,
                    "creation_time": c,
                    "last_update_time": u,
                }
                for i, n, s, c, u, _ in EXPERIMENTS
            ],
        )
        conn.execute(
            insert(tables.experiment_tags),
            [
                {"experiment_id": i, "key": k, "value": v}
                for i, *_, tags in EXPERIMENTS
                for k, v in tags.items()
            ],
        )
        for run in HAND_RUNS + PAGING_RUNS:
            _insert_run(conn, run)


def _insert_run(conn: Any, run: FakeRun) -> None:
    conn.execute(
        insert(tables.runs).values(
            run_uuid=run.run_id,
            experiment_id=run.experiment_id,
            name=run.name,
            user_id=run.user_id,
            status=run.status,
            start_time=run.start_time,
            end_time=run.end_time,
            artifact_uri=f"/art/{run.run_id}",
            lifecycle_stage=run.lifecycle_stage,
        )
    )
    for key, value in run.metrics.items():
        nan = math.isnan(value)
        conn.execute(
            insert(tables.latest_metrics).values(
                run_uuid=run.run_id,
                key=key,
                step=0,
                timestamp=0,
                value=0.0 if nan else value,
                is_nan=nan,
                experiment_id=run.experiment_id,
                point_json=point_json(key, 0, 0, value, nan),
            )
        )
    for table, values in ((tables.params, run.params), (tables.tags, run.tags)):
        for key, value in values.items():
            conn.execute(insert(table).values(run_uuid=run.run_id, key=key, value=value))
    for name, digest, context in run.datasets:
        dataset_id = uuid.uuid4().hex
        conn.execute(
            insert(tables.datasets).values(
                dataset_uuid=dataset_id,
                experiment_id=run.experiment_id,
                name=name,
                digest=digest,
                source_type="local",
                source="{}",
            )
        )
        conn.execute(insert(tables.run_inputs).values(run_uuid=run.run_id, dataset_uuid=dataset_id))
        conn.execute(
            insert(tables.run_input_tags).values(
                run_uuid=run.run_id,
                dataset_uuid=dataset_id,
                key="mlflow.data.context",
                value=context,
            )
        )


def _sqlite_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _case_sensitive_like(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA case_sensitive_like=ON")

    return engine


def _postgres_engine(uri: str) -> Iterator[Engine]:
    """A fresh database on the given server, so these tables never meet other tests'."""
    import psycopg

    name = f"heron_search_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(uri, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(uri)
    engine = create_engine(engine_url(urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))))
    try:
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(uri, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(
    scope="module",
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ],
)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A database holding the seeded experiments and runs (read-only for the tests)."""
    if request.param == "sqlite":
        created = _sqlite_engine(tmp_path_factory.mktemp("search") / "heron.db")
        tables.metadata.create_all(created)
        _seed(created)
        yield created
        created.dispose()
        return
    server = request.getfixturevalue("postgres_server")  # the session cluster (conftest.py)
    for created in _postgres_engine(server.uri):
        tables.metadata.create_all(created)
        _seed(created)
        yield created


def _page(
    engine: Engine, statement: SearchStatement, max_results: int, pk: str = "run_uuid"
) -> tuple[list[Any], str | None]:
    with engine.connect() as conn:
        rows = statement.rows(conn, max_results)
    token = statement.next_token(rows[max_results - 1]) if len(rows) > max_results else None
    at = [column.key for column in statement.select.selected_columns].index(pk)
    return [row[at] for row in rows[:max_results]], token


def _run_names(
    engine: Engine,
    filter: str = "",
    order_by: list[str] | None = None,
    experiment_ids: tuple[str, ...] = ("1",),
    view_type: ViewType = ViewType.ACTIVE_ONLY,
) -> list[str]:
    query = RunQuery(
        experiment_ids=experiment_ids,
        filter=parse_run_filter(filter),
        order_by=parse_run_order_by(order_by),
        view_type=view_type,
    )
    ids, token = _page(engine, run_search(query), query.max_results)
    assert token is None
    by_id = {run.run_id: run.name for run in HAND_RUNS}
    return [by_id[i] for i in ids]


RUN_FILTER_CASES = {
    "": {"alpha", "beta", "gamma"},
    "metrics.acc > 0.8": {"alpha"},
    "metrics.acc >= 0.5": {"alpha", "beta"},
    "metrics.acc != 0.9": {"beta"},
    "metrics.loss < 1": {"gamma"},
    "metrics.loss != 0": {"gamma"},
    "metrics.acc > 0.1 AND params.lr = '0.01'": {"beta"},
    "params.lr = '0.1'": {"alpha"},
    "params.lr != '0.1'": {"beta"},
    "params.lr IS NULL": {"gamma"},
    "params.lr IS NOT NULL": {"alpha", "beta"},
    "tags.team LIKE 'V%'": {"beta"},
    "tags.team ILIKE 'v%'": {"alpha", "beta"},
    "tags.team IN ('vision', 'nlp')": {"alpha"},
    "tags.team NOT IN ('vision')": {"beta"},
    "tags.`my key` LIKE 'x_y'": {"beta", "gamma"},
    "tags.`my key` LIKE 'x\\_y'": {"gamma"},
    "tags.mlflow.parentRunId = 'r0'": {"alpha"},
    "attributes.status = 'RUNNING'": {"beta"},
    "attributes.status IN ('FINISHED', 'FAILED')": {"alpha", "gamma"},
    "attributes.status NOT IN ('FINISHED')": {"beta", "gamma"},
    "attributes.run_name LIKE 'g%'": {"gamma"},
    "attributes.run_name ILIKE 'AL%'": {"alpha"},
    "attributes.user_id != 'ann'": {"beta"},
    "attributes.run_id IN ('r1', 'r3')": {"alpha", "gamma"},
    "attributes.artifact_uri = '/art/r2'": {"beta"},
    "attributes.start_time >= 2000": {"beta", "gamma"},
    "attributes.created < 2000": {"alpha"},
    "attributes.end_time > 1000": {"alpha", "gamma"},
    "datasets.name = 'train'": {"alpha"},
    "datasets.name ILIKE 'TR%'": {"alpha"},
    "datasets.digest IN ('d1', 'd2')": {"alpha", "beta"},
    "datasets.context = 'eval'": {"beta"},
    "datasets.name != 'train'": {"beta"},
}


@pytest.mark.parametrize(("text", "expected"), RUN_FILTER_CASES.items(), ids=list(RUN_FILTER_CASES))
def test_run_filter_selects_matching_runs(engine: Engine, text: str, expected: set[str]) -> None:
    assert set(_run_names(engine, text)) == expected


@pytest.mark.parametrize(
    ("view_type", "expected"),
    [
        (ViewType.ACTIVE_ONLY, {"alpha", "beta", "gamma"}),
        (ViewType.DELETED_ONLY, {"delta"}),
        (ViewType.ALL, {"alpha", "beta", "gamma", "delta"}),
    ],
    ids=["active", "deleted", "all"],
)
def test_run_search_honours_view_type(
    engine: Engine, view_type: ViewType, expected: set[str]
) -> None:
    assert set(_run_names(engine, view_type=view_type)) == expected


def test_run_search_is_limited_to_the_given_experiments(engine: Engine) -> None:
    assert _run_names(engine, experiment_ids=("3",)) == ["omega"]
    assert set(_run_names(engine, "attributes.start_time < 1500", experiment_ids=("1", "3"))) == {
        "alpha",
        "omega",
    }
    # Another experiment's runs with the same metric never show up in a metric sort or filter.
    assert _run_names(engine, "metrics.acc > 0.95") == []
    assert _run_names(engine, order_by=["metrics.acc DESC"]) == ["alpha", "beta", "gamma"]
    both = ("1", "3")
    assert _run_names(engine, "metrics.acc > 0.95", experiment_ids=both) == ["omega"]
    assert _run_names(engine, order_by=["metrics.acc DESC"], experiment_ids=both) == [
        "omega",
        "alpha",
        "beta",
        "gamma",
    ]


RUN_ORDER_CASES = [
    ([], ["gamma", "beta", "alpha"]),
    (["start_time"], ["alpha", "beta", "gamma"]),
    (["metrics.acc"], ["beta", "alpha", "gamma"]),
    (["metrics.acc DESC"], ["alpha", "beta", "gamma"]),
    (["metrics.loss"], ["gamma", "beta", "alpha"]),  # NaN counts as missing: last
    (["metrics.loss DESC"], ["gamma", "beta", "alpha"]),
    (["params.lr DESC"], ["alpha", "beta", "gamma"]),
    (["params.lr"], ["beta", "alpha", "gamma"]),
    (["tags.mlflow.parentRunId"], ["alpha", "gamma", "beta"]),
    (["attributes.end_time"], ["alpha", "gamma", "beta"]),
    (["attributes.end_time DESC"], ["gamma", "alpha", "beta"]),
    (["attributes.run_name DESC"], ["gamma", "beta", "alpha"]),
    (["attributes.status", "metrics.acc DESC"], ["gamma", "alpha", "beta"]),
]


@pytest.mark.parametrize(
    ("order_by", "expected"),
    RUN_ORDER_CASES,
    ids=[" ".join(o) or "default" for o, _ in RUN_ORDER_CASES],
)
def test_run_order_puts_missing_values_last(
    engine: Engine, order_by: list[str], expected: list[str]
) -> None:
    assert _run_names(engine, order_by=order_by) == expected


def test_run_search_selects_labelled_sort_keys(engine: Engine) -> None:
    query = RunQuery(experiment_ids=["1"], order_by=parse_run_order_by(["metrics.loss"]))
    statement = run_search(query)
    with engine.connect() as conn:
        rows = statement.rows(conn, query.max_results)
    at = [column.key for column in statement.select.selected_columns]
    name, sk0, sk1 = at.index("name"), at.index("sk0"), at.index("sk1")
    assert [(row[name], row[sk0], row[sk1]) for row in rows] == [
        ("gamma", 0.3, 3000),
        ("beta", None, 2000),
        ("alpha", None, 1000),
    ]


# ------------------------------------------------------------------ paging


def _expected_order(runs: list[FakeRun], order: list[OrderKey]) -> list[str]:
    """MLflow's order computed in Python: keys, start_time DESC, run id; missing values last."""
    keys = list(order) or [OrderKey("attribute", "start_time", False)]
    if not any(k.entity == "attribute" and k.key == "start_time" for k in keys):
        keys.append(OrderKey("attribute", "start_time", False))
    result = sorted(runs, key=lambda r: r.run_id)
    for key in reversed(keys):  # stable sorts, least significant key first
        present = [r for r in result if _sort_value(r, key) is not None]
        missing = [r for r in result if _sort_value(r, key) is None]
        present.sort(key=lambda r: _sort_value(r, key), reverse=not key.ascending)
        result = present + missing
    return [r.run_id for r in result]


def _sort_value(run: FakeRun, key: OrderKey) -> Any:
    if key.entity == "metric":
        value = run.metrics.get(key.key)
        return None if value is None or math.isnan(value) else value
    if key.entity in ("param", "tag"):
        return (run.params if key.entity == "param" else run.tags).get(key.key)
    return {
        "start_time": run.start_time,
        "end_time": run.end_time,
        "run_name": run.name,
        "status": run.status,
        "run_id": run.run_id,
    }[key.key]


def _all_pages(engine: Engine, query: RunQuery, sizes: list[int]) -> list[str]:
    seen: list[str] = []
    token = None
    for page in range(len(PAGING_RUNS) + 2):
        size = sizes[page % len(sizes)]
        step = RunQuery(
            experiment_ids=query.experiment_ids,
            filter=query.filter,
            order_by=query.order_by,
            view_type=query.view_type,
            max_results=size,
            page_token=token,
        )
        ids, token = _page(engine, run_search(step), size)
        seen += ids
        if token is None:
            return seen
    raise AssertionError("paging did not end")


SORTABLE = [
    "metrics.m",
    "metrics.n",
    "params.k",
    "tags.k",
    "attributes.start_time",
    "attributes.end_time",
    "attributes.run_name",
    "attributes.status",
    "attributes.run_id",
]
order_clauses = st.lists(
    st.tuples(st.sampled_from(SORTABLE), st.sampled_from(["", " ASC", " DESC"])).map("".join),
    max_size=3,
)


@settings(max_examples=60, deadline=None)
@given(
    order=order_clauses,
    sizes=st.lists(st.integers(1, 9), min_size=1, max_size=4),
    view_type=st.sampled_from(list(ViewType)),
    filter=st.sampled_from(["", "metrics.m >= 1", "tags.k IS NOT NULL", "params.k != 'x'"]),
)
def test_paging_never_repeats_or_skips_a_run(
    engine: Engine, order: list[str], sizes: list[int], view_type: ViewType, filter: str
) -> None:
    query = RunQuery(
        experiment_ids=["2"],
        filter=parse_run_filter(filter),
        order_by=parse_run_order_by(order),
        view_type=view_type,
    )
    stages = view_type.stages()
    matching = [r for r in PAGING_RUNS if r.lifecycle_stage in stages and _matches(r, filter)]
    assert _all_pages(engine, query, sizes) == _expected_order(matching, query.order_by)


def _matches(run: FakeRun, filter: str) -> bool:
    m = run.metrics.get("m")
    return {
        "": True,
        "metrics.m >= 1": m is not None and not math.isnan(m) and m >= 1,
        "tags.k IS NOT NULL": "k" in run.tags,
        "params.k != 'x'": run.params.get("k") not in (None, "x"),
    }[filter]


def test_page_token_of_another_query_is_rejected(engine: Engine) -> None:
    first = RunQuery(experiment_ids=["2"], max_results=3)
    _, token = _page(engine, run_search(first), 3)
    assert token is not None
    for other in (
        RunQuery(experiment_ids=["1"], max_results=3, page_token=token),
        RunQuery(experiment_ids=["2"], filter=parse_run_filter("metrics.m > 0"), page_token=token),
        RunQuery(
            experiment_ids=["2"], order_by=parse_run_order_by(["metrics.m"]), page_token=token
        ),
        RunQuery(experiment_ids=["2"], view_type=ViewType.ALL, page_token=token),
    ):
        with pytest.raises(InvalidParameter, match="page_token"):
            run_search(other)


def test_page_token_survives_a_different_page_size(engine: Engine) -> None:
    _, token = _page(engine, run_search(RunQuery(experiment_ids=["2"], max_results=3)), 3)
    run_search(RunQuery(experiment_ids=["2"], max_results=10, page_token=token))


def _token(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_corrupted_page_tokens_are_rejected() -> None:
    query = RunQuery(experiment_ids=["2"], order_by=parse_run_order_by(["metrics.m"]))
    fingerprint = run_search(query).fingerprint
    tokens = [
        "",
        "!!!",
        "not-base64-json",
        "a" * 20_000,
        _token([1, 2]),
        _token({"q": fingerprint}),
        _token({"q": fingerprint, "k": [1.0], "id": "x"}),  # one key short
        _token({"q": fingerprint, "k": ["x", 100], "id": "x"}),  # string for a metric
        _token({"q": fingerprint, "k": [1.0, None], "id": "x"}),  # start_time is never null
        _token({"q": fingerprint, "k": [True, 100], "id": "x"}),
        _token({"q": fingerprint, "k": [1.0, 100], "id": 5}),  # run ids are strings
        _token({"q": fingerprint, "k": [1.0, 2**63], "id": "x"}),  # no BIGINT holds it
        _token({"q": fingerprint, "k": [-(2**63) - 1, 100], "id": "x"}),
        _token({"q": fingerprint, "k": [1.0, 100], "id": "\x00"}),  # PostgreSQL: no NUL in text
        _token({"q": "0" * 16, "k": [1.0, 100], "id": "x"}),
    ]
    for token in tokens:
        with pytest.raises(InvalidParameter, match="page_token"):
            run_search(RunQuery(experiment_ids=["2"], order_by=query.order_by, page_token=token))


def test_a_well_formed_token_is_accepted() -> None:
    query = RunQuery(experiment_ids=["2"], order_by=parse_run_order_by(["metrics.m"]))
    fingerprint = run_search(query).fingerprint
    token = _token({"q": fingerprint, "k": [None, 100], "id": "x"})
    run_search(RunQuery(experiment_ids=["2"], order_by=query.order_by, page_token=token))


@pytest.mark.parametrize("experiment_id", ["x", "-1", "1.5", "", "²", "2147483648"])
def test_ids_no_experiment_can_have_are_not_found(experiment_id: str) -> None:
    with pytest.raises(NotFound, match="No Experiment"):
        run_search(RunQuery(experiment_ids=[experiment_id]))


def test_like_pattern_ending_in_a_backslash_is_rejected() -> None:
    with pytest.raises(InvalidParameter, match="backslash"):
        run_search(RunQuery(experiment_ids=["1"], filter=[Comparison("tag", "t", "LIKE", "a\\")]))


# ------------------------------------------------------------------ experiments


def _experiment_ids(
    engine: Engine,
    filter: str = "",
    order_by: list[str] | None = None,
    view_type: ViewType = ViewType.ACTIVE_ONLY,
    max_results: int = 100,
) -> list[int]:
    from heron.search import parse_experiment_order_by

    query = ExperimentQuery(
        filter=parse_experiment_filter(filter),
        order_by=parse_experiment_order_by(order_by),
        view_type=view_type,
        max_results=max_results,
    )
    seen: list[int] = []
    token = None
    while True:
        step = ExperimentQuery(
            filter=query.filter,
            order_by=query.order_by,
            view_type=view_type,
            max_results=max_results,
            page_token=token,
        )
        ids, token = _page(engine, experiment_search(step), max_results, pk="experiment_id")
        seen += ids
        if token is None:
            return seen


EXPERIMENT_CASES = [
    ("", None, [3, 1, 2, 5]),
    ("name LIKE 'exp-%'", None, [1, 2, 5]),
    ("name ILIKE 'OTHER'", None, [3]),
    ("name != 'exp-a'", None, [3, 2, 5]),
    ("creation_time > 10", None, [3]),
    ("last_update_time <= 40", None, [3, 2]),
    ("tags.team = 'vision'", None, [1]),
    ("tags.team IS NULL", None, [3, 5]),
    ("tags.`x y` IS NOT NULL", None, [2]),
    ("tags.team != 'vision'", None, [2]),
    ("tags.team LIKE '%i%'", None, [1]),
    ("", ["name"], [3, 1, 2, 5]),
    ("", ["name DESC"], [5, 2, 1, 3]),
    ("", ["last_update_time DESC"], [1, 5, 2, 3]),
    ("", ["experiment_id DESC"], [5, 3, 2, 1]),
    ("", ["creation_time", "last_update_time DESC"], [1, 5, 2, 3]),
]


@pytest.mark.parametrize(
    ("filter", "order_by", "expected"),
    EXPERIMENT_CASES,
    ids=[f"{f}|{o}" for f, o, _ in EXPERIMENT_CASES],
)
@pytest.mark.parametrize("page_size", [1, 2, 100])
def test_experiment_search_filters_orders_and_pages(
    engine: Engine, filter: str, order_by: list[str] | None, expected: list[int], page_size: int
) -> None:
    assert _experiment_ids(engine, filter, order_by, max_results=page_size) == expected


def test_experiment_search_honours_view_type(engine: Engine) -> None:
    assert _experiment_ids(engine, view_type=ViewType.DELETED_ONLY) == [4]
    assert _experiment_ids(engine, view_type=ViewType.ALL) == [3, 1, 2, 4, 5]


def test_experiment_page_token_is_not_a_run_page_token(engine: Engine) -> None:
    _, token = _page(
        engine, experiment_search(ExperimentQuery(max_results=1)), 1, pk="experiment_id"
    )
    assert token is not None
    with pytest.raises(InvalidParameter, match="page_token"):
        run_search(RunQuery(experiment_ids=["1"], page_token=token))
