"""Managed serving endpoints: their configurations, the replicas serving them, and the
records of their inference tables."""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class ServedEntity:
    """One registered model version an endpoint serves: a fixed version, or the version an
    alias points at (followed as the alias moves)."""

    name: str  # unique within the configuration; routes name it
    entity_name: str  # the registered model
    entity_version: str | None = None  # a version number, or
    entity_alias: str | None = None  # an alias to follow (Heron's; Databricks has none)
    workload_size: str = "Small"
    scale_to_zero_enabled: bool = False
    environment_vars: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrafficRoute:
    served_entity_name: str
    traffic_percentage: int


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointConfig:
    """One version of an endpoint's configuration. `shadow_routes` mirror that share of the
    requests to another entity and compare its answers (Heron's; they never answer)."""

    config_version: int
    served_entities: Sequence[ServedEntity]
    routes: Sequence[TrafficRoute]
    shadow_routes: Sequence[TrafficRoute] = ()
    creation_timestamp: int = 0  # ms since epoch

    def entity(self, name: str) -> ServedEntity | None:
        return next((e for e in self.served_entities if e.name == name), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class InferenceTableConfig:
    """Whether the endpoint's requests are captured, and which share of them."""

    enabled: bool = False
    catalog_name: str | None = None
    schema_name: str | None = None
    table_name_prefix: str | None = None
    sampling_fraction: float = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ServingEndpoint:
    endpoint_id: str
    name: str
    creator: str
    creation_timestamp: int
    last_updated_timestamp: int
    config: EndpointConfig  # the newest configuration (what the replicas roll to)
    tags: Mapping[str, str] = field(default_factory=dict)
    inference_table: InferenceTableConfig = field(default_factory=InferenceTableConfig)


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointResponse:
    """A serving endpoint's answer to one query: the decoded JSON body (MLflow's
    `{"predictions": ...}` for a classic model, the bare answer of a chat model), or the
    decoded events of a streamed answer (`chunks`), with the served entity and model version
    that gave it, the request id its inference record is filed under, and its trace."""

    body: Any
    served_entity: str = ""
    served_version: str = ""
    request_id: str = ""
    trace_id: str | None = None
    chunks: Sequence[Any] = ()


class ReplicaState(enum.StrEnum):
    LOADING = "LOADING"  # loading the configuration's models
    READY = "READY"  # answering
    FAILED = "FAILED"  # could not load the newest configuration (still serves an older one)
    STOPPING = "STOPPING"  # draining: takes no new requests


@dataclass(frozen=True, slots=True, kw_only=True)
class Replica:
    """One `heron serving worker` process serving an endpoint, as it reports itself.

    `token` is the capability the tracking server presents to call it (never shown by the
    API); `versions` maps each served entity it has loaded to the model version it serves."""

    replica_id: str
    endpoint_id: str
    url: str
    token: str
    state: ReplicaState
    config_version: int
    versions: Mapping[str, str]
    host: str = ""
    pid: int = 0
    message: str = ""
    started_at: int = 0  # ms since epoch
    heartbeat_at: int = 0  # ms since epoch


@dataclass(frozen=True, slots=True, kw_only=True)
class InferenceRecord:
    """One captured request and its answer, with Databricks' inference-table columns.

    A body over the inline limit is kept as an artifact (`request_artifact`,
    `response_artifact`: its path under the endpoint's capture directory) with the column
    empty; a streamed answer keeps its chunks (`response_chunks`, a JSON array) as well as
    their merge (`response`)."""

    request_id: str
    endpoint_id: str
    endpoint_name: str
    request_time: int  # ms since epoch
    status_code: int
    execution_duration_ms: int
    served_entity_id: str = ""  # the served entity's name
    served_version: str = ""  # the model version that answered
    requester: str = ""
    client_request_id: str | None = None
    request: str | None = None
    response: str | None = None
    response_chunks: str | None = None
    request_artifact: str | None = None
    response_artifact: str | None = None
    logging_error_codes: Sequence[str] = ()
    trace_id: str | None = None

    @property
    def request_date(self) -> str:
        """The request's UTC date, `YYYY-MM-DD` (Databricks' partition column)."""
        return utc_date(self.request_time)


def utc_date(ms: int) -> str:
    """The UTC date of a time in ms since epoch, `YYYY-MM-DD`."""
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).date().isoformat()


# The upper bounds (ms) of the latency histogram kept per minute; a last bucket counts the rest.
LATENCY_BUCKETS_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000)


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointMinute:
    """The requests one endpoint's served entity and version answered in one minute (and the
    shadow comparisons and dropped captures of that minute)."""

    endpoint_id: str
    minute: int  # ms since epoch, a multiple of 60,000
    served_entity: str
    served_version: str
    requests: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    latency_sum_ms: float = 0.0
    latency_buckets: Sequence[int] = ()  # one count per LATENCY_BUCKETS_MS bound, then the rest
    shadow_requests: int = 0
    shadow_agreed: int = 0
    shadow_errors: int = 0
    shadow_latency_diff_sum_ms: float = 0.0
    capture_dropped: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftReport:
    """One computation of an endpoint's input drift: `features` holds one entry a feature
    (its name, kind, test, statistic, p-value, threshold and whether it drifted)."""

    endpoint_id: str
    computed_at: int  # ms since epoch
    window_start: int
    window_end: int
    reference: str
    reference_rows: int
    current_rows: int
    method: str  # "auto" (the defaults by reference size) or "psi"
    features: Sequence[Mapping[str, object]] = ()
    message: str = ""
