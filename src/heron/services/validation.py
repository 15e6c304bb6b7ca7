"""MLflow's input limits and name rules, checked before anything is stored."""

from __future__ import annotations

import math
import posixpath
import re
import urllib.parse
from collections.abc import Sequence

from heron.errors import InvalidParameter

MAX_EXPERIMENT_NAME = 500
MAX_ENTITY_KEY = 250
MAX_PARAM_VALUE = 6000
MAX_RUN_TAG_VALUE = 8000
MAX_EXPERIMENT_TAG_VALUE = 20000
MAX_RUN_NAME = 250
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS = 100
MAX_BATCH_TAGS = 100
MAX_BATCH_TOTAL = 1000
MAX_DATASETS_PER_REQUEST = 1000
MAX_DATASET_NAME = 500
MAX_DATASET_DIGEST = 36
MAX_DATASET_SOURCE_TYPE = 36
MAX_DATASET_SOURCE = 65535
MAX_DATASET_SCHEMA = 1048575
MAX_DATASET_PROFILE = 16777215
MAX_INPUT_TAG_KEY = 255
MAX_INPUT_TAG_VALUE = 500
MAX_SEARCH_RESULTS = 50000
MAX_USER_ID = 256  # the widths of runs.user_id and of run and model ids in the tables
# The caller's name, which rows record as their author, creator or requester: the narrowest of
# those columns (serving_endpoints.creator and inference_records.requester).
MAX_CALLER_NAME = 250
MAX_RUN_ID = 32
MAX_MODEL_ID = 36
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_KEY_CHARS = re.compile(r"^[/\w.\- :]*$")
_RUN_ID = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")


def check_key(kind: str, key: object) -> str:
    """Metric, param and tag keys: `[/\\w.\\- :]`, at most 250 chars, no path tricks."""
    if not isinstance(key, str) or key == "":
        raise InvalidParameter(f"{kind} key must be a non-empty string, got {key!r}")
    if len(key) > MAX_ENTITY_KEY:
        raise InvalidParameter(
            f"{kind} key '{key[:40]}...' is {len(key)} characters long; the limit is "
            f"{MAX_ENTITY_KEY}"
        )
    if not _KEY_CHARS.match(key):
        raise InvalidParameter(
            f"Invalid {kind} key {key!r}: names may only contain alphanumerics, underscores (_),"
            " dashes (-), periods (.), spaces ( ), colons (:) and slashes (/)"
        )
    if posixpath.normpath(key) != key or key.startswith("/") or ".." in key.split("/"):
        raise InvalidParameter(
            f"Invalid {kind} key {key!r}: it must not start with '/' or contain '..' or '//'"
        )
    return key


def check_length(what: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise InvalidParameter(
            f"{what} is {len(value)} characters long; the limit is {limit}. "
            "Shorten it (Heron never truncates silently)."
        )
    return value


def holds_nul(what: str) -> InvalidParameter:
    """The error for a NUL character in `what`: PostgreSQL stores none in text, so Heron
    takes none on any database."""
    return InvalidParameter(f"{what} holds a NUL character (\\u0000); remove it")


def check_text(what: str, text: str) -> str:
    """A string to store as text, refused if it holds a NUL character."""
    if "\x00" in text:
        raise holds_nul(what)
    return text


def check_string(what: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidParameter(f"{what} must be a string, got {type(value).__name__}")
    return value


def check_int64(what: str, value: object, *, minimum: int = INT64_MIN) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameter(f"{what} must be an integer, got {value!r}")
    if not minimum <= value <= INT64_MAX:
        raise InvalidParameter(f"{what} must be between {minimum} and {INT64_MAX}, got {value}")
    return value


def check_timestamp(what: str, value: object) -> int:
    return check_int64(what, value, minimum=0)


def check_metric_value(key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameter(f"Metric {key!r} value must be a number, got {value!r}")
    result = float(value)
    if isinstance(value, int) and not math.isfinite(result):
        raise InvalidParameter(f"Metric {key!r} value {value} does not fit in a double")
    return result


def check_run_id(run_id: object) -> str:
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise InvalidParameter(f"Invalid run id {run_id!r}")
    return run_id


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ENCODED_SEPARATOR = re.compile(r"%(?:2f|5c)", re.IGNORECASE)


def check_plain_name(what: str, name: str) -> str:
    """A name shown in logs, terminals and pages: no control characters (CR, LF, ESC...: they
    forge log lines and repaint terminals), no %-escaped path separator (%2F, %5C: a later
    decoding would make it a path)."""
    found = _CONTROL.search(name)
    if found:
        raise InvalidParameter(
            f"{what} {name[:100]!r} contains the control character {found.group()!r}"
        )
    if _ENCODED_SEPARATOR.search(name):
        raise InvalidParameter(f"{what} {name[:100]!r} contains an escaped path separator")
    return name


_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:(?:[\\/]|$)")


def check_location(what: str, location: str) -> str:
    """An artifact location or model source must name this server's storage: never another
    host (`mlflow-artifacts://host:port/...`, `file://host/...`), a Windows drive (`C:/`)
    or a backslash path."""
    if _WINDOWS_DRIVE.match(location) or "\\" in location:
        raise InvalidParameter(f"{what} {location[:200]!r} names a Windows drive or path")
    parts = urllib.parse.urlsplit(location)
    if parts.scheme in ("", "file", "mlflow-artifacts") and parts.netloc:
        raise InvalidParameter(
            f"{what} {location[:200]!r} names the host {parts.netloc[:100]!r}; only this "
            "server's own storage may be named"
        )
    return location


def check_run_reference(what: str, run_id: object) -> str:
    """A run id another row keeps (a logged model's source run, a model version's run): MLflow's
    rule for run ids, and no wider than Heron's, which the column holds."""
    return check_length(what, check_run_id(run_id), MAX_RUN_ID)


def check_model_reference(what: str, model_id: object) -> str:
    """A logged model id another row keeps (a model version's, a run's outputs and inputs, a
    metric's): a non-empty string no wider than a model id."""
    if not isinstance(model_id, str) or not model_id:
        raise InvalidParameter(f"{what} must be a non-empty string, got {model_id!r}")
    return check_length(what, model_id, MAX_MODEL_ID)


def check_experiment_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameter("Experiment name must be a non-empty string")
    check_plain_name("Experiment name", name)
    return check_length("Experiment name", name, MAX_EXPERIMENT_NAME)


def check_max_results(value: int, limit: int = MAX_SEARCH_RESULTS) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidParameter(f"max_results must be a positive integer, got {value!r}")
    if value > limit:
        raise InvalidParameter(f"max_results must be at most {limit}, got {value}")
    return value


def confined_location(what: str, location: str, roots: Sequence[str], hint: str) -> str:
    """An artifact location a caller chose (an experiment's, a workspace's root): inside one
    of the artifact roots this server allows (`roots`, without a trailing /), never through
    '..'. `hint` ends the refusal with what to do instead."""
    location = check_location(what, location).rstrip("/")
    if ".." in location.split("/"):
        raise InvalidParameter(f"{what} {location!r} must not contain '..'")
    for root in roots:
        if location == root or location.startswith(root + "/"):
            return location
    allowed = ", ".join(roots) or "(none)"
    raise InvalidParameter(
        f"{what} {location!r} is outside the artifact roots this server allows ({allowed}). " + hint
    )
