"""`heron.genai.evaluate`: runs the app on each row (traced), scores it, stores every score as
an assessment on the row's trace, and logs the aggregates to a run and the LoggedModel.

Rows run on a bounded pool of threads (16 by default; `max_workers=` or
`$HERON_GENAI_EVAL_MAX_WORKERS`); a row's trace and scores are written behind it by
`EvalWriter`, so the pool only ever waits on the app and the scorers."""

from __future__ import annotations

import contextvars
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from heron.client.fluent import state
from heron.client.fluent.logged_models import set_active_model
from heron.entities import LoggedModelMetric, Metric, reserved
from heron.errors import InvalidParameter
from heron.genai.evaluation.display import progress_bar, show_summary
from heron.genai.evaluation.results import CacheStats, EvaluationResult, RowResult, aggregate
from heron.genai.evaluation.row_run import App, evaluate_row
from heron.genai.evaluation.rows import EvalRow, rows_of
from heron.genai.evaluation.sessions import score_sessions
from heron.genai.evaluation.writer import EvalWriter, Written
from heron.genai.judges.cache import SharedCache, using_cache
from heron.genai.judges.limiter import share_limits
from heron.genai.scoring import Scorer
from heron.genai.usage import Usage, tracking_usage

DEFAULT_MAX_WORKERS = 16
MAX_WORKERS_ENV = "HERON_GENAI_EVAL_MAX_WORKERS"
GENAI_EVALUATE = "genai_evaluate"


def evaluate(
    data: Any,
    predict_fn: Callable[..., Any] | None = None,
    scorers: Sequence[Scorer] = (),
    *,
    model_id: str | None = None,
    max_workers: int | None = None,
    run_name: str | None = None,
    progress: bool = True,
) -> EvaluationResult:
    """Evaluates an app (or recorded outputs) on `data` with `scorers`.

    Args:
        data: a list of dicts (`inputs`, and optionally `outputs`, `expectations`, `tags`,
            `trace`), a pandas DataFrame with those columns, an evaluation dataset, or a
            list of traces (scored again; the app is not run unless `predict_fn` is given).
        predict_fn: the app, called as `predict_fn(**inputs)` for each row, inside a trace.
            Without it each row's `outputs` (or trace) is scored.
        scorers: `Scorer`s: built-in checks and judges, `@heron.genai.scorer` functions,
            `heron.genai.make_judge(...)` judges.
        model_id: the LoggedModel of the app version evaluated: traces and metrics link to it.
        max_workers: rows run at once (default 16, or `$HERON_GENAI_EVAL_MAX_WORKERS`).
        run_name: the name of the run started when none is active.
        progress: show a progress bar and a summary table (on a terminal).

    Returns:
        An EvaluationResult: `run_id`, `metrics` (`<scorer>/mean`, ...), `rows`,
        `result_df`.

    Raises:
        InvalidParameter: data or scorers that cannot be evaluated (the message says which
            row or scorer, and what to fix). A scorer failing on a row raises nothing: the row
            gets an error assessment and the evaluation goes on.

    Example:
        >>> result = heron.genai.evaluate(
        ...     data=[{"inputs": {"question": "2+2?"}, "expectations": {"expected_response": "4"}}],
        ...     predict_fn=lambda question: "4",
        ...     scorers=[heron.genai.scorers.ExactMatch()],
        ... )
        >>> result.metrics["exact_match/mean"]
        1.0
    """
    checked = _check_scorers(scorers)
    pin = getattr(data, "pinned", None)
    if callable(pin):  # an evaluation dataset: the records of one version, named in the run
        data = pin()
    rows = rows_of(data)
    app = _check_app(predict_fn, rows)
    workers = _workers(max_workers)
    owned = state.active_run() is None
    run = state.active_run() or state.start_run(run_name=run_name)
    run_id = run.info.run_id
    started = time.monotonic()
    try:
        client = state.tracking_client()
        client.set_tag(run_id, reserved.RUN_TYPE, GENAI_EVALUATE)
        _log_dataset(client, run_id, data)
        share_limits(client.backend.judge_limits)  # the minute's tokens and 429s, with others
        with tracking_usage() as usage, using_cache(SharedCache(client.backend.judge_cache)):
            context = contextvars.copy_context()
            if model_id is not None:
                context.run(set_active_model, model_id=model_id)
            results, written = _run_rows(rows, app, checked, run_id, workers, context, progress)
        metrics = aggregate(results, checked)
        _log_metrics(client, run_id, metrics, model_id)
    except BaseException:
        if owned:
            state.end_run("FAILED")
        raise
    if owned:
        state.end_run()
    result = EvaluationResult(
        run_id=run_id, metrics=metrics, rows=results, written=written, cache=_cache(usage),
        duration_s=time.monotonic() - started,
    )  # fmt: skip
    show_summary(result, progress)
    return result


def _run_rows(
    rows: list[EvalRow],
    app: App | None,
    scorers: list[Scorer],
    run_id: str,
    workers: int,
    context: contextvars.Context,
    progress: bool,
) -> tuple[list[RowResult], Written]:
    client = state.tracking_client()
    create = client.backend.traces.create_assessment
    turn_scorers = [s for s in scorers if not s.session_level]
    writer = EvalWriter(create, threads=min(4, workers))
    results: list[RowResult | None] = [None] * len(rows)

    # a row's scorers after its first run beside it (see score_row)
    extra = workers * max(0, len(turn_scorers) - 1)
    scoring = ThreadPoolExecutor(extra, thread_name_prefix="heron-score") if extra else None

    def one(row: EvalRow) -> RowResult:
        return context.copy().run(evaluate_row, row, app, turn_scorers, writer, run_id, scoring)

    try:
        with (
            ThreadPoolExecutor(workers, thread_name_prefix="heron-eval") as pool,
            progress_bar(len(rows), progress) as advance,
        ):
            futures = {pool.submit(one, row): row.index for row in rows}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                advance()
    finally:
        if scoring is not None:
            scoring.shutdown()
        written = writer.close()
    done = [r for r in results if r is not None]
    session_scorers = [s for s in scorers if s.session_level]
    if not session_scorers:
        return done, written
    traces = {r.trace_id: r.trace for r in done if r.trace_id and r.trace is not None}
    session_writer = EvalWriter(create, threads=min(4, workers))  # every trace is stored now
    try:
        done = score_sessions(done, traces, session_scorers, session_writer, run_id, workers,
                              context)  # fmt: skip
    finally:
        more = session_writer.close()
    written.assessments += more.assessments
    written.failures += more.failures
    written.errors += more.errors
    return done, written


def _check_scorers(scorers: Sequence[Scorer]) -> list[Scorer]:
    if isinstance(scorers, Scorer):
        scorers = [scorers]
    checked = list(scorers)
    for s in checked:
        if not isinstance(s, Scorer):
            raise InvalidParameter(
                f"{s!r} is not a scorer: use heron.genai.scorers.*, a @heron.genai.scorer "
                "function or heron.genai.make_judge(...)"
            )
    names = [s.name for s in checked]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InvalidParameter(
            f"Two scorers are named {', '.join(map(repr, twice))}: give each a distinct name="
        )
    return checked


def _check_app(predict_fn: Callable[..., Any] | None, rows: list[EvalRow]) -> App | None:
    if predict_fn is None:
        missing = next((r for r in rows if r.outputs is None and r.trace is None), None)
        if missing is not None:
            raise InvalidParameter(
                f"Row {missing.index} has no 'outputs' and no trace: give predict_fn= to run "
                "the app, or the outputs to score"
            )
        return None
    if not callable(predict_fn):
        raise InvalidParameter("predict_fn must be a function")
    return App(predict_fn)


def _workers(max_workers: int | None) -> int:
    if max_workers is None:
        text = os.environ.get(MAX_WORKERS_ENV, "").strip()
        if not text:
            return DEFAULT_MAX_WORKERS
        if not text.isdigit():
            raise InvalidParameter(f"${MAX_WORKERS_ENV} must be a positive integer, not {text!r}")
        max_workers = int(text)
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise InvalidParameter(f"max_workers must be a positive integer, not {max_workers!r}")
    return max_workers


def _log_dataset(client: Any, run_id: str, data: Any) -> None:
    to_input = getattr(data, "to_dataset_input", None)
    if callable(to_input):
        client.backend.runs.log_inputs(run_id, [to_input()])
    version = getattr(data, "version", None)
    if isinstance(version, int) and version > 0:
        client.set_tag(run_id, reserved.EVAL_DATASET_ID, data.dataset_id)
        client.set_tag(run_id, reserved.EVAL_DATASET_VERSION, str(version))


def _log_metrics(client: Any, run_id: str, metrics: dict[str, float], model_id: str | None) -> None:
    if not metrics:
        return
    now = int(time.time() * 1000)
    points = [Metric(key=k, value=v, timestamp=now) for k, v in metrics.items()]
    links = [
        LoggedModelMetric(key=k, value=v, timestamp=now, step=0, model_id=model_id)
        for k, v in metrics.items()
        if model_id is not None
    ]
    client.backend.runs.log_batch(run_id, metrics=points, model_metrics=links)


def _cache(usage: Usage) -> CacheStats:
    return CacheStats(
        hits=usage.cache_hits, misses=usage.cache_misses, saved_usd=usage.saved_usd,
        saved_tokens=usage.saved_tokens,
    )  # fmt: skip
