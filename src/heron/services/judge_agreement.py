"""How far a judge agrees with people: on traces that both an LLM judge and human reviewers
assessed under the same name, the judge's accuracy against the humans, Cohen's kappa, its
true and false positive rates with 95% confidence intervals, and the agreement between two
humans on the same traces, the ceiling no judge can be expected to pass. Pure Python (the
server computes it too); `JudgeAgreementService` reads an experiment's traces for it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from heron.entities.assessment import (
    Assessment,
    AssessmentKind,
    AssessmentSourceType,
    feedback_number,
)
from heron.entities.trace import Trace, TraceInfo
from heron.errors import InvalidParameter
from heron.services.traces import TraceService

MAX_TRACES = 10_000  # an experiment's newest traces read for its agreement figures
_PAGE = 500

Z95 = 1.959964


@dataclass(frozen=True, slots=True, kw_only=True)
class Rate:
    value: float | None  # None when nothing was counted
    low: float | None
    high: float | None
    count: int  # the denominator


@dataclass(frozen=True, slots=True, kw_only=True)
class Agreement:
    """`n` traces had both a judge verdict and a human label (pass/fail)."""

    judge: str
    n: int
    accuracy: float | None
    kappa: float | None
    true_positive_rate: Rate
    false_positive_rate: Rate
    human_pairs: int  # traces labelled by two people or more
    human_accuracy: float | None
    human_kappa: float | None


def _passed(assessment: Assessment) -> bool | None:
    number = feedback_number(assessment.value)
    return None if number is None else number >= 0.5


def _latest(found: Sequence[Assessment]) -> Assessment:
    return max(found, key=lambda a: a.create_time)


def wilson(successes: int, total: int) -> Rate:
    """The rate with its Wilson score interval (95%), sound for small counts and 0 or 1."""
    if total == 0:
        return Rate(value=None, low=None, high=None, count=0)
    p = successes / total
    centre = (p + Z95**2 / (2 * total)) / (1 + Z95**2 / total)
    margin = Z95 * math.sqrt(p * (1 - p) / total + Z95**2 / (4 * total**2)) / (1 + Z95**2 / total)
    return Rate(value=p, low=max(0.0, centre - margin), high=min(1.0, centre + margin), count=total)


def kappa(pairs: Sequence[tuple[bool, bool]]) -> float | None:
    """Cohen's kappa of two raters' pass/fail labels; None without pairs or without chance
    disagreement to measure against."""
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    first = sum(a for a, _ in pairs) / n
    second = sum(b for _, b in pairs) / n
    chance = first * second + (1 - first) * (1 - second)
    if chance >= 1.0:
        return 1.0 if observed == 1.0 else None
    return (observed - chance) / (1 - chance)


def judge_agreement(
    traces: Sequence[Trace | TraceInfo], judge: str, human: str | None = None
) -> Agreement:
    """The agreement of the judge's feedback named `judge` with people's feedback named
    `human` (the same name by default) on `traces`. Values are read as pass/fail: yes/true/
    pass and numbers of 0.5 or more pass. With several reviewers on a trace, the earliest
    label is the reference (ties by reviewer id); the first two reviewers give the
    human-human figures."""
    if not judge:
        raise InvalidParameter("judge_agreement needs the judge's assessment name")
    human = human or judge
    pairs: list[tuple[bool, bool]] = []  # (human, judge)
    humans: list[tuple[bool, bool]] = []
    for trace in traces:
        info = trace.info if isinstance(trace, Trace) else trace
        valid = [
            a
            for a in info.assessments
            if a.valid and a.error is None and a.kind is AssessmentKind.FEEDBACK
        ]
        judged = [
            a
            for a in valid
            if a.name == judge and a.source.source_type is AssessmentSourceType.LLM_JUDGE
        ]
        labels = _labels(
            [
                a
                for a in valid
                if a.name == human and a.source.source_type is AssessmentSourceType.HUMAN
            ]
        )
        if len(labels) >= 2:
            humans.append((labels[0], labels[1]))
        verdict = _passed(_latest(judged)) if judged else None
        if labels and verdict is not None:
            pairs.append((labels[0], verdict))
    positives = [j for h, j in pairs if h]
    negatives = [j for h, j in pairs if not h]
    return Agreement(
        judge=judge,
        n=len(pairs),
        accuracy=sum(h == j for h, j in pairs) / len(pairs) if pairs else None,
        kappa=kappa(pairs),
        true_positive_rate=wilson(sum(positives), len(positives)),
        false_positive_rate=wilson(sum(negatives), len(negatives)),
        human_pairs=len(humans),
        human_accuracy=sum(a == b for a, b in humans) / len(humans) if humans else None,
        human_kappa=kappa(humans),
    )


def _labels(found: Sequence[Assessment]) -> list[bool]:
    """One pass/fail label per reviewer (their latest), earliest reviewer first."""
    by_reviewer: dict[str, Assessment] = {}
    for a in sorted(found, key=lambda a: a.create_time):
        by_reviewer[a.source.source_id] = a
    ordered = sorted(
        by_reviewer.values(),
        key=lambda a: (_first_time(found, a.source.source_id), a.source.source_id),
    )
    labels = [_passed(a) for a in ordered]
    return [x for x in labels if x is not None]


def _first_time(found: Sequence[Assessment], reviewer: str) -> Any:
    return min(a.create_time for a in found if a.source.source_id == reviewer)


def judged_names(traces: Sequence[Trace | TraceInfo]) -> list[str]:
    """The names of feedback both an LLM judge and a person gave on some trace: the judges
    whose agreement can be measured."""
    judged: set[str] = set()
    labelled: set[str] = set()
    for trace in traces:
        info = trace.info if isinstance(trace, Trace) else trace
        for a in info.assessments:
            if a.valid and a.error is None and a.kind is AssessmentKind.FEEDBACK:
                if a.source.source_type is AssessmentSourceType.LLM_JUDGE:
                    judged.add(a.name)
                elif a.source.source_type is AssessmentSourceType.HUMAN:
                    labelled.add(a.name)
    return sorted(judged & labelled)


class JudgeAgreementService:
    """The agreement of an experiment's judges with its reviewers, over its newest traces."""

    def __init__(self, traces: TraceService) -> None:
        self._traces = traces

    def experiment_agreement(
        self, experiment_id: str, *, judge: str | None = None, max_traces: int = MAX_TRACES
    ) -> list[Agreement]:
        """One Agreement per judge (or for `judge` alone), on the experiment's newest
        `max_traces` traces. Raises InvalidParameter, NotFound, PermissionDenied."""
        if isinstance(max_traces, bool) or not 1 <= max_traces <= MAX_TRACES:
            raise InvalidParameter(f"max_traces must be between 1 and {MAX_TRACES}")
        infos = self._read(experiment_id, max_traces)
        names = [judge] if judge else judged_names(infos)
        return [judge_agreement(infos, name) for name in names]

    def _read(self, experiment_id: str, max_traces: int) -> list[TraceInfo]:
        found: list[TraceInfo] = []
        token: str | None = None
        while len(found) < max_traces:
            page = self._traces.search_traces(
                [experiment_id],
                max_results=min(_PAGE, max_traces - len(found)),
                page_token=token,
                order_by=["timestamp_ms DESC"],
            )
            found.extend(page)
            token = page.next_page_token
            if not token:
                break
        return found
