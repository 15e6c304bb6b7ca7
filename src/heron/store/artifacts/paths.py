"""Artifact paths: client-given relative paths normalised and confined, and artifact URIs."""

from __future__ import annotations

import re
import urllib.parse

from heron.errors import InvalidParameter

PROXY_SCHEME = "mlflow-artifacts"

_ALL_DOTS = re.compile(r"\.{2,}")


MAX_NAME_BYTES = 255  # one file or directory name (the usual file-system limit)
MAX_PATH_BYTES = 4096


def clean(path: str) -> str:
    """`path` normalised to "a/b/c" (no leading, trailing or doubled "/", no "." segments),
    or InvalidParameter when it could reach outside its root.

    Refused: NUL bytes, backslashes, absolute paths, ".." (and any segment made of two or more
    dots), and any of these spelled with %-escapes (decoded once: a proxy or a client may have
    decoded the URL already, so "%2e%2e%2f" is treated as the "../" it stands for). A literal
    "%" that does not decode into one of these is kept as is: MLflow's client does not escape
    "%" in file names, so "100%.txt" and "a%20b" are ordinary names.

    Raises:
        InvalidParameter: the path is unsafe.
    """
    _check(path, path)
    decoded = urllib.parse.unquote(path) if "%" in path else path
    if decoded != path:
        _check(decoded, path)
    return "/".join(part for part in path.split("/") if part not in ("", "."))


def _check(candidate: str, original: str) -> None:
    if len(candidate.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise InvalidParameter(
            f"Artifact path is longer than {MAX_PATH_BYTES} bytes: {original[:60]!r}..."
        )
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES
           for part in candidate.split("/")):  # fmt: skip
        raise InvalidParameter(
            f"Invalid artifact path {original[:60]!r}...: a file or directory name is longer "
            f"than {MAX_NAME_BYTES} bytes"
        )
    if "\x00" in candidate:
        raise InvalidParameter(f"Invalid artifact path {original!r}: it contains a NUL byte")
    if "\\" in candidate:
        raise InvalidParameter(f"Invalid artifact path {original!r}: it contains a backslash")
    if candidate.startswith("/"):
        raise InvalidParameter(f"Invalid artifact path {original!r}: it must be relative")
    for part in candidate.split("/"):
        if _ALL_DOTS.fullmatch(part):
            raise InvalidParameter(
                f"Invalid artifact path {original!r}: '..' segments are not allowed"
            )


def join(base: str, path: str) -> str:
    """`path` (client-given, cleaned) under `base` (already trusted), "/"-separated."""
    rel = clean(path)
    base = clean(base)
    if not base:
        return rel
    return f"{base}/{rel}" if rel else base


def relative_to(path: str, base: str) -> str:
    """`path` relative to `base` ("" for `base` itself); both are cleaned repository paths."""
    if not base:
        return path
    if path == base:
        return ""
    if not path.startswith(base + "/"):
        raise InvalidParameter(f"{path!r} is not inside {base!r}")
    return path[len(base) + 1 :]


def proxied_path(uri: str) -> str:
    """The repository path an `mlflow-artifacts:` URI names: `mlflow-artifacts:/1/abc/artifacts`
    (or `mlflow-artifacts://host:port/1/abc/artifacts`) is "1/abc/artifacts".

    Raises:
        InvalidParameter: `uri` is not an `mlflow-artifacts:` URI, or its path is unsafe.
    """
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme != PROXY_SCHEME:
        raise InvalidParameter(f"{uri!r} is not an {PROXY_SCHEME}: URI")
    if parts.query or parts.fragment:
        raise InvalidParameter(f"{uri!r} must not have a query or a fragment")
    return clean(parts.path.lstrip("/"))


def is_proxied(uri: str) -> bool:
    """Whether `uri` names a file in the server's proxied artifact store."""
    return uri.startswith(PROXY_SCHEME + ":")
