"""The headers between the tracking server's invocation route and an endpoint's replicas
(`heron serving worker`), shared by both sides."""

from __future__ import annotations

REPLICA_TOKEN = "x-heron-replica-token"  # noqa: S105 - a header name; its value is in the database
SERVED_ENTITY = "x-heron-served-entity"  # asked for (shadow, served-models/...) and answered
SERVED_VERSION = "x-heron-served-version"  # the model version that answered
EXECUTION_MS = "x-heron-execution-ms"  # the replica's own time for the request
TRACE_ID = "x-heron-trace-id"  # the request's trace, when the model is traced
REPLICA_STATE = "x-heron-replica"  # "stopping" on a 503 from a draining replica
