"""The tracing half of `HeronClient`: MLflow's `MlflowClient` trace and assessment methods."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from heron.client.backend import Backend
from heron.entities import Page
from heron.entities.assessment import (
    Assessment,
    AssessmentKind,
    AssessmentSource,
    AssessmentSourceType,
)
from heron.entities.trace import Span, Trace
from heron.errors import InvalidParameter


class TraceMethods:
    """Mixed into `HeronClient`; `backend` is the client's backend."""

    @property
    def backend(self) -> Backend:
        raise NotImplementedError  # pragma: no cover - HeronClient provides it

    def log_spans(self, experiment_id: str, spans: Sequence[Span]) -> int:
        """Stores finished spans (of whole or partial traces) in the experiment, as an OTLP
        exporter would; returns how many traces they belong to. The tracing SDK's exporter
        calls this."""
        return self.backend.traces.log_spans(str(experiment_id), spans)

    def get_trace(self, trace_id: str) -> Trace:
        """The trace with all its spans and assessments. Raises NotFound."""
        return self.backend.traces.get_trace(trace_id)

    def search_traces(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        run_id: str | None = None,
        include_spans: bool = True,
    ) -> Page[Trace]:
        """One page of the experiments' traces matching the filter (newest first unless
        `order_by` says otherwise); the page's `token` fetches the next one.

        Raises:
            InvalidParameter: a filter or order_by the grammar does not accept (the message
                says where).

        Example:
            >>> page = client.search_traces(["1"], filter_string="status = 'ERROR'")
            >>> [t.info.trace_id for t in page]
        """
        if run_id is not None:
            clause = f"run_id = '{run_id.replace(chr(39), chr(39) * 2)}'"
            filter_string = f"{filter_string} AND {clause}" if filter_string else clause
        return self.backend.traces.search_full_traces(
            [str(e) for e in experiment_ids], filter_string=filter_string, order_by=order_by,
            max_results=max_results, page_token=page_token, include_spans=include_spans,
        )  # fmt: skip

    def delete_traces(
        self,
        experiment_id: str,
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> int:
        """Deletes the given traces, or (up to `max_traces` of) those older than
        `max_timestamp_millis`; returns how many went."""
        return self.backend.traces.delete_traces(
            str(experiment_id), trace_ids=list(trace_ids or ()),
            max_timestamp_millis=max_timestamp_millis, max_traces=max_traces,
        )  # fmt: skip

    def set_trace_tag(self, trace_id: str, key: str, value: Any) -> None:
        self.backend.traces.set_trace_tag(trace_id, key, str(value))

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        self.backend.traces.delete_trace_tag(trace_id, key)

    def log_feedback(
        self,
        trace_id: str,
        name: str = "feedback",
        value: Any = None,
        source: AssessmentSource | str | None = None,
        rationale: str | None = None,
        span_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Assessment:
        """Feedback on a trace (or one span) from a person, an LLM judge or code: a bool,
        number, string or JSON value, with an optional rationale. `source` is an
        AssessmentSource or its type ("HUMAN", "LLM_JUDGE", "CODE")."""
        return self.backend.traces.create_assessment(
            Assessment(
                assessment_id="", trace_id=trace_id, name=name, kind=AssessmentKind.FEEDBACK,
                value=value, source=_source(source), rationale=rationale, span_id=span_id,
                metadata=dict(metadata or {}),
            )
        )  # fmt: skip

    def log_expectation(
        self,
        trace_id: str,
        name: str,
        value: Any,
        source: AssessmentSource | str | None = None,
        span_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Assessment:
        """The ground truth for a trace (what it should have produced)."""
        return self.backend.traces.create_assessment(
            Assessment(
                assessment_id="", trace_id=trace_id, name=name,
                kind=AssessmentKind.EXPECTATION, value=value, source=_source(source),
                span_id=span_id, metadata=dict(metadata or {}),
            )
        )  # fmt: skip

    def get_assessment(self, trace_id: str, assessment_id: str) -> Assessment:
        """Raises NotFound when the trace has no such assessment."""
        return self.backend.traces.get_assessment(trace_id, assessment_id)

    def update_assessment(self, trace_id: str, assessment_id: str, **changes: Any) -> Assessment:
        """Changes name, value, rationale or metadata in place (no history: see
        `override_feedback` for that)."""
        return self.backend.traces.update_assessment(trace_id, assessment_id, changes)

    def override_feedback(
        self,
        trace_id: str,
        assessment_id: str,
        value: Any,
        rationale: str | None = None,
        source: AssessmentSource | str | None = None,
    ) -> Assessment:
        """Replaces feedback with a new value; the old one is kept, marked invalid."""
        traces = self.backend.traces
        old = traces.get_assessment(trace_id, assessment_id)
        return traces.create_assessment(
            Assessment(
                assessment_id="", trace_id=trace_id, name=old.name, kind=old.kind, value=value,
                rationale=rationale, span_id=old.span_id,
                source=_source(source) if source is not None else old.source,
                overrides=assessment_id,
            )
        )  # fmt: skip

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        self.backend.traces.delete_assessment(trace_id, assessment_id)


def _source(source: AssessmentSource | str | None) -> AssessmentSource:
    if isinstance(source, AssessmentSource):
        return source
    if source is None:
        return AssessmentSource()
    try:
        source_type = AssessmentSourceType(str(source).upper())
    except ValueError:
        allowed = ", ".join(t.value for t in AssessmentSourceType)
        raise InvalidParameter(
            f"Unknown assessment source {source!r}; use one of {allowed}"
        ) from None
    return AssessmentSource(source_type=source_type, source_id="default")
