"""SQL adapters of the store ports (SQLite and PostgreSQL, SQLAlchemy Core)."""

from __future__ import annotations

from dataclasses import dataclass

from heron.store.sql.database import Database
from heron.store.sql.experiments import SqlExperimentStore
from heron.store.sql.logged_models import SqlLoggedModelStore
from heron.store.sql.migrate import upgrade_if_needed
from heron.store.sql.registry import SqlRegisteredModelStore
from heron.store.sql.registry_namespaces import SqlNamespaceStore
from heron.store.sql.registry_sources import SqlModelSourceStore
from heron.store.sql.registry_versions import SqlModelVersionStore
from heron.store.sql.registry_webhooks import SqlWebhookStore
from heron.store.sql.runs import SqlRunStore
from heron.store.sql.security_audit import SqlAuditStore
from heron.store.sql.security_grants import SqlGrantStore
from heron.store.sql.security_principals import SqlGroupStore, SqlPrincipalStore
from heron.store.sql.security_roles import SqlRoleStore
from heron.store.sql.security_state import SqlSecurityState
from heron.store.sql.security_tokens import SqlSessionStore, SqlTokenStore
from heron.store.sql.traces import SqlTraceStore
from heron.store.sql.traces_assessments import SqlAssessmentStore


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

    @classmethod
    def on(cls, database: Database) -> SqlSecurityStores:
        return cls(
            SqlPrincipalStore(database),
            SqlGroupStore(database),
            SqlTokenStore(database),
            SqlSessionStore(database),
            SqlGrantStore(database),
            SqlRoleStore(database),
            SqlSecurityState(database),
            SqlAuditStore(database),
        )


@dataclass(frozen=True, slots=True)
class SqlStores:
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
    security: SqlSecurityStores

    def close(self) -> None:
        self.database.dispose()


def open_sql_stores(
    uri: str, *, default_artifact_root: str, sqlite_synchronous: str = "NORMAL"
) -> SqlStores:
    """Connects, brings the schema up to date (creating the Default experiment `0` on a new
    database) and returns the stores."""
    database = Database(uri, sqlite_synchronous=sqlite_synchronous)
    upgrade_if_needed(database)
    experiments = SqlExperimentStore(database, default_artifact_root=default_artifact_root)
    experiments.ensure_default_experiment()
    return SqlStores(
        database,
        experiments,
        SqlRunStore(database),
        SqlLoggedModelStore(database),
        SqlRegisteredModelStore(database),
        SqlModelVersionStore(database),
        SqlModelSourceStore(database),
        SqlNamespaceStore(database),
        SqlWebhookStore(database),
        traces=SqlTraceStore(database),
        assessments=SqlAssessmentStore(database),
        security=SqlSecurityStores.on(database),
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
