"""The in-process backend: the SQL stores and the services, with no server in between."""

from __future__ import annotations

import os
import re
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from heron.client.artifacts import ServiceArtifacts
from heron.client.uri import sql_uri
from heron.entities.serving import EndpointResponse
from heron.errors import NotImplementedByServer, TemporarilyUnavailable
from heron.services import AllowAll
from heron.services.build import Services, build_services
from heron.services.datasets import DatasetService
from heron.services.deployment_job_runs import JobRunService
from heron.services.deployment_jobs import DeploymentJobService
from heron.services.experiments import ExperimentService
from heron.services.inference import InferenceService
from heron.services.judge_cache import JudgeCacheService
from heron.services.judge_limits import JudgeLimitService
from heron.services.logged_models import LoggedModelService
from heron.services.registry import RegistryService
from heron.services.registry_namespaces import NamespaceService
from heron.services.registry_webhooks import WebhookService
from heron.services.runs import RunService
from heron.services.scorers import ScorerService
from heron.services.serving_endpoints import EndpointService
from heron.services.traces import TraceService
from heron.settings import PROXIED_ARTIFACT_ROOT, Settings, sensitive_key_patterns
from heron.store.crypto.envelope import DEFAULT_CACHE_S
from heron.store.crypto.fields import field_cipher
from heron.store.sql import open_sql_stores

WEBHOOK_HOSTS_ENV = "HERON_WEBHOOK_ALLOWED_HOSTS"
ENCRYPTION_KEY_ENV = "HERON_ENCRYPTION_KEY"  # as `heron server` reads it
SENSITIVE_KEYS_ENV = "HERON_SENSITIVE_KEYS"


class LocalBackend:
    """Opens the database a tracking URI names and calls the services directly.

    Artifact locations are `mlflow-artifacts:` URIs, as a server on the same data directory
    hands out, so a server started later serves the same runs and their artifacts: files go
    to `<data directory>/artifacts`, where such a server keeps them."""

    def __init__(
        self,
        uri: str,
        *,
        artifacts_destination: str | None = None,
        encryption_key: str | None = None,
        sensitive_keys: tuple[str, ...] | None = None,
    ) -> None:
        database_uri = sql_uri(uri)
        encryption_key = encryption_key or os.environ.get(ENCRYPTION_KEY_ENV) or None
        if sensitive_keys is None:
            sensitive_keys = sensitive_key_patterns(os.environ.get(SENSITIVE_KEYS_ENV))
        try:
            stores = open_sql_stores(
                database_uri,
                default_artifact_root=PROXIED_ARTIFACT_ROOT,
                fields=field_cipher(
                    encryption_key,
                    cache_s=DEFAULT_CACHE_S,
                    sensitive_keys=sensitive_keys,
                ),
            )
        except SQLAlchemyError as exc:
            lines = str(exc).strip().splitlines() or [type(exc).__name__]
            safe = re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", database_uri)
            raise TemporarilyUnavailable(f"Could not open {safe}: {lines[0]}") from None
        settings = Settings(
            backend_store_uri=database_uri,
            artifacts_destination=artifacts_destination
            or _artifacts_destination(uri, database_uri),
            webhook_allowed_hosts=webhook_allowed_hosts(),
            encryption_key=encryption_key,
            sensitive_keys=sensitive_keys,
        )
        self._services: Services = build_services(stores, AllowAll(), settings)
        self._services.start()  # works off queued deliveries, when hosts are allowed
        self._artifacts = ServiceArtifacts(self._services.artifacts)

    @property
    def experiments(self) -> ExperimentService:
        return self._services.experiments

    @property
    def runs(self) -> RunService:
        return self._services.runs

    @property
    def logged_models(self) -> LoggedModelService:
        return self._services.logged_models

    @property
    def artifacts(self) -> ServiceArtifacts:
        return self._artifacts

    @property
    def registry(self) -> RegistryService:
        return self._services.registry

    @property
    def traces(self) -> TraceService:
        return self._services.traces

    @property
    def namespaces(self) -> NamespaceService:
        return self._services.namespaces

    @property
    def webhooks(self) -> WebhookService:
        return self._services.webhooks

    @property
    def datasets(self) -> DatasetService:
        return self._services.datasets

    @property
    def judge_cache(self) -> JudgeCacheService:
        return self._services.judge_cache

    @property
    def judge_limits(self) -> JudgeLimitService:
        return self._services.judge_limits

    @property
    def scorers(self) -> ScorerService:
        return self._services.scorers

    @property
    def deployment_jobs(self) -> DeploymentJobService:
        return self._services.deployment_jobs

    @property
    def job_runs(self) -> JobRunService:
        return self._services.job_runs

    @property
    def endpoints(self) -> EndpointService:
        return self._services.endpoints

    @property
    def inference(self) -> InferenceService:
        return self._services.inference

    @property
    def invocations(self) -> NoInvocations:
        return NoInvocations()

    def close(self) -> None:
        self._services.close()


class NoInvocations:
    """Querying needs the tracking server: it routes each request to a replica and captures
    it in the inference table, which a client holding only the database cannot do."""

    def query(
        self,
        name: str,
        body: bytes,
        *,
        content_type: str = "application/json",
        served_entity: str | None = None,
    ) -> EndpointResponse:
        raise NotImplementedByServer(
            f"Querying serving endpoint {name!r} goes through the tracking server that routes "
            "to its replicas: use its http:// URL as the tracking URI (--tracking-uri or "
            "$HERON_TRACKING_URI)"
        )


def webhook_allowed_hosts() -> tuple[str, ...]:
    """Hosts webhooks may call from this process: `$HERON_WEBHOOK_ALLOWED_HOSTS`, a comma-
    separated list like the server's `--webhook-allowed-host` flags. None when unset."""
    listed = os.environ.get(WEBHOOK_HOSTS_ENV, "")
    return tuple(h.strip() for h in listed.split(",") if h.strip())


def _artifacts_destination(uri: str, database_uri: str) -> str:
    """`<dir>/artifacts` for a data directory; for a database URI given as such, the default
    data directory's (`$HERON_HOME`), as `heron server --backend-store-uri` uses."""
    if database_uri == uri:
        return Settings.for_home().artifacts_destination
    home = Path(database_uri.removeprefix("sqlite:///")).parent
    return Settings.for_home(home).artifacts_destination
