"""SQL adapters of the store ports (SQLite and PostgreSQL, SQLAlchemy Core)."""

from __future__ import annotations

from dataclasses import dataclass

from heron.store.crypto.fields import FieldCipher, Sealer
from heron.store.sql.database import Database
from heron.store.sql.datasets import SqlDatasetStore
from heron.store.sql.experiments import SqlExperimentStore
from heron.store.sql.inference import SqlInferenceStore
from heron.store.sql.jobs import SqlDeploymentJobStore
from heron.store.sql.jobs_queue import SqlJobTaskQueue
from heron.store.sql.jobs_runs import SqlJobRunStore
from heron.store.sql.judge_cache import SqlJudgeCacheStore
from heron.store.sql.label_schemas import SqlLabelSchemaStore
from heron.store.sql.logged_models import SqlLoggedModelStore
from heron.store.sql.migrate import upgrade_if_needed
from heron.store.sql.purge import SqlPurgeStore
from heron.store.sql.registry import SqlRegisteredModelStore
from heron.store.sql.registry_namespaces import SqlNamespaceStore
from heron.store.sql.registry_sources import SqlModelSourceStore
from heron.store.sql.registry_versions import SqlModelVersionStore
from heron.store.sql.registry_webhooks import SqlWebhookStore
from heron.store.sql.review_queues import SqlReviewQueueStore
from heron.store.sql.runs import SqlRunStore
from heron.store.sql.scorers import SqlScorerStore
from heron.store.sql.security_audit import SqlAuditStore
from heron.store.sql.security_grants import SqlGrantStore
from heron.store.sql.security_owners import SqlOwnerStore
from heron.store.sql.security_principals import SqlGroupStore, SqlPrincipalStore
from heron.store.sql.security_roles import SqlRoleStore
from heron.store.sql.security_state import SqlSecurityState
from heron.store.sql.security_tokens import SqlSessionStore, SqlTokenStore
from heron.store.sql.serving import SqlEndpointStore, SqlReplicaStore
from heron.store.sql.trace_analytics import SqlTraceAnalyticsStore
from heron.store.sql.trace_links import SqlTraceLinkStore
from heron.store.sql.traces import SqlTraceStore
from heron.store.sql.traces_assessments import SqlAssessmentStore
from heron.store.sql.workspaces import SqlWorkspaceStore


@dataclass(frozen=True, slots=True)
class SqlSecurityStores:
    principals: SqlPrincipalStore
    groups: SqlGroupStore
    tokens: SqlTokenStore
    sessions: SqlSessionStore
    grants: SqlGrantStore
    roles: SqlRoleStore
    state: SqlSecurityState
    audit: SqlAuditStore
    owners: SqlOwnerStore

    @classmethod
    def on(cls, database: Database, sealer: Sealer | None = None) -> SqlSecurityStores:
        return cls(
            SqlPrincipalStore(database),
            SqlGroupStore(database),
            SqlTokenStore(database, sealer),
            SqlSessionStore(database),
            SqlGrantStore(database),
            SqlRoleStore(database),
            SqlSecurityState(database),
            SqlAuditStore(database, sealer),
            SqlOwnerStore(database),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SqlStores:
    """Every store of one database (`heron.store.stores.Stores`)."""

    database: Database
    experiments: SqlExperimentStore
    runs: SqlRunStore
    logged_models: SqlLoggedModelStore
    registered_models: SqlRegisteredModelStore
    model_versions: SqlModelVersionStore
    model_sources: SqlModelSourceStore
    namespaces: SqlNamespaceStore
    webhooks: SqlWebhookStore
    traces: SqlTraceStore
    assessments: SqlAssessmentStore
    trace_links: SqlTraceLinkStore
    trace_analytics: SqlTraceAnalyticsStore
    purge: SqlPurgeStore
    endpoints: SqlEndpointStore
    replicas: SqlReplicaStore
    inference: SqlInferenceStore
    datasets: SqlDatasetStore
    judge_cache: SqlJudgeCacheStore
    scorers: SqlScorerStore
    label_schemas: SqlLabelSchemaStore
    review_queues: SqlReviewQueueStore
    security: SqlSecurityStores
    deployment_jobs: SqlDeploymentJobStore
    job_runs: SqlJobRunStore
    job_tasks: SqlJobTaskQueue
    workspaces: SqlWorkspaceStore

    @property
    def answers_at_once(self) -> bool:
        return self.database.answers_at_once

    def close(self) -> None:
        self.security.state.close()
        self.database.dispose()


def open_sql_stores(
    uri: str,
    *,
    default_artifact_root: str,
    sqlite_synchronous: str = "NORMAL",
    create_default_experiment: bool = True,
    fields: FieldCipher | None = None,
) -> SqlStores:
    """Connects, brings the schema up to date and returns the stores. A database without the
    Default experiment `0` gets it, unless `create_default_experiment` is False (`heron gc`,
    which may just have purged it, leaves it out). With `fields`, sensitive fields are stored
    encrypted (docs/encryption.md): webhook secrets, tokens' names, trace previews and span
    inputs and outputs, params and tags of sensitive keys (of runs, traces, experiments, logged
    models, registered models and model versions)."""
    database = Database(uri, sqlite_synchronous=sqlite_synchronous)
    sealer = Sealer(fields)
    upgrade_if_needed(database)
    experiments = SqlExperimentStore(
        database, default_artifact_root=default_artifact_root, sealer=sealer
    )
    if create_default_experiment:
        experiments.ensure_default_experiment()
    return SqlStores(
        database=database,
        experiments=experiments,
        runs=SqlRunStore(database, sealer),
        logged_models=SqlLoggedModelStore(database, sealer),
        registered_models=SqlRegisteredModelStore(database, sealer),
        model_versions=SqlModelVersionStore(database, sealer),
        model_sources=SqlModelSourceStore(database),
        namespaces=SqlNamespaceStore(database),
        webhooks=SqlWebhookStore(database, sealer),
        traces=SqlTraceStore(database, sealer),
        assessments=SqlAssessmentStore(database, sealer),
        trace_links=SqlTraceLinkStore(database),
        trace_analytics=SqlTraceAnalyticsStore(database, sealer),
        purge=SqlPurgeStore(database),
        endpoints=SqlEndpointStore(database),
        replicas=SqlReplicaStore(database),
        inference=SqlInferenceStore(database),
        datasets=SqlDatasetStore(database),
        judge_cache=SqlJudgeCacheStore(database, sealer),
        scorers=SqlScorerStore(database),
        label_schemas=SqlLabelSchemaStore(database),
        review_queues=SqlReviewQueueStore(database),
        security=SqlSecurityStores.on(database, sealer),
        deployment_jobs=SqlDeploymentJobStore(database),
        job_runs=SqlJobRunStore(database),
        job_tasks=SqlJobTaskQueue(database),
        workspaces=SqlWorkspaceStore(database),
    )


__all__ = [
    "Database",
    "SqlExperimentStore",
    "SqlLoggedModelStore",
    "SqlRunStore",
    "SqlSecurityStores",
    "SqlStores",
    "open_sql_stores",
]
