"""Stores: every store port of one database, as `heron.services.build_services` takes them."""

from __future__ import annotations

from typing import Protocol

from heron.store.deployment_jobs import DeploymentJobStore, JobRunStore, JobTaskQueue
from heron.store.evaluation import DatasetStore, JudgeCacheStore, JudgeLimitStore, ScorerStore
from heron.store.experiments import ExperimentStore
from heron.store.logged_models import LoggedModelStore
from heron.store.purge import PurgeStore
from heron.store.registry import (
    ModelSourceStore,
    ModelVersionStore,
    NamespaceStore,
    RegisteredModelStore,
    WebhookStore,
)
from heron.store.review import LabelSchemaStore, ReviewQueueStore
from heron.store.runs import RunStore
from heron.store.serving import EndpointStore, InferenceStore, ReplicaStore
from heron.store.trace_analytics import TraceAnalyticsStore
from heron.store.traces import AssessmentStore, TraceLinkStore, TraceStore
from heron.store.workspaces import WorkspaceStore


class Stores(Protocol):
    """The stores of one database (`heron.store.sql.SqlStores` on SQLite or PostgreSQL)."""

    @property
    def experiments(self) -> ExperimentStore: ...

    @property
    def runs(self) -> RunStore: ...

    @property
    def logged_models(self) -> LoggedModelStore: ...

    @property
    def registered_models(self) -> RegisteredModelStore: ...

    @property
    def model_versions(self) -> ModelVersionStore: ...

    @property
    def model_sources(self) -> ModelSourceStore: ...

    @property
    def namespaces(self) -> NamespaceStore: ...

    @property
    def webhooks(self) -> WebhookStore: ...

    @property
    def traces(self) -> TraceStore: ...

    @property
    def assessments(self) -> AssessmentStore: ...

    @property
    def trace_links(self) -> TraceLinkStore: ...

    @property
    def trace_analytics(self) -> TraceAnalyticsStore: ...

    @property
    def purge(self) -> PurgeStore: ...

    @property
    def endpoints(self) -> EndpointStore: ...

    @property
    def replicas(self) -> ReplicaStore: ...

    @property
    def inference(self) -> InferenceStore: ...

    @property
    def datasets(self) -> DatasetStore: ...

    @property
    def judge_cache(self) -> JudgeCacheStore: ...

    @property
    def judge_limits(self) -> JudgeLimitStore: ...

    @property
    def scorers(self) -> ScorerStore: ...

    @property
    def label_schemas(self) -> LabelSchemaStore: ...

    @property
    def review_queues(self) -> ReviewQueueStore: ...

    @property
    def deployment_jobs(self) -> DeploymentJobStore: ...

    @property
    def job_runs(self) -> JobRunStore: ...

    @property
    def job_tasks(self) -> JobTaskQueue: ...

    @property
    def answers_at_once(self) -> bool:
        """Whether a statement never waits on a network or an fsync (SQLite in WAL mode with
        synchronous=NORMAL), so callers may run it on an event loop."""
        ...

    def close(self) -> None: ...

    @property
    def workspaces(self) -> WorkspaceStore: ...
