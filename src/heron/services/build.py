"""build_services: the one place the services are made, for the server, the UI, the SDK in
process and the CLI alike.

A new service is one field of `Services` and one line of `build_services`; everything that
serves or calls it takes it from the bundle."""

from __future__ import annotations

from dataclasses import dataclass, field

from heron.services.access import AllowAll, Authorizer
from heron.services.artifacts import ArtifactService
from heron.services.datasets import DatasetService
from heron.services.deployment_job_approvals import ApprovalTags
from heron.services.deployment_job_runner import DeploymentRunner
from heron.services.deployment_job_runs import JobRunService
from heron.services.deployment_job_specs import CustomTaskPolicy
from heron.services.deployment_jobs import DeploymentJobService
from heron.services.drift import DriftService
from heron.services.experiments import ExperimentService
from heron.services.gc import GarbageCollector
from heron.services.inference import InferenceService
from heron.services.judge_agreement import JudgeAgreementService
from heron.services.judge_cache import JudgeCacheService
from heron.services.judge_limits import JudgeLimitService
from heron.services.label_schemas import LabelSchemaService
from heron.services.logged_models import LoggedModelService
from heron.services.metric_thresholds import EvaluationThresholds
from heron.services.registry import RegistryService
from heron.services.registry_namespaces import NamespaceService
from heron.services.registry_webhooks import WebhookDispatcher, WebhookService
from heron.services.review_queues import ReviewQueueService
from heron.services.runs import RunService
from heron.services.scorers import ScorerService
from heron.services.serving_endpoints import EndpointService
from heron.services.trace_analytics import TraceAnalyticsService
from heron.services.trace_links import TraceLinkService
from heron.services.traces import TraceService
from heron.services.workspaces import WorkspaceService
from heron.settings import Settings
from heron.store.artifacts.encrypted import encryption
from heron.store.artifacts.locations import ArtifactLocations
from heron.store.stores import Stores


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    """Every service of one database, sharing one authorizer. `start()` starts the
    background work (webhook deliveries); `close()` stops it and closes the stores."""

    experiments: ExperimentService
    runs: RunService
    logged_models: LoggedModelService
    registry: RegistryService
    namespaces: NamespaceService
    webhooks: WebhookService
    traces: TraceService
    trace_links: TraceLinkService
    trace_analytics: TraceAnalyticsService
    artifacts: ArtifactService
    endpoints: EndpointService
    inference: InferenceService
    datasets: DatasetService
    judge_cache: JudgeCacheService
    judge_limits: JudgeLimitService
    scorers: ScorerService
    label_schemas: LabelSchemaService
    judge_agreement: JudgeAgreementService
    thresholds: EvaluationThresholds
    review_queues: ReviewQueueService
    drift: DriftService
    deployment_jobs: DeploymentJobService
    job_runs: JobRunService
    workspaces: WorkspaceService
    # Runs deployment job tasks; only `heron worker` starts it (with its executors).
    deployment_runner: DeploymentRunner
    gc: GarbageCollector
    authorizer: Authorizer
    # The stores answer without waiting on a network or an fsync (SQLite in WAL mode with
    # synchronous=NORMAL): a server may run handlers on its event loop.
    answers_at_once: bool
    # For start and close only: everything else reaches the stores through a service.
    _stores: Stores = field(repr=False)
    _dispatcher: WebhookDispatcher = field(repr=False)

    def start(self) -> None:
        """Starts working off queued webhook deliveries (when some host is allowed) and
        writing captured inference requests."""
        self._dispatcher.start()
        self.inference.start()

    def close(self) -> None:
        """Stops the background work, then closes the stores."""
        self.deployment_runner.close()
        self._dispatcher.close()
        self.inference.close()
        self.traces.close()
        self._stores.close()


def build_services(stores: Stores, authorizer: Authorizer, settings: Settings) -> Services:
    """The services over `stores`, each asking `authorizer`, configured by `settings`
    (artifact roots and destination, trace payload limit, webhook hosts). The bundle owns
    `stores` from here on: `Services.close()` closes them."""
    roots = settings.artifact_roots
    dispatcher = WebhookDispatcher(stores.webhooks, settings.webhook_allowed_hosts)
    destination = settings.artifacts_destination if settings.serve_artifacts else None
    wrap = (
        encryption(settings.encryption_key, cache_s=settings.key_cache_s)
        if settings.encryption_key
        else None
    )
    runs = RunService(stores.runs, authorizer)
    # Captured bodies over 1 MiB go to the artifact destination, proxy served or not. They
    # are no experiment's: the inference and drift services reach them, for an endpoint
    # whose reader they have already checked (and the capture thread, for no caller).
    capture_files = ArtifactService(
        AllowAll(), destination=settings.artifacts_destination, wrap=wrap
    )
    registry = RegistryService(
        stores.registered_models,
        stores.model_versions,
        stores.model_sources,
        authorizer,
        artifact_roots=roots,
        runs=stores.runs,
        experiments=stores.experiments,
        namespaces=stores.namespaces,
        tag_guard=ApprovalTags(stores.deployment_jobs, authorizer),
    )
    custom = CustomTaskPolicy(
        modules=settings.job_task_modules, commands=settings.job_task_commands
    )
    schemas = LabelSchemaService(stores.label_schemas, stores.experiments, authorizer)
    workspaces = WorkspaceService(stores.workspaces, authorizer, artifact_roots=roots)
    experiments = ExperimentService(
        stores.experiments, authorizer, artifact_roots=roots,
        workspace_root=workspaces.default_root,
    )  # fmt: skip
    traces = TraceService(
        stores.traces,
        stores.assessments,
        authorizer,
        max_payload_bytes=settings.trace_max_payload_bytes,
    )
    return Services(
        workspaces=workspaces,
        experiments=experiments,
        runs=runs,
        logged_models=LoggedModelService(stores.logged_models, stores.experiments, authorizer),
        registry=registry,
        namespaces=NamespaceService(stores.namespaces, authorizer),
        webhooks=WebhookService(stores.webhooks, dispatcher, authorizer),
        traces=traces,
        trace_links=TraceLinkService(stores.trace_links, stores.traces, stores.runs, authorizer),
        trace_analytics=TraceAnalyticsService(stores.trace_analytics, authorizer),
        artifacts=ArtifactService(authorizer, destination=destination, wrap=wrap),
        endpoints=EndpointService(stores.endpoints, stores.replicas, registry, authorizer),
        inference=InferenceService(stores.inference, stores.endpoints, capture_files, authorizer),
        drift=DriftService(stores.endpoints, stores.inference, runs, capture_files, authorizer),
        datasets=DatasetService(stores.datasets, stores.experiments, authorizer),
        judge_cache=JudgeCacheService(stores.judge_cache, authorizer),
        judge_limits=JudgeLimitService(stores.judge_limits, authorizer),
        scorers=ScorerService(stores.scorers, stores.experiments, authorizer),
        label_schemas=schemas,
        judge_agreement=JudgeAgreementService(traces),
        thresholds=EvaluationThresholds(experiments, runs),
        review_queues=ReviewQueueService(
            stores.review_queues, schemas, stores.experiments, stores.traces, authorizer
        ),
        deployment_jobs=DeploymentJobService(stores.deployment_jobs, authorizer, custom),
        job_runs=JobRunService(stores.job_runs, stores.deployment_jobs, authorizer),
        deployment_runner=DeploymentRunner(stores.job_tasks, lease_s=settings.job_lease_s),
        gc=GarbageCollector(stores.purge, ArtifactLocations(settings.artifacts_destination, roots)),
        authorizer=authorizer,
        answers_at_once=stores.answers_at_once,
        _stores=stores,
        _dispatcher=dispatcher,
    )
