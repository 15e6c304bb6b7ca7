"""Browser tests: selecting runs in the table and comparing them."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from tests.ui.conftest import Demo


def test_compare_selected_runs(page: Any, demo: Demo, screenshot: Any) -> None:
    page.goto(f"{demo.url}/experiments/{demo.experiment_id}")
    compare = page.locator("#compare-button")
    expect(compare).to_be_disabled()
    for name in ("run-1", "run-2", "run-4"):
        page.locator(f"tr[data-run-id='{demo.runs[name]}'] input[name='run_id']").check()
    compare.click()
    expect(page).to_have_url(re.compile(r"/compare\?runs="))
    expect(page.locator("h1")).to_have_text("Comparing 3 runs")
    lr = page.locator("#compare-params tr[data-key='lr']")
    expect(lr).to_have_class(re.compile("diff"))
    expect(lr).to_contain_text("0.05")
    expect(page.locator("#parallel")).to_have_attribute("data-ready", "1")
    expect(page.locator("#scatter")).to_have_attribute("data-ready", "1")
    chart = page.locator("#charts .chart[data-metric='accuracy']")
    expect(chart).to_have_attribute("data-ready", "1")
    assert chart.get_attribute("data-points") == "180"  # 60 steps of each of the 3 runs
    page.locator("#scatter-y").select_option(label="metrics.loss")
    expect(page.locator("#scatter")).to_have_attribute("data-ready", "1")
    screenshot(page, "compare")


def test_same_values_are_not_marked_as_differences(page: Any, demo: Demo) -> None:
    ids = "&".join(f"runs={demo.runs[n]}" for n in ("run-0", "run-3"))  # depth 0 in both
    page.goto(f"{demo.url}/compare?{ids}")
    expect(page.locator("#compare-params tr[data-key='depth']")).not_to_have_class(
        re.compile("diff")
    )


def test_compare_without_runs_says_what_to_do(page: Any, demo: Demo) -> None:
    page.goto(f"{demo.url}/compare")
    expect(page.locator(".alert.error")).to_contain_text("Choose runs to compare")
