"""The forms of human review in real Chromium: label schemas of every kind and a review queue
made from the Review tab, traces added and reviewers changed on the queue's page, refused
input shown with what to fix; and the forms refused to a user who may only read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from playwright.sync_api import expect
from tests.server.security.conftest import AuthServer, create_user, serve_with_auth
from tests.ui.conftest import Demo, sdk_tracking


@dataclass(frozen=True)
class Traced:
    experiment_id: str
    trace_ids: list[str]
    other_trace: str  # a trace of another experiment


@pytest.fixture(scope="module")
def traced(demo: Demo) -> Traced:
    import heron

    @heron.trace
    def answer(question: str) -> str:
        return f"{question}: 42"

    with sdk_tracking(demo.url):
        heron.set_experiment("ui-review-forms-other")
        answer("elsewhere")
        heron.flush_trace_async_logging()
        [other] = heron.search_traces(max_results=1)
        experiment_id = heron.set_experiment("ui-review-forms").experiment_id
        for question in ("life", "universe", "everything"):
            answer(question)
        heron.flush_trace_async_logging()
        ids = [t.info.trace_id for t in heron.search_traces(max_results=10)]
    return Traced(str(experiment_id), ids, other.info.trace_id)


def _new_schema(page: Any, name: str, kind: str, **fields: str) -> None:
    page.locator("#new-schema-box summary").click()
    form = page.locator("#new-schema-form")
    form.locator("input[name='name']").fill(name)
    form.locator("select[name='input']").select_option(kind)
    for key, value in fields.items():
        if value == "on":
            form.locator(f"input[name='{key}']").check()
        else:
            form.locator(f"[name='{key}']").fill(value)
    form.get_by_role("button", name="Create label schema").click()


def test_label_schemas_and_a_queue_made_in_the_ui(
    page: Any, demo: Demo, traced: Traced, screenshot: Any
) -> None:
    page.goto(f"{demo.url}/experiments/{traced.experiment_id}/review")
    _new_schema(page, "helpful", "pass_fail", positive_label="Yes", negative_label="No",
                instruction="Does it help?", enable_comment="on")  # fmt: skip
    _new_schema(page, "tone", "categorical", options="dry\nwarm, curt", multi_select="on")
    _new_schema(page, "score", "numeric", min_value="1", max_value="5")
    _new_schema(page, "note", "text", max_length="200")
    schemas = page.locator("#schemas-table tbody tr")
    expect(schemas).to_have_count(5)  # with the default question
    helpful = page.locator("#schemas-table tr", has_text="helpful")
    expect(helpful).to_contain_text("pass/fail")
    expect(helpful).to_contain_text("Does it help?")

    _new_schema(page, "bad-range", "numeric", min_value="5", max_value="1")
    expect(page.locator("#flash")).to_contain_text("must be below max_value")
    _new_schema(page, "helpful", "text")
    expect(page.locator("#flash")).to_contain_text("helpful")  # the name is taken
    expect(schemas).to_have_count(5)

    page.locator("#new-queue-box summary").click()
    form = page.locator("#new-queue-form")
    form.locator("input[name='name']").fill("release 1.2")
    form.locator("input[name='users']").fill("Ann, bob")
    form.get_by_label("helpful").check()
    form.get_by_label("tone").check()
    form.get_by_role("button", name="Create queue").click()
    expect(page.locator("#queue-name")).to_have_text("release 1.2")
    expect(page.locator("#queue-items .empty")).to_be_visible()

    page.locator("#add-traces-box summary").click()
    page.locator("#add-traces-form textarea").fill(traced.other_trace)
    page.locator("#add-traces-form button").click()
    expect(page.locator("#flash")).to_contain_text("is not in experiment")
    page.locator("#add-traces-box summary").click()
    page.locator("#add-traces-form textarea").fill("\n".join(traced.trace_ids[:2]))
    page.locator("#add-traces-form button").click()
    expect(page.locator("#queue-items li")).to_have_count(2)
    expect(page.locator("fieldset.question")).to_have_count(2)  # helpful and tone asked

    page.locator("#edit-queue-box summary").click()
    expect(page.locator("#edit-queue-form input[name='users']")).to_have_value("ann, bob")
    page.locator("#edit-queue-form input[name='users']").fill("ann, carol")
    page.locator("#edit-queue-form button").click()
    page.goto(f"{demo.url}/experiments/{traced.experiment_id}/review")
    queue = page.locator("#queues-table tbody tr", has_text="release 1.2")
    expect(queue).to_contain_text("ann, carol")
    expect(queue.locator(".count-pending")).to_have_text("2")
    screenshot(page, "review-forms")


@pytest.fixture
def locked(tmp_path: Path, serve_settings: Any) -> Iterator[AuthServer]:
    with serve_with_auth(tmp_path, serve_settings) as server:
        yield server


def test_the_forms_need_update_on_the_experiment(locked: AuthServer) -> None:
    create_user(locked, "reader", "reader-password")
    with locked.admin() as admin:
        answer = admin.post("/api/2.0/mlflow/experiments/create", json={"name": "guarded"})
        experiment_id = answer.json()["experiment_id"]
    with locked.client(("reader", "reader-password")) as reader:
        reader.get("/")
        token = reader.cookies["heron_csrf"]
        for path, data in (
            (f"/ui/experiments/{experiment_id}/label-schemas",
             {"name": "x", "input": "text", "type": "feedback"}),
            (f"/ui/experiments/{experiment_id}/review-queues", {"name": "q"}),
        ):  # fmt: skip
            refused = reader.post(path, data={**data, "csrf_token": token})
            # a form goes back to its page with the reason shown there, as every UI form does
            assert refused.status_code == 303, path
            reason = unquote(refused.cookies["heron_flash"])
            assert (
                reason == f"'reader' may not update experiment {experiment_id}: EDIT on "
                f"experiment '{experiment_id}' is needed"
            ), path  # the API route's own check
    with locked.admin() as admin:
        queues = admin.get(
            "/api/3.0/mlflow/review-queues/list", params={"experiment_id": experiment_id}
        )
        assert queues.json().get("review_queues", []) == []
        schemas = admin.get(
            "/api/3.0/mlflow/label-schemas/list", params={"experiment_id": experiment_id}
        )
        assert [s["name"] for s in schemas.json().get("label_schemas", [])] == ["Feedback"]
