"""Label schemas and review queues on SQLite and PostgreSQL: names unique per experiment,
the default question made once, paging, the order traces were queued in, statuses, and what
deleting a schema or a queue leaves behind."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from heron.entities.review import (
    InputCategorical,
    InputNumeric,
    InputPassFail,
    InputText,
    LabelSchemaType,
    ReviewQueueType,
    ReviewStatus,
)
from heron.entities.trace import TraceInfo, TraceState
from heron.errors import AlreadyExists, InvalidParameter, NotFound
from heron.services import AllowAll
from heron.services.label_schemas import LabelSchemaService
from heron.services.review_queues import ReviewQueueService
from heron.services.traces import TraceService

FEEDBACK = LabelSchemaType.FEEDBACK


@pytest.fixture
def schemas(stores: Any) -> LabelSchemaService:
    return LabelSchemaService(stores.label_schemas, stores.experiments, AllowAll())


@pytest.fixture
def queues(stores: Any, schemas: LabelSchemaService) -> ReviewQueueService:
    return ReviewQueueService(
        stores.review_queues, schemas, stores.experiments, stores.traces, AllowAll()
    )


@pytest.fixture
def traces(stores: Any) -> Iterator[TraceService]:
    service = TraceService(stores.traces, stores.assessments, AllowAll())
    yield service
    service.close()


@pytest.fixture
def exp(stores: Any) -> str:
    name = f"review-{uuid.uuid4().hex[:6]}"
    return str(stores.experiments.create_experiment(name, artifact_location=None, tags={}))


def _traces(traces: TraceService, exp: str, count: int) -> list[str]:
    made = []
    for i in range(count):
        trace_id = "tr-" + uuid.uuid4().hex
        traces.start_trace(
            TraceInfo(trace_id=trace_id, experiment_id=exp, request_time=i + 1,
                      state=TraceState.OK)
        )  # fmt: skip
        made.append(trace_id)
    return made


def test_schema_names_are_unique_per_experiment_and_the_default_is_made_once(
    schemas: LabelSchemaService, exp: str
) -> None:
    made = schemas.create_schema(exp, "correct", FEEDBACK, InputPassFail())
    with pytest.raises(AlreadyExists):
        schemas.create_schema(exp, "correct", FEEDBACK, InputText())
    names = [s.name for s in schemas.list_schemas(exp)]
    assert sorted(names) == ["Feedback", "correct"]
    assert [s.name for s in schemas.list_schemas(exp)] == names  # not made twice
    default = schemas.get_schema_by_name(exp, "Feedback")
    assert default.is_default
    with pytest.raises(InvalidParameter, match="default question"):
        schemas.delete_schema(default.schema_id)
    with pytest.raises(InvalidParameter, match="default question"):
        schemas.update_schema(default.schema_id, instruction="x")
    renamed = schemas.update_schema(made.schema_id, name="right")
    assert schemas.get_schema(made.schema_id).name == renamed.name == "right"


def test_an_answer_of_another_kind_is_refused_before_the_new_input_is_checked(
    schemas: LabelSchemaService, exp: str
) -> None:
    made = schemas.create_schema(exp, "tone", FEEDBACK, InputCategorical(options=("a", "b")))
    with pytest.raises(InvalidParameter) as refused:
        schemas.update_schema(made.schema_id, input_=InputNumeric(min_value=5, max_value=1))
    assert refused.value.message == (
        "Label schema 'tone' takes a categorical answer, which cannot become numeric (the "
        "labels given with it would no longer fit): make a new label schema for the other kind"
    )
    with pytest.raises(InvalidParameter, match="multi_select"):
        schemas.update_schema(
            made.schema_id, input_=InputCategorical(options=("a",), multi_select=True)
        )
    with pytest.raises(InvalidParameter, match="options must differ"):
        schemas.update_schema(made.schema_id, input_=InputCategorical(options=("a", "a")))
    more = schemas.update_schema(made.schema_id, input_=InputCategorical(options=("a", "b", "c")))
    assert schemas.get_schema(made.schema_id).input == more.input


@pytest.mark.parametrize(
    "given",
    [
        InputPassFail(positive_label="", negative_label="no"),
        InputPassFail(positive_label="x" * 65, negative_label="no"),
        InputCategorical(options=()),
        InputCategorical(options=tuple(str(i) for i in range(11))),
        InputCategorical(options=("a", "a")),
        InputNumeric(min_value=5, max_value=5),
        InputNumeric(min_value=float("nan")),
        InputText(max_length=0),
    ],
    ids=[
        "empty-label",
        "long-label",
        "no-options",
        "11-options",
        "same-option",
        "empty-range",
        "nan",
        "zero-length",
    ],
)
def test_a_bad_input_is_refused(schemas: LabelSchemaService, exp: str, given: Any) -> None:
    with pytest.raises(InvalidParameter):
        schemas.create_schema(exp, "q", FEEDBACK, given)


def test_schemas_page_with_tokens(schemas: LabelSchemaService, exp: str) -> None:
    for i in range(5):
        schemas.create_schema(exp, f"q{i}", FEEDBACK, InputText())
    seen: list[str] = []
    page = schemas.list_schemas(exp, 2)
    seen.extend(s.name for s in page)
    while page.next_page_token:
        page = schemas.list_schemas(exp, 2, page.next_page_token)
        seen.extend(s.name for s in page)
    assert sorted(seen) == ["Feedback", "q0", "q1", "q2", "q3", "q4"]
    with pytest.raises(InvalidParameter, match="page_token"):
        schemas.list_schemas(exp, 2, "bm90IGEgdG9rZW4")


def test_a_queue_keeps_the_order_traces_were_queued_in_and_their_status(
    queues: ReviewQueueService, schemas: LabelSchemaService, traces: TraceService, exp: str
) -> None:
    schema = schemas.create_schema(exp, "correct", FEEDBACK, InputPassFail())
    queue = queues.create_queue(
        exp, "  batch 1 ", ReviewQueueType.CUSTOM, users=["Ann", "ann", "Bob"],
        schema_ids=[schema.schema_id],
    )  # fmt: skip
    assert (queue.name, queue.users) == ("batch 1", ("ann", "bob"))
    first, second, third, fourth = _traces(traces, exp, 4)
    queues.add_items(queue.queue_id, [third, first])
    again = queues.add_items(queue.queue_id, [first, second, fourth])
    assert [i.item_id for i in again] == [first, second, fourth]
    done = queues.set_item_status(queue.queue_id, first, ReviewStatus.COMPLETE, "Ann")
    assert (done.status, done.completed_by) == (ReviewStatus.COMPLETE, "ann")
    queues.add_items(queue.queue_id, [first])  # queued again: keeps its status
    listed = queues.list_items(queue.queue_id, max_results=3)
    assert [i.item_id for i in listed] == [third, first, second]
    rest = queues.list_items(queue.queue_id, max_results=3, page_token=listed.next_page_token)
    assert [i.item_id for i in rest] == [fourth]
    assert [i.status for i in listed] == [ReviewStatus.PENDING, ReviewStatus.COMPLETE,
                                          ReviewStatus.PENDING]  # fmt: skip
    reopened = queues.set_item_status(queue.queue_id, first, ReviewStatus.PENDING)
    assert (reopened.completed_by, reopened.completed_time_ms) == (None, None)
    assert queues.progress(queue)[ReviewStatus.PENDING] == 4
    assert [q.name for q in queues.list_queues(exp, item_id=fourth)] == ["batch 1"]
    with pytest.raises(NotFound):
        queues.set_item_status(queue.queue_id, "tr-" + "0" * 32, ReviewStatus.DECLINED, "x")


def test_deleting_a_schema_takes_it_off_its_queues_and_deleting_a_queue_keeps_the_traces(
    queues: ReviewQueueService, schemas: LabelSchemaService, traces: TraceService, exp: str
) -> None:
    kept = schemas.create_schema(exp, "kept", FEEDBACK, InputText())
    gone = schemas.create_schema(exp, "gone", FEEDBACK, InputText())
    queue = queues.create_queue(exp, "q", ReviewQueueType.CUSTOM,
                                schema_ids=[kept.schema_id, gone.schema_id])  # fmt: skip
    schemas.delete_schema(gone.schema_id)
    assert queues.get_queue(queue.queue_id).schema_ids == (kept.schema_id,)
    (trace_id,) = _traces(traces, exp, 1)
    queues.add_items(queue.queue_id, [trace_id])
    queues.delete_queue(queue.queue_id)
    queues.delete_queue(queue.queue_id)  # gone already: no error
    with pytest.raises(NotFound):
        queues.get_queue(queue.queue_id)
    assert traces.get_trace_info(trace_id).trace_id == trace_id


def test_a_user_queue_is_one_reviewer_asking_every_schema(
    queues: ReviewQueueService, schemas: LabelSchemaService, exp: str
) -> None:
    schemas.create_schema(exp, "tone", FEEDBACK, InputCategorical(options=("a", "b")))
    mine = queues.get_or_create_user_queue(exp, " Carol ")
    assert (mine.name, mine.users, mine.queue_type) == ("carol", ("carol",), ReviewQueueType.USER)
    assert queues.get_or_create_user_queue(exp, "CAROL").queue_id == mine.queue_id
    assert [s.name for s in queues.questions(mine)] == ["Feedback", "tone"]
    with pytest.raises(InvalidParameter, match="cannot be changed"):
        queues.update_queue(mine.queue_id, name="other")
    queues.create_queue(exp, "dave-custom", ReviewQueueType.CUSTOM)
    with pytest.raises(AlreadyExists):
        queues.create_queue(exp, "dave-custom", ReviewQueueType.CUSTOM)


def test_only_the_queue_experiments_traces_are_queued(
    queues: ReviewQueueService, traces: TraceService, stores: Any, exp: str
) -> None:
    other = str(stores.experiments.create_experiment("elsewhere-" + uuid.uuid4().hex[:6],
                                                     artifact_location=None, tags={}))  # fmt: skip
    (foreign,) = _traces(traces, other, 1)
    queue = queues.create_queue(exp, "q", ReviewQueueType.CUSTOM)
    with pytest.raises(NotFound, match="not in experiment"):
        queues.add_items(queue.queue_id, [foreign])
    with pytest.raises(InvalidParameter, match="at most 10 users"):
        queues.create_queue(exp, "many", ReviewQueueType.CUSTOM, users=[f"u{i}" for i in range(11)])
