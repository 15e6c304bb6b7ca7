"""Browser tests: the run page (overview, description, tags), its charts and artifacts."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from playwright.sync_api import expect
from tests.ui.conftest import Demo


def test_run_overview_renders_markdown_safely_and_edits_tags(
    page: Any, demo: Demo, screenshot: Any
) -> None:
    run_id = demo.runs["run-1"]
    page.goto(f"{demo.url}/runs/{run_id}")
    expect(page.locator("#run-name")).to_contain_text("run-1")
    expect(page.locator("#description strong")).to_have_text("best")
    expect(page.locator("#description")).to_contain_text("<script>alert(1)</script>")
    assert page.locator("#description script").count() == 0
    expect(page.locator("#params")).to_contain_text("lr")
    expect(page.locator("#metrics")).to_contain_text("accuracy")
    expect(page.locator("#logged-models")).to_contain_text("clf")
    screenshot(page, "run-overview")

    page.locator("#add-tag").get_by_label("Key").fill("owner")
    page.locator("#add-tag").get_by_label("Value").fill("<i>me</i>")
    page.locator("#add-tag").get_by_role("button", name="Set tag").click()
    expect(page.locator("#tags")).to_contain_text("<i>me</i>")
    page.get_by_role("button", name="Delete tag owner").click()
    expect(page.locator("#tags")).not_to_contain_text("owner")


def test_description_is_edited_in_markdown(page: Any, demo: Demo) -> None:
    run_id = demo.runs["run-2"]
    page.goto(f"{demo.url}/runs/{run_id}")
    page.get_by_text("Edit description (Markdown)").click()
    page.get_by_role("textbox", name="Description").fill(
        "- first\n- [docs](https://example.com)\n- [x](javascript:alert(1))"
    )
    page.get_by_role("button", name="Save description").click()
    expect(page.locator("#description li")).to_have_count(3)
    expect(page.locator("#description a")).to_have_attribute("href", "https://example.com")
    assert page.locator("#description a[href^='javascript']").count() == 0


def test_metric_charts_draw_the_sampled_history(page: Any, demo: Demo, screenshot: Any) -> None:
    page.goto(f"{demo.url}/runs/{demo.runs['run-1']}/charts")
    chart = page.locator(".chart[data-metric='accuracy']")
    expect(chart).to_have_attribute("data-ready", "1")
    assert chart.get_attribute("data-points") == "60"
    assert chart.locator("canvas").count() >= 1
    screenshot(page, "run-charts")
    page.get_by_label("Log scale").check()
    page.get_by_label("X axis").select_option("relative")
    expect(chart).to_have_attribute("data-ready", "1")


def test_artifact_previews(page: Any, demo: Demo, screenshot: Any) -> None:
    base = f"{demo.url}/runs/{demo.runs['run-1']}/artifacts"
    page.goto(base)
    expect(page.locator("#artifact-list")).to_contain_text("notes")
    page.get_by_role("link", name="config.json").click()
    expect(page.locator("#artifact-text")).to_contain_text('"beta": [')
    page.goto(base + "?path=config.yaml")
    expect(page.locator("#artifact-text")).to_contain_text("b: [x, y]")
    page.goto(base + "?path=table.csv")
    expect(page.locator("#artifact-table th").first).to_have_text("name")
    expect(page.locator("#artifact-table tbody tr")).to_have_count(2)
    page.goto(base + "?path=plots/red.png")
    image = page.locator("#artifact-image")
    expect(image).to_be_visible()
    assert page.evaluate("document.getElementById('artifact-image').naturalWidth") == 40
    page.goto(base + "?path=model/MLmodel")
    expect(page.locator("#mlmodel")).to_contain_text("python_function")
    expect(page.locator(".signature").first).to_contain_text("double")
    screenshot(page, "run-artifacts-mlmodel")
    page.get_by_role("link", name="artifacts", exact=True).click()
    page.get_by_role("link", name="📁 notes").click()
    page.get_by_role("link", name="readme.txt").click()
    expect(page.locator("#artifact-text")).to_contain_text("hello from a text file")


def test_html_artifacts_run_sandboxed(page: Any, demo: Demo) -> None:
    run_id = demo.runs["run-1"]
    page.goto(f"{demo.url}/runs/{run_id}/artifacts?path=report.html")
    frame = page.locator("iframe.html-artifact")
    expect(frame).to_have_attribute("sandbox", "")
    expect(page.frame_locator("iframe.html-artifact").locator("#inside")).to_have_text("Report")
    assert page.title().startswith("Artifacts")  # the artifact's script did not run
    raw = httpx.get(f"{demo.url}/ui/runs/{run_id}/artifact", params={"path": "report.html"})
    assert raw.headers["content-security-policy"].startswith("sandbox")
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert raw.headers["content-length"] == str(len(raw.content))


def test_artifact_paths_are_confined(demo: Demo) -> None:
    run_id = demo.runs["run-1"]
    for path in ("../../1", "/etc/passwd", "a/%2e%2e/%2e%2e/x"):
        answer = httpx.get(f"{demo.url}/ui/runs/{run_id}/artifact", params={"path": path})
        assert answer.status_code == 400, path
        answer = httpx.get(f"{demo.url}/runs/{run_id}/artifacts", params={"path": path})
        assert answer.status_code == 400, path


def test_a_run_whose_start_no_calendar_holds_still_shows(demo: Demo) -> None:
    """The API takes any int64 start_time; its pages still render, with the number."""
    api = f"{demo.url}/api/2.0/mlflow"
    created = httpx.post(f"{api}/experiments/create", json={"name": f"far-{uuid.uuid4().hex}"})
    experiment_id = created.json()["experiment_id"]
    far = 2**63 - 1
    run = httpx.post(f"{api}/runs/create", json={"experiment_id": experiment_id, "start_time": far})
    run_id = run.json()["run"]["info"]["run_id"]
    answer = httpx.get(f"{demo.url}/runs/{run_id}")
    assert answer.status_code == 200
    assert f"{far} ms" in answer.text
    assert httpx.get(f"{demo.url}/experiments/{experiment_id}").status_code == 200
