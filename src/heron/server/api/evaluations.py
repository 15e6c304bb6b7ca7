"""Heron's routes for judging evaluations: how far an experiment's LLM judges agree with its
human reviewers, and an evaluation's metrics checked against its experiment's thresholds
(alone, or against a baseline evaluation), for people and for deployment jobs."""

from __future__ import annotations

from heron.server.wire import Endpoints, Fields, Json
from heron.services.access import requires
from heron.services.judge_agreement import MAX_TRACES, Agreement, JudgeAgreementService, Rate
from heron.services.metric_thresholds import EvaluationThresholds
from heron.web.routes import PolicyRoute


def _rate(r: Rate) -> Json:
    return {"value": r.value, "low": r.low, "high": r.high, "count": r.count}


def agreement_json(a: Agreement) -> Json:
    return {
        "judge": a.judge,
        "n": a.n,
        "accuracy": a.accuracy,
        "kappa": a.kappa,
        "true_positive_rate": _rate(a.true_positive_rate),
        "false_positive_rate": _rate(a.false_positive_rate),
        "human_pairs": a.human_pairs,
        "human_accuracy": a.human_accuracy,
        "human_kappa": a.human_kappa,
    }


def routes(
    api: Endpoints, agreement: JudgeAgreementService, thresholds: EvaluationThresholds
) -> list[PolicyRoute]:
    def judge_agreement(f: Fields) -> Json:
        given = f.int64("max_traces")
        found = agreement.experiment_agreement(
            f.required_string("experiment_id"),
            judge=f.string("judge") or None,
            max_traces=MAX_TRACES if given is None else given,
        )
        return {"judges": [agreement_json(a) for a in found]}

    def check_thresholds(f: Fields) -> Json:
        results = thresholds.check(
            f.required_string("candidate_run_id"), f.string("baseline_run_id") or None
        )
        return {
            "passed": all(r.passed for r in results),
            "results": [
                {"metric": r.metric, "candidate": r.candidate, "baseline": r.baseline,
                 "passed": r.passed, "reason": r.reason}
                for r in results
            ],
        }  # fmt: skip

    return [
        api.with_path(
            "GET",
            "/experiments/{experiment_id}/judge-agreement",
            judge_agreement,
            requires("read", "experiment", "experiment_id"),
        ),
        api.get(
            "/evaluations/check-thresholds",
            check_thresholds,
            requires("read", "run", "candidate_run_id"),
        ),
    ]
