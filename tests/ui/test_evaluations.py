"""The Evaluations tab in real Chromium: two evaluations of an app's versions made with
heron.genai.evaluate, their scores, one evaluation's rows filtered by a scorer's value, and
the two side by side, paired by dataset record with the rows whose scores changed first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect
from tests.ui.conftest import Demo, sdk_tracking

from heron.ui.evaluations import EvalRow, pair

QUESTIONS = {"capital of France": "Paris", "2+2": "4", "color of the sky": "blue"}


@dataclass(frozen=True)
class Evaluated:
    experiment_id: str
    first_run: str
    second_run: str


@pytest.fixture(scope="module")
def evaluated(demo: Demo) -> Evaluated:
    import heron
    from heron.genai.scorers import ExactMatch

    data = [
        {"inputs": {"question": q}, "expectations": {"expected_response": a}}
        for q, a in QUESTIONS.items()
    ]
    with sdk_tracking(demo.url):
        experiment_id = heron.set_experiment("ui-evaluations").experiment_id

        def first(question: str) -> str:  # right about France only
            return "Paris" if "France" in question else "no idea"

        def second(question: str) -> str:  # right about France and 2+2
            return QUESTIONS[question] if "sky" not in question else "grey"

        one = heron.genai.evaluate(
            data, predict_fn=first, scorers=[ExactMatch()], run_name="v1", progress=False
        )
        two = heron.genai.evaluate(
            list(reversed(data)),  # another order: rows pair by record, not by position
            predict_fn=second, scorers=[ExactMatch()], run_name="v2", progress=False,
        )  # fmt: skip
    return Evaluated(experiment_id, one.run_id, two.run_id)


def test_evaluations_tab_rows_and_side_by_side(
    page: Any, demo: Demo, evaluated: Evaluated, screenshot: Any
) -> None:
    page.goto(f"{demo.url}/experiments/{evaluated.experiment_id}/evaluations")
    expect(page.locator("#tab-evaluations")).to_have_attribute("aria-current", "page")
    rows = page.locator("#evaluations-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator(".name")).to_have_text("v2")  # newest first
    expect(rows.nth(1).locator("[data-metric='exact_match/mean']")).to_have_text("0.333333")
    expect(rows.nth(0).locator("[data-metric='exact_match/mean']")).to_have_text("0.666667")

    rows.nth(1).get_by_role("link", name="v1").click()
    expect(page.locator("#evaluation-rows tbody tr")).to_have_count(3)
    page.locator("#evaluation-filters select[name='scorer']").select_option("exact_match")
    page.locator("#evaluation-filters input[name='value']").fill("yes")
    page.locator("#evaluation-filters button").click()
    expect(page.locator("#row-count")).to_have_text("1 of 3 rows")
    expect(page.locator("#evaluation-rows tbody tr")).to_contain_text("France")

    page.go_back()
    page.go_back()
    page.locator("#compare-evaluations").click()  # base v1, other v2
    expect(page.locator("#base-name")).to_have_text("v1")
    expect(page.locator("#other-name")).to_have_text("v2")
    expect(page.locator("#changed-count")).to_contain_text("1 of 3 rows changed a score")
    paired = page.locator("#row-compare tbody tr")
    expect(paired).to_have_count(3)
    expect(paired.nth(0)).to_have_class("changed")
    expect(paired.nth(0)).to_contain_text("2+2")
    expect(paired.nth(0).locator("[data-scorer='exact_match']")).to_have_text("no → yes")
    expect(page.locator("#metric-compare tr[data-metric='exact_match/mean'] .delta")).to_have_text(
        "+0.3333"
    )
    screenshot(page, "evaluation-compare")


def _row(key: str, **scores: str) -> EvalRow:
    return EvalRow(key=key, trace_id="tr-" + key, request=key, response="", scores=scores)


def test_pairs_follow_the_record_and_changed_rows_come_first() -> None:
    base = [_row("a", ok="true"), _row("b", ok="true"), _row("c", ok="false")]
    other = [_row("c", ok="true"), _row("a", ok="true"), _row("d", ok="true")]
    pairs = pair(base, other)
    assert [(p.key, p.changed) for p in pairs] == [
        ("b", ("ok",)),  # gone from the other
        ("c", ("ok",)),
        ("d", ("ok",)),  # new in the other
        ("a", ()),
    ]
