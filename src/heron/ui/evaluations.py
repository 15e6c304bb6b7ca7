"""An experiment's Evaluations tab: its evaluation runs with their scores, one evaluation's
rows (inputs, outputs, expectations and every score, filterable), and two evaluations side by
side, paired by dataset record (not by position) with the rows whose scores changed first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.routing import BaseRoute

from heron.entities import Run, reserved
from heron.entities.assessment import AssessmentKind
from heron.entities.trace import TraceInfo
from heron.errors import InvalidParameter
from heron.services.access import requires
from heron.services.build import Services
from heron.services.metric_thresholds import MetricThreshold, threshold_of
from heron.ui import rendering
from heron.ui.datasets import dataset_use, experiment_datasets, shown
from heron.ui.rendering import Form, PageResult, Renderer, safe_next

GENAI_EVALUATE = "genai_evaluate"  # the mlflow.runType tag of an evaluation run
MAX_RUNS = 200
MAX_ROWS = 2000  # rows of one evaluation shown
_PAGE = 500


@dataclass(frozen=True, slots=True)
class EvalRow:
    """One row of an evaluation: its trace, the record it came from, and its scores."""

    key: str
    trace_id: str
    request: str
    response: str
    expectations: dict[str, str] = field(default_factory=dict)
    scores: dict[str, str] = field(default_factory=dict)  # scorer -> value shown


@dataclass(frozen=True, slots=True)
class Pair:
    key: str
    base: EvalRow | None
    other: EvalRow | None
    changed: tuple[str, ...]  # the scorers whose values differ


def row_of(info: TraceInfo) -> EvalRow:
    scores: dict[str, str] = {}
    expectations: dict[str, str] = {}
    for a in sorted(info.assessments, key=lambda a: a.create_time):
        if not a.valid:
            continue
        if a.kind == AssessmentKind.EXPECTATION:
            expectations[a.name] = shown(a.value)
        else:
            scores[a.name] = (
                f"error: {a.error.error_message or a.error.error_code}"
                if a.error
                else shown(a.value)
            )
    return EvalRow(
        key=info.tags.get(reserved.EVAL_RECORD_KEY) or info.trace_id,
        trace_id=info.trace_id,
        request=info.request_preview or "",
        response=info.response_preview or "",
        expectations=expectations,
        scores=scores,
    )


def pair(base: Sequence[EvalRow], other: Sequence[EvalRow]) -> list[Pair]:
    """The rows of two evaluations paired by record key, the pairs whose scores changed (or
    that one side lacks) first, then by key."""
    left = {r.key: r for r in base}
    right = {r.key: r for r in other}
    pairs = []
    for key in dict.fromkeys([*left, *right]):
        a, b = left.get(key), right.get(key)
        names = sorted({*(a.scores if a else {}), *(b.scores if b else {})})
        changed = tuple(
            n for n in names if (a.scores.get(n) if a else None) != (b.scores.get(n) if b else None)
        )
        pairs.append(Pair(key, a, b, changed))
    return sorted(pairs, key=lambda p: (not p.changed, p.key))


def matches(row: EvalRow, text: str, scorer: str, value: str) -> bool:
    """Whether a row passes the page's filters: `text` in its request, response or
    expectations; `scorer` given `value` (or any value when `value` is empty)."""
    if text and not any(
        text.lower() in part.lower()
        for part in (row.request, row.response, *row.expectations.values())
    ):
        return False
    if scorer:
        found = row.scores.get(scorer)
        return found is not None and (not value or found == value)
    return True


def routes(renderer: Renderer, services: Services) -> list[BaseRoute]:
    def evaluation_runs(experiment_id: str) -> list[Run]:
        return list(
            services.runs.search_runs(
                [experiment_id],
                filter_string=f"tags.`{reserved.RUN_TYPE}` = '{GENAI_EVALUATE}'",
                max_results=MAX_RUNS,
                order_by=["attributes.start_time DESC"],
            )
        )

    def rows(run: Run) -> list[EvalRow]:
        found: list[EvalRow] = []
        token: str | None = None
        run_filter = f"trace.run_id = '{run.info.run_id}'"  # an id the store made: hex
        while len(found) < MAX_ROWS:
            page = services.traces.search_traces(
                [run.info.experiment_id],
                filter_string=run_filter,
                max_results=_PAGE,
                page_token=token,
                order_by=["timestamp_ms ASC"],
            )
            found.extend(row_of(i) for i in page)
            token = page.next_page_token
            if not token:
                break
        return found[:MAX_ROWS]

    def evaluations_tab(request: Request) -> PageResult:
        experiment = services.experiments.get_experiment(request.path_params["experiment_id"])
        runs = evaluation_runs(experiment.experiment_id)
        keys = sorted({m.key for r in runs for m in r.data.metrics})
        return "evaluations.html", {
            "experiment": experiment,
            "runs": runs,
            "metric_keys": keys,
            "metric_of": lambda run, key: next(
                (m.value for m in run.data.metrics if m.key == key), None
            ),
            "datasets": experiment_datasets(services, experiment.experiment_id),
            "dataset_use": dataset_use,
            "nav": "experiments",
            "tab": "evaluations",
        }

    def evaluation_page(request: Request) -> PageResult:
        run = services.runs.get_run(request.path_params["run_id"])
        experiment = services.experiments.get_experiment(run.info.experiment_id)
        found = rows(run)
        text = request.query_params.get("q", "")
        scorer = request.query_params.get("scorer", "")
        value = request.query_params.get("value", "")
        return "evaluation.html", {
            "experiment": experiment,
            "run": run,
            "rows": [r for r in found if matches(r, text, scorer, value)],
            "total": len(found),
            "scorers": sorted({n for r in found for n in r.scores}),
            "q": text,
            "scorer": scorer,
            "value": value,
            "nav": "experiments",
            "tab": "evaluations",
        }

    def compare_page(request: Request) -> PageResult:
        base_id = request.query_params.get("base", "")
        other_id = request.query_params.get("other", "")
        if not base_id or not other_id:
            raise InvalidParameter("Choose two evaluations: ?base=<run id>&other=<run id>")
        base, other = services.runs.get_run(base_id), services.runs.get_run(other_id)
        experiment = services.experiments.get_experiment(base.info.experiment_id)
        pairs = pair(rows(base), rows(other))
        kept = services.thresholds.thresholds_of(experiment.experiment_id)
        checked = {r.metric: r for r in services.thresholds.check(other_id, base_id)}
        return "evaluation_compare.html", {
            "thresholds": kept,
            "checked": checked,
            "back": str(request.url.path) + "?" + str(request.url.query),
            "experiment": experiment,
            "base": base,
            "other": other,
            "base_data": dataset_use(base),
            "other_data": dataset_use(other),
            "pairs": pairs,
            "changed": sum(1 for p in pairs if p.changed),
            "scorers": sorted({n for p in pairs for r in (p.base, p.other) if r for n in r.scores}),
            "metric_keys": sorted(
                {m.key for r in (base, other) for m in r.data.metrics} | set(kept)
            ),
            "metric_of": lambda run, key: next(
                (m.value for m in run.data.metrics if m.key == key), None
            ),
            "nav": "experiments",
            "tab": "evaluations",
        }

    def set_threshold(request: Request, form: Form) -> str:
        """Sets (or removes) one metric's threshold on the experiment; back to the page."""
        experiment_id = request.path_params["experiment_id"]
        metric = rendering.field(form, "metric").strip()
        remove = rendering.field(form, "action") == "remove"
        services.thresholds.set_threshold(
            experiment_id, metric, None if remove else threshold_given(metric, form)
        )
        return safe_next(rendering.field(form, "next"))

    reads = requires("read", "experiment", "experiment_id")
    return [
        renderer.post(
            "/ui/experiments/{experiment_id}/thresholds",
            set_threshold,
            requires("update", "experiment", "experiment_id"),
        ),
        renderer.get("/experiments/{experiment_id}/evaluations", evaluations_tab, reads),
        renderer.get(
            "/experiments/{experiment_id}/evaluations/compare",
            compare_page,
            requires("read", "run", "base"),
        ),
        renderer.get(
            "/experiments/{experiment_id}/evaluations/{run_id}",
            evaluation_page,
            requires("read", "run", "run_id"),
        ),
    ]


def threshold_given(metric: str, form: Form) -> MetricThreshold:
    """The threshold the form asks for. Raises InvalidParameter (a field that is not a
    number, or none given), naming the metric."""
    numbers: dict[str, float] = {}
    for key in ("threshold", "min_absolute_change", "min_relative_change"):
        text = rendering.field(form, key).strip()
        if text:
            try:
                numbers[key] = float(text)
            except ValueError:
                raise InvalidParameter(
                    f"{key} of {metric!r}: {text[:40]!r} is not a number"
                ) from None
    better = rendering.field(form, "direction") != "lower"
    return threshold_of(metric, {**numbers, "greater_is_better": better})
