"""The evaluate task: scores the new version on a dataset with `heron.models.evaluate` (a
classifier or regressor) or `heron.genai.evaluate` (a GenAI app, with scorers), checks the
thresholds (absolute, or relative to the version behind an alias such as @champion), and fails
the run naming every metric that missed.

The evaluation is logged as a run of the task's experiment (`deployment-jobs` by default),
so its metrics and plots are where any evaluation's are. A relative threshold with no version
behind the baseline alias yet (the model's first deployment) is checked on its absolute part
only, and the logs say so."""

from __future__ import annotations

import contextlib
import math
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from heron import genai
from heron.client.client import HeronClient
from heron.client.fluent import state as fluent
from heron.client.fluent.artifacts import download_artifacts
from heron.errors import InvalidParameter, NotFound
from heron.genai import scorers
from heron.models.evaluation import evaluate
from heron.models.pyfunc import load_model
from heron.models.thresholds import MetricThreshold, ThresholdResult, check_thresholds
from heron.services.deployment_job_params import EvaluateParams, Threshold, evaluate_params
from heron.services.deployment_job_runner import TaskContext
from heron.store.deployment_jobs import Outcome


class EvaluateTask:
    """Evaluates with `client` (the worker's own backend) as the fluent API's client."""

    def __init__(self, client: HeronClient) -> None:
        self._client = client

    def __call__(self, ctx: TaskContext) -> Outcome:
        params = evaluate_params(ctx.spec.name, ctx.spec.params)
        with _using(self._client):
            fluent.set_experiment(params.experiment)
            baseline = self._baseline(ctx, params)
            thresholds = _thresholds(params.thresholds, with_changes=baseline is not None)
            if params.model_type == "genai":
                metrics, results, run_id = _genai(ctx, params, baseline, thresholds)
            else:
                metrics, results, run_id = _classic(ctx, params, baseline, thresholds)
        finite = {k: float(v) for k, v in metrics.items() if _finite(v)}
        detail = {
            "evaluation_run_id": run_id,
            "baseline": baseline,
            "thresholds": [
                {
                    "metric": r.metric,
                    "candidate": r.candidate,
                    "baseline": r.baseline,
                    "passed": r.passed,
                    "reason": r.reason,
                }
                for r in results
            ],
        }
        missed = [r for r in results if not r.passed]
        for r in results:
            ctx.log(f"{r.metric}: {'passed' if r.passed else 'MISSED: ' + r.reason}")
        if missed:
            reasons = "; ".join(r.reason for r in missed)
            return Outcome(error=f"metrics missed: {reasons}", metrics=finite, detail=detail)
        return Outcome(succeeded=True, metrics=finite, detail=detail)

    def _baseline(self, ctx: TaskContext, params: EvaluateParams) -> str | None:
        """The baseline's model URI, or None when nothing is behind its alias yet."""
        if params.baseline is None:
            return None
        name = ctx.run.name
        if params.baseline.startswith("@"):
            alias = params.baseline[1:]
            try:
                found = self._client.get_model_version_by_alias(name, alias)
            except NotFound:
                ctx.log(f"No version is behind @{alias} yet: relative thresholds are skipped")
                return None
            ctx.log(f"Baseline: version {found.version} (@{alias})")
            return f"models:/{name}/{found.version}"
        return f"models:/{name}/{params.baseline}"


@contextlib.contextmanager
def _using(client: HeronClient) -> Iterator[None]:
    """The fluent API logs through `client` for the length of the block."""
    before = fluent.get_tracking_uri()
    fluent.use_client(client)
    try:
        yield
    finally:
        fluent.set_tracking_uri(before)


def _thresholds(
    given: Mapping[str, Threshold], *, with_changes: bool
) -> dict[str, MetricThreshold]:
    found = {}
    for metric, t in given.items():
        if not with_changes:
            t = replace(t, min_absolute_change=None, min_relative_change=None)
            if t.threshold is None:
                continue
        found[metric] = MetricThreshold(
            threshold=t.threshold,
            min_absolute_change=t.min_absolute_change,
            min_relative_change=t.min_relative_change,
            greater_is_better=t.greater_is_better,
        )
    return found


def _classic(
    ctx: TaskContext,
    params: EvaluateParams,
    baseline: str | None,
    thresholds: Mapping[str, MetricThreshold],
) -> tuple[Mapping[str, Any], list[ThresholdResult], str]:
    if params.data is None:
        raise InvalidParameter("A classifier or regressor is evaluated on a data file")
    frame = _table(params.data)
    ctx.log(f"Evaluating on {len(frame)} rows of {params.data}")
    with fluent.start_run(run_name=f"{ctx.run.name}-v{ctx.run.version}-{ctx.spec.name}") as run:
        result = evaluate(
            f"models:/{ctx.run.name}/{ctx.run.version}",
            frame,
            targets=params.targets,
            model_type=params.model_type,  # type: ignore[arg-type]
            baseline_model=baseline,
            validation_thresholds=thresholds,
        )
    return result.metrics, result.thresholds, run.info.run_id


def _genai(
    ctx: TaskContext,
    params: EvaluateParams,
    baseline: str | None,
    thresholds: Mapping[str, MetricThreshold],
) -> tuple[Mapping[str, Any], list[ThresholdResult], str]:
    data = _genai_data(params)
    chosen = [_scorer(s) for s in params.scorers]
    candidate = genai.evaluate(
        data=data, predict_fn=_predict(ctx.run.name, ctx.run.version), scorers=chosen
    )
    base_metrics = None
    if baseline is not None:
        version = baseline.rsplit("/", 1)[1]
        base_metrics = dict(
            genai.evaluate(
                data=data, predict_fn=_predict(ctx.run.name, version), scorers=chosen
            ).metrics
        )
    results = check_thresholds(thresholds, dict(candidate.metrics), base_metrics)
    return candidate.metrics, results, candidate.run_id


def _genai_data(params: EvaluateParams) -> Any:
    if params.dataset is not None:
        found = genai.datasets.search_datasets(filter_string=f"name = '{params.dataset}'")
        if not found:
            raise NotFound(f"No evaluation dataset is named {params.dataset!r}")
        return found[0]
    assert params.data is not None  # noqa: S101 - one of them is given (checked)
    return _table(params.data)


def _predict(name: str, version: str) -> Callable[..., Any]:
    model = load_model(f"models:/{name}/{version}")
    return lambda **inputs: model.predict(inputs)


def _scorer(name: str) -> Any:
    found = getattr(scorers, name, None)
    if not isinstance(found, type):
        raise InvalidParameter(f"Unknown scorer {name!r}: use a name from heron.genai.scorers")
    return found()


def _table(uri: str) -> Any:
    """A CSV, JSON lines or Parquet artifact as a DataFrame."""
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(download_artifacts(artifact_uri=uri, dst_path=tmp))
        suffix = path.suffix.lower()
        if suffix == ".csv":
            return pd.read_csv(path)
        if suffix in (".jsonl", ".json"):
            return pd.read_json(path, lines=suffix == ".jsonl")
        if suffix == ".parquet":
            return pd.read_parquet(path)
    raise InvalidParameter(f"Evaluation data must be .csv, .json, .jsonl or .parquet: {uri!r}")


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
