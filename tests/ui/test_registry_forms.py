"""In Chromium: register a model from a run, then edit it (description, tags, aliases) and
delete it, all from the UI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest


@pytest.fixture
def url(tmp_path: Path, serve_settings: Any) -> Iterator[str]:
    from heron.settings import Settings

    with serve_settings(Settings.for_home(tmp_path)) as served:
        yield served


def test_register_edit_and_delete_a_model(page: Any, url: str) -> None:
    with httpx.Client(base_url=url) as client:
        run = client.post("/api/2.0/mlflow/runs/create", json={"experiment_id": "0"}).json()
    run_id = run["run"]["info"]["run_id"]
    page.goto(f"{url}/models")
    page.click("#register summary")
    page.fill("#register-form input[name=name]", "fraud")
    page.fill("#register-form input[name=run_id]", run_id)
    page.fill("#register-form input[name=path]", "model")
    page.click("#register-form button[type=submit]")
    page.wait_for_url(f"{url}/models/fraud/versions/1")
    page.goto(f"{url}/models/fraud")
    page.click("#model-description + details summary")
    page.fill("#description-form textarea", "Catches **fraud**.")
    page.click("#description-form button[type=submit]")
    page.wait_for_selector("#model-description strong:text('fraud')")
    page.fill("#alias-form input[name=alias]", "champion")
    page.fill("#alias-form input[name=version]", "1")
    page.click("#alias-form button[type=submit]")
    page.wait_for_selector("#aliases :text('@champion')")
    page.fill("#tag-form input[name=key]", "team")
    page.fill("#tag-form input[name=value]", "risk")
    page.click("#tag-form button[type=submit]")
    page.wait_for_selector("text=risk")
    page.fill("#alias-form input[name=alias]", "staging")
    page.fill("#alias-form input[name=version]", "7")  # no such version: the page says so
    page.click("#alias-form button[type=submit]")
    assert "7" in page.inner_text("#flash")
    with httpx.Client(base_url=url) as client:
        got = client.get("/api/2.0/mlflow/registered-models/get", params={"name": "fraud"})
    model = got.json()["registered_model"]
    assert model["description"] == "Catches **fraud**."
    assert model["aliases"] == [{"alias": "champion", "version": "1"}]
    assert {"key": "team", "value": "risk"} in model["tags"]
    page.select_option("#alias-delete-form select", "champion")
    page.click("#alias-delete-form button[type=submit]")
    page.wait_for_selector("text=No aliases.")
    page.click("#model-delete-form >> xpath=.. >> summary")
    page.click("#model-delete-form button[type=submit]")
    page.wait_for_url(f"{url}/models")
    assert "fraud" not in page.inner_text("main")
