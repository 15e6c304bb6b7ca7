"""Evaluation datasets through Heron's SDK, in process and over HTTP: records from code,
DataFrames, files and traces (their feedback as expectations), merging by inputs, tags,
search, delete, and evaluating a dataset (rows paired by record, the version logged)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import heron
import heron.genai as genai
from heron.client.fluent.state import tracking_client
from heron.errors import InvalidParameter, NotFound
from heron.genai.datasets import create_dataset, delete_dataset, get_dataset, search_datasets
from heron.genai.scorers import ExactMatch


def test_records_merge_by_inputs_and_read_back(destination: str, tmp_path: Path) -> None:
    heron.set_experiment("data")
    ds = create_dataset("questions", tags={"team": "qa"})
    ds.merge_records(
        [
            {"inputs": {"q": "2+2"}, "expectations": {"expected_response": "4"}},
            {
                "inputs": {"q": "3+3"},
                "expectations": {"expected_response": "6"},
                "tags": {"k": "v"},
            },
        ]
    )
    first_digest = ds.digest
    ds.merge_records(pd.DataFrame({"inputs": [{"q": "2+2"}], "expectations": [{"tone": "dry"}]}))
    (tmp_path / "more.jsonl").write_text(json.dumps({"inputs": {"q": "5+5"}}) + "\n")
    ds.merge_records(tmp_path / "more.jsonl")
    (tmp_path / "more.csv").write_text("q,expectations.expected_response\n7+7,14\n")
    ds.merge_records(str(tmp_path / "more.csv"))

    records = {r.inputs["q"]: r for r in get_dataset(ds.dataset_id).records()}
    assert set(records) == {"2+2", "3+3", "5+5", "7+7"}
    assert records["2+2"].expectations == {"expected_response": "4", "tone": "dry"}
    assert records["3+3"].tags == {"k": "v"}
    assert records["7+7"].expectations == {"expected_response": "14"}
    assert ds.digest != first_digest  # every change is a new version
    frame = ds.to_df()
    assert len(frame) == 4
    assert ds.experiment_ids == [heron.get_experiment_by_name("data").experiment_id]


def test_traces_become_records_with_their_feedback_as_expectations(destination: str) -> None:
    heron.set_experiment("prod")

    @heron.trace
    def answer(question: str) -> str:
        return "42"

    answer("meaning of life?")
    heron.flush_trace_async_logging()
    trace = heron.search_traces(max_results=1)[0]
    heron.log_feedback(trace_id=trace.info.trace_id, name="helpful", value=True, source="HUMAN")
    heron.log_expectation(trace_id=trace.info.trace_id, name="expected_response", value="42")

    ds = create_dataset("from-prod")
    ds.merge_records(heron.search_traces(max_results=1))

    (record,) = ds.records()
    assert record.inputs == {"question": "meaning of life?"}
    assert record.expectations == {"helpful": True, "expected_response": "42"}
    assert record.source == {
        "source_type": "TRACE",
        "source_data": {"trace_id": trace.info.trace_id},
    }


def test_search_tags_and_delete(destination: str) -> None:
    heron.set_experiment("many")
    a = create_dataset("qa-small", tags={"size": "s"})
    b = create_dataset("qa-large", tags={"size": "l"})
    create_dataset("other")

    assert {d.dataset_id for d in search_datasets(filter_string="name LIKE 'qa-%'")} == {
        a.dataset_id,
        b.dataset_id,
    }
    assert [d.dataset_id for d in search_datasets(filter_string="tags.size = 'l'")] == [
        b.dataset_id
    ]
    a.set_tags({"size": "m", "gold": "yes"})
    assert get_dataset(a.dataset_id).tags == {"size": "m", "gold": "yes"}
    delete_dataset(a.dataset_id)
    with pytest.raises(NotFound):
        get_dataset(a.dataset_id)
    with pytest.raises(InvalidParameter, match=r"tags\.<key>"):
        search_datasets(filter_string="color = 'red'")


def test_bad_records_are_refused(destination: str) -> None:
    ds = create_dataset("strict")
    with pytest.raises(InvalidParameter, match="inputs"):
        ds.merge_records([{"question": "no inputs"}])
    with pytest.raises(InvalidParameter, match="Record 0"):
        tracking_client().backend.datasets.upsert_records(
            ds.dataset_id, [{"inputs": {"q": 1}, "expectations": ["not", "a", "dict"]}]
        )


def test_evaluating_a_dataset_pairs_rows_by_record_and_logs_its_version(destination: str) -> None:
    heron.set_experiment("evals")
    ds = create_dataset("arith")
    ds.merge_records(
        [
            {"inputs": {"q": f"{i}+{i}"}, "expectations": {"expected_response": str(2 * i)}}
            for i in range(5)
        ]
    )

    result = genai.evaluate(ds, predict_fn=lambda q: str(eval(q)), scorers=[ExactMatch()])  # noqa: S307

    assert result.metrics["exact_match/mean"] == 1.0
    ids = {r.dataset_record_id for r in ds.records()}
    assert {r.key for r in result.rows} == ids
    trace = heron.get_trace(result.rows[0].trace_id)
    assert trace.info.tags["heron.eval.recordKey"] in ids
    run = heron.get_run(result.run_id)
    assert [(i.dataset.name, i.dataset.digest) for i in run.dataset_inputs] == [
        ("arith", ds.digest)
    ]
