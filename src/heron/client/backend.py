"""The two Protocols every client backend implements: the same methods as the services."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from heron.client.serving_api import EndpointApi, InferenceApi, InvocationApi
from heron.entities import (
    DatasetInput,
    Experiment,
    FileInfo,
    LoggedModel,
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelOutput,
    LoggedModelStatus,
    Metric,
    Page,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from heron.entities.assessment import Assessment
from heron.entities.deployment_jobs import DeploymentJob, DeploymentJobVersion, JobRun
from heron.entities.evaluation import (
    DatasetRecord,
    DatasetVersion,
    EvaluationDataset,
    OnlineScoringConfig,
    ScorerVersion,
    SharedLimits,
)
from heron.entities.registry import (
    Catalog,
    ModelLineage,
    ModelVersion,
    ModelVersionEvent,
    RegisteredModel,
    Schema,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookTestResult,
)
from heron.entities.trace import Span, Trace, TraceInfo
from heron.store.evaluation import JudgeCacheStore


class JudgeLimitApi(Protocol):
    def merge_limits(self, key: str, tokens: int, pause_ms: int = 0) -> SharedLimits: ...


class ExperimentApi(Protocol):
    """What `heron.services.ExperimentService` offers, in process or over HTTP."""

    def create_experiment(
        self,
        name: str,
        *,
        artifact_location: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str: ...

    def get_experiment(self, experiment_id: str) -> Experiment: ...

    def get_experiment_by_name(self, name: str) -> Experiment: ...

    def search_experiments(
        self,
        *,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[Experiment]: ...

    def rename_experiment(self, experiment_id: str, new_name: str) -> None: ...

    def delete_experiment(self, experiment_id: str) -> None: ...

    def restore_experiment(self, experiment_id: str) -> None: ...

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None: ...

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None: ...


class RunApi(Protocol):
    """What `heron.services.RunService` offers, in process or over HTTP."""

    def create_run(
        self,
        experiment_id: str,
        *,
        user_id: str | None = None,
        run_name: str | None = None,
        start_time: int | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Run: ...

    def get_run(self, run_id: str) -> Run: ...

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo: ...

    def delete_run(self, run_id: str) -> None: ...

    def restore_run(self, run_id: str) -> None: ...

    def log_metric(
        self, run_id: str, key: str, value: float, timestamp: int, step: int = 0
    ) -> None: ...

    def log_param(self, run_id: str, key: str, value: str) -> None: ...

    def set_tag(self, run_id: str, key: str, value: str) -> None: ...

    def delete_tag(self, run_id: str, key: str) -> None: ...

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        model_metrics: Sequence[LoggedModelMetric] = (),
    ) -> None: ...

    def get_metric_history(
        self,
        run_id: str,
        key: str,
        *,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Metric]: ...

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]: ...

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[LoggedModelInput] = (),
    ) -> None: ...

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None: ...


class LoggedModelApi(Protocol):
    """What `heron.services.logged_models.LoggedModelService` offers, in process or over HTTP."""

    def create_logged_model(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        source_run_id: str | None = None,
        model_type: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> LoggedModel: ...

    def get_logged_model(self, model_id: str, *, allow_deleted: bool = False) -> LoggedModel: ...

    def finalize_logged_model(
        self, model_id: str, status: LoggedModelStatus | str
    ) -> LoggedModel: ...

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, str]) -> None: ...

    def delete_logged_model_tag(self, model_id: str, key: str) -> None: ...

    def log_logged_model_params(self, model_id: str, params: Mapping[str, str]) -> None: ...

    def delete_logged_model(self, model_id: str) -> None: ...

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int = 100,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> Page[LoggedModel]: ...


class ArtifactApi(Protocol):
    """Files under an artifact URI (a run's `artifact_uri`, an `mlflow-artifacts:` URI, a
    path or `s3://...`); `path` is relative to that URI, "/"-separated, already checked."""

    def put(self, artifact_uri: str, path: str, content: BinaryIO | Iterable[bytes]) -> None:
        """Stores a file read from `content` (streamed, never read whole into memory)."""
        ...

    def put_many(self, artifact_uri: str, files: Sequence[tuple[Path, str]]) -> None:
        """Stores many local files, each (local file, path), several at once."""
        ...

    def list(self, artifact_uri: str, path: str = "") -> list[FileInfo]:
        """One directory level; paths in the answer are relative to `artifact_uri`."""
        ...

    def read(self, artifact_uri: str, path: str) -> Iterator[bytes]:
        """Streams one file. Raises NotFound when there is none (before the first chunk)."""
        ...


class TraceApi(Protocol):
    """What `heron.services.traces.TraceService` offers, in process or over HTTP."""

    def log_spans(self, experiment_id: str, spans: Sequence[Span]) -> int: ...

    def start_trace(self, info: TraceInfo) -> TraceInfo: ...

    def get_trace_info(self, trace_id: str) -> TraceInfo: ...

    def get_trace(self, trace_id: str) -> Trace: ...

    def get_traces(self, trace_ids: Sequence[str], *, with_spans: bool = True) -> list[Trace]: ...

    def search_full_traces(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        include_spans: bool = True,
    ) -> Page[Trace]: ...

    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None: ...

    def delete_trace_tag(self, trace_id: str, key: str) -> None: ...

    def delete_traces(
        self,
        experiment_id: str,
        *,
        trace_ids: Sequence[str] = (),
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
    ) -> int: ...

    def create_assessment(self, assessment: Assessment) -> Assessment: ...

    def get_assessment(self, trace_id: str, assessment_id: str) -> Assessment: ...

    def update_assessment(
        self, trace_id: str, assessment_id: str, changes: Mapping[str, Any]
    ) -> Assessment: ...

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None: ...


class DatasetApi(Protocol):
    """What `heron.services.datasets.DatasetService` offers, in process or over HTTP."""

    def create_dataset(
        self,
        name: str,
        *,
        experiment_ids: Sequence[str] = (),
        tags: Mapping[str, Any] | None = None,
    ) -> EvaluationDataset: ...

    def get_dataset(self, dataset_id: str) -> EvaluationDataset: ...

    def search_datasets(
        self,
        experiment_ids: Sequence[str] = (),
        *,
        filter_string: str | None = None,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[EvaluationDataset]: ...

    def delete_dataset(self, dataset_id: str) -> None: ...

    def set_dataset_tags(self, dataset_id: str, tags: Mapping[str, Any]) -> EvaluationDataset: ...

    def delete_dataset_tag(self, dataset_id: str, key: str) -> None: ...

    def link_experiments(
        self, dataset_id: str, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> EvaluationDataset: ...

    def upsert_records(
        self, dataset_id: str, items: Sequence[Mapping[str, Any]]
    ) -> tuple[int, int]: ...

    def get_records(
        self, dataset_id: str, *, max_results: int = 1000, page_token: str | None = None
    ) -> Page[DatasetRecord]: ...

    def delete_records(self, dataset_id: str, record_ids: Sequence[str]) -> int: ...

    def list_versions(
        self, dataset_id: str, *, max_results: int = 1000, page_token: str | None = None
    ) -> Page[DatasetVersion]: ...

    def get_version(self, dataset_id: str, version: int) -> DatasetVersion: ...

    def get_version_records(
        self,
        dataset_id: str,
        version: int,
        *,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[DatasetRecord]: ...


class ScorerApi(Protocol):
    """Registered scorers, as the monitoring worker reads and registers them."""

    def register_scorer(self, experiment_id: str, name: str, serialized: str) -> ScorerVersion: ...

    def get_scorer(
        self, experiment_id: str, name: str, version: int | None = None
    ) -> ScorerVersion: ...

    def set_online_config(
        self, experiment_id: str, name: str, sample_rate: float, filter_string: str | None = None
    ) -> OnlineScoringConfig: ...

    def active_configs(self) -> list[OnlineScoringConfig]: ...

    def scorer_by_id(self, scorer_id: str) -> ScorerVersion: ...


class Backend(Protocol):
    """A place runs are tracked: the SQL stores in process, or a server over HTTP."""

    @property
    def experiments(self) -> ExperimentApi: ...

    @property
    def runs(self) -> RunApi: ...

    @property
    def artifacts(self) -> ArtifactApi: ...

    @property
    def registry(self) -> RegistryApi: ...

    @property
    def logged_models(self) -> LoggedModelApi: ...

    @property
    def traces(self) -> TraceApi: ...

    @property
    def namespaces(self) -> NamespaceApi: ...

    @property
    def webhooks(self) -> WebhookApi: ...

    @property
    def datasets(self) -> DatasetApi: ...

    @property
    def judge_cache(self) -> JudgeCacheStore: ...

    @property
    def judge_limits(self) -> JudgeLimitApi: ...

    @property
    def scorers(self) -> ScorerApi: ...

    @property
    def deployment_jobs(self) -> DeploymentJobApi: ...

    @property
    def job_runs(self) -> JobRunApi: ...

    @property
    def endpoints(self) -> EndpointApi: ...

    @property
    def inference(self) -> InferenceApi: ...

    @property
    def invocations(self) -> InvocationApi: ...

    def close(self) -> None: ...


class RegistryApi(Protocol):
    """What `heron.services.registry.RegistryService` offers, in process or over HTTP."""

    def create_registered_model(
        self,
        name: str,
        *,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
        deployment_job_id: str | None = None,
    ) -> RegisteredModel: ...

    def get_registered_model(self, name: str) -> RegisteredModel: ...

    def search_registered_models(
        self,
        *,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]: ...

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel: ...

    def update_registered_model(
        self, name: str, description: str | None = None, *, deployment_job_id: str | None = None
    ) -> RegisteredModel: ...

    def delete_registered_model(self, name: str) -> None: ...

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None: ...

    def delete_registered_model_tag(self, name: str, key: str) -> None: ...

    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None: ...

    def delete_registered_model_alias(self, name: str, alias: str) -> None: ...

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]: ...

    def create_model_version(
        self,
        name: str,
        source: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion: ...

    def get_model_version(self, name: str, version: str) -> ModelVersion: ...

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion: ...

    def get_model_version_download_uri(self, name: str, version: str) -> str: ...

    def search_model_versions(
        self,
        *,
        filter_string: str | None = None,
        max_results: int = 200_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[ModelVersion]: ...

    def update_model_version(
        self, name: str, version: str, description: str | None = None
    ) -> ModelVersion: ...

    def transition_model_version_stage(
        self, name: str, version: str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion: ...

    def delete_model_version(self, name: str, version: str) -> None: ...

    def set_model_version_tag(self, name: str, version: str, key: str, value: str) -> None: ...

    def delete_model_version_tag(self, name: str, version: str, key: str) -> None: ...

    def list_model_version_activity(self, name: str, version: str) -> list[ModelVersionEvent]: ...

    def add_model_version_comment(
        self, name: str, version: str, comment: str
    ) -> ModelVersionEvent: ...

    def get_model_version_lineage(self, name: str, version: str) -> ModelLineage: ...


class NamespaceApi(Protocol):
    """What `heron.services.registry_namespaces.NamespaceService` offers."""

    def create_catalog(self, name: str, comment: str | None = None) -> Catalog: ...

    def get_catalog(self, name: str) -> Catalog: ...

    def list_catalogs(self) -> list[Catalog]: ...

    def delete_catalog(self, name: str) -> None: ...

    def create_schema(self, catalog_name: str, name: str, comment: str | None = None) -> Schema: ...

    def get_schema(self, catalog_name: str, name: str) -> Schema: ...

    def list_schemas(self, catalog_name: str) -> list[Schema]: ...

    def delete_schema(self, catalog_name: str, name: str) -> None: ...


class WebhookApi(Protocol):
    """What `heron.services.registry_webhooks.WebhookService` offers."""

    def create_webhook(
        self,
        name: str,
        url: str,
        events: Sequence[WebhookEvent],
        *,
        description: str | None = None,
        secret: str | None = None,
        status: str | None = None,
    ) -> Webhook: ...

    def get_webhook(self, webhook_id: str) -> Webhook: ...

    def list_webhooks(
        self, *, max_results: int = 100, page_token: str | None = None
    ) -> Page[Webhook]: ...

    def update_webhook(
        self,
        webhook_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        url: str | None = None,
        events: Sequence[WebhookEvent] | None = None,
        secret: str | None = None,
        status: str | None = None,
    ) -> Webhook: ...

    def delete_webhook(self, webhook_id: str) -> None: ...

    def test_webhook(
        self, webhook_id: str, event: WebhookEvent | None = None
    ) -> WebhookTestResult: ...

    def list_deliveries(self, webhook_id: str) -> list[WebhookDelivery]: ...


class DeploymentJobApi(Protocol):
    """What `heron.services.deployment_jobs.DeploymentJobService` offers."""

    def create_job(
        self, name: str, definition: object, *, description: str | None = None
    ) -> DeploymentJob: ...

    def update_job(
        self, job_id: str, definition: object, *, description: str | None = None
    ) -> DeploymentJob: ...

    def find_job(self, id_or_name: str) -> DeploymentJob: ...

    def list_jobs(self) -> list[DeploymentJob]: ...

    def list_job_versions(self, job_id: str) -> list[DeploymentJobVersion]: ...

    def delete_job(self, job_id: str) -> None: ...


class JobRunApi(Protocol):
    """What `heron.services.deployment_job_runs.JobRunService` offers."""

    def start_run(self, name: str, version: str) -> JobRun: ...

    def get_run(self, run_id: str) -> JobRun: ...

    def latest_run(self, name: str, version: str) -> JobRun | None: ...

    def search_runs(
        self,
        *,
        name: str | None = None,
        version: str | None = None,
        job_id: str | None = None,
        states: Sequence[str] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[JobRun]: ...

    def cancel_run(self, run_id: str, reason: str | None = None) -> JobRun: ...

    def retry_run(self, run_id: str) -> JobRun: ...

    def decide(
        self,
        run_id: str,
        *,
        approved: bool,
        comment: str = "",
        task: str | None = None,
        via: str = "api",
    ) -> JobRun: ...
