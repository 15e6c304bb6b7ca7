"""Client-given artifact paths: normalised, and refused when they could leave the root."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heron.errors import InvalidParameter
from heron.store.artifacts import paths

ATTACKS = [
    "..",
    "../x",
    "a/../../x",
    "a/..",
    "/etc/passwd",
    "//etc/passwd",
    "a\\..\\b",
    "..\\x",
    "a/b\x00.txt",
    "%2e%2e%2fetc",
    "%2E%2E/x",
    "a/%2e%2e/%2e%2e/x",
    "..%2fx",
    "%2fetc%2fpasswd",
    "a%5c..%5cb",
    "a%00b",
    "...",
    "a/..../b",
    "%2e%2e%2e",
]


@pytest.mark.parametrize("path", ATTACKS, ids=[repr(a) for a in ATTACKS])
def test_clean_refuses_paths_that_could_leave_the_root(path: str) -> None:
    with pytest.raises(InvalidParameter):
        paths.clean(path)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", ""),
        (".", ""),
        ("a", "a"),
        ("a/b/c.txt", "a/b/c.txt"),
        ("a//b/", "a/b"),
        ("./a/./b", "a/b"),
        ("100%.txt", "100%.txt"),
        ("a%20b.txt", "a%20b.txt"),
        ("50%off/%zz", "50%off/%zz"),
        ("a%2fb", "a%2fb"),
        ("%252e%252e%252f", "%252e%252e%252f"),
        ("x#1?.txt", "x#1?.txt"),
        ("..a/b..", "..a/b.."),
        (".hidden", ".hidden"),
        ("ünïcode ✓.txt", "ünïcode ✓.txt"),
    ],
    ids=lambda value: repr(value),
)
def test_clean_normalises_safe_paths_and_keeps_literal_percent(path: str, expected: str) -> None:
    assert paths.clean(path) == expected


@given(st.text())
def test_clean_never_returns_a_path_with_dot_dot_or_leading_slash(path: str) -> None:
    try:
        cleaned = paths.clean(path)
    except InvalidParameter:
        return
    assert not cleaned.startswith("/")
    assert ".." not in cleaned.split("/")
    assert "\\" not in cleaned
    assert "\x00" not in cleaned


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("mlflow-artifacts:/1/abc/artifacts", "1/abc/artifacts"),
        ("mlflow-artifacts:", ""),
        ("mlflow-artifacts:/", ""),
        ("mlflow-artifacts://localhost:5000/7/r/artifacts", "7/r/artifacts"),
    ],
)
def test_proxied_path_maps_an_artifact_uri_into_the_repository(uri: str, expected: str) -> None:
    assert paths.proxied_path(uri) == expected


@pytest.mark.parametrize(
    "uri", ["s3://bucket/x", "file:///etc", "mlflow-artifacts:/1/../../etc", "/etc/x"]
)
def test_proxied_path_refuses_other_schemes_and_traversal(uri: str) -> None:
    with pytest.raises(InvalidParameter):
        paths.proxied_path(uri)


def test_join_and_relative_to_are_inverse() -> None:
    joined = paths.join("1/abc/artifacts", "sub/file.txt")
    assert joined == "1/abc/artifacts/sub/file.txt"
    assert paths.relative_to(joined, "1/abc/artifacts") == "sub/file.txt"
    assert paths.join("1/abc/artifacts", "") == "1/abc/artifacts"
    with pytest.raises(InvalidParameter):
        paths.join("1/abc/artifacts", "../../other")


@pytest.mark.parametrize(
    "path",
    ["a" * 256, "dir/" + "b" * 300 + "/file", "/".join(["d" * 200] * 21)],
    ids=["long-name", "long-middle-name", "long-path"],
)
def test_overlong_names_and_paths_are_refused_not_a_server_error(path: str) -> None:
    with pytest.raises(InvalidParameter, match="longer than"):
        paths.clean(path)
