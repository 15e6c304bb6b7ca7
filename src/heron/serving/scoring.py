"""Scoring jobs: one request's work, and the scoring of several compatible ones in one call.

A job is scored off the event loop (in the batcher's threads). Requests of the dataframe
formats with the same columns and params are *compatible*: their rows go to the model in
one `predict` and the answer is cut back into one part per request. If the model refuses
the batch, or its answer does not have one row per input row, each request is scored on
its own, so a bad request fails alone and the answers are the ones it would get alone.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from heron.errors import HeronError
from heron.serving import protocol

_log = logging.getLogger("heron.serving")

TRACE_HEADER = "x-heron-trace-id"
ROW_WISE_LOADERS = frozenset(
    {
        "mlflow.sklearn",
        "heron.models.flavors.sklearn",
        "mlflow.xgboost",
        "mlflow.lightgbm",
    }
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the server answers: status, body and its media type, extra headers."""

    status: int
    body: bytes
    media_type: str = protocol.CONTENT_TYPE_JSON
    headers: tuple[tuple[str, str], ...] = ()

    def with_trace(self, span: Any) -> Outcome:
        """This outcome with the request's trace id in a header (when it is traced)."""
        if span is None:
            return self
        return replace(self, headers=(*self.headers, (TRACE_HEADER, span.trace_id)))


def _failure(exc: Exception) -> Outcome:
    """The answer for an exception raised while reading the input or predicting."""
    if isinstance(exc, HeronError):
        return error_outcome(exc.code, exc.message, 400)
    _log.error("The model failed to predict", exc_info=exc)
    return error_outcome(
        "BAD_REQUEST",
        "Encountered an unexpected error while evaluating the model. Verify that the "
        f"input is compatible with the model for inference. {type(exc).__name__}: {exc}",
        400,
    )


def error_outcome(code: str, message: str, status: int) -> Outcome:
    return Outcome(status, orjson.dumps({"error_code": code, "message": message}))


@dataclass(slots=True, eq=False)
class Job:
    """One request waiting to be scored. `done` is called once, from a worker thread."""

    request: protocol.Request
    done: Callable[[Outcome], None]
    rows: int = 1
    key: tuple[Any, ...] | None = None  # compatible jobs share a key; None: scored alone
    arrived: float = field(default_factory=time.perf_counter)
    cancelled: bool = False
    emit: Callable[[bytes], None] | None = None  # a streamed chunk, for a streaming request
    trace_id: str | None = None  # set before the first chunk when the request is traced


def batch_key(request: protocol.Request) -> tuple[tuple[Any, ...] | None, int]:
    """(the key of the jobs this request may be scored with, its number of rows)."""
    value = request.value
    params = orjson.dumps(request.params, option=orjson.OPT_SORT_KEYS) if request.params else b""
    if request.kind == protocol.SPLIT:
        data = value["data"]
        columns = value.get("columns")
        if "index" in value or not isinstance(columns, list) or not data:
            return None, max(1, len(data))
        if not all(isinstance(row, list) and len(row) == len(columns) for row in data):
            return None, len(data)
        return ("split", tuple(columns), params), len(data)
    if request.kind == protocol.RECORDS and value and isinstance(value[0], dict):
        keys = tuple(value[0])
        if all(isinstance(r, dict) and tuple(r) == keys for r in value):
            return ("records", keys, params), len(value)
        return None, len(value)
    return None, 1


class Scorer:
    """Scores jobs with one loaded model (a `PyFuncModel`).

    Args:
        model: the loaded model; `predict(data, params)` enforces its signature.
        batching: whether compatible jobs may share one `predict` call (the model must
            score each row independently of the others).
    """

    def __init__(self, model: Any, *, batching: bool, tracing: bool = False) -> None:
        self.model = model
        self.batching = batching
        self.tracing = tracing
        signature = model.metadata.signature
        self.schema = signature.inputs if signature is not None else None
        params = signature.params if signature is not None else None
        self.param_names = tuple(p.name for p in params) if params is not None else ()

    def score(self, jobs: Sequence[Job]) -> None:
        """Scores compatible `jobs` (one key) and calls each job's `done`."""
        if len(jobs) == 1 or not self.batching:
            for job in jobs:
                if job.request.stream:
                    self.stream(job)
                else:
                    job.done(self.score_alone(job.request))
            return
        try:
            frame = self._combined(jobs)
            predictions = self.model.predict(frame, params=jobs[0].request.params)
        except Exception:  # the batch failed: each request alone says which one is at fault
            predictions = parts = None
        else:
            parts = _split(predictions, jobs)
            if parts is None:
                _log.warning(
                    "The model's answer for %d rows does not have one row per input row: "
                    "batching is off for this model from now on",
                    sum(job.rows for job in jobs),
                )
                self.batching = False
        if parts is None:
            for job in jobs:
                job.done(self.score_alone(job.request))
            return
        for job, part in zip(jobs, parts, strict=True):
            job.done(self._rendered(part, job.request))

    def score_alone(self, request: protocol.Request) -> Outcome:
        """One request scored alone (traced when tracing is on)."""
        with self._span(request) as span:
            try:
                predictions = self.model.predict(self._input(request), params=request.params)
            except Exception as exc:
                return _failure(exc).with_trace(span)
            if span is not None:
                span.set_outputs(protocol.jsonable(predictions))
            return self._rendered(predictions, request).with_trace(span)

    def stream(self, job: Job) -> None:
        """A streaming request: each chunk of `predict_stream` goes to `job.emit` as JSON,
        then `job.done` (200 with no body, or the error when nothing was sent yet)."""
        assert job.emit is not None  # noqa: S101 - the app sets it for every streaming job
        sent = []
        with self._span(job.request) as span:
            job.trace_id = span.trace_id if span is not None else None
            try:
                data = self._input(job.request)
                for chunk in self.model.predict_stream(data, params=job.request.params):
                    if job.cancelled:  # the client went away
                        break
                    job.emit(protocol.render(chunk, unwrapped=True))
                    sent.append(chunk)
            except Exception as exc:
                failed = _failure(exc)
                if not sent:
                    job.done(failed)
                    return
                job.emit(failed.body)
            if span is not None:
                span.set_outputs(sent)
        job.done(Outcome(200, b""))

    def _input(self, request: protocol.Request) -> Any:
        if request.kind == "csv":
            return protocol.parse_csv(request.value)
        if request.kind == "parquet":
            return protocol.parse_parquet(request.value)
        if request.kind == "frame":
            return request.value
        return protocol.model_input(request, self.schema)

    @contextlib.contextmanager
    def _span(self, request: protocol.Request) -> Iterator[Any]:
        """The request's trace (its root span) when tracing is on, else None."""
        if not self.tracing:
            yield None
            return
        from heron.entities.trace import SpanType
        from heron.tracing.fluent import start_span, update_current_trace

        kind = SpanType.AGENT if request.kind == "llm" else SpanType.CHAIN
        with start_span("predict", span_type=kind) as span:
            span.set_inputs(request.value if request.kind not in ("csv", "parquet") else None)
            if request.request_id:  # a managed endpoint's request: its inference record's id
                update_current_trace(client_request_id=request.request_id)
            yield span

    def _rendered(self, predictions: Any, request: protocol.Request) -> Outcome:
        try:
            return Outcome(200, protocol.render(predictions, unwrapped=request.unwrapped))
        except (TypeError, ValueError) as exc:
            _log.exception("The model's answer cannot be written as JSON")
            return error_outcome(
                "INTERNAL_ERROR", f"The model's answer cannot be written as JSON: {exc}", 500
            )

    def _combined(self, jobs: Sequence[Job]) -> Any:
        import pandas as pd

        first = jobs[0].request
        if first.kind == protocol.SPLIT:
            rows = [row for job in jobs for row in job.request.value["data"]]
            frame = pd.DataFrame(rows, columns=first.value["columns"])
        else:
            frame = pd.DataFrame([r for job in jobs for r in job.request.value])
        return protocol.decode_binary_columns(frame, self.schema)


def _split(predictions: Any, jobs: Sequence[Job]) -> list[Any] | None:
    """`predictions` cut into one part per job by row counts; None if it has not one
    row per input row (then the model is not row-wise, and each job is scored alone)."""
    import numpy as np
    import pandas as pd

    total = sum(job.rows for job in jobs)
    if isinstance(predictions, pd.DataFrame | pd.Series):
        take: Callable[[int, int], Any] = lambda a, b: predictions.iloc[a:b]  # noqa: E731
    elif isinstance(predictions, np.ndarray | list):
        take = lambda a, b: predictions[a:b]  # noqa: E731
    else:
        return None
    if len(predictions) != total:
        return None
    parts, start = [], 0
    for job in jobs:
        parts.append(take(start, start + job.rows))
        start += job.rows
    return parts
