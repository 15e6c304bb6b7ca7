"""Trace rules: ids, limits, payload sizes, permissions; assessments of traces.

A trace belongs to an experiment and permissions follow it: reading needs read access to the
experiment, logging and tagging need update access, deleting needs delete access."""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from heron.clock import now_ms
from heron.entities import Page
from heron.entities.assessment import Assessment, AssessmentSource, AssessmentSourceType
from heron.entities.trace import Span, Trace, TraceInfo
from heron.errors import InvalidParameter, NotFound
from heron.search.traces import parse_trace_filter, parse_trace_order_by
from heron.services import trace_checks as checks
from heron.services import validation as v
from heron.services.access import Action, Authorizer, attributed, authorize, current_identity
from heron.store import ids
from heron.store.traces import AssessmentStore, TraceQuery, TraceStore

log = logging.getLogger("heron.traces")

MAX_SEARCH_TRACES = 500
DEFAULT_SEARCH_TRACES = 100
DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024
RETENTION_TAG = "heron.trace.retentionDays"  # experiment tag: keep traces this many days
PRUNE_INTERVAL_S = 3600.0
_PRUNE_BATCH = 5000
TRUNCATED = "heron.truncated"  # span attribute: {"inputs": original size in bytes, ...}
# Root span attributes that carry the trace's own tags and metadata (objects of strings), so
# one OTLP request holds whole traces; they are moved to the trace, not kept on the span.
TRACE_TAGS_ATTRIBUTE = "heron.traceTags"
TRACE_METADATA_ATTRIBUTE = "heron.traceMetadata"
CLIENT_REQUEST_ID_ATTRIBUTE = "heron.clientRequestId"  # on a root span: the trace's


def retention_days(value: str) -> float | None:
    """A retention tag's value as a positive number of days, or None when it is not one."""
    try:
        days = float(value)
    except ValueError:
        return None
    return days if math.isfinite(days) and days > 0 else None


def _cutoff_ms(retention_days: float) -> int:
    """The start time (ms since epoch) before which traces are past their retention."""
    return max(now_ms() - int(retention_days * 86_400_000), 0)


def cut_payload(span: Span, limit: int) -> Span:
    """The span with inputs and outputs longer than `limit` bytes (as JSON) cut to a string
    of their first `limit` characters, and `heron.truncated` saying how big they were."""
    cut: dict[str, int] = {}
    changes: dict[str, Any] = {}
    for name in ("inputs", "outputs"):
        value = getattr(span, name)
        if value is None or isinstance(value, int | float | bool):
            continue
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        size = len(text.encode())
        if size > limit:
            cut[name] = size
            changes[name] = text[:limit] + f"... [truncated by Heron: {size} bytes in all]"
    if not cut:
        return span
    return dataclasses.replace(span, **changes, attributes={**span.attributes, TRUNCATED: cut})


class TraceService:
    def __init__(
        self,
        store: TraceStore,
        assessments: AssessmentStore,
        authorizer: Authorizer,
        *,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
        prune_interval_s: float | None = PRUNE_INTERVAL_S,
    ) -> None:
        self._store = store
        self._assessments = assessments
        self._authorizer = authorizer
        self.max_payload_bytes = max_payload_bytes
        # Retention runs on ingest, in a background thread, at most once per interval
        # (None: never; `heron traces prune` still applies it).
        self.prune_interval_s: float | None = prune_interval_s
        self._next_prune = 0.0
        self._prune_lock = threading.Lock()
        self._pruning: threading.Thread | None = None

    def _check(self, action: Action, experiment_id: str) -> None:
        authorize(self._authorizer, action, "experiment", experiment_id)

    def _trace_for(self, action: Action, trace_id: str) -> str:
        experiment_id = self._store.experiment_of(checks.check_trace_id(trace_id))
        self._check(action, experiment_id)
        return experiment_id

    # -- traces ------------------------------------------------------------------------------

    def start_trace(self, info: TraceInfo) -> TraceInfo:
        """Stores a trace's info (the MLflow client sends it when the trace ends).

        Raises:
            NotFound: the experiment does not exist.
            InvalidParameter: a bad id, tag or time.
        """
        experiment_id = ids.experiment_id(info.experiment_id)
        checks.check_new_trace_id(info.trace_id)
        checks.check_time("request_time", info.request_time)
        if info.execution_duration is not None:
            v.check_int64("execution_duration", info.execution_duration)
        if info.client_request_id is not None:
            v.check_length("client_request_id", info.client_request_id, checks.MAX_REQUEST_ID)
        for key, value in info.tags.items():
            checks.check_tag(key, value)
        if info.token_usage is not None and not checks.usable_tokens(info.token_usage):
            info = dataclasses.replace(info, token_usage=None)
        self._check("update", experiment_id)
        started = self._store.start_trace(info)
        self._maybe_prune()
        return started

    def log_spans(self, experiment_id: str, spans: Sequence[Span]) -> int:
        """Stores spans (OTLP ingestion and the SDK), creating their traces as needed.

        Raises:
            NotFound: the experiment does not exist.
            InvalidParameter: no spans, or a span with bad ids or times.
        """
        experiment_id = ids.experiment_id(experiment_id)
        if not spans:
            raise InvalidParameter("No spans to log: the request holds none")
        for span in spans:
            checks.check_span(span)
        self._check("update", experiment_id)
        limit = self.max_payload_bytes
        tags: dict[str, dict[str, str]] = {}
        metadata: dict[str, dict[str, str]] = {}
        request_ids: dict[str, str] = {}
        kept = []
        for span in spans:
            if (
                TRACE_TAGS_ATTRIBUTE in span.attributes
                or TRACE_METADATA_ATTRIBUTE in span.attributes
                or CLIENT_REQUEST_ID_ATTRIBUTE in span.attributes
            ):
                attributes = dict(span.attributes)
                request_id = attributes.pop(CLIENT_REQUEST_ID_ATTRIBUTE, None)
                if request_id is not None:
                    request_ids[span.trace_id] = _client_request_id(request_id)
                tags[span.trace_id] = _pairs(attributes.pop(TRACE_TAGS_ATTRIBUTE, None))
                metadata[span.trace_id] = _pairs(attributes.pop(TRACE_METADATA_ATTRIBUTE, None))
                for key, value in tags[span.trace_id].items():
                    checks.check_tag(key, value)
                for pairs in (tags[span.trace_id], metadata[span.trace_id]):
                    for key, value in pairs.items():
                        v.check_text("A trace tag or metadata key", key)
                        v.check_text(f"Trace tag or metadata {key!r}", value)
                span = dataclasses.replace(span, attributes=attributes)
            kept.append(cut_payload(span, limit))
        logged = self._store.log_spans(
            experiment_id, kept, tags=tags, metadata=metadata, client_request_ids=request_ids
        )
        self._maybe_prune()
        return logged

    def get_trace_info(self, trace_id: str) -> TraceInfo:
        info = self._store.get_trace_info(checks.check_trace_id(trace_id))
        self._check("read", info.experiment_id)
        return info

    def get_trace(self, trace_id: str) -> Trace:
        """The trace with all its spans. Raises NotFound."""
        found = self.get_traces([trace_id])
        if not found:
            raise NotFound(f"Trace with ID {trace_id!r} not found")
        return found[0]

    def get_traces(self, trace_ids: Sequence[str], *, with_spans: bool = True) -> list[Trace]:
        """The traces among `trace_ids` that exist and the caller may read, in that order."""
        found = self._store.get_traces(
            [checks.check_trace_id(t) for t in trace_ids], with_spans=with_spans
        )
        for experiment_id in {t.info.experiment_id for t in found}:
            self._check("read", experiment_id)
        return found

    def search_traces(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = DEFAULT_SEARCH_TRACES,
        page_token: str | None = None,
    ) -> Page[TraceInfo]:
        """A page of trace infos of the experiments, newest first unless `order_by` says
        otherwise (MLflow's SearchTraces).

        Raises:
            InvalidParameter: a bad filter, order_by, page token or max_results.
        """
        page = self.search_full_traces(
            experiment_ids, filter_string=filter_string, order_by=order_by,
            max_results=max_results, page_token=page_token, include_spans=False,
        )  # fmt: skip
        return Page([t.info for t in page], page.next_page_token)

    def search_full_traces(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = DEFAULT_SEARCH_TRACES,
        page_token: str | None = None,
        include_spans: bool = True,
    ) -> Page[Trace]:
        """Like `search_traces`, but a page of whole traces: each with its spans when
        `include_spans`, read together with the infos (what the SDK's search_traces returns).

        Raises:
            InvalidParameter: a bad filter, order_by, page token or max_results.
        """
        if not experiment_ids:
            raise InvalidParameter("Give at least one experiment id to search traces in")
        searched = ids.searched_experiment_ids(experiment_ids)
        for experiment_id in searched:
            self._check("read", experiment_id)
        query = TraceQuery(
            experiment_ids=searched,
            filter=parse_trace_filter(filter_string),
            order_by=parse_trace_order_by(list(order_by or ())),
            max_results=v.check_max_results(max_results, MAX_SEARCH_TRACES),
            page_token=page_token or None,
            include_spans=include_spans,
        )
        return self._store.search_traces(query)

    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None:
        checks.check_tag(key, value)
        self._trace_for("update", trace_id)
        self._store.set_trace_tag(trace_id, key, value)

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        v.check_string("key", key)
        self._trace_for("update", trace_id)
        self._store.delete_trace_tag(trace_id, key)

    def delete_traces(
        self,
        experiment_id: str,
        *,
        trace_ids: Sequence[str] = (),
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
    ) -> int:
        """Deletes the given traces, or those started at or before `max_timestamp_millis`
        (the oldest first, at most `max_traces`). Exactly one of the two ways must be given.

        Raises:
            InvalidParameter: both ways or neither, or a bad number.
        """
        experiment_id = ids.experiment_id(experiment_id)
        if bool(trace_ids) == (max_timestamp_millis is not None):
            raise InvalidParameter(
                "Give either trace ids (request_ids) or max_timestamp_millis to delete traces, "
                "not both and not neither"
            )
        if trace_ids and max_traces is not None:
            raise InvalidParameter("max_traces applies only with max_timestamp_millis")
        if max_timestamp_millis is not None:
            v.check_timestamp("max_timestamp_millis", max_timestamp_millis)
        if max_traces is not None and max_traces <= 0:
            raise InvalidParameter(f"max_traces must be a positive integer, got {max_traces}")
        self._check("delete", experiment_id)
        return self._store.delete_traces(
            experiment_id,
            trace_ids=[checks.check_trace_id(t) for t in trace_ids],
            max_timestamp_millis=max_timestamp_millis,
            max_traces=max_traces,
        )

    def apply_retention(self, experiment_id: str, retention_days: float) -> int:
        """Deletes the experiment's traces older than `retention_days` (the retention setting
        kept in the experiment tag `heron.trace.retentionDays`)."""
        if retention_days <= 0:
            raise InvalidParameter(
                f"Trace retention must be a positive number of days, got {retention_days}"
            )
        return self.delete_traces(experiment_id, max_timestamp_millis=_cutoff_ms(retention_days))

    def prune_traces(self) -> dict[str, int]:
        """Applies every experiment's retention tag (`heron.trace.retentionDays`): deletes
        its traces that started longer ago, in bounded transactions. Runs as the server (the
        experiment's tag is the permission); a tag that is not a positive number is skipped
        with a warning. Returns the number deleted by experiment id."""
        deleted: dict[str, int] = {}
        for experiment_id, raw in self._store.retention_tags(RETENTION_TAG).items():
            days = retention_days(raw)
            if days is None:
                log.warning(
                    "Experiment %s: trace retention %s=%r is not a positive number of days; "
                    "its traces are kept", experiment_id, RETENTION_TAG, raw,
                )  # fmt: skip
                continue
            cutoff = _cutoff_ms(days)
            total = 0
            while True:  # one transaction per batch: pruning never holds the database long
                n = self._store.delete_traces(
                    experiment_id, max_timestamp_millis=cutoff, max_traces=_PRUNE_BATCH
                )
                total += n
                if n < _PRUNE_BATCH:
                    break
            if total:
                deleted[experiment_id] = total
        return deleted

    def _maybe_prune(self) -> None:
        """Starts a background retention pass when the last one is `prune_interval_s` old."""
        if self.prune_interval_s is None or time.monotonic() < self._next_prune:
            return
        with self._prune_lock:
            if time.monotonic() < self._next_prune:
                return
            self._next_prune = time.monotonic() + self.prune_interval_s
            self._pruning = threading.Thread(
                target=self._prune_quietly, name="heron-trace-retention", daemon=True
            )
            self._pruning.start()

    def close(self, timeout_s: float = 30.0) -> None:
        """Waits for a running retention pass, so the stores can close under no one."""
        pruning = self._pruning
        if pruning is not None:
            pruning.join(timeout_s)

    def _prune_quietly(self) -> None:
        try:
            deleted = self.prune_traces()
        except Exception:  # a failed pass is retried at the next interval
            log.exception("Trace retention pass failed")
            return
        if deleted:
            log.info("Trace retention deleted %s", deleted)

    # -- assessments -------------------------------------------------------------------------

    def create_assessment(self, assessment: Assessment) -> Assessment:
        """Logs feedback or an expectation on a trace (or one of its spans).

        Raises:
            NotFound: the trace, or the assessment it overrides, does not exist.
            InvalidParameter: a missing name or a bad source.
        """
        checks.check_assessment(assessment)
        self._trace_for("annotate", assessment.trace_id)
        if assessment.source.source_type == AssessmentSourceType.HUMAN:
            person = attributed(assessment.source.source_id)
            source = AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id=person)
            assessment = dataclasses.replace(assessment, source=source)
        return self._assessments.create_assessment(assessment)

    def get_assessment(self, trace_id: str, assessment_id: str) -> Assessment:
        self._trace_for("read", trace_id)
        return self._assessments.get_assessment(trace_id, assessment_id)

    def update_assessment(
        self, trace_id: str, assessment_id: str, changes: Mapping[str, Any]
    ) -> Assessment:
        """Changes name, value, rationale, metadata or error in place (an override, which keeps
        the old one, is `create_assessment` with `overrides`).

        Raises:
            NotFound: the trace or the assessment does not exist.
            InvalidParameter: a change of the wrong type.
        """
        changes = checks.check_changes(changes)
        self._may_change(trace_id, assessment_id)
        return self._assessments.update_assessment(trace_id, assessment_id, changes)

    def override_assessment(
        self, trace_id: str, assessment_id: str, replacement: Assessment
    ) -> Assessment:
        """A new assessment that replaces `assessment_id`; the old one stays, marked invalid."""
        old = self.get_assessment(trace_id, assessment_id)
        return self.create_assessment(
            dataclasses.replace(
                replacement,
                trace_id=trace_id,
                name=old.name,
                kind=old.kind,
                overrides=assessment_id,
            )
        )

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        """Deletes an assessment; one that does not exist is no error (MLflow's way).

        Raises:
            NotFound: the trace does not exist.
        """
        self._may_change(trace_id, assessment_id)
        self._assessments.delete_assessment(trace_id, assessment_id)

    def _may_change(self, trace_id: str, assessment_id: str) -> None:
        """A reviewer (ANNOTATE) changes only what they wrote themselves; anything else
        needs EDIT on the experiment."""
        experiment_id = self._trace_for("read", trace_id)
        try:
            found = self._assessments.get_assessment(trace_id, assessment_id)
        except NotFound:
            found = None
        own = (
            found is not None
            and found.source.source_type == AssessmentSourceType.HUMAN
            and found.source.source_id == current_identity().name
        )
        self._check("annotate" if own or found is None else "update", experiment_id)


def _pairs(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidParameter(
            f"{TRACE_TAGS_ATTRIBUTE} and {TRACE_METADATA_ATTRIBUTE} must be objects of strings"
        )
    return {str(k): v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in value.items()}


def _client_request_id(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidParameter(f"{CLIENT_REQUEST_ID_ATTRIBUTE} must be a non-empty string")
    v.check_length("client_request_id", value, checks.MAX_REQUEST_ID)
    return v.check_text("client_request_id", value)
