"""The filter and order_by grammar: parsed ASTs, rejected inputs, round trips and fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heron.errors import InvalidParameter
from heron.search import (
    Comparison,
    OrderKey,
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_run_filter,
    parse_run_order_by,
)

C = Comparison

RUN_FILTERS = [
    ("metrics.acc > 0.8", [C("metric", "acc", ">", 0.8)]),
    ("metric.acc >= 1", [C("metric", "acc", ">=", 1.0)]),
    ("metrics.loss < -1.5e-3", [C("metric", "loss", "<", -0.0015)]),
    ("metrics.loss<=+2E3", [C("metric", "loss", "<=", 2000.0)]),
    ("metrics.x != .5", [C("metric", "x", "!=", 0.5)]),
    ("params.lr = '0.1'", [C("param", "lr", "=", "0.1")]),
    ('param.lr = "0.1"', [C("param", "lr", "=", "0.1")]),
    ("tags.`my key` LIKE 'x%'", [C("tag", "my key", "LIKE", "x%")]),
    ("tags.\"my key\" ILIKE 'x%'", [C("tag", "my key", "ILIKE", "x%")]),
    ("tag.mlflow.parentRunId = 'abc'", [C("tag", "mlflow.parentRunId", "=", "abc")]),
    ("tags.t IN ('a', 'b')", [C("tag", "t", "IN", ("a", "b"))]),
    ("tags.t not in ('a')", [C("tag", "t", "NOT IN", ("a",))]),
    ("tags.t IS NULL", [C("tag", "t", "IS NULL", None)]),
    ("params.p is not null", [C("param", "p", "IS NOT NULL", None)]),
    ("tags.t = 'it''s'", [C("tag", "t", "=", "it's")]),
    ("tags.t = 'it\\'s'", [C("tag", "t", "=", "it's")]),
    ('tags.t = "say ""hi"""', [C("tag", "t", "=", 'say "hi"')]),
    ("tags.t = 'a\\\\b'", [C("tag", "t", "=", "a\\b")]),
    ("tags.t LIKE 'a\\_b'", [C("tag", "t", "LIKE", "a\\_b")]),
    (
        "attributes.status IN ('FINISHED', 'FAILED')",
        [C("attribute", "status", "IN", ("FINISHED", "FAILED"))],
    ),
    ("attribute.run_id = 'r1'", [C("attribute", "run_id", "=", "r1")]),
    ("attr.run_name LIKE 'a%'", [C("attribute", "run_name", "LIKE", "a%")]),
    ("run.user_id != 'ann'", [C("attribute", "user_id", "!=", "ann")]),
    ("attributes.created > 5", [C("attribute", "start_time", ">", 5)]),
    ("attributes.end_time <= -1", [C("attribute", "end_time", "<=", -1)]),
    ("attributes.`start_time` = 7", [C("attribute", "start_time", "=", 7)]),
    ("status = 'RUNNING'", [C("attribute", "status", "=", "RUNNING")]),
    ("attributes.lifecycle_stage = 'active'", [C("attribute", "lifecycle_stage", "=", "active")]),
    ("datasets.name = 'train'", [C("dataset", "name", "=", "train")]),
    ("dataset.digest IN ('d1')", [C("dataset", "digest", "IN", ("d1",))]),
    ("datasets.context ILIKE 'TR%'", [C("dataset", "context", "ILIKE", "TR%")]),
    (
        "metrics.acc > 0.8 and params.lr = '0.1' AND tags.t IS NULL",
        [
            C("metric", "acc", ">", 0.8),
            C("param", "lr", "=", "0.1"),
            C("tag", "t", "IS NULL", None),
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), RUN_FILTERS, ids=[t for t, _ in RUN_FILTERS])
def test_parse_run_filter_builds_the_ast(text: str, expected: list[Comparison]) -> None:
    assert parse_run_filter(text) == expected


@pytest.mark.parametrize("text", [None, "", "   \n\t"], ids=["none", "empty", "blank"])
def test_parse_run_filter_of_nothing_is_empty(text: str | None) -> None:
    assert parse_run_filter(text) == []


def test_parse_run_filter_types_values() -> None:
    metric, start = parse_run_filter("metrics.a = 1 AND attributes.start_time = 1")
    assert type(metric.value) is float
    assert type(start.value) is int


BAD_RUN_FILTERS = {
    "metric-vs-string": "metrics.acc = 'x'",
    "param-vs-number": "params.p > 1",
    "param-greater": "params.p > '1'",
    "triple-gt": "metrics.acc >>> 1",
    "double-eq": "metrics.acc == 1",
    "trailing-garbage": "metrics.acc > 1 junk",
    "trailing-and": "metrics.acc > 1 AND",
    "or": "metrics.acc > 1 OR metrics.b < 2",
    "unknown-prefix": "foo.bar = 'x'",
    "bare-unknown": "acc > 1",
    "unknown-attribute": "attributes.color = 'red'",
    "run-uuid-is-not-an-attribute": "attributes.run_uuid = 'r'",
    "time-float": "attributes.start_time > 1.5",
    "time-string": "attributes.start_time > '1'",
    "time-in": "attributes.start_time IN ('1')",
    "time-overflow": "attributes.start_time > 99999999999999999999",
    "time-of-5000-digits": "attributes.start_time > " + "9" * 5000,  # more than int() reads
    "101-conditions": " AND ".join(["metrics.a > 1"] * 101),  # SQLite nests 1,000 at most
    "like-of-10001-chars": "tags.t LIKE '" + "a" * 10_001 + "'",  # SQLite: 50,000 bytes
    "status-less-than": "attributes.status < 'A'",
    "metric-in": "metrics.a IN (1)",
    "metric-is-null": "metrics.a IS NULL",
    "dataset-unknown": "datasets.size = '1'",
    "dataset-is-null": "datasets.name IS NULL",
    "unterminated-string": "tags.t = 'abc",
    "unterminated-key": "tags.`abc = 'x'",
    "empty-in": "tags.t IN ()",
    "in-without-parens": "tags.t IN 'a'",
    "in-trailing-comma": "tags.t IN ('a',)",
    "in-unclosed": "tags.t IN ('a'",
    "in-number": "tags.t IN (1)",
    "is-without-null": "tags.t IS 'x'",
    "not-without-in": "tags.t NOT LIKE 'x'",
    "missing-value": "tags.t =",
    "missing-op": "tags.t",
    "missing-key": "tags. = 'x'",
    "empty-key": "tags.`` = 'x'",
    "spaced-key": "tags. `k` = 'x'",
    "bad-number": "metrics.a > 1.2.3",
    "number-then-word": "metrics.a > 1abc",
    "stray-char": "metrics.a > 1 ; drop table runs",
    "backquoted-value": "tags.t = `x`",
    "leading-and": "AND metrics.a > 1",
}


@pytest.mark.parametrize("text", BAD_RUN_FILTERS.values(), ids=BAD_RUN_FILTERS.keys())
def test_parse_run_filter_rejects_bad_text(text: str) -> None:
    with pytest.raises(InvalidParameter, match="Invalid filter"):
        parse_run_filter(text)


@pytest.mark.parametrize("text", ["tags.t = 'a\x00'", "tags.`\x00` = 'a'", "tags.t = '\ud800'"])
def test_parse_run_filter_rejects_text_a_database_cannot_hold(text: str) -> None:
    with pytest.raises(InvalidParameter, match="NUL"):
        parse_run_filter(text)


def test_parse_run_filter_explains_that_or_is_unsupported() -> None:
    with pytest.raises(InvalidParameter, match="OR is not supported"):
        parse_run_filter("params.a = '1' or params.b = '2'")


def test_parse_run_filter_points_at_the_problem() -> None:
    with pytest.raises(InvalidParameter, match=r"'junk' at position 16"):
        parse_run_filter("metrics.acc > 1 junk")


EXPERIMENT_FILTERS = [
    ("name = 'a'", [C("attribute", "name", "=", "a")]),
    ("attributes.name ILIKE '%A%'", [C("attribute", "name", "ILIKE", "%A%")]),
    ("creation_time > 5", [C("attribute", "creation_time", ">", 5)]),
    ("attribute.last_update_time <= 9", [C("attribute", "last_update_time", "<=", 9)]),
    (
        "tags.team = 'x' AND tags.`a b` IS NOT NULL",
        [C("tag", "team", "=", "x"), C("tag", "a b", "IS NOT NULL", None)],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), EXPERIMENT_FILTERS, ids=[t for t, _ in EXPERIMENT_FILTERS]
)
def test_parse_experiment_filter_builds_the_ast(text: str, expected: list[Comparison]) -> None:
    assert parse_experiment_filter(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "metrics.a > 1",
        "name > 'a'",
        "creation_time = 'x'",
        "creation_time > 1.5",
        "tags.t IN ('a')",
        "experiment_id LIKE '1'",
        "params.p = 'x'",
        "name = 'a' OR name = 'b'",
    ],
)
def test_parse_experiment_filter_rejects_bad_text(text: str) -> None:
    with pytest.raises(InvalidParameter):
        parse_experiment_filter(text)


def test_parse_run_order_by_reads_directions_and_prefixes() -> None:
    assert parse_run_order_by(
        [
            "metrics.`val acc` DESC",
            "params.lr asc",
            "tags.t",
            "start_time",
            "attr.created DESC",
            "attributes.run_name",
            "tag.mlflow.user DESC",
        ]
    ) == [
        OrderKey("metric", "val acc", False),
        OrderKey("param", "lr", True),
        OrderKey("tag", "t", True),
        OrderKey("attribute", "start_time", True),
        OrderKey("attribute", "start_time", False),
        OrderKey("attribute", "run_name", True),
        OrderKey("tag", "mlflow.user", False),
    ]


@pytest.mark.parametrize("clauses", [None, [], ()], ids=["none", "list", "tuple"])
def test_parse_run_order_by_of_nothing_is_empty(clauses: list[str] | None) -> None:
    assert parse_run_order_by(clauses) == []


@pytest.mark.parametrize(
    "clause",
    [
        "",
        "metrics.a DOWN",
        "metrics.a DESC ASC",
        "datasets.name",
        "attributes.lifecycle_stage",
        "colour",
        "metrics.a, metrics.b",
        "metrics.a > 1",
    ],
)
def test_parse_run_order_by_rejects_bad_clauses(clause: str) -> None:
    with pytest.raises(InvalidParameter):
        parse_run_order_by([clause])


def test_parse_order_by_rejects_a_bare_string() -> None:
    with pytest.raises(InvalidParameter, match="list"):
        parse_run_order_by("metrics.a")  # type: ignore[arg-type]


def test_parse_experiment_order_by_knows_the_experiment_fields() -> None:
    assert parse_experiment_order_by(
        ["name", "experiment_id DESC", "attributes.creation_time ASC", "last_update_time"]
    ) == [
        OrderKey("attribute", "name", True),
        OrderKey("attribute", "experiment_id", False),
        OrderKey("attribute", "creation_time", True),
        OrderKey("attribute", "last_update_time", True),
    ]


@pytest.mark.parametrize("clause", ["start_time", "tags.t", "metrics.a DESC", "name DESC x"])
def test_parse_experiment_order_by_rejects_run_fields(clause: str) -> None:
    with pytest.raises(InvalidParameter):
        parse_experiment_order_by([clause])


# ------------------------------------------------------------------ round trips

_PREFIX = {
    "metric": "metrics",
    "param": "params",
    "tag": "tags",
    "attribute": "attributes",
    "dataset": "datasets",
}


def _quote_key(key: str) -> str:
    return "`" + key.replace("`", "``") + "`"


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def render(clauses: list[Comparison]) -> str:
    parts = []
    for c in clauses:
        if c.value is None:
            value = ""
        elif isinstance(c.value, tuple):
            value = "(" + ", ".join(_quote(v) for v in c.value) + ")"
        elif isinstance(c.value, str):
            value = _quote(c.value)
        else:
            value = repr(c.value)
        parts.append(f"{_PREFIX[c.entity]}.{_quote_key(c.key)} {c.op} {value}".rstrip())
    return " AND ".join(parts)


# PostgreSQL text cannot hold NUL nor a lone surrogate, so the grammar refuses them.
texts = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
keys = st.text(texts, min_size=1, max_size=20)
strings = st.text(texts, max_size=20)
string_ops = st.sampled_from(["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"])
numeric_ops = st.sampled_from(["=", "!=", "<", ">", "<=", ">="])
key_ops = st.sampled_from(["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL"])


@st.composite
def string_comparisons(
    draw: st.DrawFn, entity: str, key: st.SearchStrategy[str], ops: st.SearchStrategy[str]
) -> Comparison:
    op = draw(ops)
    if op in ("IS NULL", "IS NOT NULL"):
        value: object = None
    elif op in ("IN", "NOT IN"):
        value = tuple(draw(st.lists(strings, min_size=1, max_size=4)))
    else:
        value = draw(strings)
    return Comparison(entity, draw(key), op, value)  # type: ignore[arg-type]


run_comparisons = st.one_of(
    st.builds(
        Comparison,
        st.just("metric"),
        keys,
        numeric_ops,
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    string_comparisons("param", keys, key_ops),
    string_comparisons("tag", keys, key_ops),
    string_comparisons(
        "attribute",
        st.sampled_from(
            ["run_id", "run_name", "status", "user_id", "artifact_uri", "lifecycle_stage"]
        ),
        string_ops,
    ),
    st.builds(
        Comparison,
        st.just("attribute"),
        st.sampled_from(["start_time", "end_time"]),
        numeric_ops,
        st.integers(-(2**63), 2**63 - 1),
    ),
    string_comparisons("dataset", st.sampled_from(["name", "digest", "context"]), string_ops),
)
experiment_comparisons = st.one_of(
    string_comparisons("attribute", st.just("name"), st.sampled_from(["=", "!=", "LIKE", "ILIKE"])),
    st.builds(
        Comparison,
        st.just("attribute"),
        st.sampled_from(["creation_time", "last_update_time"]),
        numeric_ops,
        st.integers(-(2**63), 2**63 - 1),
    ),
    string_comparisons(
        "tag", keys, st.sampled_from(["=", "!=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL"])
    ),
)


@settings(max_examples=200)
@given(st.lists(run_comparisons, max_size=4))
def test_run_filter_round_trips_through_text(clauses: list[Comparison]) -> None:
    assert parse_run_filter(render(clauses)) == clauses


@settings(max_examples=100)
@given(st.lists(experiment_comparisons, max_size=4))
def test_experiment_filter_round_trips_through_text(clauses: list[Comparison]) -> None:
    assert parse_experiment_filter(render(clauses)) == clauses


run_order_keys = st.one_of(
    st.builds(OrderKey, st.sampled_from(["metric", "param", "tag"]), keys, st.booleans()),
    st.builds(
        OrderKey,
        st.just("attribute"),
        st.sampled_from(
            ["start_time", "end_time", "run_name", "status", "run_id", "user_id", "artifact_uri"]
        ),
        st.booleans(),
    ),
)


@settings(max_examples=200)
@given(st.lists(run_order_keys, max_size=4), st.booleans())
def test_run_order_by_round_trips_through_text(order: list[OrderKey], explicit: bool) -> None:
    def clause(k: OrderKey) -> str:
        direction = " ASC" if explicit else ""
        return f"{_PREFIX[k.entity]}.{_quote_key(k.key)}{direction if k.ascending else ' DESC'}"

    assert parse_run_order_by([clause(k) for k in order]) == order


# ------------------------------------------------------------------ fuzzing

_WORDS = [
    "metrics.a",
    "params.p",
    "tags.t",
    "tags.",
    "attributes.start_time",
    "status",
    "datasets.name",
    "name",
    "creation_time",
    "AND",
    "OR",
    "IN",
    "NOT",
    "IS",
    "NULL",
    "LIKE",
    "ILIKE",
    "ASC",
    "DESC",
    "=",
    "!=",
    "<",
    ">=",
    "(",
    ")",
    ",",
    "'x'",
    '"y"',
    "`k`",
    "1",
    "-2.5e3",
    "1e999",
    ".",
    "'",
    "`",
    "\\",
    '"',
    "99999999999999999999",
]
fuzz_texts = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(_WORDS), max_size=10).map(" ".join),
    st.lists(st.sampled_from(_WORDS), max_size=10).map("".join),
)


def _only_invalid_parameter(parse: object, arg: object) -> None:
    try:
        result = parse(arg)  # type: ignore[operator]
    except InvalidParameter:
        return
    assert isinstance(result, list)


@settings(max_examples=200)
@given(fuzz_texts)
def test_parsing_any_filter_text_returns_a_list_or_raises_invalid_parameter(text: str) -> None:
    _only_invalid_parameter(parse_run_filter, text)
    _only_invalid_parameter(parse_experiment_filter, text)


@settings(max_examples=200)
@given(st.lists(fuzz_texts, max_size=3))
def test_parsing_any_order_by_returns_a_list_or_raises_invalid_parameter(
    clauses: list[str],
) -> None:
    _only_invalid_parameter(parse_run_order_by, clauses)
    _only_invalid_parameter(parse_experiment_order_by, clauses)
