"""The HTTP backend of the client: the transport, and the REST API behind the same methods as
the services, one module per area."""

from heron.client.http.artifacts import HttpArtifacts
from heron.client.http.backend import HttpBackend
from heron.client.http.transport import Transport

__all__ = ["HttpArtifacts", "HttpBackend", "Transport"]
