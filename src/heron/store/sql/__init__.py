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
from heron.store.sql.trace_analytics import SqlTraceAnalyticsStore
from heron.store.sql.traces import SqlTraceStore
from heron.store.sql.traces_assessments import SqlAssessmentStore


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
    trace_analytics: SqlTraceAnalyticsStore

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
        trace_analytics=SqlTraceAnalyticsStore(database),
    )


__all__ = [
    "Database",
    "SqlExperimentStore",
    "SqlLoggedModelStore",
    "SqlRunStore",
    "SqlStores",
    "open_sql_stores",
]
