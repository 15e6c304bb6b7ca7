"""Numbers on the wire are stored exactly or refused, as MLflow 3.17.2's client sends and reads
them: every int64 that fits is kept to the last digit, anything else (a literal outside 64 bits,
a float too large to be exact, an int32 field past 32 bits, a JSON number that is no double) is
INVALID_PARAMETER_VALUE; and the well-known types (a FieldMask from `mlflow.update_assessment`)
read as protobuf's JSON writes them. The mlflow side sends raw bodies with its own REST helper
where its typed API would refuse the value before sending."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.slow

RunMlflow = Callable[..., Any]

MLFLOW_SIDE = """
import json, math
import mlflow
from mlflow import MlflowClient
from mlflow.utils.rest_utils import http_request, MlflowHostCreds

url = mlflow.get_tracking_uri()
creds = MlflowHostCreds(url)
client = MlflowClient()
run_id = client.create_run(client.create_experiment("numbers")).info.run_id
out = {}

def send(name, endpoint, method="POST", **kwargs):
    answer = http_request(creds, endpoint, method, max_retries=0, **kwargs)
    body = answer.json() if answer.text else {}
    out[name] = [answer.status_code, body.get("error_code")]

def metric(name, step=0, value=1.0, timestamp=1, key=None):
    body = {"run_id": run_id, "key": key or name, "value": value, "timestamp": timestamp,
            "step": step}
    send(name, "/api/2.0/mlflow/runs/log-metric", json=body)

metric("below_int64", step=-(2**63) - 1)
metric("above_int64", step=2**63)
metric("far_above", step=123456789012345678901234567890)
metric("float_too_big", step=1e19)
metric("float_rounded_into_range", step=-9.223372036854775809e18)
metric("int64_min", step=-(2**63))
metric("int64_max", step=2**63 - 1)
metric("exact_timestamp", timestamp=2**53 + 1)
metric("integral_float", step=5.0)
metric("decimal_string", step="9223372036854775807")
metric("nan_value", value="NaN")
send("double_overflow", "/api/2.0/mlflow/runs/log-metric",
     data=json.dumps({"run_id": run_id, "key": "o", "value": 1, "timestamp": 1}).replace(
         '"value": 1', '"value": 1e400'),
     extra_headers={"Content-Type": "application/json"})
send("search_int32", "/api/2.0/mlflow/runs/search",
     json={"experiment_ids": ["0"], "max_results": 2**31})
send("interval_int32", "/api/2.0/mlflow/metrics/get-history-bulk-interval", "GET",
     params={"run_ids": run_id, "metric_key": "int64_min", "start_step": 2**31,
             "end_step": 2**31 + 1})
read = {}
for key in ("int64_min", "int64_max", "exact_timestamp", "integral_float", "decimal_string"):
    point = client.get_metric_history(run_id, key)[0]
    read[key] = [point.step, point.timestamp]
read["nan_value"] = math.isnan(client.get_metric_history(run_id, "nan_value")[0].value)
stored = sorted(client.get_run(run_id).data.metrics)
print(json.dumps({"sent": out, "read": read, "stored": stored}))
"""


def test_int64_and_double_fields_are_exact_or_refused(
    live_server: str, run_mlflow: RunMlflow
) -> None:
    result = run_mlflow(MLFLOW_SIDE, MLFLOW_TRACKING_URI=live_server)
    sent, read = result["sent"], result["read"]
    refused = [400, "INVALID_PARAMETER_VALUE"]
    for name in (
        "below_int64",
        "above_int64",
        "far_above",
        "float_too_big",
        "float_rounded_into_range",
        "double_overflow",
        "search_int32",
        "interval_int32",
    ):
        assert sent[name] == refused, name
    for name in ("int64_min", "int64_max", "exact_timestamp", "integral_float", "nan_value"):
        assert sent[name] == [200, None], name
    assert read["int64_min"] == [-(2**63), 1]
    assert read["int64_max"] == [2**63 - 1, 1]
    assert read["exact_timestamp"] == [0, 2**53 + 1]
    assert read["integral_float"] == [5, 1]
    assert read["decimal_string"] == [2**63 - 1, 1]
    assert read["nan_value"] is True
    # Nothing refused was stored under another value.
    assert not {"below_int64", "above_int64", "float_rounded_into_range"} & set(result["stored"])


OTLP_SIDE = """
import json
import requests
import mlflow
from mlflow import MlflowClient

url = mlflow.get_tracking_uri()
exp = MlflowClient().create_experiment("otlp-numbers")

def export(trace_hex, value):
    span = {"traceId": trace_hex, "spanId": "00000000000000a1", "name": "root",
            "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000100000000",
            "attributes": [{"key": "n", "value": {"intValue": value}}]}
    body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]})
    answer = requests.post(f"{url}/v1/traces", data=body, timeout=30, headers={
        "Content-Type": "application/json", "x-mlflow-experiment-id": exp})
    return answer.status_code

low = export("0" * 31 + "1", -(2**63) - 1)
exact = export("0" * 31 + "2", "-9223372036854775808")
trace = mlflow.get_trace("tr-" + "0" * 31 + "2")
print(json.dumps({"low": low, "exact": exact,
                  "value": trace.data.spans[0].attributes["n"]}))
"""


def test_otlp_json_integers_are_exact_or_refused(live_server: str, run_mlflow: RunMlflow) -> None:
    result = run_mlflow(OTLP_SIDE, MLFLOW_TRACKING_URI=live_server)
    assert result["low"] == 400
    assert result["exact"] == 200
    assert result["value"] == -(2**63)


ASSESSMENT_SIDE = """
import json
import mlflow

mlflow.set_experiment("assessments")

@mlflow.trace
def answer(question):
    return 42

answer("what?")
mlflow.flush_trace_async_logging()
trace_id = mlflow.get_last_active_trace_id()
created = mlflow.log_feedback(trace_id=trace_id, name="ok", value=False, rationale="first")
updated = mlflow.update_assessment(
    trace_id=trace_id,
    assessment_id=created.assessment_id,
    assessment=mlflow.entities.Feedback(name="correct", value=True, rationale="second look"),
)
got = mlflow.get_assessment(trace_id, created.assessment_id)
print(json.dumps({"name": got.name, "value": got.value, "rationale": got.rationale,
                  "same_id": updated.assessment_id == created.assessment_id}))
"""


def test_update_assessment_sends_a_field_mask_heron_reads(
    live_server: str, run_mlflow: RunMlflow
) -> None:
    result = run_mlflow(ASSESSMENT_SIDE, MLFLOW_TRACKING_URI=live_server)
    assert result == {
        "name": "correct",
        "value": True,
        "rationale": "second look",
        "same_id": True,
    }
