"""The trace store ports: traces with their spans, tags and metadata; assessments of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from heron.entities import Page
from heron.entities.assessment import Assessment
from heron.entities.trace import Span, Trace, TraceInfo
from heron.search.traces import TraceClause, TraceOrderKey


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceQuery:
    experiment_ids: Sequence[str]
    filter: Sequence[TraceClause] = ()
    order_by: Sequence[TraceOrderKey] = ()
    max_results: int = 100
    page_token: str | None = None
    include_spans: bool = False  # load the spans of the page's traces too


class TraceStore(Protocol):
    def start_trace(self, info: TraceInfo) -> TraceInfo:
        """Creates the trace or overwrites its info (tags and metadata are merged), whichever
        of the info and the spans arrives first. Raises NotFound for a missing experiment."""
        ...

    def log_spans(
        self,
        experiment_id: str,
        spans: Sequence[Span],
        *,
        tags: Mapping[str, Mapping[str, str]] | None = None,
        metadata: Mapping[str, Mapping[str, str]] | None = None,
        client_request_ids: Mapping[str, str] | None = None,
    ) -> int:
        """Stores spans (a span logged again replaces the old one), creating their traces as
        needed; a trace whose root span arrives gets its state, times and previews from it.
        `tags` and `metadata` (by trace id) are merged into the traces', and
        `client_request_ids` (by trace id) set. All or nothing.
        Returns the number of traces touched. Raises NotFound for a missing experiment."""
        ...

    def get_trace_info(self, trace_id: str) -> TraceInfo:
        """With its tags, metadata and assessments. Raises NotFound."""
        ...

    def get_traces(self, trace_ids: Sequence[str], *, with_spans: bool = True) -> list[Trace]:
        """The traces that exist among `trace_ids`, in that order, loaded with a constant
        number of queries."""
        ...

    def search_traces(self, query: TraceQuery) -> Page[Trace]:
        """A page of traces (infos with tags, metadata and assessments; spans when
        `query.include_spans`), keyset-paged, in a constant number of queries."""
        ...

    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None:
        """Raises NotFound."""
        ...

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        """Raises NotFound when the trace or the tag does not exist."""
        ...

    def retention_tags(self, key: str) -> dict[str, str]:
        """Experiment id -> the value of its experiment tag `key`, for the experiments that
        have one (the trace retention setting)."""
        ...

    def delete_traces(
        self,
        experiment_id: str,
        *,
        trace_ids: Sequence[str] = (),
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
    ) -> int:
        """Deletes for good the given traces of the experiment, or its oldest traces started
        before `max_timestamp_millis` (at most `max_traces`). Returns how many went."""
        ...

    def experiment_of(self, trace_id: str) -> str:
        """The experiment id of a trace. Raises NotFound."""
        ...


class TraceLinkStore(Protocol):
    """What a trace is linked to after it was logged: runs, and the prompt versions it used."""

    def link_traces_to_run(self, trace_ids: Sequence[str], run_id: str) -> int:
        """Links those of the traces that exist to the run (again: no change). Returns how
        many links are new."""
        ...

    def link_prompts_to_trace(self, trace_id: str, versions: Sequence[tuple[str, str]]) -> None:
        """Adds (name, version) pairs to the trace's linked prompts, keeping those there.
        Raises NotFound for a missing trace."""
        ...


class AssessmentStore(Protocol):
    def create_assessment(self, assessment: Assessment) -> Assessment:
        """Stores it with a new id; when it overrides another, that one becomes invalid.
        Raises NotFound for a missing trace or overridden assessment."""
        ...

    def get_assessment(self, trace_id: str, assessment_id: str) -> Assessment:
        """Raises NotFound."""
        ...

    def update_assessment(
        self, trace_id: str, assessment_id: str, changes: Mapping[str, Any]
    ) -> Assessment:
        """Changes the named fields (name, value, rationale, metadata, error, valid).
        Raises NotFound."""
        ...

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        """Deleting an override makes the assessment it replaced valid again. Deleting one
        that does not exist is not an error (MLflow compat)."""
        ...
