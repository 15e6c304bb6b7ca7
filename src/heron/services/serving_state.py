"""An endpoint's state as its replicas report it: ready or not, its configuration update
in progress, done or failed (Databricks' `state.ready` and `state.config_update`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from heron.entities.serving import EndpointConfig, Replica, ReplicaState, ServingEndpoint

# A replica that has not reported for this long is taken for dead.
HEARTBEAT_TIMEOUT_MS = 10_000


class ConfigUpdate:
    NOT_UPDATING = "NOT_UPDATING"
    IN_PROGRESS = "IN_PROGRESS"
    UPDATE_FAILED = "UPDATE_FAILED"


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointStatus:
    """An endpoint with its state as its live replicas report it.

    `served_config` is the newest configuration some replica answers with (None before the
    first is ready); `pending_config` the newest configuration while the replicas are not all
    on it; `versions` what each entity of the newest configuration resolves to now (a
    followed alias's current version; None when it resolves to nothing)."""

    endpoint: ServingEndpoint
    ready: bool
    config_update: str
    served_config: EndpointConfig | None
    pending_config: EndpointConfig | None
    versions: Mapping[str, str | None]
    replicas: Sequence[Replica]
    message: str = ""


def answers(replica: Replica) -> bool:
    """Whether a replica serves some configuration (a FAILED one may still serve an older)."""
    return replica.state == ReplicaState.READY or (
        replica.state == ReplicaState.FAILED and replica.config_version > 0
    )


def status_of(
    endpoint: ServingEndpoint,
    replicas: Sequence[Replica],
    versions: Mapping[str, str | None],
    config_at: Callable[[int], EndpointConfig | None],
) -> EndpointStatus:
    """The state of `endpoint` from its `replicas`' reports, given what its newest
    configuration's entities resolve to (`versions`)."""
    cutoff = int(time.time() * 1000) - HEARTBEAT_TIMEOUT_MS
    live = [r for r in replicas if r.heartbeat_at >= cutoff and r.state != ReplicaState.STOPPING]
    serving = [r for r in live if answers(r)]
    newest = endpoint.config

    def current(r: Replica) -> bool:
        return (
            r.state == ReplicaState.READY
            and r.config_version == newest.config_version
            and all(r.versions.get(name) == v for name, v in versions.items())
        )

    served: EndpointConfig | None = None
    if serving:
        top = max(r.config_version for r in serving)
        served = newest if top == newest.config_version else config_at(top)
    failed = [r for r in live if r.state == ReplicaState.FAILED]
    if serving and all(current(r) for r in serving):
        update, message = ConfigUpdate.NOT_UPDATING, ""
    elif failed:
        update, message = ConfigUpdate.UPDATE_FAILED, failed[0].message
    else:
        update, message = ConfigUpdate.IN_PROGRESS, ""
        if any(v is None for v in versions.values()):
            missing = [name for name, v in versions.items() if v is None]
            message = f"No model version to serve for {missing}: its version or alias is gone"
            update = ConfigUpdate.UPDATE_FAILED
    return EndpointStatus(
        endpoint=endpoint,
        ready=bool(serving),
        config_update=update,
        served_config=served,
        pending_config=None if update == ConfigUpdate.NOT_UPDATING else newest,
        versions=versions,
        replicas=live,
        message=message,
    )
