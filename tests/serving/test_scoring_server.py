"""`heron models serve`: MLflow's scoring protocol over real HTTP, from a real process."""

from __future__ import annotations

import concurrent.futures
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.serving.conftest import IRIS_COLUMNS, StartServer, code_model

pytestmark = pytest.mark.slow

ROWS = [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3], [7.7, 3.0, 6.1, 2.3]]


def post(url: str, body: bytes | str, content_type: str = "application/json") -> httpx.Response:
    return httpx.post(
        f"{url}/invocations", content=body, headers={"Content-Type": content_type}, timeout=60
    )


@pytest.fixture
def iris_server(start_server: StartServer, iris_dir: Path) -> str:
    return start_server(iris_dir).url


def test_every_input_format_gets_the_models_predictions(iris_server: str, iris_model: Any) -> None:
    import pandas as pd

    frame = pd.DataFrame(ROWS, columns=IRIS_COLUMNS)
    expected = iris_model.predict(frame).tolist()
    records = frame.to_dict(orient="records")
    split = frame.to_dict(orient="split")
    columns = frame.to_dict(orient="list")
    bodies: dict[str, tuple[bytes, str]] = {
        "split": (json.dumps({"dataframe_split": split}).encode(), "application/json"),
        "records": (json.dumps({"dataframe_records": records}).encode(), "application/json"),
        "instances": (json.dumps({"instances": records}).encode(), "application/json"),
        "inputs": (json.dumps({"inputs": columns}).encode(), "application/json; charset=utf-8"),
        "csv": (frame.to_csv(index=False).encode(), "text/csv"),
        "parquet": (_parquet(frame), "application/vnd.apache.parquet"),
    }  # fmt: skip
    for name, (body, content_type) in bodies.items():
        answer = post(iris_server, body, content_type)
        assert answer.status_code == 200, (name, answer.text)
        assert answer.json() == {"predictions": expected}, name


def _parquet(frame: Any) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code", "words"),
    [
        ("{not json", "application/json", 400, "BAD_REQUEST", "not valid JSON"),
        ("[1, 2]", "application/json", 400, "BAD_REQUEST", "Received a list"),
        ('{"rows": []}', "application/json", 400, "BAD_REQUEST", "exactly one of"),
        ('{"dataframe_split": [1]}', "application/json", 400, "BAD_REQUEST", "a dictionary"),
        ('{"dataframe_records": [{"sepal length (cm)": 1.0}]}', "application/json", 400,
         "INVALID_PARAMETER_VALUE", "sepal width (cm)"),
        ('{"dataframe_split": {"columns": ["sepal length (cm)", "sepal width (cm)", '
         '"petal length (cm)", "petal width (cm)"], "data": [["x", 1.0, 1.0, 1.0]]}}',
         "application/json", 400, "INVALID_PARAMETER_VALUE", "'sepal length (cm)'"),
        ("a,b\n1,2\n", "text/csv", 400, "INVALID_PARAMETER_VALUE", "missing inputs"),
        ("not parquet", "application/vnd.apache.parquet", 400, "BAD_REQUEST", "Parquet"),
    ],
    ids=["not-json", "list", "no-key", "split-not-dict", "missing-column", "wrong-type",
         "csv-columns", "bad-parquet"],
)  # fmt: skip
def test_a_bad_request_is_a_400_naming_what_to_fix(
    iris_server: str, body: str, content_type: str, status: int, code: str, words: str
) -> None:
    answer = post(iris_server, body, content_type)
    assert answer.status_code == status
    assert answer.json()["error_code"] == code
    assert words in answer.json()["message"]


@pytest.mark.parametrize(
    "content_type",
    ["text/xml", "application/json; charset=latin-1", "application/json; format=pandas-split"],
    ids=["unknown-type", "not-utf8", "unknown-parameter"],
)
def test_a_content_type_it_cannot_read_is_a_415(iris_server: str, content_type: str) -> None:
    answer = post(iris_server, '{"inputs": []}', content_type)
    assert answer.status_code == 415
    assert answer.text


def test_meta_routes_answer_as_mlflows_do(iris_server: str) -> None:
    for path in ("/ping", "/health"):
        answer = httpx.get(iris_server + path)
        assert (answer.status_code, answer.text) == (200, "\n")
    assert httpx.get(iris_server + "/version").text == "3.17.2"
    assert httpx.get(iris_server + "/nowhere").status_code == 404
    assert httpx.get(iris_server + "/invocations").status_code == 405


def test_concurrent_requests_are_batched_and_each_gets_its_own_answer(
    iris_server: str, iris_model: Any
) -> None:
    import pandas as pd

    bodies = []
    for i in range(200):
        rows = [ROWS[(i + k) % 3] for k in range(1 + i % 4)]
        bodies.append(
            (rows, json.dumps({"dataframe_split": {"columns": IRIS_COLUMNS, "data": rows}}))
        )
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda b: post(iris_server, b[1]), bodies))
    for (rows, _), answer in zip(bodies, answers, strict=True):
        assert answer.status_code == 200, answer.text
        expected = iris_model.predict(pd.DataFrame(rows, columns=IRIS_COLUMNS)).tolist()
        assert answer.json() == {"predictions": expected}
    metrics = httpx.get(iris_server + "/metrics").text
    batches = _sample(metrics, "heron_serving_batch_rows_count")
    rows_scored = _sample(metrics, "heron_serving_batch_rows_sum")
    assert rows_scored == sum(len(rows) for rows, _ in bodies)
    assert batches < len(bodies)  # some requests shared a predict call
    assert _sample(metrics, 'heron_serving_requests_total{status="200"}') == len(bodies)
    assert "heron_serving_queue_wait_seconds_bucket" in metrics


def _sample(metrics: str, name: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in /metrics")


def test_one_bad_request_in_a_batch_fails_alone(iris_server: str) -> None:
    good = json.dumps({"dataframe_split": {"columns": IRIS_COLUMNS, "data": ROWS}})
    bad = json.dumps({"dataframe_split": {"columns": IRIS_COLUMNS, "data": [["x", 1, 1, 1]]}})
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda b: post(iris_server, b), [good, bad] * 20))
    assert [a.status_code for a in answers] == [200, 400] * 20


SLOW = """
import time
import heron.models
from heron.pyfunc import PythonModel

class Slow(PythonModel):
    def predict(self, context, model_input, params=None):
        time.sleep(float(model_input["seconds"].iloc[0]))
        return model_input["seconds"] * 2

heron.models.set_model(Slow())
"""


def test_past_the_timeout_a_request_gets_504(start_server: StartServer, tmp_path: Path) -> None:
    import pandas as pd

    model = code_model(tmp_path / "slow", SLOW, input_example=pd.DataFrame({"seconds": [0.0]}))
    url = start_server(model, "--timeout", "3").url
    fast = post(url, json.dumps({"dataframe_records": [{"seconds": 0.01}]}))
    assert fast.json() == {"predictions": [{"seconds": 0.02}]}
    slow = post(url, json.dumps({"dataframe_records": [{"seconds": 4}]}))
    assert slow.status_code == 504
    assert slow.json()["error_code"] == "DEADLINE_EXCEEDED"


def test_past_the_latency_bound_a_request_gets_429_with_retry_after(
    start_server: StartServer, tmp_path: Path
) -> None:
    import pandas as pd

    model = code_model(tmp_path / "slow", SLOW, input_example=pd.DataFrame({"seconds": [0.0]}))
    # one thread, one request per call: each one queued adds a call's time to the wait
    args = ("--batching", "on", "--max-batch-rows", "1", "--max-latency-ms", "600")
    url = start_server(model, *args).url
    body = json.dumps({"dataframe_records": [{"seconds": 0.3}]})
    assert post(url, body).status_code == 200  # the server learns what a call costs
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _: post(url, body), range(12)))
    refused = [a for a in answers if a.status_code == 429]
    assert refused, [a.status_code for a in answers]
    assert all(a.status_code in (200, 429) for a in answers)
    assert int(refused[0].headers["Retry-After"]) >= 1
    assert refused[0].json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert "heron_serving_rejected_total" in httpx.get(url + "/metrics").text


CHAT = """
import heron.models
from heron.pyfunc import PythonModel

class Echo(PythonModel):
    def predict(self, context, model_input, params=None):
        last = model_input["messages"][-1]["content"]
        message = {"role": "assistant", "content": last.upper()}
        return {"choices": [{"index": 0, "message": message}], "params": params}

heron.models.set_model(Echo())
"""


def test_a_chat_body_is_answered_without_the_predictions_wrapper(
    start_server: StartServer, tmp_path: Path
) -> None:
    model = code_model(tmp_path / "chat", CHAT)
    url = start_server(model).url
    answer = post(url, json.dumps({"messages": [{"role": "user", "content": "hi"}]}))
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"] == {"role": "assistant", "content": "HI"}


def test_several_workers_serve_and_share_their_metrics(
    start_server: StartServer, iris_dir: Path, iris_model: Any
) -> None:
    url = start_server(iris_dir, "--workers", "2").url
    body = json.dumps({"dataframe_split": {"columns": IRIS_COLUMNS, "data": ROWS}})
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: post(url, body), range(40)))
    assert all(a.status_code == 200 for a in answers)
    metrics = httpx.get(url + "/metrics").text
    assert _sample(metrics, 'heron_serving_requests_total{status="200"}') == 40
