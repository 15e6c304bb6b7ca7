"""Browser tests: the experiments list and an experiment's runs table."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from tests.ui.conftest import Demo


def test_experiment_names_are_escaped_and_searchable(
    page: Any, demo: Demo, screenshot: Any
) -> None:
    page.goto(demo.url + "/")
    expect(page.get_by_role("link", name="empty <b>experiment</b>")).to_be_visible()
    assert page.locator("#experiments b").count() == 0  # shown as text, never as markup
    screenshot(page, "experiments")
    page.get_by_label("Search by name").fill("ui-de")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"q=ui-de"))
    expect(page.locator("#experiments tbody tr")).to_have_count(1)
    page.get_by_label("Search by name").fill("no such thing")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".empty")).to_contain_text("No experiment name contains")


def test_create_rename_delete_and_restore_an_experiment(page: Any, demo: Demo) -> None:
    page.goto(demo.url + "/")
    page.get_by_label("New experiment").fill("made-in-browser")
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#experiment-name")).to_have_text("made-in-browser")
    expect(page.locator(".empty")).to_contain_text("No runs in this experiment yet")
    page.locator("#main details.menu summary", has_text="Rename").click()
    page.get_by_label("New name").fill("renamed-in-browser")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#experiment-name")).to_have_text("renamed-in-browser")

    page.goto(demo.url + "/")
    row = page.locator("#experiments tr", has_text="renamed-in-browser")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(page.locator("#experiments")).not_to_contain_text("renamed-in-browser")
    page.get_by_label("Show").select_option("deleted")
    page.get_by_role("button", name="Search").click()
    page.locator("#experiments tr", has_text="renamed-in-browser").get_by_role(
        "button", name="Restore"
    ).click()
    page.goto(demo.url + "/")
    expect(page.locator("#experiments")).to_contain_text("renamed-in-browser")


def test_a_duplicate_name_is_reported_in_place(page: Any, demo: Demo) -> None:
    page.goto(demo.url + "/")
    page.get_by_label("New experiment").fill("ui-demo")
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#flash")).to_contain_text("ui-demo")
    expect(page).to_have_url(demo.url + "/")
