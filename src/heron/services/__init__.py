"""The domain rules: validation, limits, permissions. What the server and the SDK both call."""

from heron.services.access import AllowAll, Authorizer, Identity, current_identity, identity_scope
from heron.services.experiments import ExperimentService
from heron.services.runs import RunService

__all__ = [
    "AllowAll",
    "Authorizer",
    "ExperimentService",
    "Identity",
    "RunService",
    "current_identity",
    "identity_scope",
]
