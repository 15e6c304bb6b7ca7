"""Reading traces back and assessing them: get_trace, search_traces (objects or a DataFrame),
log_feedback, log_expectation, overrides that keep the history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from heron.client import fluent
from heron.client.client import HeronClient
from heron.entities.assessment import (
    Assessment,
    AssessmentKind,
    AssessmentSource,
    AssessmentSourceType,
)
from heron.entities.trace import Trace, TraceInfo


def _client() -> HeronClient:
    return fluent._client()


def get_trace(trace_id: str) -> Trace:
    """The trace with its spans. Raises NotFound."""
    return _client().backend.traces.get_trace(trace_id)


def search_traces(
    experiment_ids: Sequence[str] | None = None,
    *,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
    max_results: int = 100,
    page_token: str | None = None,
    include_spans: bool = True,
    return_type: Literal["list", "pandas"] = "list",
) -> Any:
    """Traces of the experiments (the active one by default) matching the filter, newest
    first: a list of Trace, or a pandas DataFrame with `return_type="pandas"`."""
    client = _client()
    ids = list(experiment_ids or [fluent._active_experiment_id(client)])
    page = client.backend.traces.search_traces(
        ids, filter_string=filter_string, order_by=order_by, max_results=max_results,
        page_token=page_token,
    )  # fmt: skip
    if include_spans:
        found = client.backend.traces.get_traces([i.trace_id for i in page])
    else:
        found = [Trace(info=i) for i in page]
    if return_type == "pandas":
        return _frame(found)
    return found


def _frame(traces: Sequence[Trace]) -> Any:
    import pandas as pd

    rows = []
    for t in traces:
        info: TraceInfo = t.info
        rows.append(
            {
                "trace_id": info.trace_id,
                "experiment_id": info.experiment_id,
                "request_time": info.request_time,
                "execution_duration": info.execution_duration,
                "state": str(info.state),
                "request_preview": info.request_preview,
                "response_preview": info.response_preview,
                "tags": dict(info.tags),
                "trace_metadata": dict(info.trace_metadata),
                "spans": list(t.spans),
                "assessments": list(info.assessments),
            }
        )
    return pd.DataFrame(rows, columns=None if rows else ["trace_id"])


def _source(source: AssessmentSource | str | None) -> AssessmentSource:
    if isinstance(source, AssessmentSource):
        return source
    if source is None:
        return AssessmentSource()
    return AssessmentSource(source_type=AssessmentSourceType(source), source_id="default")


def log_feedback(
    *,
    trace_id: str,
    name: str = "feedback",
    value: Any = None,
    source: AssessmentSource | str | None = None,
    rationale: str | None = None,
    span_id: str | None = None,
    metadata: Mapping[str, str] | None = None,
) -> Assessment:
    """Feedback on a trace (or one span) from a person, an LLM judge or code: a bool, number,
    string or JSON value, with an optional rationale."""
    return _client().backend.traces.create_assessment(
        Assessment(
            assessment_id="",
            trace_id=trace_id,
            name=name,
            kind=AssessmentKind.FEEDBACK,
            value=value,
            source=_source(source),
            rationale=rationale,
            span_id=span_id,
            metadata=dict(metadata or {}),
        )
    )


def log_expectation(
    *,
    trace_id: str,
    name: str,
    value: Any,
    source: AssessmentSource | str | None = None,
    span_id: str | None = None,
    metadata: Mapping[str, str] | None = None,
) -> Assessment:
    """The ground truth for a trace (what it should have produced)."""
    return _client().backend.traces.create_assessment(
        Assessment(
            assessment_id="",
            trace_id=trace_id,
            name=name,
            kind=AssessmentKind.EXPECTATION,
            value=value,
            source=_source(source),
            span_id=span_id,
            metadata=dict(metadata or {}),
        )
    )


def get_assessment(trace_id: str, assessment_id: str) -> Assessment:
    return _client().backend.traces.get_assessment(trace_id, assessment_id)


def update_assessment(trace_id: str, assessment_id: str, **changes: Any) -> Assessment:
    """Changes name, value, rationale or metadata in place."""
    return _client().backend.traces.update_assessment(trace_id, assessment_id, changes)


def override_feedback(
    *, trace_id: str, assessment_id: str, value: Any, rationale: str | None = None,
    source: AssessmentSource | str | None = None,
) -> Assessment:  # fmt: skip
    """Replaces feedback with a new value; the old one is kept, marked invalid."""
    traces = _client().backend.traces
    old = traces.get_assessment(trace_id, assessment_id)
    return traces.create_assessment(
        Assessment(
            assessment_id="",
            trace_id=trace_id,
            name=old.name,
            kind=old.kind,
            value=value,
            rationale=rationale,
            span_id=old.span_id,
            source=_source(source) if source is not None else old.source,
            overrides=assessment_id,
        )
    )


def delete_assessment(trace_id: str, assessment_id: str) -> None:
    _client().backend.traces.delete_assessment(trace_id, assessment_id)
