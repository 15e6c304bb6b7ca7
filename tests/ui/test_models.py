"""Browser tests: registered models, a version's lineage and activity, logged models."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from tests.ui.conftest import Demo


def test_registered_model_and_its_versions(page: Any, demo: Demo, screenshot: Any) -> None:
    page.goto(f"{demo.url}/models")
    page.get_by_role("link", name=demo.model_name).click()
    expect(page.locator("#model-description em")).to_have_text("things")
    expect(page.locator("#aliases")).to_contain_text("@champion")
    expect(page.locator("#versions tbody tr")).to_have_count(2)
    screenshot(page, "model")
    page.get_by_role("link", name="Version 2", exact=True).click()
    expect(page.locator("#version-title")).to_contain_text("version 2")
    expect(page.locator("#lineage")).to_contain_text("clf")
    expect(page.locator("#lineage")).to_contain_text("ui-demo")
    expect(page.locator("#source-run")).to_have_text("run-1")


def test_comments_are_added_to_the_activity_log(page: Any, demo: Demo, screenshot: Any) -> None:
    page.goto(f"{demo.url}/models/{demo.model_name}/versions/2")
    expect(page.locator("#activity-log")).to_contain_text("Looks good to me")
    page.get_by_label("Comment").fill("Ship it <b>now</b>")
    page.get_by_role("button", name="Comment").click()
    expect(page.locator("#activity-log li[data-kind='comment'] .comment").last).to_have_text(
        "Ship it <b>now</b>"
    )
    screenshot(page, "model-version")


def test_logged_models_list_and_page(page: Any, demo: Demo) -> None:
    page.goto(f"{demo.url}/logged-models?experiment={demo.experiment_id}")
    page.get_by_role("link", name="clf").click()
    expect(page.locator("#logged-model-name")).to_contain_text("clf")
    expect(page.locator("main")).to_contain_text(demo.logged_model_id)
    expect(page.locator("#logged-model-experiment")).to_have_text("ui-demo")  # its name, not id
    expect(page.get_by_role("link", name=demo.runs["run-1"])).to_be_visible()
