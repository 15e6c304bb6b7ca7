"""The registry's input rules: model names, aliases, tags, version numbers, and where a new
version's files are (its source URI resolved and confined)."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from heron.entities import reserved
from heron.entities.registry import ModelVersion
from heron.errors import InvalidParameter, NotFound
from heron.services import validation as v
from heron.store import ids
from heron.store.artifacts import paths
from heron.store.registry import ModelSourceStore

MAX_MODEL_NAME = 256
MAX_ALIAS = 255
MAX_TAG_VALUE = 100_000
MAX_DESCRIPTION = 100_000
MAX_SOURCE = 10_000

_LOGGED_MODEL_ID = re.compile(r"m-[0-9a-f]{32}")
_ALIAS = re.compile(r"[A-Za-z0-9_-]+")
_VERSION_ALIAS = re.compile(r"[vV]\d+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# MLflow compat: a prompt version's source is a placeholder (the client sends "dummy-source",
# MLflow's store "prompt-template"); it names no files.
PROMPT_SOURCES = frozenset({"dummy-source", "prompt-template"})


def check_model_name(name: object, field: str = "name") -> str:
    """Registered model names: non-empty, at most 256 characters, no '/' or ':' (they would
    change what a `models:/` URI means), not '*' (every model, in grants), no control
    characters, not '.' or '..', and not shaped like a LoggedModel id (`models:/m-<32 hex>`
    names that model)."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameter(f"Missing value for required parameter '{field}'")
    v.check_length("Registered model name", name, MAX_MODEL_NAME)
    if "/" in name or ":" in name:
        raise InvalidParameter(f"Invalid model name {name!r}. Names cannot contain '/' or ':'.")
    if name == "*":  # its maker would own every model of the workspace
        raise InvalidParameter("Invalid model name '*': in grants it stands for every model")
    v.check_plain_name("Model name", name)  # also no %2F, which a later decoding makes a '/'
    if _CONTROL.search(name) or "\\" in name:
        raise InvalidParameter(
            f"Invalid model name {name!r}: it contains a control character or a backslash"
        )
    if name.strip(".") == "" or _LOGGED_MODEL_ID.fullmatch(name):
        raise InvalidParameter(
            f"Invalid model name {name!r}: it is reserved (dots only, or a LoggedModel id)"
        )
    if "@" in name:
        raise InvalidParameter(f"Invalid model name {name!r}: '@' introduces an alias in URIs")
    return name


def check_alias(alias: object) -> str:
    """Aliases: [A-Za-z0-9_-], at most 255 characters, not 'latest', not v<digits>."""
    if not isinstance(alias, str) or alias == "":
        raise InvalidParameter("Registered model alias name cannot be empty.")
    if not _ALIAS.fullmatch(alias):
        raise InvalidParameter(
            f"Invalid alias name: {alias!r}. Aliases may only contain letters, digits, "
            "underscores (_) and dashes (-)."
        )
    v.check_length("Registered model alias name", alias, MAX_ALIAS)
    if alias.lower() == "latest":
        raise InvalidParameter("'latest' alias name (case insensitive) is reserved.")
    if _VERSION_ALIAS.fullmatch(alias):
        raise InvalidParameter(f"Version alias name {alias!r} is reserved.")
    return alias


def check_version(version: object) -> str:
    """Version numbers are positive decimal integers, sent as strings (`store.ids`)."""
    return ids.model_version(version)


def check_tag(kind: str, key: object, value: object) -> None:
    v.check_key(kind, key)
    v.check_length(f"{kind} {key!r} value", v.check_string("value", value), MAX_TAG_VALUE)


def check_tags(kind: str, tags: Mapping[str, str] | None) -> dict[str, str]:
    result = dict(tags or {})
    for key, value in result.items():
        check_tag(kind, key, value)
    return result


def check_description(description: object) -> str | None:
    if description is None:
        return None
    return v.check_length(
        "Description", v.check_string("description", description), MAX_DESCRIPTION
    )


@dataclass(frozen=True, slots=True)
class ResolvedSource:
    storage_location: str
    run_id: str | None
    model_id: str | None


# The placeholders MLflow's clients send as a prompt version's source (a prompt has no files).
PROMPT_SOURCES = frozenset({"dummy-source", "prompt-template"})


def is_prompt_version(tags: Mapping[str, str] | None) -> bool:
    """MLflow compat: a version is a prompt's when its tags say mlflow.prompt.is_prompt=true
    (in any case)."""
    return str((tags or {}).get(reserved.IS_PROMPT, "false")).lower() == "true"


def prompt_source(source: str, run_id: str | None) -> ResolvedSource:
    """A prompt version's source: one of MLflow's placeholders, naming no files."""
    if source not in PROMPT_SOURCES:
        raise InvalidParameter(
            f"Invalid prompt source {source!r}: a prompt version's source must be one of "
            f"{', '.join(sorted(PROMPT_SOURCES))} (a prompt keeps its template in its tags)"
        )
    return ResolvedSource("", run_id, None)


class SourceResolver:
    """Turns a version's source URI into where its files are, refusing anything outside the
    server's artifact roots.

    - `models:/<model_id>`: that LoggedModel's artifact location.
    - `models:/<name>/<version>`, `models:/<name>@<alias>`: that version's files (a copy).
    - `runs:/<run_id>/<path>`: the LoggedModel the run logged under that name, else the run's
      artifact URI joined with `path`.
    - anything else: accepted as is only inside an artifact root."""

    def __init__(
        self,
        sources: ModelSourceStore,
        artifact_roots: Sequence[str],
        registered_version: Callable[[str, str], ModelVersion],
    ) -> None:
        self._sources = sources
        self._roots = tuple(r.rstrip("/") for r in artifact_roots if r)
        self._registered_version = registered_version

    def resolve(self, source: str, run_id: str | None, model_id: str | None) -> ResolvedSource:
        v.check_length("source", v.check_string("source", source), MAX_SOURCE)
        if not source:
            raise InvalidParameter("Missing value for required parameter 'source'")
        if _CONTROL.search(source):
            raise InvalidParameter(f"Invalid model version source {source!r}")
        if source in PROMPT_SOURCES:
            resolved = ResolvedSource("", None, None)  # a prompt's text is in its tags
        elif source.startswith("models:"):
            resolved = self._models_uri(source)
        elif source.startswith("runs:"):
            resolved = self._runs_uri(source)
        else:
            resolved = ResolvedSource(self._confined(source), None, None)
        model_id = model_id or resolved.model_id
        run_id = run_id or resolved.run_id
        if model_id and not run_id:
            found = self._sources.find_logged_model(model_id)
            if found is None:
                raise NotFound(f"Logged model with ID '{model_id}' not found.")
            run_id = found.source_run_id
        return ResolvedSource(resolved.storage_location, run_id or None, model_id or None)

    def _models_uri(self, source: str) -> ResolvedSource:
        rest = source.removeprefix("models:").removeprefix("/")
        if rest.startswith("/"):
            raise InvalidParameter(
                f"Invalid model version source {source!r}: registered model sources must use "
                "this server's registry (models:/<name>/<version> or models:/<model_id>)"
            )
        if _LOGGED_MODEL_ID.fullmatch(rest):
            found = self._sources.find_logged_model(rest)
            if found is None:
                raise InvalidParameter(
                    f"Unable to fetch model from model URI source {source!r}: no logged model "
                    f"{rest} exists"
                )
            return ResolvedSource(found.artifact_location, found.source_run_id, found.model_id)
        name, sep, alias = rest.partition("@")
        if sep:
            version = self._registered_version(name, "@" + alias)
        else:
            name, _, number = rest.rpartition("/")
            if not name:
                raise InvalidParameter(
                    f"Invalid model version source {source!r}: expected models:/<model_id>, "
                    "models:/<name>/<version> or models:/<name>@<alias>"
                )
            version = self._registered_version(name, number)
        return ResolvedSource(version.storage_location, version.run_id, version.model_id)

    def _runs_uri(self, source: str) -> ResolvedSource:
        parts = urllib.parse.urlsplit(source)
        if parts.netloc or parts.query or parts.fragment:
            raise InvalidParameter(f"Invalid runs URI {source!r}: expected runs:/<run_id>/<path>")
        run_id, _, path = parts.path.lstrip("/").partition("/")
        v.check_run_id(run_id)
        path = paths.clean(path)
        found = self._sources.find_run_logged_model(run_id, path) if path else None
        if found is not None:
            return ResolvedSource(found.artifact_location, run_id, found.model_id)
        artifact_uri = self._sources.find_run_artifact_uri(run_id)
        if artifact_uri is None:
            raise InvalidParameter(f"Invalid model version source {source!r}: no run {run_id}")
        location = artifact_uri.rstrip("/") + ("/" + path if path else "")
        return ResolvedSource(location, run_id, None)

    def _confined(self, source: str) -> str:
        v.check_location("Model version source", source)
        parts = urllib.parse.urlsplit(source)
        if parts.scheme not in ("", "file", "mlflow-artifacts", "s3", "gs", "wasbs", "hdfs"):
            raise InvalidParameter(f"Unsupported model version source scheme in {source!r}")
        paths.clean(urllib.parse.unquote(parts.path).lstrip("/") or ".")
        location = source.rstrip("/")
        for root in self._roots:
            if location == root or location.startswith(root + "/"):
                return location
        roots = ", ".join(self._roots) or "(none)"
        raise InvalidParameter(
            f"Model version source {source!r} is outside the artifact roots this server allows "
            f"({roots}); register from runs:/<run_id>/<path> or models:/<model_id> instead"
        )
