"""Run rules: lifecycle, logging limits, immutable params, search."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from heron import search
from heron.clock import now_ms
from heron.entities import (
    DatasetInput,
    DatasetSummary,
    LifecycleStage,
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelOutput,
    Metric,
    MetricColumns,
    Page,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
    reserved,
)
from heron.errors import InvalidParameter
from heron.services import validation as v
from heron.services.access import Action, Authorizer, attributed, authorize
from heron.services.changes import changed, changed_field, noting
from heron.services.names import generated_name
from heron.store import ids
from heron.store.runs import MetricWithRunId, RunQuery, RunStore

MAX_SAMPLED_POINTS = 2500
MAX_BULK_RUNS = 100
MAX_BULK_POINTS = 25000
MAX_DATASET_SUMMARY_EXPERIMENTS = 20


class RunService:
    def __init__(self, store: RunStore, authorizer: Authorizer) -> None:
        self._store = store
        self._authorizer = authorizer

    def _check(self, action: Action, run_id: str) -> None:
        authorize(self._authorizer, action, "run", run_id)

    def create_run(
        self,
        experiment_id: str,
        *,
        user_id: str | None = None,
        run_name: str | None = None,
        start_time: int | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Run:
        experiment_id = ids.experiment_id(experiment_id)
        authorize(self._authorizer, "create", "experiment", experiment_id)
        tags = dict(tags or {})
        for key, value in tags.items():
            _check_tag(key, value)
        run_name = run_name or tags.get(reserved.RUN_NAME) or generated_name()
        v.check_length("Run name", v.check_plain_name("Run name", run_name), v.MAX_RUN_NAME)
        tags[reserved.RUN_NAME] = run_name
        user_id = attributed(user_id or tags.get(reserved.USER))
        if reserved.USER in tags:
            tags[reserved.USER] = user_id
        v.check_length("user_id", user_id, v.MAX_USER_ID)
        start_time = now_ms() if start_time is None else v.check_timestamp("start_time", start_time)
        run = self._store.create_run(
            experiment_id=experiment_id,
            user_id=user_id,
            run_name=run_name,
            start_time=start_time,
            tags=tags,
        )
        made = {"experiment_id": experiment_id, "run_name": run_name, "user_id": user_id}
        changed("run", run.info.run_id, after=made)
        return run

    def get_run(self, run_id: str) -> Run:
        v.check_run_id(run_id)
        self._check("read", run_id)
        return self._store.get_run(run_id)

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        v.check_run_id(run_id)
        self._check("update", run_id)
        if status is not None:
            try:
                status = RunStatus(status)
            except ValueError:
                names = ", ".join(s.value for s in RunStatus)
                raise InvalidParameter(
                    f"Invalid run status {status!r}; use one of {names}"
                ) from None
        if end_time is not None:
            v.check_timestamp("end_time", end_time)
        if run_name:
            v.check_length("Run name", v.check_plain_name("Run name", run_name), v.MAX_RUN_NAME)
        before = self._store.get_run(run_id).info if noting() else None
        info = self._store.update_run(
            run_id, status=status, end_time=end_time, run_name=run_name or None
        )
        if before is not None:
            fields = ("status", "end_time", "run_name")
            changed(
                "run",
                run_id,
                before={f: str(getattr(before, f)) for f in fields},
                after={f: str(getattr(info, f)) for f in fields},
            )
        return info

    def delete_run(self, run_id: str) -> None:
        v.check_run_id(run_id)
        self._check("delete", run_id)
        self._lifecycle(run_id, LifecycleStage.DELETED)

    def restore_run(self, run_id: str) -> None:
        v.check_run_id(run_id)
        self._check("update", run_id)
        self._lifecycle(run_id, LifecycleStage.ACTIVE)

    def _lifecycle(self, run_id: str, stage: LifecycleStage) -> None:
        before = self._store.get_run(run_id).info.lifecycle_stage if noting() else None
        self._store.set_run_lifecycle(run_id, stage)
        if before is not None:
            changed_field("run", run_id, "lifecycle_stage", str(before), str(stage))

    def log_metric(
        self, run_id: str, key: str, value: float, timestamp: int, step: int = 0
    ) -> None:
        self.log_batch(
            run_id, metrics=[Metric(key=key, value=value, timestamp=timestamp, step=step)]
        )

    def log_param(self, run_id: str, key: str, value: str) -> None:
        self.log_batch(run_id, params=[Param(key=key, value=value)])

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        self.log_batch(run_id, tags=[RunTag(key=key, value=value)])

    def delete_tag(self, run_id: str, key: str) -> None:
        v.check_run_id(run_id)
        self._check("update", run_id)
        v.check_string("key", key)
        self._store.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        model_metrics: Sequence[LoggedModelMetric] = (),
    ) -> None:
        """Logs metrics, params and tags in one transaction. `model_metrics` are the points of
        `metrics` that name a logged model (and maybe the dataset they were computed on): they
        are run metrics as well, and are also linked to their models."""
        v.check_run_id(run_id)
        self._check("update", run_id)
        _check_batch_size(metrics, params, tags)
        checked = _checked_metrics(metrics)
        if model_metrics:
            _check_model_metrics(model_metrics)
        seen: dict[str, str] = {}
        for p in params:
            v.check_key("Param", p.key)
            v.check_length(
                f"Param {p.key!r} value", v.check_string("Param value", p.value), v.MAX_PARAM_VALUE
            )
            if seen.setdefault(p.key, p.value) != p.value:
                raise InvalidParameter(
                    f"Param {p.key!r} appears twice in the batch with different values"
                )
        for t in tags:
            _check_tag(t.key, t.value)
        self._store.log_batch(
            run_id, metrics=checked, params=params, tags=tags, model_metrics=model_metrics
        )

    def get_metric_history(
        self,
        run_id: str,
        key: str,
        *,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Metric]:
        v.check_run_id(run_id)
        self._check("read", run_id)
        v.check_string("metric_key", key)
        if max_results is not None:
            v.check_max_results(max_results, v.INT64_MAX)
        return self._store.get_metric_history(
            run_id, key, max_results=max_results, page_token=page_token or None
        )

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        key: str,
        *,
        max_results: int = 320,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[MetricWithRunId]:
        """Down-sampled histories for charts: at most `max_results` points per run."""
        self._check_bulk(run_ids, key)
        if not 1 <= max_results <= MAX_SAMPLED_POINTS:
            raise InvalidParameter(
                f"max_results must be between 1 and {MAX_SAMPLED_POINTS}, got {max_results}"
            )
        if (start_step is None) != (end_step is None):
            raise InvalidParameter("start_step and end_step must be given together")
        if start_step is not None and end_step is not None and start_step > end_step:
            raise InvalidParameter(
                f"start_step ({start_step}) must not be greater than end_step ({end_step})"
            )
        return self._store.get_metric_history_sampled(
            run_ids, key, max_results=max_results, start_step=start_step, end_step=end_step
        )

    def get_metric_history_bulk(
        self, run_ids: Sequence[str], key: str, *, max_results: int = MAX_BULK_POINTS
    ) -> list[MetricWithRunId]:
        """Full histories of one metric for several runs, at most `max_results` points."""
        self._check_bulk(run_ids, key)
        v.check_max_results(max_results, MAX_BULK_POINTS)
        points: list[MetricWithRunId] = []
        for run_id in run_ids:
            page = self._store.get_metric_history(
                run_id, key, max_results=max_results - len(points), page_token=None
            )
            points.extend(MetricWithRunId(run_id=run_id, metric=m) for m in page)
            if len(points) >= max_results:
                break
        return points

    def _check_bulk(self, run_ids: Sequence[str], key: str) -> None:
        if not run_ids:
            raise InvalidParameter("GetMetricHistoryBulk needs at least one run_id")
        if len(run_ids) > MAX_BULK_RUNS:
            raise InvalidParameter(f"At most {MAX_BULK_RUNS} run ids, got {len(run_ids)}")
        for run_id in run_ids:
            v.check_run_id(run_id)
            self._check("read", run_id)
        v.check_string("metric_key", key)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        searched = ids.searched_experiment_ids(experiment_ids)
        for experiment_id in searched:
            authorize(self._authorizer, "read", "experiment", experiment_id)
        query = RunQuery(
            experiment_ids=searched,
            filter=search.parse_run_filter(filter_string),
            order_by=search.parse_run_order_by(list(order_by or [])),
            view_type=ViewType(run_view_type),
            max_results=v.check_max_results(max_results),
            page_token=page_token or None,
        )
        return self._store.search_runs(query)

    def search_dataset_summaries(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        """The datasets the runs of these experiments used (at most 20 experiments)."""
        if len(experiment_ids) > MAX_DATASET_SUMMARY_EXPERIMENTS:
            raise InvalidParameter(
                f"At most {MAX_DATASET_SUMMARY_EXPERIMENTS} experiment ids, "
                f"got {len(experiment_ids)}"
            )
        searched = ids.searched_experiment_ids(experiment_ids)
        for experiment_id in searched:
            authorize(self._authorizer, "read", "experiment", experiment_id)
        return self._store.search_dataset_summaries(searched)

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[LoggedModelInput] = (),
    ) -> None:
        """Records the datasets and the logged models a run used."""
        v.check_run_id(run_id)
        self._check("update", run_id)
        if len(datasets) > v.MAX_DATASETS_PER_REQUEST:
            raise InvalidParameter(
                f"At most {v.MAX_DATASETS_PER_REQUEST} datasets per request, got {len(datasets)}"
            )
        for item in datasets:
            _check_dataset_input(item)
        _check_model_refs(models)
        self._store.log_inputs(run_id, datasets, models)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """Records the logged models a run produced (model_id and the step it was at)."""
        v.check_run_id(run_id)
        self._check("update", run_id)
        _check_model_refs(models)
        for output in models:
            v.check_int64(f"Step of model output {output.model_id!r}", output.step)
        self._store.log_outputs(run_id, models)


def _check_tag(key: str, value: str) -> None:
    v.check_key("Tag", key)
    v.check_length(f"Tag {key!r} value", v.check_string("Tag value", value), v.MAX_RUN_TAG_VALUE)


def _checked_metrics(metrics: Sequence[Metric]) -> Sequence[Metric]:
    """Keys are checked once each (a batch repeats a few keys many times); values, steps and
    timestamps without coercion: column by column when they come as MetricColumns, else
    point by point."""
    keys = metrics.keys if isinstance(metrics, MetricColumns) else [m.key for m in metrics]
    for key in set(keys):
        v.check_key("Metric", key)
    if isinstance(metrics, MetricColumns) and _plain_columns(metrics):
        return metrics
    checked = []
    for m in metrics:
        value, step, timestamp = m.value, m.step, m.timestamp
        if type(value) is not float:
            value = v.check_metric_value(m.key, value)
        if type(timestamp) is not int or not 0 <= timestamp <= v.INT64_MAX:
            v.check_timestamp(f"Metric {m.key!r} timestamp", timestamp)
        if type(step) is not int or not v.INT64_MIN <= step <= v.INT64_MAX:
            v.check_int64(f"Metric {m.key!r} step", step)
        checked.append(m if value is m.value else replace(m, value=value))
    return checked


def _plain_columns(c: MetricColumns) -> bool:
    """Floats, and int64 steps and timestamps in range: nothing to convert or refuse."""
    if not c.keys:
        return True
    return (
        all(type(value) is float for value in c.values)
        and all(type(t) is int for t in c.timestamps)
        and all(type(s) is int for s in c.steps)
        and min(c.timestamps) >= 0
        and max(c.timestamps) <= v.INT64_MAX
        and min(c.steps) >= v.INT64_MIN
        and max(c.steps) <= v.INT64_MAX
    )


def _check_model_refs(models: Sequence[LoggedModelInput | LoggedModelOutput]) -> None:
    if len(models) > v.MAX_DATASETS_PER_REQUEST:
        raise InvalidParameter(
            f"At most {v.MAX_DATASETS_PER_REQUEST} models per request, got {len(models)}"
        )
    for model in models:  # the store finds each model, or answers NotFound
        if not isinstance(model.model_id, str) or not model.model_id:
            raise InvalidParameter(f"model_id must be a non-empty string, got {model.model_id!r}")


def _check_model_metrics(points: Sequence[LoggedModelMetric]) -> None:
    """The link of each point to its model and dataset; the point itself is a checked metric."""
    for p in points:
        v.check_model_reference(f"Metric {p.key!r} model_id", p.model_id)
        v.check_key("Metric", p.key)
        v.check_metric_value(p.key, p.value)
        v.check_timestamp(f"Metric {p.key!r} timestamp", p.timestamp)
        v.check_int64(f"Metric {p.key!r} step", p.step)
        if bool(p.dataset_name) != bool(p.dataset_digest):
            raise InvalidParameter(
                f"Metric {p.key!r}: dataset_name and dataset_digest must be given together"
            )
        if p.dataset_name and p.dataset_digest:
            v.check_length("Dataset name", v.check_string("dataset_name", p.dataset_name),
                           v.MAX_DATASET_NAME)  # fmt: skip
            v.check_length("Dataset digest", v.check_string("dataset_digest", p.dataset_digest),
                           v.MAX_DATASET_DIGEST)  # fmt: skip


def _check_batch_size(
    metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> None:
    if len(metrics) > v.MAX_BATCH_METRICS:
        raise InvalidParameter(
            f"A batch logging request can contain at most {v.MAX_BATCH_METRICS} metrics. "
            f"Got {len(metrics)} metrics."
        )
    if len(params) > v.MAX_BATCH_PARAMS:
        raise InvalidParameter(
            f"A batch logging request can contain at most {v.MAX_BATCH_PARAMS} params. "
            f"Got {len(params)} params."
        )
    if len(tags) > v.MAX_BATCH_TAGS:
        raise InvalidParameter(
            f"A batch logging request can contain at most {v.MAX_BATCH_TAGS} tags. "
            f"Got {len(tags)} tags."
        )
    total = len(metrics) + len(params) + len(tags)
    if total > v.MAX_BATCH_TOTAL:
        raise InvalidParameter(
            f"A batch logging request can contain at most {v.MAX_BATCH_TOTAL} metrics, params "
            f"and tags in all. Got {total}."
        )


def _check_dataset_input(item: DatasetInput) -> None:
    d = item.dataset
    for what, value, limit in (
        ("Dataset name", d.name, v.MAX_DATASET_NAME),
        ("Dataset digest", d.digest, v.MAX_DATASET_DIGEST),
        ("Dataset source_type", d.source_type, v.MAX_DATASET_SOURCE_TYPE),
        ("Dataset source", d.source, v.MAX_DATASET_SOURCE),
        ("Dataset schema", d.schema, v.MAX_DATASET_SCHEMA),
        ("Dataset profile", d.profile, v.MAX_DATASET_PROFILE),
    ):
        v.check_length(what, v.check_string(what, value), limit)
    for what, value in (
        ("Dataset name", d.name),
        ("Dataset digest", d.digest),
        ("Dataset source_type", d.source_type),
        ("Dataset source", d.source),
    ):
        if not value:
            raise InvalidParameter(f"{what} is required")
    for tag in item.tags:
        v.check_length(
            "Input tag key", v.check_string("Input tag key", tag.key), v.MAX_INPUT_TAG_KEY
        )
        v.check_length(
            "Input tag value", v.check_string("Input tag value", tag.value), v.MAX_INPUT_TAG_VALUE
        )
