"""build_services: the one place the services are made, for the server, the UI, the SDK in
process and the CLI alike.

A new service is one field of `Services` and one line of `build_services`; everything that
serves or calls it takes it from the bundle."""

from __future__ import annotations

from dataclasses import dataclass, field

from heron.services.access import Authorizer
from heron.services.artifacts import ArtifactService
from heron.services.experiments import ExperimentService
from heron.services.gc import GarbageCollector
from heron.services.logged_models import LoggedModelService
from heron.services.registry import RegistryService
from heron.services.registry_namespaces import NamespaceService
from heron.services.registry_webhooks import WebhookDispatcher, WebhookService
from heron.services.runs import RunService
from heron.services.traces import TraceService
from heron.settings import Settings
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
    artifacts: ArtifactService
    gc: GarbageCollector
    authorizer: Authorizer
    # The stores answer without waiting on a network or an fsync (SQLite in WAL mode with
    # synchronous=NORMAL): a server may run handlers on its event loop.
    answers_at_once: bool
    # For start and close only: everything else reaches the stores through a service.
    _stores: Stores = field(repr=False)
    _dispatcher: WebhookDispatcher = field(repr=False)

    def start(self) -> None:
        """Starts working off queued webhook deliveries (when some host is allowed)."""
        self._dispatcher.start()

    def close(self) -> None:
        """Stops the background work, then closes the stores."""
        self._dispatcher.close()
        self.traces.close()
        self._stores.close()


def build_services(stores: Stores, authorizer: Authorizer, settings: Settings) -> Services:
    """The services over `stores`, each asking `authorizer`, configured by `settings`
    (artifact roots and destination, trace payload limit, webhook hosts). The bundle owns
    `stores` from here on: `Services.close()` closes them."""
    roots = settings.artifact_roots
    dispatcher = WebhookDispatcher(stores.webhooks, settings.webhook_allowed_hosts)
    destination = settings.artifacts_destination if settings.serve_artifacts else None
    return Services(
        experiments=ExperimentService(stores.experiments, authorizer, artifact_roots=roots),
        runs=RunService(stores.runs, authorizer),
        logged_models=LoggedModelService(stores.logged_models, stores.experiments, authorizer),
        registry=RegistryService(
            stores.registered_models,
            stores.model_versions,
            stores.model_sources,
            authorizer,
            artifact_roots=roots,
            runs=stores.runs,
            experiments=stores.experiments,
            namespaces=stores.namespaces,
        ),
        namespaces=NamespaceService(stores.namespaces, authorizer),
        webhooks=WebhookService(stores.webhooks, dispatcher, authorizer),
        traces=TraceService(
            stores.traces,
            stores.assessments,
            authorizer,
            max_payload_bytes=settings.trace_max_payload_bytes,
        ),
        artifacts=ArtifactService(authorizer, destination=destination),
        gc=GarbageCollector(stores.purge, ArtifactLocations(settings.artifacts_destination, roots)),
        authorizer=authorizer,
        answers_at_once=stores.answers_at_once,
        _stores=stores,
        _dispatcher=dispatcher,
    )
