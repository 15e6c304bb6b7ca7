"""The registry through HeronClient and heron.register_model: in process and over HTTP."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

import heron
from heron import HeronClient
from heron.entities.registry import ModelVersionStage
from heron.errors import AlreadyExists, InvalidParameter, NotFound


def _name() -> str:
    return f"model-{uuid.uuid4().hex[:8]}"


def _run_source(client: HeronClient) -> tuple[str, str]:
    run = client.create_run(client.create_experiment(f"exp-{uuid.uuid4().hex[:8]}"))
    return run.info.run_id, f"runs:/{run.info.run_id}/model"


def test_models_create_get_rename_update_delete(client: HeronClient) -> None:
    name, new = _name(), _name()
    created = client.create_registered_model(name, tags={"team": "a", "n": 1}, description="d")
    assert dict(created.tags) == {"team": "a", "n": "1"}
    with pytest.raises(AlreadyExists):
        client.create_registered_model(name)
    client.rename_registered_model(name, new)
    assert client.update_registered_model(new, description="x").description == "x"
    client.set_registered_model_tag(new, "k", "v")
    client.delete_registered_model_tag(new, "team")
    assert dict(client.get_registered_model(new).tags) == {"n": "1", "k": "v"}
    client.delete_registered_model(new)
    with pytest.raises(NotFound):
        client.get_registered_model(new)


def test_versions_aliases_and_download_uri(client: HeronClient) -> None:
    name = _name()
    run_id, source = _run_source(client)
    client.create_registered_model(name)
    v1 = client.create_model_version(name, source, run_id=run_id, tags={"k": "v"})
    v2 = client.create_model_version(name, source)
    assert (v1.version, v2.version, v2.run_id) == ("1", "2", run_id)
    run = client.get_run(run_id)
    assert client.get_model_version_download_uri(name, 1) == f"{run.info.artifact_uri}/model"
    client.set_registered_model_alias(name, "champion", 1)
    client.set_registered_model_alias(name, "champion", "2")
    assert client.get_model_version_by_alias(name, "champion").version == "2"
    assert client.get_registered_model(name).aliases == {"champion": "2"}
    client.delete_registered_model_alias(name, "champion")
    with pytest.raises(NotFound):
        client.get_model_version_by_alias(name, "champion")
    with pytest.raises(InvalidParameter):
        client.set_registered_model_alias(name, "latest", "1")
    assert client.update_model_version(name, 1, description="one").description == "one"
    client.set_model_version_tag(name, 1, "ok", True)
    assert dict(client.get_model_version(name, 1).tags) == {"k": "v", "ok": "True"}
    client.delete_model_version_tag(name, 1, "ok")
    client.delete_model_version(name, 2)
    with pytest.raises(NotFound):
        client.get_model_version(name, 2)


def test_stages_latest_and_search(client: HeronClient) -> None:
    name = _name()
    run_id, source = _run_source(client)
    client.create_registered_model(name, tags={"kind": "x"})
    for _ in range(3):
        client.create_model_version(name, source)
    client.transition_model_version_stage(name, 2, "Production")
    latest = client.get_latest_versions(name, ["Production"])
    assert [(v.version, v.current_stage) for v in latest] == [("2", ModelVersionStage.PRODUCTION)]
    assert [v.version for v in client.get_latest_versions(name, ["None"])] == ["3"]
    found = client.search_registered_models(filter_string=f"name = '{name}' AND tags.kind = 'x'")
    assert [m.name for m in found] == [name]
    page = client.search_model_versions(f"name = '{name}'", max_results=2)
    rest = client.search_model_versions(
        f"name = '{name}'", max_results=2, page_token=page.next_page_token
    )
    assert sorted(v.version for v in [*page, *rest]) == ["1", "2", "3"]
    by_run = client.search_model_versions(f"run_id = '{run_id}'")
    assert {v.name for v in by_run} == {name}


def test_copy_model_version_promotes_into_another_model(client: HeronClient) -> None:
    dev, prod = _name(), _name()
    _, source = _run_source(client)
    client.create_registered_model(dev)
    client.create_model_version(dev, source, tags={"validated": "yes"})
    client.set_registered_model_alias(dev, "candidate", 1)
    copied = client.copy_model_version(f"models:/{dev}@candidate", prod)
    assert (copied.name, copied.version, copied.source) == (prod, "1", f"models:/{dev}/1")
    assert dict(copied.tags) == {"validated": "yes"}
    assert client.get_model_version_download_uri(prod, 1) == client.get_model_version_download_uri(
        dev, 1
    )


def test_activity_and_comments(client: HeronClient) -> None:
    name = _name()
    _, source = _run_source(client)
    client.create_registered_model(name)
    client.create_model_version(name, source)
    client.set_registered_model_alias(name, "champion", 1)
    comment = client.add_model_version_comment(name, 1, "ready for review")
    assert comment.kind == "comment"
    events = client.get_model_version_activity(name, 1)
    assert [e.kind for e in events] == ["created", "alias_set", "comment"]
    assert events[2].detail == {"comment": "ready for review"}
    assert all(e.user_id for e in events)


def test_fluent_register_model(monkeypatch: pytest.MonkeyPatch, home: Path, tmp_path: Path) -> None:
    name = _name()
    with heron.start_run() as run:
        pass
    first = heron.register_model(f"runs:/{run.info.run_id}/model", name, tags={"t": "1"})
    second = heron.register_model(f"runs:/{run.info.run_id}/model", name)
    assert (first.version, second.version) == ("1", "2")
    assert dict(first.tags) == {"t": "1"}
    assert first.run_id == run.info.run_id


def test_lineage_over_both_backends(client: HeronClient) -> None:
    name = _name()
    run_id, source = _run_source(client)
    client.create_registered_model(name)
    client.create_model_version(name, source)
    chain = client.get_model_version_lineage(name, 1)
    assert chain.run is not None
    assert chain.run.run_id == run_id
    assert chain.experiment is not None
    assert chain.experiment.experiment_id == chain.run.experiment_id
    assert chain.logged_model is None


def test_cli_models_lineage_prints_the_chain(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from heron.cli.main import main

    data = str(tmp_path / "data")
    with HeronClient(data) as client:
        run_id, source = _run_source(client)
        client.create_registered_model("fraud")
        client.create_model_version("fraud", source)
    result = CliRunner().invoke(main, ["models", "lineage", "fraud", "1", "--tracking-uri", data])
    assert result.exit_code == 0, result.output
    assert "fraud v1" in result.output
    assert run_id in result.output
    assert "experiment" in result.output
    missing = CliRunner().invoke(main, ["models", "lineage", "fraud", "9", "--tracking-uri", data])
    assert missing.exit_code == 1
    assert "not found" in missing.output
