"""Browser tests: an experiment's traces (filters, pages), a trace's span tree, timeline and
span details, and feedback and expectations added from the page. Traces are made by Heron's
tracing SDK against the test server."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect
from tests.ui.conftest import Demo

TRACES = 53  # more than one page (50)


@dataclass(frozen=True)
class Traced:
    experiment_id: str
    failed_trace_id: str


@pytest.fixture(scope="module")
def traced(demo: Demo) -> Traced:
    import heron
    from heron import tracing
    from heron.entities.trace import SpanType

    with pytest.MonkeyPatch.context() as env:
        for name in (
            "HERON_TRACKING_URI",
            "MLFLOW_TRACKING_URI",
            "HERON_EXPERIMENT_NAME",
            "MLFLOW_EXPERIMENT_NAME",
            "HERON_EXPERIMENT_ID",
            "MLFLOW_EXPERIMENT_ID",
        ):
            env.delenv(name, raising=False)  # fmt: skip
        heron.set_tracking_uri(demo.url)
        try:
            experiment_id = heron.set_experiment("ui-traces").experiment_id

            @tracing.trace(span_type=SpanType.TOOL)
            def lookup(question: str) -> dict[str, list[str]]:
                return {"hits": [question.upper()]}

            @tracing.trace(name="answer", span_type=SpanType.CHAIN)
            def answer(question: str, i: int) -> str:
                if i % 10 == 0:
                    tracing.update_current_trace(tags={"team": "vision"})
                hits = lookup(question)
                with tracing.start_span("format", span_type=SpanType.PARSER) as span:
                    span.set_inputs(hits)
                    span.add_event("formatting", {"rows": 1})
                    span.set_outputs(f"<b>{hits['hits'][0]}</b>")
                if question == "explode":
                    raise ValueError("kaput: no answer")
                return f"answer to {question}"

            for i in range(TRACES - 1):
                answer(f"question {i}", i)
                time.sleep(0.002)  # distinct start times: the newest-first order is known
            with pytest.raises(ValueError, match="kaput"):
                answer("explode", 1)
            failed = tracing.get_last_active_trace_id()
            assert failed is not None
            assert tracing.flush(timeout_s=60)
        finally:
            heron.set_tracking_uri(None)
    return Traced(experiment_id=experiment_id, failed_trace_id=failed)


def _rows(page: Any) -> Any:
    return page.locator("#traces-table tbody tr")


def test_traces_list_filters_and_pages(
    page: Any, traced: Traced, demo: Demo, screenshot: Any
) -> None:
    page.goto(f"{demo.url}/experiments/{traced.experiment_id}")
    page.get_by_role("link", name="Traces", exact=True).click()
    expect(page.locator("#tab-traces")).to_have_attribute("aria-current", "page")
    expect(_rows(page)).to_have_count(50)
    first = _rows(page).first
    expect(first).to_have_attribute("data-trace-id", traced.failed_trace_id)  # newest first
    expect(first.locator("td").nth(2)).to_contain_text("explode")  # request preview
    expect(first.locator("td").nth(4)).to_have_text("ERROR")
    screenshot(page, "traces")

    page.locator("#next-page").click()
    expect(_rows(page)).to_have_count(TRACES - 50)
    page.locator("#previous-page").click()
    expect(_rows(page)).to_have_count(50)
    expect(_rows(page).first).to_have_attribute("data-trace-id", traced.failed_trace_id)
    expect(page.locator("#previous-page")).to_have_count(0)

    page.get_by_label("Status").select_option("ERROR")
    page.get_by_role("button", name="Search").click()
    expect(_rows(page)).to_have_count(1)
    expect(page).to_have_url(
        f"{demo.url}/experiments/{traced.experiment_id}/traces?sort=time&dir=desc&q=&status=ERROR&range=&from=&to=&tag="
    )

    page.get_by_label("Status").select_option("")
    page.locator("#trace-tag").fill("team=vision")
    page.get_by_label("Time").select_option("1h")
    page.get_by_role("button", name="Search").click()
    expect(_rows(page)).to_have_count(6)  # questions 0, 10, ..., 50
    for tag in _rows(page).locator("td.tags").all():
        expect(tag).to_have_text("team=vision")

    page.goto(f"{demo.url}/experiments/{traced.experiment_id}/traces")
    page.locator("#trace-search").fill("span.kind = 'LLM'")
    page.locator("#trace-search").press("Enter")
    expect(page.locator("#trace-filter-error")).to_contain_text("unknown span field 'kind'")
    expect(page.locator("#trace-search")).to_have_value("span.kind = 'LLM'")
    page.locator("#trace-search").fill("span.type = 'TOOL' AND execution_time_ms >= 0")
    page.locator("#trace-search").press("Enter")
    expect(_rows(page)).to_have_count(50)
    page.locator("#trace-search").fill("nothing-named-so")
    page.locator("#trace-search").press("Enter")
    expect(page.locator(".empty")).to_have_text("No traces match these filters.")


def test_trace_page_spans_and_feedback(
    page: Any, traced: Traced, demo: Demo, screenshot: Any
) -> None:
    page.goto(f"{demo.url}/experiments/{traced.experiment_id}/traces?status=ERROR")
    page.locator("#traces-table tbody a").first.click()
    expect(page.locator("#trace-name")).to_contain_text("answer")
    expect(page.locator("#trace-state")).to_have_text("ERROR")
    spans = page.locator("#span-tree tbody tr")
    expect(spans).to_have_count(3)
    expect(spans.nth(0)).to_have_attribute("data-depth", "0")
    expect(spans.nth(1)).to_have_attribute("data-depth", "1")
    # the root span is selected first: its error and inputs are shown
    expect(page.locator("#span-errors")).to_contain_text("kaput: no answer")
    expect(page.locator("#span-inputs")).to_contain_text('"question": "explode"')
    bar = spans.nth(0).locator(".bar")
    expect(bar).to_have_attribute("style", "left: 0.0%; width: 100.0%")

    page.get_by_role("link", name="lookup").click()
    expect(page.locator("#h-span")).to_contain_text("lookup")
    expect(page.locator("#span-tree tr[aria-current='true']")).to_contain_text("lookup")
    expect(page.locator("#span-outputs")).to_contain_text('"EXPLODE"')
    page.get_by_role("link", name="format").click()
    expect(page.locator("#span-events")).to_contain_text("formatting")
    expect(page.locator("#span-outputs")).to_have_text("<b>EXPLODE</b>")  # escaped, not markup
    expect(page.locator("#span-attributes")).to_be_visible()

    page.get_by_label("Rationale").fill("It blew up <script>x</script>")
    page.locator("#thumbs-down").click()
    feedback = page.locator("#feedback-list li").first
    expect(feedback).to_have_attribute("data-value", "false")
    expect(feedback.locator(".rationale")).to_have_text("It blew up <script>x</script>")
    expect(feedback.locator(".assessment-source")).to_contain_text("HUMAN")

    page.locator("#feedback-form").get_by_label("on span “format” only").check()
    page.get_by_label("Rationale").fill("nicely formatted")
    page.locator("#thumbs-up").click()
    expect(page).to_have_url(
        f"{demo.url}/traces/{traced.failed_trace_id}?span="
        + spans.nth(2).get_attribute("data-span-id")
        + "#assessments"
    )
    newest = page.locator("#feedback-list li").first
    expect(newest).to_have_attribute("data-value", "true")
    expect(newest).to_contain_text("on span format")
    screenshot(page, "trace")


def test_expectations_added_from_the_trace_page(
    page: Any, traced: Traced, demo: Demo, screenshot: Any
) -> None:
    from heron.client import HeronClient
    from heron.entities.assessment import AssessmentKind, AssessmentSourceType

    page.goto(f"{demo.url}/traces/{traced.failed_trace_id}")
    expectations = page.locator("#expectation-list li[data-name]")
    expect(expectations).to_have_count(0)
    said = 'an answer to "explode" <b>now</b>'  # quotes and markup stay text
    page.get_by_label("Expected value").fill(said)  # Text is the default
    page.locator("#add-expectation").click()
    expect(expectations).to_have_count(1)
    newest = expectations.first
    expect(newest).to_have_attribute("data-name", "expected_response")
    assert json.loads(newest.get_attribute("data-value")) == said
    expect(newest.locator(".assessment-value")).to_have_text(said)
    expect(newest.locator(".assessment-source")).to_contain_text("HUMAN")

    page.locator("#expectation-name").fill("expected_facts")
    page.get_by_label("Expected value").fill('{"facts": ["<b>paris</b>", 2]}')
    page.get_by_label("JSON").check()
    page.locator("#add-expectation").click()
    expect(expectations).to_have_count(2)
    newest = expectations.first
    expect(newest).to_have_attribute("data-name", "expected_facts")
    assert json.loads(newest.get_attribute("data-value")) == {"facts": ["<b>paris</b>", 2]}
    expect(newest.locator("pre.assessment-value")).to_contain_text('"<b>paris</b>"')  # as text

    page.get_by_label("Expected value").fill('{"facts": [')  # not JSON: nothing is added
    page.get_by_label("JSON").check()
    page.locator("#add-expectation").click()
    expect(page.locator("#flash")).to_contain_text("not valid JSON")
    expect(page.locator("#flash")).to_contain_text("choose Text")
    expect(expectations).to_have_count(2)

    page.get_by_role("link", name="lookup").click()
    lookup = page.locator("#span-tree tr[aria-current='true']").get_attribute("data-span-id")
    page.locator("#expectation-on-span").check()
    page.get_by_label("Expected value").fill("42")
    page.get_by_label("JSON").check()
    page.locator("#add-expectation").click()
    expect(page).to_have_url(
        f"{demo.url}/traces/{traced.failed_trace_id}?span={lookup}#assessments"
    )
    expect(expectations.first).to_contain_text("on span lookup")
    expect(expectations.first).to_have_attribute("data-value", "42")
    screenshot(page, "trace-expectations")

    with HeronClient(demo.url) as client:  # what the API (and MLflow's clients) now read
        logged = client.get_trace(traced.failed_trace_id).info.assessments
    mine = sorted(
        ((a.name, a.value, a.span_id) for a in logged if a.kind == AssessmentKind.EXPECTATION),
        key=lambda found: (found[0], found[2] is None),
    )
    assert mine == [
        ("expected_facts", {"facts": ["<b>paris</b>", 2]}, None),
        ("expected_response", 42, lookup),
        ("expected_response", said, None),
    ]
    assert {a.source.source_type for a in logged} == {AssessmentSourceType.HUMAN}


def test_missing_trace_is_a_404_page(page: Any, demo: Demo) -> None:
    response = page.goto(f"{demo.url}/traces/tr-{'0' * 32}")
    assert response.status == 404
    expect(page.locator("main")).to_contain_text("RESOURCE_DOES_NOT_EXIST")


def test_a_feedback_form_keeps_only_a_span_id_in_the_address_it_returns_to(
    demo: Demo, traced: Traced
) -> None:
    """The form's `selected` field (the span the page showed) goes into the redirect; one
    that is not a span id (a fuzzer sent 900 KB) is left out."""
    import re

    import httpx

    trace = f"/traces/{traced.failed_trace_id}"
    with httpx.Client(base_url=demo.url) as client:
        page = client.get(trace).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        for selected, kept in (("0123456789abcdef", True), ("x" * 100_000, False)):
            answer = client.post(
                f"/ui{trace}/feedback",
                data={"csrf_token": token.group(1), "value": "up", "selected": selected},
            )
            assert answer.status_code == 303, answer.text[:200]
            location = answer.headers["location"]
            assert (f"span={selected}" in location) is kept
            assert len(location) < 200
