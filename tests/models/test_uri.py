"""Parsing model URIs; local paths and file:// URIs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heron.errors import InvalidParameter, NotFound
from heron.models.uri import ParsedModelUri, download_model, local_path, parse_models_uri


@pytest.mark.parametrize(
    ("uri", "parsed"),
    [
        ("models:/m-abc", ParsedModelUri(model_id="m-abc")),
        ("models:/iris/3", ParsedModelUri(name="iris", version="3")),
        ("models:/iris/latest", ParsedModelUri(name="iris", version="latest")),
        ("models:/iris@champion", ParsedModelUri(name="iris", alias="champion")),
        (
            "models:/cat.sch.iris/2/sub",
            ParsedModelUri(name="cat.sch.iris", version="2", sub_path="sub"),
        ),
    ],
    ids=["model-id", "version", "latest", "alias", "sub-path"],
)
def test_models_uris_parse(uri: str, parsed: ParsedModelUri) -> None:
    assert parse_models_uri(uri) == parsed


@pytest.mark.parametrize(
    "uri",
    ["models:/", "models:/iris/one", "models:/@x", "models:/iris@", "runs:/x"],
    ids=["empty", "bad-version", "no-name", "no-alias", "other-scheme"],
)
def test_bad_models_uris_are_refused(uri: str) -> None:
    with pytest.raises(InvalidParameter):
        parse_models_uri(uri)


def test_local_paths_and_file_uris(tmp_path: Path) -> None:
    assert local_path(str(tmp_path)) == tmp_path
    assert local_path(f"file://{tmp_path}") == tmp_path
    assert local_path("s3://bucket/model") is None
    assert local_path("models:/x") is None
    assert download_model(f"file://{tmp_path}") == tmp_path.resolve()
    with pytest.raises(NotFound):
        download_model(str(tmp_path / "missing"))
    with pytest.raises(InvalidParameter, match="Unsupported model URI"):
        download_model("ftp://host/model")


names = st.text(st.sampled_from("abcXYZ019_-."), min_size=1, max_size=20)


@given(names, st.integers(1, 10**6) | st.just("latest"), names)
def test_version_and_alias_uris_round_trip(name: str, version: int | str, alias: str) -> None:
    assert parse_models_uri(f"models:/{name}/{version}") == ParsedModelUri(
        name=name, version=str(version)
    )
    assert parse_models_uri(f"models:/{name}@{alias}") == ParsedModelUri(name=name, alias=alias)
