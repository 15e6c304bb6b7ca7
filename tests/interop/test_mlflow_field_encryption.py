"""MLflow 3.17.2's client against a Heron server with field encryption on: it logs a sensitive
param and tag and a trace, reads them back in clear, and is refused a search on the sealed
param; the database holds none of it in clear (read with sqlite3 directly)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from heron.settings import Settings
from heron.store.crypto.fields import PREFIX
from heron.store.crypto.keys import create_key_file

pytestmark = pytest.mark.slow
RunMlflow = Callable[..., Any]

SECRET = "hunter2-" + "not-a-real-secret"
MLFLOW_SIDE = f"""
import json
import mlflow
from mlflow.exceptions import MlflowException

mlflow.set_experiment("sealed")
with mlflow.start_run() as run:
    mlflow.log_params({{"db_password": {SECRET!r}, "lr": "0.1"}})
    mlflow.set_tag("secret.token", {SECRET!r})

@mlflow.trace
def answer(question):
    return "the diagnosis is confidential"

answer("what is the patient's diagnosis?")
mlflow.flush_trace_async_logging()
trace_id = mlflow.get_last_active_trace_id()
read = mlflow.get_run(run.info.run_id).data
trace = mlflow.get_trace(trace_id)
try:
    mlflow.search_runs(filter_string="params.db_password = 'x'")
    refused = None
except MlflowException as exc:
    refused = [exc.error_code, str(exc)]
print(json.dumps({{
    "params": read.params, "tags": {{"secret.token": read.tags.get("secret.token")}},
    "inputs": trace.data.spans[0].inputs, "outputs": trace.data.spans[0].outputs,
    "request_preview": trace.info.request_preview,
    "found": mlflow.search_runs(filter_string="params.lr = '0.1'", output_format="list")[0]
        .info.run_id == run.info.run_id,
    "refused": refused,
}}))
"""


def _run_sealed(serve_settings: Any, tmp_path: Path, run_mlflow: RunMlflow, code: str) -> Any:
    """Runs `code` in MLflow's client against a server with field encryption on, whose
    database is `tmp_path / "heron.db"`."""
    key_file = tmp_path / "keys.json"
    create_key_file(key_file)
    settings = Settings(
        backend_store_uri=f"sqlite:///{tmp_path / 'heron.db'}",
        artifacts_destination=str(tmp_path / "artifacts"),
        encryption_key=str(key_file),
        sensitive_keys=("*password*", "secret.*"),
    )
    with serve_settings(settings) as url:
        return run_mlflow(code, MLFLOW_TRACKING_URI=url)


def test_mlflow_client_logs_and_reads_sealed_fields(
    serve_settings: Any, tmp_path: Path, run_mlflow: RunMlflow
) -> None:
    db = tmp_path / "heron.db"
    seen = _run_sealed(serve_settings, tmp_path, run_mlflow, MLFLOW_SIDE)
    assert seen["params"] == {"db_password": SECRET, "lr": "0.1"}
    assert seen["tags"] == {"secret.token": SECRET}
    assert seen["inputs"] == {"question": "what is the patient's diagnosis?"}
    assert seen["outputs"] == "the diagnosis is confidential"
    assert "diagnosis" in seen["request_preview"]
    assert seen["found"] is True
    code, message = seen["refused"]
    assert code == "INVALID_PARAMETER_VALUE"
    assert "param 'db_password'" in message
    assert "encrypted" in message

    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = [
            *conn.execute("SELECT value FROM params WHERE key = 'db_password'"),
            *conn.execute("SELECT value FROM tags WHERE key = 'secret.token'"),
            *conn.execute("SELECT request_preview, response_preview FROM traces"),
            *conn.execute("SELECT inputs, outputs FROM spans"),
        ]
        everything = " ".join(str(v) for row in rows for v in row)
        dumped = "\n".join(conn.iterdump())
    assert all(str(v).startswith(PREFIX) for row in rows for v in row)
    assert SECRET not in dumped  # nowhere in the database: not in metadata or tags either
    assert "diagnosis" not in dumped
    assert everything


TAGS_SIDE = f"""
import json
import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

client = MlflowClient()
experiment_id = mlflow.set_experiment("tagged").experiment_id
mlflow.set_experiment_tag("db_password", {SECRET!r})
client.set_experiment_tag(experiment_id, "team", "red")
client.create_registered_model("fraud")
client.set_registered_model_tag("fraud", "secret.owner", {SECRET!r})
refused = {{}}
for name, search in (
    ("experiments", lambda: client.search_experiments(filter_string="tags.db_password = 'x'")),
    ("models", lambda: client.search_registered_models(filter_string="tags.`secret.owner` = 'x'")),
):
    try:
        search()
        refused[name] = None
    except MlflowException as exc:
        refused[name] = [exc.error_code, str(exc)]
print(json.dumps({{
    "experiment": client.get_experiment(experiment_id).tags,
    "model": client.get_registered_model("fraud").tags,
    "found": [e.name for e in client.search_experiments(filter_string="tags.team = 'red'")],
    "refused": refused,
}}))
"""


def test_mlflow_client_sets_and_reads_sealed_experiment_and_model_tags(
    serve_settings: Any, tmp_path: Path, run_mlflow: RunMlflow
) -> None:
    db = tmp_path / "heron.db"
    seen = _run_sealed(serve_settings, tmp_path, run_mlflow, TAGS_SIDE)
    assert seen["experiment"]["db_password"] == SECRET
    assert seen["experiment"]["team"] == "red"
    assert seen["model"] == {"secret.owner": SECRET}
    assert seen["found"] == ["tagged"]
    for name, field in (("experiments", "tag 'db_password'"), ("models", "tag 'secret.owner'")):
        code, message = seen["refused"][name]
        assert code == "INVALID_PARAMETER_VALUE"
        assert field in message
        assert "encrypted" in message

    with contextlib.closing(sqlite3.connect(db)) as conn:
        stored = [
            *conn.execute("SELECT value FROM experiment_tags WHERE key = 'db_password'"),
            *conn.execute("SELECT value FROM registered_model_tags WHERE key = 'secret.owner'"),
        ]
        dumped = "\n".join(conn.iterdump())
    assert len(stored) == 2
    assert all(value.startswith(PREFIX) for (value,) in stored)
    assert SECRET not in dumped


RATIONALE = "it names the " + "patient outright"
EXPECTED = "an answer without " + "the patient name"
SPANS_SIDE = f"""
import json
import mlflow
from mlflow.entities import SpanEvent
from mlflow.exceptions import MlflowException

mlflow.set_experiment("sealed-spans")

@mlflow.trace
def answer(question):
    span = mlflow.get_current_active_span()
    span.set_attribute("db_password", {SECRET!r})
    span.set_attribute("model", "gpt-x")
    span.add_event(SpanEvent("retry", attributes={{"api_password": {SECRET!r}, "attempt": 2}}))
    return "fine"

answer("what is the patient's diagnosis?")
mlflow.flush_trace_async_logging()
trace_id = mlflow.get_last_active_trace_id()
mlflow.log_feedback(trace_id=trace_id, name="leaks", value=False, rationale={RATIONALE!r})
mlflow.log_expectation(trace_id=trace_id, name="expected_response", value={EXPECTED!r})
trace = mlflow.get_trace(trace_id)
span = trace.data.spans[0]
refused = {{}}
for name, where in (
    ("attribute", "span.attributes.db_password = 'x'"),
    ("expectation", "expectation.expected_response = 'x'"),
):
    try:
        mlflow.search_traces(filter_string=where, return_type="list")
        refused[name] = None
    except MlflowException as exc:
        refused[name] = [exc.error_code, str(exc)]
found = mlflow.search_traces(filter_string="span.attributes.model = 'gpt-x'", return_type="list")
print(json.dumps({{
    "attributes": {{k: span.get_attribute(k) for k in ("db_password", "model")}},
    "inputs": span.inputs,
    "events": [[e.name, e.attributes] for e in span.events],
    "assessments": {{
        a.name: [getattr(a, "value", None), a.rationale] for a in trace.info.assessments
    }},
    "found": [t.info.trace_id for t in found] == [trace_id],
    "refused": refused,
}}))
"""


def test_mlflow_client_logs_and_reads_sealed_span_attributes_and_assessments(
    serve_settings: Any, tmp_path: Path, run_mlflow: RunMlflow
) -> None:
    seen = _run_sealed(serve_settings, tmp_path, run_mlflow, SPANS_SIDE)
    assert seen["attributes"] == {"db_password": SECRET, "model": "gpt-x"}
    assert seen["inputs"] == {"question": "what is the patient's diagnosis?"}
    assert seen["events"] == [["retry", {"api_password": SECRET, "attempt": 2}]]
    assert seen["assessments"] == {
        "leaks": [False, RATIONALE],
        "expected_response": [EXPECTED, None],
    }
    assert seen["found"] is True
    for name, field in (
        ("attribute", "span attribute 'db_password'"),
        ("expectation", "expectation 'expected_response'"),
    ):
        code, message = seen["refused"][name]
        assert code == "INVALID_PARAMETER_VALUE"
        assert field in message
        assert "encrypted" in message

    with contextlib.closing(sqlite3.connect(tmp_path / "heron.db")) as conn:
        (attributes,) = conn.execute("SELECT attributes FROM spans").fetchone()
        dumped = "\n".join(conn.iterdump())
    assert '"model":"gpt-x"' in attributes.replace(" ", "")
    for text in (SECRET, RATIONALE, EXPECTED, "diagnosis"):
        assert text not in dumped
