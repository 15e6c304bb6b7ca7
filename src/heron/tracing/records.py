"""Reading traces back and assessing them through the fluent API's client: get_trace,
search_traces (objects or a DataFrame), log_feedback, log_expectation, overrides that keep
the history. The same methods are on `HeronClient`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from heron.client.fluent.state import active_experiment_id, tracking_client
from heron.entities.assessment import Assessment, AssessmentSource
from heron.entities.trace import Trace, TraceInfo


def get_trace(trace_id: str) -> Trace:
    """The trace with its spans. Raises NotFound."""
    return tracking_client().get_trace(trace_id)


def search_traces(
    experiment_ids: Sequence[str] | None = None,
    *,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
    max_results: int = 100,
    page_token: str | None = None,
    run_id: str | None = None,
    include_spans: bool = True,
    return_type: Literal["list", "pandas"] = "list",
) -> Any:
    """Traces of the experiments (the active one by default) matching the filter, newest
    first: a list of Trace, or a pandas DataFrame with `return_type="pandas"`."""
    page = tracking_client().search_traces(
        list(experiment_ids or [active_experiment_id()]), filter_string=filter_string,
        max_results=max_results, order_by=order_by, page_token=page_token, run_id=run_id,
        include_spans=include_spans,
    )  # fmt: skip
    if return_type == "pandas":
        return _frame(page.items)
    return list(page)


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
                "client_request_id": info.client_request_id,
                "tags": dict(info.tags),
                "trace_metadata": dict(info.trace_metadata),
                "spans": list(t.spans),
                "assessments": list(info.assessments),
            }
        )
    return pd.DataFrame(rows, columns=None if rows else ["trace_id"])


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
    return tracking_client().log_feedback(
        trace_id, name, value, source=source, rationale=rationale, span_id=span_id,
        metadata=metadata,
    )  # fmt: skip


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
    return tracking_client().log_expectation(
        trace_id, name, value, source=source, span_id=span_id, metadata=metadata
    )


def get_assessment(trace_id: str, assessment_id: str) -> Assessment:
    return tracking_client().get_assessment(trace_id, assessment_id)


def update_assessment(trace_id: str, assessment_id: str, **changes: Any) -> Assessment:
    """Changes name, value, rationale or metadata in place."""
    return tracking_client().update_assessment(trace_id, assessment_id, **changes)


def override_feedback(
    *, trace_id: str, assessment_id: str, value: Any, rationale: str | None = None,
    source: AssessmentSource | str | None = None,
) -> Assessment:  # fmt: skip
    """Replaces feedback with a new value; the old one is kept, marked invalid."""
    return tracking_client().override_feedback(
        trace_id, assessment_id, value, rationale=rationale, source=source
    )


def delete_assessment(trace_id: str, assessment_id: str) -> None:
    tracking_client().delete_assessment(trace_id, assessment_id)
