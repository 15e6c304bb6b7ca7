"""Human review changed after it is set up, in real Chromium: a label schema edited (its kind
of answer kept) and deleted on the Review tab, a review queue renamed, given other reviewers
and deleted on its page, and traces ticked in the traces list added to a queue; refused input
shown with what to fix, and none of it offered to, or allowed for, a user who may only read."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from playwright.sync_api import expect
from tests.server.security.conftest import AuthServer, create_user, serve_with_auth
from tests.server.security.test_grants_enforced import grant
from tests.ui.conftest import Demo, sign_in

from heron.client.http.traces import otlp_body
from heron.entities.trace import Span, SpanStatusCode

V2 = "/api/2.0/mlflow"
V3 = "/api/3.0/mlflow"


def _call(method: str, url: str, path: str, **kwargs: Any) -> dict[str, Any]:
    answer = httpx.request(method, url + path, timeout=30, **kwargs)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _send_trace(http: httpx.Client, experiment_id: str, name: str) -> str:
    """A one-span trace sent over OTLP, as an instrumented app would."""
    trace_id = "tr-" + uuid.uuid4().hex
    span = Span(
        trace_id=trace_id, span_id=uuid.uuid4().hex[:16], parent_span_id=None, name=name,
        span_type="AGENT", status=SpanStatusCode.OK, start_time_ns=1_700_000_000_000_000_000,
        end_time_ns=1_700_000_001_000_000_000, inputs={"q": name}, outputs=f"{name}: 42",
    )  # fmt: skip
    sent = http.post("/v1/traces", content=otlp_body([span]), headers={
        "Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": experiment_id,
    })  # fmt: skip
    assert sent.status_code == 200, sent.text
    return trace_id


@dataclass(frozen=True)
class Setup:
    experiment_id: str
    trace_ids: list[str]
    schemas: dict[str, str]  # name -> schema_id
    queue_id: str


def _set_up(url: str, name: str) -> Setup:
    """An experiment with three traces, two label schemas and a queue asking both."""
    experiment_id = _call("POST", url, V2 + "/experiments/create", json={"name": name})[
        "experiment_id"
    ]
    with httpx.Client(base_url=url, timeout=30) as http:
        trace_ids = [_send_trace(http, experiment_id, q) for q in ("life", "universe", "all")]
    schemas = {}
    for body in (
        {"name": "helpful", "type": "FEEDBACK", "instruction": "Does it help?",
         "input": {"pass_fail": {"positive_label": "Yes", "negative_label": "No"}}},
        {"name": "tone", "type": "FEEDBACK",
         "input": {"categorical": {"options": ["dry", "warm"]}}},
    ):  # fmt: skip
        made = _call("POST", url, V3 + "/label-schemas/create",
                     json={"experiment_id": experiment_id, **body})  # fmt: skip
        schemas[body["name"]] = made["label_schema"]["schema_id"]
    queue = _call("POST", url, V3 + "/review-queues/create", json={
        "experiment_id": experiment_id, "name": "release 1.2", "queue_type": "CUSTOM",
        "users": ["ann"], "schema_ids": list(schemas.values()),
    })["review_queue"]  # fmt: skip
    return Setup(experiment_id, trace_ids, schemas, queue["queue_id"])


def _schema(url: str, schema_id: str) -> dict[str, Any]:
    return dict(
        _call("GET", url, V3 + "/label-schemas/get", params={"schema_id": schema_id})[
            "label_schema"
        ]
    )


def _edit(page: Any, schema: str, **fields: str) -> None:
    row = page.locator("#schemas-table tbody tr", has_text=schema)
    row.locator(".edit-schema-box summary").click()
    form = row.locator(".edit-schema-form")
    for key, value in fields.items():
        if key == "input":
            form.locator("select[name='input']").select_option(value)
        else:
            form.locator(f"[name='{key}']").fill(value)
    form.get_by_role("button", name="Save label schema").click()


def test_a_label_schema_edited_and_deleted_on_the_review_tab(
    page: Any, demo: Demo, screenshot: Any
) -> None:
    setup = _set_up(demo.url, "ui-review-edits-schemas")
    helpful = setup.schemas["helpful"]
    page.goto(f"{demo.url}/experiments/{setup.experiment_id}/review")
    _edit(page, "helpful", name="useful", instruction="Would it help a user?",
          positive_label="Good", negative_label="Bad")  # fmt: skip
    row = page.locator(f"#schemas-table tr[data-schema-id='{helpful}']")
    expect(row.locator(".name")).to_have_text("useful")
    expect(row).to_contain_text("Would it help a user?")
    saved = _schema(demo.url, helpful)
    assert saved["name"] == "useful"
    assert saved["input"] == {"pass_fail": {"positive_label": "Good", "negative_label": "Bad"}}
    assert saved["type"] == "FEEDBACK"

    # its kind of answer stays: the labels given with it would no longer fit
    _edit(page, "useful", input="text")
    expect(page.locator("#flash")).to_contain_text(
        "Label schema 'useful' takes a pass/fail answer, which cannot become text"
    )
    _edit(page, "useful", name="tone")  # a name the experiment's other schema has
    expect(page.locator("#flash")).to_contain_text("already has a label schema named 'tone'")
    _edit(page, "useful", positive_label="Same", negative_label="Same")
    expect(page.locator("#flash")).to_contain_text("must differ")
    assert _schema(demo.url, helpful) == saved  # refused edits change nothing

    # the default question is neither edited nor deleted
    default = page.locator("#schemas-table tbody tr", has_text="(default)")
    expect(default.locator(".edit-schema-box")).to_have_count(0)
    expect(default.locator(".delete-schema-form")).to_have_count(0)

    _edit(page, "tone", options="dry\nwarm, curt")  # one option more
    options = _schema(demo.url, setup.schemas["tone"])["input"]["categorical"]["options"]
    assert options == ["dry", "warm", "curt"]
    tone = page.locator(f"#schemas-table tr[data-schema-id='{setup.schemas['tone']}']")
    page.once("dialog", lambda dialog: dialog.dismiss())
    tone.get_by_role("button", name="Delete label schema tone").click()
    expect(tone).to_have_count(1)  # not confirmed: kept
    page.once("dialog", lambda dialog: dialog.accept())
    tone.get_by_role("button", name="Delete label schema tone").click()
    expect(tone).to_have_count(0)
    expect(page.locator("#schemas-table tbody tr")).to_have_count(2)  # useful, the default
    queue = _call("GET", demo.url, V3 + "/review-queues/get", params={"queue_id": setup.queue_id})
    assert queue["review_queue"]["schema_ids"] == [helpful]  # the queue no longer asks it
    page.locator(f"#schemas-table tr[data-schema-id='{helpful}'] .edit-schema-box summary").click()
    screenshot(page, "review-schema-edit")


def test_a_review_queue_edited_and_deleted_on_its_page(page: Any, demo: Demo) -> None:
    setup = _set_up(demo.url, "ui-review-edits-queues")
    _call("POST", demo.url, V3 + "/review-queues/create", json={
        "experiment_id": setup.experiment_id, "name": "taken", "queue_type": "CUSTOM"})  # fmt: skip
    page.goto(f"{demo.url}/review-queues/{setup.queue_id}")
    form = page.locator("#edit-queue-form")

    def save(name: str, users: str) -> None:
        page.locator("#edit-queue-box summary").click()
        form.locator("input[name='name']").fill(name)
        form.locator("input[name='users']").fill(users)
        form.get_by_role("button", name="Save queue").click()

    save("release 2.0", "Ann, dora")
    expect(page.locator("#queue-name")).to_have_text("release 2.0")
    expect(form.locator("input[name='users']")).to_have_value("ann, dora")
    save("release 2.0", ", ".join(f"user{i}" for i in range(11)))
    expect(page.locator("#flash")).to_contain_text("at most 10 users, not 11")
    save("taken", "ann")
    expect(page.locator("#flash")).to_contain_text("taken")
    save("default", "ann")
    expect(page.locator("#flash")).to_contain_text("reserved")
    queue = _call("GET", demo.url, V3 + "/review-queues/get", params={"queue_id": setup.queue_id})
    assert queue["review_queue"]["name"] == "release 2.0"
    assert queue["review_queue"]["users"] == ["ann", "dora"]

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#delete-queue").click()
    page.wait_for_url(f"**/experiments/{setup.experiment_id}/review")
    expect(page.locator("#queues-table tbody tr")).to_have_count(1)
    expect(page.locator("#queues-table")).not_to_contain_text("release 2.0")
    gone = httpx.get(demo.url + V3 + "/review-queues/get", params={"queue_id": setup.queue_id})
    assert gone.status_code == 404


def test_traces_ticked_in_the_list_are_added_to_a_queue(
    page: Any, demo: Demo, screenshot: Any
) -> None:
    setup = _set_up(demo.url, "ui-review-edits-traces")
    other = _set_up(demo.url, "ui-review-edits-traces-other")
    page.goto(f"{demo.url}/experiments/{setup.experiment_id}/traces")
    expect(page.locator("#queue-select option")).to_have_count(1)  # this experiment's only
    page.locator("#add-to-queue").click()
    expect(page.locator("#flash")).to_contain_text("Tick the traces to add to a review queue")
    for trace_id in setup.trace_ids[:2]:
        page.locator(f"#traces-table input[name=ids][value='{trace_id}']").check()
    page.locator("#queue-select").select_option(label="release 1.2")
    screenshot(page, "review-add-from-traces")
    page.locator("#add-to-queue").click()
    page.wait_for_url(f"**/review-queues/{setup.queue_id}")
    queued = page.locator("#queue-items li")
    expect(queued).to_have_count(2)
    expect(queued.nth(0)).to_have_attribute("data-status", "PENDING")
    items = _call("GET", demo.url, V3 + "/review-queues/items/list",
                  params={"queue_id": setup.queue_id})["items"]  # fmt: skip
    assert sorted(i["item_id"] for i in items) == sorted(setup.trace_ids[:2])

    # the list's other action still compares what is ticked
    page.goto(f"{demo.url}/experiments/{setup.experiment_id}/traces")
    for trace_id in setup.trace_ids:
        page.locator(f"#traces-table input[name=ids][value='{trace_id}']").check()
    page.locator("#compare-traces").click()
    page.wait_for_url("**/traces/compare?**")
    expect(page.locator("#compare-summary thead th")).to_have_count(4)  # a label, 3 traces

    # a queue of another experiment, posted by hand, is refused
    page.goto(f"{demo.url}/experiments/{setup.experiment_id}/traces")
    page.locator(f"#traces-table input[name=ids][value='{setup.trace_ids[2]}']").check()
    page.locator("#queue-select option").evaluate("(o, id) => { o.value = id; }", other.queue_id)
    page.locator("#add-to-queue").click()
    expect(page.locator("#flash")).to_contain_text("belongs to another experiment")
    assert _call("GET", demo.url, V3 + "/review-queues/items/list",
                 params={"queue_id": other.queue_id}).get("items", []) == []  # fmt: skip


def test_no_traces_list_action_without_a_queue(page: Any, demo: Demo) -> None:
    experiment_id = _call("POST", demo.url, V2 + "/experiments/create",
                          json={"name": "ui-review-edits-no-queue"})["experiment_id"]  # fmt: skip
    with httpx.Client(base_url=demo.url, timeout=30) as http:
        _send_trace(http, experiment_id, "lonely")
    page.goto(f"{demo.url}/experiments/{experiment_id}/traces")
    expect(page.locator("#queue-traces")).to_contain_text("No review queue yet")
    expect(page.locator("#add-to-queue")).to_have_count(0)
    page.locator("#queue-traces a").click()
    page.wait_for_url(f"**/experiments/{experiment_id}/review")


@pytest.fixture
def locked(tmp_path: Path, serve_settings: Any) -> Iterator[AuthServer]:
    with serve_with_auth(tmp_path, serve_settings) as server:
        yield server


def test_a_reader_can_neither_see_nor_post_the_changes(page: Any, locked: AuthServer) -> None:
    create_user(locked, "reader", "reader-password")
    with locked.admin() as admin:
        experiment_id = admin.post(
            "/api/2.0/mlflow/experiments/create", json={"name": "guarded"}
        ).json()["experiment_id"]
        trace_id = _send_trace(admin, experiment_id, "guarded")
        schema_id = admin.post(f"{V3}/label-schemas/create", json={
            "experiment_id": experiment_id, "name": "helpful", "type": "FEEDBACK",
            "input": {"text": {}}}).json()["label_schema"]["schema_id"]  # fmt: skip
        queue_id = admin.post(f"{V3}/review-queues/create", json={
            "experiment_id": experiment_id, "name": "q", "queue_type": "CUSTOM",
            "schema_ids": [schema_id]}).json()["review_queue"]["queue_id"]  # fmt: skip
    grant(locked, "reader", "READ", "experiment", experiment_id)

    sign_in(page, locked.url, "reader", "reader-password")
    page.goto(f"{locked.url}/experiments/{experiment_id}/traces")
    expect(page.locator(f"#traces-table tr[data-trace-id='{trace_id}']")).to_be_visible()
    expect(page.locator("#compare-traces")).to_be_visible()  # reading is theirs
    expect(page.locator("#queue-traces")).to_have_count(0)
    page.goto(f"{locked.url}/experiments/{experiment_id}/review")
    expect(page.locator("#schemas-table tbody tr", has_text="helpful")).to_be_visible()
    for hidden in (".edit-schema-box", ".delete-schema-form", "#new-schema-box",
                   "#new-queue-box"):  # fmt: skip
        expect(page.locator(hidden)).to_have_count(0)
    page.goto(f"{locked.url}/review-queues/{queue_id}")
    for hidden in ("#edit-queue-box", "#delete-queue-form", "#add-traces-box"):
        expect(page.locator(hidden)).to_have_count(0)

    with locked.client(("reader", "reader-password")) as reader:
        reader.get("/")
        token = reader.cookies["heron_csrf"]
        for path, data in (
            (f"/ui/label-schemas/{schema_id}/edit", {"name": "x", "input": "text"}),
            (f"/ui/label-schemas/{schema_id}/delete", {}),
            (f"/ui/review-queues/{queue_id}/edit", {"name": "x", "users": "reader"}),
            (f"/ui/review-queues/{queue_id}/delete", {}),
            (f"/ui/experiments/{experiment_id}/traces/review-queue",
             {"ids": trace_id, "queue_id": queue_id}),
        ):  # fmt: skip
            refused = reader.post(path, data={**data, "csrf_token": token})
            assert refused.status_code == 303, path
            reason = unquote(refused.cookies["heron_flash"])
            assert reason.startswith("'reader' may not update experiment"), (path, reason)
        # the compare action needs only read
        compared = reader.post(
            f"/ui/experiments/{experiment_id}/traces/compare",
            data={"ids": [trace_id, trace_id], "csrf_token": token},
        )
        assert compared.status_code == 303
        assert "heron_flash" in compared.cookies  # one trace twice is not two traces

    with locked.admin() as admin:
        schema = admin.get(f"{V3}/label-schemas/get", params={"schema_id": schema_id}).json()
        assert schema["label_schema"]["name"] == "helpful"
        queue = admin.get(f"{V3}/review-queues/get", params={"queue_id": queue_id}).json()
        assert queue["review_queue"]["name"] == "q"
        items = admin.get(f"{V3}/review-queues/items/list", params={"queue_id": queue_id})
        assert items.json().get("items", []) == []
