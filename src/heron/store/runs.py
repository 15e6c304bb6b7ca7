"""The run store port: runs and the metrics, params, tags and inputs logged to them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from heron.entities import (
    DatasetInput,
    DatasetSummary,
    LifecycleStage,
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelOutput,
    Metric,
    Page,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from heron.search import Comparison, OrderKey


@dataclass(frozen=True, slots=True, kw_only=True)
class RunQuery:
    experiment_ids: Sequence[str]
    filter: Sequence[Comparison] = ()
    order_by: Sequence[OrderKey] = ()
    view_type: ViewType = ViewType.ACTIVE_ONLY
    max_results: int = 1000
    page_token: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricWithRunId:
    run_id: str
    metric: Metric


class RunStore(Protocol):
    def create_run(
        self,
        *,
        experiment_id: str,
        user_id: str,
        run_name: str,
        start_time: int,
        tags: Mapping[str, str],
    ) -> Run:
        """Raises NotFound for a missing experiment, InvalidParameter for a deleted one."""
        ...

    def get_run(self, run_id: str) -> Run:
        """Raises NotFound."""
        ...

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None,
        end_time: int | None,
        run_name: str | None,
    ) -> RunInfo:
        """Changes what is given; a new name also sets the `mlflow.runName` tag."""
        ...

    def set_run_lifecycle(self, run_id: str, stage: LifecycleStage) -> None: ...

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric],
        params: Sequence[Param],
        tags: Sequence[RunTag],
        model_metrics: Sequence[LoggedModelMetric] = (),
    ) -> None:
        """The one write path for metrics, params and tags, all in one transaction.
        `model_metrics` (points of `metrics` that name a logged model) are also linked to
        their models.

        Raises NotFound (also for a missing model), InvalidState (run not active),
        InvalidParameter (a param already logged with another value). Nothing is written
        when it raises."""
        ...

    def delete_tag(self, run_id: str, key: str) -> None:
        """Raises NotFound when the run or the tag does not exist."""
        ...

    def get_metric_history(
        self, run_id: str, key: str, *, max_results: int | None, page_token: str | None
    ) -> Page[Metric]:
        """Points ordered by (step, timestamp); all of them when max_results is None."""
        ...

    def get_metric_history_sampled(
        self,
        run_ids: Sequence[str],
        key: str,
        *,
        max_results: int,
        start_step: int | None,
        end_step: int | None,
    ) -> list[MetricWithRunId]:
        """At most `max_results` points per run, evenly spread over the step range,
        always keeping the first and the last step and the min and max values."""
        ...

    def search_runs(self, query: RunQuery) -> Page[Run]:
        """A page of runs loaded with a constant number of queries."""
        ...

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput],
        models: Sequence[LoggedModelInput] = (),
    ) -> None:
        """Raises NotFound for a missing run or logged model."""
        ...

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """Records the logged models a run produced. Raises NotFound for a missing run or
        model, InvalidParameter when the run is not active."""
        ...

    def search_dataset_summaries(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        """Each (experiment, dataset name, digest, context) that some run used, sorted."""
        ...
