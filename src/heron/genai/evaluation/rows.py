"""The rows of an evaluation, from whatever the caller has: a list of dicts, a DataFrame, an
evaluation dataset, or traces already recorded (scored again without running the app)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import orjson

from heron.entities.assessment import AssessmentKind
from heron.entities.trace import Trace
from heron.errors import InvalidParameter

COLUMNS = ("inputs", "outputs", "expectations", "tags", "trace", "record_id")


@dataclass(frozen=True, slots=True, kw_only=True)
class EvalRow:
    """One row to evaluate. `key` pairs the row with the same row of another evaluation: the
    dataset record's id, else a digest of its inputs."""

    index: int
    key: str
    inputs: Any = None
    outputs: Any = None
    expectations: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    trace: Trace | None = None


@runtime_checkable
class RecordSource(Protocol):
    """An evaluation dataset, or anything else that hands out its records as dicts with
    `inputs`, `expectations`, `tags` and `dataset_record_id`."""

    def iter_records(self) -> Iterable[Mapping[str, Any]]: ...


def inputs_key(inputs: Any) -> str:
    """The digest two evaluations pair rows by when no dataset record names them: SHA-256 of
    the inputs as canonical JSON (sorted keys), as evaluation datasets deduplicate records."""
    text = orjson.dumps(inputs, default=str, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return "in-" + hashlib.sha256(text).hexdigest()[:32]


def rows_of(data: Any) -> list[EvalRow]:
    """The rows of `data`. Raises InvalidParameter, saying what a row lacks."""
    if isinstance(data, RecordSource):
        return [_row(i, r) for i, r in enumerate(data.iter_records())]
    if _is_frame(data):
        if "trace" not in data.columns and "inputs" not in data.columns:
            raise InvalidParameter(
                "An evaluation DataFrame needs an 'inputs' or a 'trace' column; it has "
                f"{', '.join(map(str, data.columns))}"
            )
        data = data.to_dict(orient="records")
    if isinstance(data, Trace):
        data = [data]
    if not isinstance(data, Sequence) or isinstance(data, str | bytes):
        raise InvalidParameter(
            "evaluate() takes a list of dicts, a pandas DataFrame, an evaluation dataset or a "
            f"list of traces, not {type(data).__name__}"
        )
    if not data:
        raise InvalidParameter("The evaluation data is empty: give at least one row")
    return [_row(i, item) for i, item in enumerate(data)]


def _is_frame(data: Any) -> bool:
    return type(data).__name__ == "DataFrame" and hasattr(data, "to_dict")


def _row(index: int, item: Any) -> EvalRow:
    if isinstance(item, Trace):
        return _trace_row(index, item, {})
    if type(item) is not dict and not isinstance(item, Mapping):
        raise InvalidParameter(
            f"Row {index} is a {type(item).__name__}; each row is a dict with 'inputs' (and "
            "optionally 'outputs', 'expectations', 'tags') or a trace"
        )
    unknown = [k for k in item if k not in COLUMNS and k != "dataset_record_id" and k != "source"]
    if unknown:
        raise InvalidParameter(
            f"Row {index} has unknown field(s) {', '.join(map(repr, unknown))}; a row holds "
            f"{', '.join(COLUMNS)}"
        )
    trace = _present(item.get("trace"))
    if trace is not None:
        if not isinstance(trace, Trace):
            raise InvalidParameter(f"Row {index}: 'trace' must be a Trace (from get_trace)")
        return _trace_row(index, trace, item)
    inputs = _present(item.get("inputs"))
    if type(inputs) is not dict and not isinstance(inputs, Mapping):
        raise InvalidParameter(
            f"Row {index}: 'inputs' must be a dict of argument names and values, such as "
            "{'question': 'What is Heron?'}"
        )
    return EvalRow(
        index=index,
        key=str(item.get("dataset_record_id") or item.get("record_id") or inputs_key(inputs)),
        inputs=dict(inputs),
        outputs=_present(item.get("outputs")),
        expectations=_mapping(item.get("expectations"), index, "expectations"),
        tags={str(k): str(v) for k, v in _mapping(item.get("tags"), index, "tags").items()},
    )


def _trace_row(index: int, trace: Trace, item: Mapping[str, Any]) -> EvalRow:
    root = trace.root_span
    inputs = _present(item.get("inputs"))
    if inputs is None and root is not None:
        inputs = root.inputs
    outputs = _present(item.get("outputs"))
    if outputs is None and root is not None:
        outputs = root.outputs
    expectations = {
        a.name: a.value
        for a in trace.info.assessments
        if a.kind is AssessmentKind.EXPECTATION and a.valid
    }
    expectations.update(_mapping(item.get("expectations"), index, "expectations"))
    key = item.get("dataset_record_id") or item.get("record_id") or inputs_key(inputs)
    return EvalRow(
        index=index, key=str(key), inputs=inputs, outputs=outputs, expectations=expectations,
        tags={str(k): str(v) for k, v in _mapping(item.get("tags"), index, "tags").items()},
        trace=trace,
    )  # fmt: skip


def _present(value: Any) -> Any:
    """None for the missing cells of a DataFrame (None, NaN, pandas' NA)."""
    if value is None or type(value) is dict or type(value) is str:
        return value
    if isinstance(value, float) and value != value:
        return None
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    return value


def _mapping(value: Any, index: int, name: str) -> Mapping[str, Any]:
    if type(value) is dict:
        return value
    value = _present(value)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidParameter(f"Row {index}: {name!r} must be a dict, not {type(value).__name__}")
    return value
