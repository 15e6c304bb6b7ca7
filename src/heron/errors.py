"""Heron's one exception hierarchy; each class carries its MLflow error code."""

from __future__ import annotations


class HeronError(Exception):
    """Base class. The message is shown to API clients: say what to fix."""

    code = "INTERNAL_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidParameter(HeronError):
    code = "INVALID_PARAMETER_VALUE"


class BadRequest(HeronError):
    code = "BAD_REQUEST"


class NotFound(HeronError):
    code = "RESOURCE_DOES_NOT_EXIST"


class AlreadyExists(HeronError):
    code = "RESOURCE_ALREADY_EXISTS"


class PermissionDenied(HeronError):
    code = "PERMISSION_DENIED"


class Unauthenticated(HeronError):
    code = "UNAUTHENTICATED"


class RequestLimitExceeded(HeronError):
    code = "REQUEST_LIMIT_EXCEEDED"


class InvalidState(HeronError):
    code = "INVALID_STATE"


class Conflict(HeronError):
    """The request is sound but the object's state refuses it (a workspace that still holds
    experiments): 409, where MLflow answers INVALID_STATE with a 500."""

    code = "RESOURCE_CONFLICT"


class NotImplementedByServer(HeronError):
    code = "NOT_IMPLEMENTED"


class TemporarilyUnavailable(HeronError):
    code = "TEMPORARILY_UNAVAILABLE"


class KeyUnavailable(TemporarilyUnavailable):
    """An encryption key is revoked, disabled, missing or unreachable: the content it
    protects is refused (never served in clear or as garbage) until the key is back."""


class DataLoss(HeronError):
    """Stored content failed its integrity check (an encrypted object was altered)."""

    code = "DATA_LOSS"


_BY_CODE: dict[str, type[HeronError]] = {
    cls.code: cls
    for cls in (
        HeronError,
        InvalidParameter,
        BadRequest,
        NotFound,
        AlreadyExists,
        PermissionDenied,
        Unauthenticated,
        RequestLimitExceeded,
        InvalidState,
        Conflict,
        NotImplementedByServer,
        TemporarilyUnavailable,
        DataLoss,
    )
}


def error_for_code(code: str, message: str) -> HeronError:
    """The exception a client raises for an `error_code` it received over the wire."""
    cls = _BY_CODE.get(code, HeronError)
    err = cls(message)
    if cls is HeronError:
        err.code = code
    return err
