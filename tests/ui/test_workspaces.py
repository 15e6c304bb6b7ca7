"""In real Chromium, with --enable-workspaces: the header shows the workspace, the switcher
changes it, and the experiments and models lists show only the chosen workspace's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from heron.settings import Settings

API = "/api/2.0/mlflow"


@pytest.fixture
def url(tmp_path: Path, serve_settings: Any) -> Iterator[str]:
    settings = Settings(
        backend_store_uri=f"sqlite:///{tmp_path}/heron.db",
        artifacts_destination=str(tmp_path / "artifacts"),
        enable_workspaces=True,
    )
    with serve_settings(settings) as running, httpx.Client(base_url=running) as http:
        assert http.post("/api/3.0/mlflow/workspaces", json={"name": "team-a"}).is_success
        in_a = {"X-MLFLOW-WORKSPACE": "team-a"}
        for workspace, headers in (("team-a", in_a), ("default", {})):
            made = http.post(f"{API}/experiments/create", json={"name": f"exp-{workspace}"},
                             headers=headers)  # fmt: skip
            assert made.is_success, made.text
            made = http.post(f"{API}/registered-models/create",
                             json={"name": f"model-{workspace}"}, headers=headers)  # fmt: skip
            assert made.is_success, made.text
        yield running


def test_switch_workspace_and_see_only_its_objects(page: Any, url: str) -> None:
    page.goto(f"{url}/")
    assert page.inner_text("#workspace-link") == "Workspace: default"
    assert "exp-default" in page.content()
    assert "exp-team-a" not in page.content()

    page.click("#workspace-link")
    page.click("#workspaces button:has-text('Switch to team-a')")
    page.wait_for_url(f"{url}/")
    assert page.inner_text("#workspace-link") == "Workspace: team-a"
    assert "exp-team-a" in page.content()
    assert "exp-default" not in page.content()
    page.goto(f"{url}/models")
    assert "model-team-a" in page.content()
    assert "model-default" not in page.content()
