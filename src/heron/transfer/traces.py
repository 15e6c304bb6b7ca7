"""Traces with their spans, tags and assessments (feedback and expectations). A trace keeps
its id on the target (ids are random 128-bit numbers), so a copied one is found there."""

from __future__ import annotations

import dataclasses

from heron.entities import reserved
from heron.entities.assessment import Assessment, AssessmentKind
from heron.entities.trace import Trace
from heron.errors import NotFound
from heron.transfer.base import Transfer, every

_PAGE = 100
SERVER_TAGS = "mlflow.trace."


class Traces:
    name = "traces"

    def copy(self, transfer: Transfer) -> None:
        found = {
            source_id: every(
                transfer.source.search_traces,
                experiment_ids=[source_id],
                max_results=_PAGE,
                include_spans=False,
            )
            for source_id in transfer.experiments
        }
        transfer.progress.start(self.name, sum(map(len, found.values())))
        for source_id, traces in found.items():
            for listed in traces:
                trace_id = listed.info.trace_id
                try:
                    transfer.target.backend.traces.get_trace_info(trace_id)
                    copied = False
                except NotFound:
                    self._copy_trace(
                        transfer,
                        transfer.source.get_trace(trace_id),
                        transfer.experiments[source_id],
                    )
                    copied = True
                transfer.count(self.name, copied=copied)

    @staticmethod
    def _copy_trace(transfer: Transfer, trace: Trace, experiment_id: str) -> None:
        target = transfer.target
        info = dataclasses.replace(trace.info, experiment_id=experiment_id, assessments=())
        source_run = info.trace_metadata.get(reserved.TRACE_SOURCE_RUN)
        if source_run in transfer.runs:
            metadata = {**info.trace_metadata, reserved.TRACE_SOURCE_RUN: transfer.runs[source_run]}
            info = dataclasses.replace(info, trace_metadata=metadata)
        try:
            target.backend.traces.start_trace(info)
        except NotFound:
            # An MLflow 3.17 server refuses some trace infos it did not make itself (its
            # start_trace answers "no longer exists"): the spans alone then create the trace,
            # and its tags follow below.
            if not trace.spans:
                raise
        if trace.spans:
            target.log_spans(experiment_id, list(trace.spans))
        there = target.backend.traces.get_trace_info(info.trace_id).tags
        for key, value in trace.info.tags.items():
            # mlflow.trace.* tags describe how a server stores the trace (spansLocation, ...):
            # the target keeps its own, and MLflow refuses to have them set.
            if not key.startswith(SERVER_TAGS) and there.get(key) != value:
                target.set_trace_tag(info.trace_id, key, value)
        for assessment in trace.info.assessments:
            _copy_assessment(transfer, assessment)


def _copy_assessment(transfer: Transfer, assessment: Assessment) -> None:
    if assessment.kind == AssessmentKind.EXPECTATION:
        transfer.target.log_expectation(
            assessment.trace_id,
            assessment.name,
            assessment.value,
            source=assessment.source,
            span_id=assessment.span_id,
            metadata=dict(assessment.metadata),
        )
        return
    transfer.target.log_feedback(
        assessment.trace_id,
        assessment.name,
        assessment.value,
        source=assessment.source,
        rationale=assessment.rationale,
        span_id=assessment.span_id,
        metadata=dict(assessment.metadata),
    )
