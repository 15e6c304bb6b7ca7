"""What the UI's pages call: the same services the REST API calls, built by create_app."""

from __future__ import annotations

from dataclasses import dataclass

from heron.services import ExperimentService, RunService
from heron.services.logged_models import LoggedModelService
from heron.services.registry import RegistryService
from heron.services.trace_analytics import TraceAnalyticsService
from heron.services.traces import TraceService
from heron.store.artifacts import ArtifactRepository


@dataclass(frozen=True, slots=True, kw_only=True)
class UIServices:
    experiments: ExperimentService
    runs: RunService
    logged_models: LoggedModelService
    registry: RegistryService
    traces: TraceService
    trace_analytics: TraceAnalyticsService
    artifacts: ArtifactRepository | None  # the proxy's repository; None when it is off
