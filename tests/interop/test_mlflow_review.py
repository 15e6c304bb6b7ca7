"""The real mlflow 3.17.2 client's label schemas and review queues against a Heron server:
create, get, list (with the default question), update and delete schemas; create a custom
queue, a user's own queue, queue traces, mark them reviewed, list by status, and the errors
MLflow's rules call for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.slow

RunMlflow = Callable[..., Any]


def test_mlflow_label_schemas_against_heron(live_server: str, run_mlflow: RunMlflow) -> None:
    result = run_mlflow(
        """
import json
import mlflow
from mlflow.genai import label_schemas as ls

experiment_id = mlflow.set_experiment("labels").experiment_id
correct = ls.create_label_schema("correct", type="feedback",
    input=ls.InputPassFail(positive_label="Correct", negative_label="Wrong"),
    instruction="Is the answer right?", enable_comment=True)
tone = ls.create_label_schema("tone", type="feedback",
    input=ls.InputCategorical(options=["formal", "casual"]))
score = ls.create_label_schema("score", type="expectation",
    input=ls.InputNumeric(min_value=0, max_value=10))
note = ls.create_label_schema("note", type="feedback", input=ls.InputText())
listed = ls.list_label_schemas(experiment_id)
by_name = ls.get_label_schema("tone", experiment_id=experiment_id)
by_id = ls.get_label_schema(schema_id=correct.schema_id)
updated = ls.update_label_schema(tone.schema_id,
    input=ls.InputCategorical(options=["formal", "casual", "rude"]), instruction="Tone?")
errors = {}
for key, call in {
    "duplicate": lambda: ls.create_label_schema("tone", type="feedback", input=ls.InputText()),
    "kind": lambda: ls.update_label_schema(tone.schema_id, input=ls.InputText()),
    "reserved": lambda: ls.create_label_schema("feedback", type="feedback",
                                               input=ls.InputText()),
    "same_labels": lambda: ls.create_label_schema("x", type="feedback",
        input=ls.InputPassFail(positive_label="a", negative_label="a")),
    "missing": lambda: ls.get_label_schema(schema_id="ls-nope"),
}.items():
    try:
        call()
        errors[key] = None
    except Exception as exc:
        errors[key] = getattr(exc, "error_code", str(exc))
ls.delete_label_schema(schema_id=note.schema_id)
ls.delete_label_schema(schema_id=note.schema_id)  # a second time is no error
page = ls.list_label_schemas(experiment_id, max_results=2)
print(json.dumps({
    "listed": sorted((s.name, s.is_default) for s in listed),
    "correct": [correct.input.positive_label, correct.input.negative_label,
                correct.instruction, correct.enable_comment, str(correct.type)],
    "score": [score.input.min_value, score.input.max_value, str(score.type)],
    "note_max": note.input.max_length,
    "by_name": by_name.schema_id == tone.schema_id,
    "by_id": by_id.name,
    "updated": [updated.input.options, updated.instruction],
    "errors": errors,
    "after_delete": sorted(s.name for s in ls.list_label_schemas(experiment_id)),
    "page": [len(page), page.token is not None],
}))
""",
        MLFLOW_TRACKING_URI=live_server,
    )
    assert result["listed"] == [
        ["Feedback", True],
        ["correct", False],
        ["note", False],
        ["score", False],
        ["tone", False],
    ]
    assert result["correct"] == ["Correct", "Wrong", "Is the answer right?", True, "feedback"]
    assert result["score"] == [0, 10, "expectation"]
    assert result["note_max"] is None
    assert result["by_name"] is True
    assert result["by_id"] == "correct"
    assert result["updated"] == [["formal", "casual", "rude"], "Tone?"]
    assert result["errors"] == {
        "duplicate": "RESOURCE_ALREADY_EXISTS",
        "kind": "INVALID_PARAMETER_VALUE",
        "reserved": "INVALID_PARAMETER_VALUE",
        "same_labels": "INVALID_PARAMETER_VALUE",
        "missing": "RESOURCE_DOES_NOT_EXIST",
    }
    assert result["after_delete"] == ["Feedback", "correct", "score", "tone"]
    assert result["page"] == [2, True]


def test_mlflow_review_queues_against_heron(live_server: str, run_mlflow: RunMlflow) -> None:
    result = run_mlflow(
        """
import json
import mlflow
from mlflow.genai import label_schemas as ls
from mlflow.genai import review_queues as rq

experiment_id = mlflow.set_experiment("reviews").experiment_id
trace_ids = []
for question in ("a", "b", "c"):
    with mlflow.start_span("answer") as span:
        span.set_inputs({"question": question})
        span.set_outputs({"answer": question.upper()})
    trace_ids.append(span.trace_id)
mlflow.flush_trace_async_logging()
correct = ls.create_label_schema("correct", type="feedback",
    input=ls.InputPassFail(positive_label="Yes", negative_label="No"))
queue = rq.create_review_queue("release 1.2", queue_type="custom", users=["Ann", "bob"],
                               schema_ids=[correct.schema_id])
mine = rq.get_or_create_user_queue("Carol")
again = rq.get_or_create_user_queue("carol")
added = rq.add_items_to_review_queue(queue.queue_id, item_ids=trace_ids + [trace_ids[0]])
done = rq.set_review_queue_item_status(queue.queue_id, item_id=trace_ids[0],
                                       status="complete", completed_by="Ann")
rq.set_review_queue_item_status(queue.queue_id, item_id=trace_ids[1], status="declined",
                                completed_by="bob")
pending = rq.list_review_queue_items(queue.queue_id, status="pending")
every = rq.list_review_queue_items(queue.queue_id)
renamed = rq.update_review_queue(queue.queue_id, name="release 1.3", users=["dan"])
for_ann = rq.list_review_queues(user="ann", experiment_id=experiment_id)
for_dan = rq.list_review_queues(user="dan", experiment_id=experiment_id)
fetched = rq.get_review_queue(name="release 1.3", experiment_id=experiment_id)
errors = {}
for key, call in {
    "reserved": lambda: rq.create_review_queue("Default", queue_type="custom"),
    "duplicate": lambda: rq.create_review_queue("release 1.3", queue_type="custom"),
    "user_schemas": lambda: rq.create_review_queue("eve", queue_type="user",
                                                   schema_ids=[correct.schema_id]),
    "no_completer": lambda: rq.set_review_queue_item_status(queue.queue_id,
                                                            item_id=trace_ids[2],
                                                            status="complete"),
    "frozen_schemas": lambda: rq.update_review_queue(queue.queue_id, schema_ids=[]),
    "unknown_trace": lambda: rq.add_items_to_review_queue(queue.queue_id,
                                                          item_ids=["tr-0000"]),
}.items():
    try:
        call()
        errors[key] = None
    except Exception as exc:
        errors[key] = getattr(exc, "error_code", str(exc))
rq.remove_items_from_review_queue(queue.queue_id, item_ids=[trace_ids[2]])
left = [i.item_id for i in rq.list_review_queue_items(queue.queue_id)]
rq.delete_review_queue(queue.queue_id)
rq.delete_review_queue(queue.queue_id)
print(json.dumps({
    "queue": [queue.name, str(queue.queue_type), queue.users,
              queue.schema_ids == [correct.schema_id]],
    "mine": [mine.name, str(mine.queue_type), mine.users, mine.queue_id == again.queue_id],
    "added": [[i.item_id == t, str(i.status)] for i, t in zip(added, trace_ids)],
    "done": [str(done.status), done.completed_by, done.completed_time_ms is not None],
    "pending": [i.item_id == trace_ids[2] for i in pending],
    "every": [str(i.status) for i in every],
    "renamed": [renamed.name, renamed.users],
    "for_ann": len(for_ann), "for_dan": [q.name for q in for_dan],
    "fetched": fetched.queue_id == queue.queue_id,
    "errors": errors,
    "left": [t == trace_ids[0] or t == trace_ids[1] for t in left],
    "queues_after": [q.name for q in rq.list_review_queues(experiment_id=experiment_id)],
}))
""",
        MLFLOW_TRACKING_URI=live_server,
    )
    assert result["queue"] == ["release 1.2", "custom", ["ann", "bob"], True]
    assert result["mine"] == ["carol", "user", ["carol"], True]
    assert result["added"] == [[True, "pending"]] * 3
    assert result["done"] == ["complete", "ann", True]
    assert result["pending"] == [True]
    assert result["every"] == ["complete", "declined", "pending"]
    assert result["renamed"] == ["release 1.3", ["dan"]]
    assert result["for_ann"] == 0
    assert result["for_dan"] == ["release 1.3"]
    assert result["fetched"] is True
    assert result["errors"] == {
        "reserved": "INVALID_PARAMETER_VALUE",
        "duplicate": "RESOURCE_ALREADY_EXISTS",
        "user_schemas": "INVALID_PARAMETER_VALUE",
        "no_completer": "INVALID_PARAMETER_VALUE",
        "frozen_schemas": "INVALID_PARAMETER_VALUE",
        "unknown_trace": "RESOURCE_DOES_NOT_EXIST",
    }
    assert result["left"] == [True, True]
    assert result["queues_after"] == ["carol"]
