"""The review page in real Chromium: a reviewer walks a review queue's traces with the
keyboard, answers its label schemas and marks each trace reviewed or declined; the answers
are HUMAN assessments on the traces, and the queue's progress shows on the Review tab."""

from __future__ import annotations

import getpass
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from tests.ui.conftest import Demo, sdk_tracking

from heron.entities.assessment import AssessmentKind, AssessmentSourceType

V3 = "/api/3.0/mlflow"


@dataclass(frozen=True)
class Queued:
    experiment_id: str
    queue_id: str
    trace_ids: list[str]


def _post(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(url + V3 + path, json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@pytest.fixture(scope="module")
def queued(demo: Demo) -> Queued:
    import heron
    from heron import tracing

    with sdk_tracking(demo.url):
        experiment_id = heron.set_experiment("ui-review").experiment_id

        @tracing.trace(name="answer")
        def answer(question: str) -> str:
            return f"The answer to {question} is 42"

        trace_ids = []
        for question in ("life", "the universe", "everything"):
            answer(question)
            found = tracing.get_last_active_trace_id()
            assert found is not None
            trace_ids.append(found)
            time.sleep(0.002)
        assert tracing.flush(timeout_s=60)
    schemas = [
        _post(demo.url, "/label-schemas/create", {"experiment_id": experiment_id, **body})[
            "label_schema"
        ]["schema_id"]
        for body in (
            {"name": "correct", "type": "FEEDBACK", "enable_comment": True,
             "instruction": "Is the answer right?",
             "input": {"pass_fail": {"positive_label": "Right", "negative_label": "Wrong"}}},
            {"name": "tone", "type": "FEEDBACK",
             "input": {"categorical": {"options": ["formal", "casual"]}}},
            {"name": "stars", "type": "FEEDBACK",
             "input": {"numeric": {"min_value": 1, "max_value": 5}}},
            {"name": "expected_answer", "type": "EXPECTATION", "input": {"text": {}}},
        )
    ]  # fmt: skip
    queue = _post(
        demo.url,
        "/review-queues/create",
        {"experiment_id": experiment_id, "name": "release 1.2", "queue_type": "CUSTOM",
         "users": [getpass.getuser()], "schema_ids": schemas},
    )["review_queue"]  # fmt: skip
    _post(demo.url, "/review-queues/items/add", {"queue_id": queue["queue_id"],
                                                  "item_ids": trace_ids})  # fmt: skip
    return Queued(experiment_id=experiment_id, queue_id=queue["queue_id"], trace_ids=trace_ids)


def _assessments(demo: Demo, trace_id: str) -> dict[str, Any]:
    from heron.client import HeronClient

    with HeronClient(demo.url) as client:
        found = client.get_trace(trace_id).info.assessments
    return {a.name: a for a in found}


def test_a_reviewer_walks_the_queue_with_the_keyboard(
    page: Any, demo: Demo, queued: Queued, screenshot: Any
) -> None:
    page.goto(f"{demo.url}/experiments/{queued.experiment_id}/review")
    expect(page.locator("#tab-review")).to_have_attribute("aria-current", "page")
    row = page.locator(f"#queues-table tr[data-queue-id='{queued.queue_id}']")
    expect(row.locator(".count-pending")).to_have_text("3")
    expect(page.locator("#schemas-table tbody tr")).to_have_count(5)  # with the default
    row.get_by_role("link", name="release 1.2").click()

    expect(page.locator("#item-position")).to_have_text("Trace 1 of 3")
    expect(page.locator("#trace-request")).to_contain_text("life")
    expect(page.locator("#trace-response")).to_contain_text("The answer to life is 42")
    screenshot(page, "review-queue")
    page.locator("body").press("1")  # the first open question: correct -> Right
    page.locator("body").press("2")  # the next open one: tone -> casual
    page.locator("fieldset[data-schema='stars'] input").fill("4")
    page.locator("fieldset[data-schema='expected_answer'] textarea").fill("42")
    page.locator("fieldset[data-schema='correct'] textarea").fill("short and right")
    page.locator("fieldset[data-schema='stars'] input").press("Control+Enter")

    expect(page.locator("#item-position")).to_have_text("Trace 2 of 3")
    expect(page.locator("#queue-progress")).to_contain_text("1 complete")
    answers = _assessments(demo, queued.trace_ids[0])
    assert answers["correct"].value is True
    assert answers["correct"].rationale == "short and right"
    assert answers["tone"].value == "casual"
    assert answers["stars"].value == 4
    assert answers["expected_answer"].value == "42"
    assert answers["expected_answer"].kind == AssessmentKind.EXPECTATION
    reviewer = page.locator("#queue-progress strong").text_content()
    assert {a.source.source_type for a in answers.values()} == {AssessmentSourceType.HUMAN}
    assert {a.source.source_id for a in answers.values()} == {reviewer}

    page.locator("body").press("d")  # declines the second trace, on to the third
    expect(page.locator("#item-position")).to_have_text("Trace 3 of 3")
    page.locator("body").press("k")
    expect(page.locator("#item-status")).to_have_attribute("data-status", "DECLINED")
    page.locator("body").press("k")
    expect(page.locator("#item-position")).to_have_text("Trace 1 of 3")
    # the reviewer's answers are shown again
    expect(page.locator("fieldset[data-schema='correct'] input[value='pass']")).to_be_checked()
    expect(page.locator("fieldset[data-schema='stars'] input")).to_have_value("4")
    page.goto(f"{demo.url}/experiments/{queued.experiment_id}/review")
    expect(row.locator(".count-complete")).to_have_text("1")
    expect(row.locator(".count-declined")).to_have_text("1")


def test_an_answer_out_of_range_is_refused_and_the_trace_stays_pending(
    page: Any, demo: Demo, queued: Queued
) -> None:
    third = queued.trace_ids[2]
    page.goto(f"{demo.url}/review-queues/{queued.queue_id}?item={third}")
    page.locator("fieldset[data-schema='stars'] input").evaluate("e => e.removeAttribute('max')")
    page.locator("fieldset[data-schema='stars'] input").fill("9")
    page.locator("#submit-review").click()
    expect(page.locator("#flash")).to_contain_text("stars: the number is outside 1")
    expect(page.locator("#item-status")).to_have_attribute("data-status", "PENDING")
    assert "stars" not in _assessments(demo, third)


def test_a_trace_not_in_the_queue_is_an_error_page(page: Any, demo: Demo, queued: Queued) -> None:
    answer = page.goto(f"{demo.url}/review-queues/{queued.queue_id}?item=tr-nothere")
    assert answer is not None
    assert answer.status == 400
    expect(page.locator("main")).to_contain_text("is not in this queue")
