"""A dataset's versions in real Chromium: the Evaluations tab lists the experiment's datasets
and which version each evaluation used; the dataset page lists its versions, shows the
records of any of them, and the evaluations run on each; comparing two evaluations of
different versions says so."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect
from tests.ui.conftest import Demo, sdk_tracking


@dataclass(frozen=True)
class Versioned:
    experiment_id: str
    dataset_id: str
    old_run: str
    new_run: str


@pytest.fixture(scope="module")
def versioned(demo: Demo) -> Versioned:
    import heron
    from heron.genai.datasets import create_dataset
    from heron.genai.scorers import ExactMatch

    with sdk_tracking(demo.url):
        experiment_id = heron.set_experiment("ui-dataset-versions").experiment_id
        ds = create_dataset("capitals")
        ds.merge_records([
            {"inputs": {"country": "France"}, "expectations": {"expected_response": "Paris"}},
            {"inputs": {"country": "Peru"}, "expectations": {"expected_response": "Lima"}},
        ])  # fmt: skip
        ds.merge_records([{"inputs": {"country": "Chad"},
                           "expectations": {"expected_response": "N'Djamena"}}])  # fmt: skip
        capitals = {"France": "Paris", "Peru": "Lima", "Chad": "N'Djamena"}
        old = heron.genai.evaluate(
            ds.at_version(1), predict_fn=lambda country: capitals[country],
            scorers=[ExactMatch()], run_name="on-v1", progress=False,
        )  # fmt: skip
        new = heron.genai.evaluate(
            ds, predict_fn=lambda country: capitals[country], scorers=[ExactMatch()],
            run_name="on-v2", progress=False,
        )  # fmt: skip
    return Versioned(experiment_id, ds.dataset_id, old.run_id, new.run_id)


def test_dataset_versions_in_the_ui(
    page: Any, demo: Demo, versioned: Versioned, screenshot: Any
) -> None:
    page.goto(f"{demo.url}/experiments/{versioned.experiment_id}/evaluations")
    listed = page.locator("#datasets-table tbody tr")
    expect(listed).to_have_count(1)
    expect(listed.locator(".version")).to_have_text("2")
    evaluations = page.locator("#evaluations-table tbody tr")
    expect(evaluations.nth(0).locator(".dataset")).to_have_text("capitals v2")
    expect(evaluations.nth(1).locator(".dataset")).to_have_text("capitals v1")

    listed.get_by_role("link", name="capitals").click()
    expect(page.locator("#dataset-name")).to_have_text("capitals")
    versions = page.locator("#versions-table tbody tr")
    expect(versions).to_have_count(2)
    expect(versions.nth(0).locator(".records")).to_have_text("3")
    expect(page.locator("#records-table tbody tr")).to_have_count(3)  # the newest
    screenshot(page, "dataset-versions")

    versions.nth(1).get_by_role("link", name="v1").click()
    expect(page.locator("#h-records")).to_have_text("Records of version 1")
    expect(page.locator("#records-table tbody tr")).to_have_count(2)
    expect(page.locator("#records-table")).not_to_contain_text("Chad")
    used = page.locator("#dataset-evaluations tbody tr")
    expect(used).to_have_count(2)
    expect(page.locator(f"#dataset-evaluations tr[data-run-id='{versioned.old_run}'] .version"))\
        .to_have_text("v1")  # fmt: skip

    page.goto(
        f"{demo.url}/experiments/{versioned.experiment_id}/evaluations/compare"
        f"?base={versioned.old_run}&other={versioned.new_run}"
    )
    expect(page.locator("#dataset-versions")).to_contain_text("base capitals v1")
    expect(page.locator("#dataset-differs")).to_be_visible()
    expect(page.locator("#row-compare tbody tr")).to_have_count(3)  # Chad: only in other

    bad = page.goto(f"{demo.url}/datasets/{versioned.dataset_id}?version=9")
    assert bad is not None
    assert bad.status == 400


def test_thresholds_pass_or_fail_on_the_comparison(
    page: Any, demo: Demo, versioned: Versioned, screenshot: Any
) -> None:
    compare = (
        f"{demo.url}/experiments/{versioned.experiment_id}/evaluations/compare"
        f"?base={versioned.old_run}&other={versioned.new_run}"
    )
    page.goto(compare)
    form = page.locator("#threshold-form")
    page.locator("#threshold-form-box summary").click()
    form.locator("select[name='metric']").select_option("exact_match/mean")
    form.locator("input[name='threshold']").fill("0.9")
    form.get_by_role("button", name="Save threshold").click()
    row = page.locator("#metric-compare tr[data-metric='exact_match/mean']")
    expect(row.locator(".threshold")).to_have_text("≥ 0.9")
    expect(row.locator(".verdict")).to_have_text("pass")  # 1.0 on both versions
    expect(page.locator("#threshold-summary")).to_have_text(
        "Thresholds: 1 of 1 passed (other against base)."
    )

    # a minimum change from the base: the score did not move, so it fails, saying why
    page.locator("#threshold-form-box summary").click()
    form.locator("input[name='threshold']").fill("0.9")
    form.locator("input[name='min_absolute_change']").fill("0.05")
    form.get_by_role("button", name="Save threshold").click()
    expect(row.locator(".threshold")).to_have_text("≥ 0.9 change +0.05")
    expect(row.locator(".verdict")).to_contain_text("fail")
    expect(row.locator(".reason")).to_contain_text("less than the 0.05 asked for")
    screenshot(page, "evaluation-thresholds")

    page.locator("#threshold-form-box summary").click()
    form.locator("input[name='threshold']").fill("lots")
    form.get_by_role("button", name="Save threshold").click()
    expect(page.locator("#flash")).to_contain_text("'lots' is not a number")
    expect(row.locator(".threshold")).to_have_text("≥ 0.9 change +0.05")  # nothing changed

    import heron
    from heron.genai import check_thresholds

    with sdk_tracking(demo.url):
        [result] = check_thresholds(versioned.new_run, baseline_run_id=versioned.old_run)
        assert (result.metric, result.passed) == ("exact_match/mean", False)
        heron.genai.set_threshold("exact_match/mean", None, versioned.experiment_id)
    page.goto(compare)
    expect(page.locator("#threshold-summary")).to_have_count(0)
