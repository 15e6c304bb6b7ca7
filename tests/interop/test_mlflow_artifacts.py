"""Artifacts both ways through one Heron server with MLflow 3.17.2's client (log_artifact(s),
log_text, log_dict, list and download), and the file routes MLflow's UI and tools call:
/get-artifact, /model-versions/get-artifact, get-trace-artifact and upload-artifact, with the
proxy's confinement (no path out of the run's root) and content rules (attachments, nosniff:
an HTML file is never rendered inline)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import heron

pytestmark = pytest.mark.slow
RunMlflow = Callable[..., Any]


MLFLOW_SIDE = """
import json, os, tempfile
import requests
import mlflow
from mlflow import MlflowClient
from mlflow.entities import TraceData

url = mlflow.get_tracking_uri()
client = MlflowClient()
folder = tempfile.mkdtemp()
os.makedirs(f"{folder}/tree/sub")
open(f"{folder}/tree/a.txt", "w").write("A")
open(f"{folder}/tree/sub/b.bin", "wb").write(bytes(range(256)))
open(f"{folder}/page.html", "w").write("<script>alert(1)</script>")
with mlflow.start_run() as run:
    mlflow.log_artifacts(f"{folder}/tree", "tree")
    mlflow.log_artifact(f"{folder}/page.html")
    mlflow.log_text("hello", "notes/hello.txt")
    mlflow.log_dict({"k": [1, 2]}, "config.json")
run_id = run.info.run_id
listed = sorted(f.path for f in client.list_artifacts(run_id, "tree"))

def get(route, **params):
    answer = requests.get(f"{url}{route}", params=params, timeout=30)
    return {"status": answer.status_code, "type": answer.headers.get("content-type"),
            "disposition": answer.headers.get("content-disposition"),
            "nosniff": answer.headers.get("x-content-type-options"),
            "body": answer.content.decode("latin-1")[:200]}

files = {
    "text": get("/get-artifact", run_id=run_id, path="notes/hello.txt"),
    "by_uuid": get("/get-artifact", run_uuid=run_id, path="tree/a.txt"),
    "html": get("/get-artifact", run_id=run_id, path="page.html"),
    "escape": get("/get-artifact", run_id=run_id, path="../../etc/passwd"),
    "absolute": get("/get-artifact", run_id=run_id, path="/etc/passwd"),
    "no_path": get("/get-artifact", run_id=run_id),
    "missing": get("/get-artifact", run_id=run_id, path="nope.txt"),
}
upload = requests.post(f"{url}/ajax-api/2.0/mlflow/upload-artifact",
                       params={"run_uuid": run_id, "path": "uploaded/u.txt"}, data=b"up",
                       timeout=30)
too_big = requests.post(f"{url}/ajax-api/2.0/mlflow/upload-artifact",
                        params={"run_uuid": run_id, "path": "big.bin"},
                        data=b"x" * (10 * 1024 * 1024 + 1), timeout=60)
escape_up = requests.post(f"{url}/ajax-api/2.0/mlflow/upload-artifact",
                          params={"run_uuid": run_id, "path": "../out.txt"}, data=b"x", timeout=30)
uploaded = client.download_artifacts(run_id, "uploaded/u.txt", folder)

class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input):
        return model_input

with mlflow.start_run():
    info = mlflow.pyfunc.log_model(name="echo", python_model=Echo(),
                                   registered_model_name="echo-model")
mlmodel = get("/model-versions/get-artifact", name="echo-model", version="1", path="MLmodel")

@mlflow.trace
def traced(x):
    return x + 1

traced(1)
mlflow.flush_trace_async_logging()
trace_id = mlflow.get_last_active_trace_id()
raw = requests.get(f"{url}/ajax-api/3.0/mlflow/get-trace-artifact",
                   params={"request_id": trace_id}, timeout=30)
data = TraceData.from_dict(raw.json())
print(json.dumps({
    "run_id": run_id, "listed": listed, "files": files,
    "upload": [upload.status_code, upload.json()],
    "too_big": [too_big.status_code, too_big.json().get("error_code")],
    "escape_up": [escape_up.status_code, escape_up.json().get("error_code")],
    "uploaded": open(uploaded).read(),
    "mlmodel": mlmodel,
    "trace": [[s.name, s.inputs, s.outputs] for s in data.spans],
    "trace_status": raw.status_code,
}))
"""


def test_artifacts_and_the_ui_file_routes(
    server: str, run_mlflow: RunMlflow, tmp_path: Path
) -> None:
    seen = run_mlflow(MLFLOW_SIDE, MLFLOW_TRACKING_URI=server)
    assert seen["listed"] == ["tree/a.txt", "tree/sub"]
    files = seen["files"]
    assert (files["text"]["status"], files["text"]["body"]) == (200, "hello")
    assert files["text"]["disposition"] == 'attachment; filename="hello.txt"'
    assert files["text"]["nosniff"] == "nosniff"
    assert (files["by_uuid"]["status"], files["by_uuid"]["body"]) == (200, "A")
    html = files["html"]
    assert html["status"] == 200
    assert html["disposition"].startswith("attachment")
    assert html["nosniff"] == "nosniff"
    for refused in ("escape", "absolute"):
        assert files[refused]["status"] == 400, refused
    assert files["no_path"]["status"] == 400
    assert files["missing"]["status"] == 404
    assert seen["upload"] == [200, {}]
    assert seen["too_big"] == [400, "INVALID_PARAMETER_VALUE"]
    assert seen["escape_up"] == [400, "INVALID_PARAMETER_VALUE"]
    assert seen["uploaded"] == "up"
    assert seen["mlmodel"]["status"] == 200
    assert "python_function" in seen["mlmodel"]["body"]
    assert seen["trace_status"] == 200
    assert seen["trace"] == [["traced", {"x": 1}, 2]]
    # What mlflow logged, Heron's SDK reads; what Heron logs, mlflow downloads.
    with heron.HeronClient(server) as client:
        out = client.download_artifacts(seen["run_id"], "tree", tmp_path / "mine")
    assert (Path(out) / "sub" / "b.bin").read_bytes() == bytes(range(256))
    assert (Path(out) / "a.txt").read_text() == "A"


def test_what_heron_logs_mlflow_downloads(server: str, run_mlflow: RunMlflow) -> None:
    heron.set_tracking_uri(server)
    with heron.start_run() as run:
        heron.log_text("from heron", "deep/dir/note.md")
        heron.log_dict({"a": 1}, "params.yaml")
    read = run_mlflow(
        f"""
import json, mlflow
folder = mlflow.artifacts.download_artifacts(run_id={run.info.run_id!r})
print(json.dumps({{"note": open(folder + "/deep/dir/note.md").read(),
                   "yaml": open(folder + "/params.yaml").read().strip(),
                   "text": mlflow.artifacts.load_text(
                       "runs:/{run.info.run_id}/deep/dir/note.md")}}))
""",
        MLFLOW_TRACKING_URI=server,
    )
    assert read == {"note": "from heron", "yaml": "a: 1", "text": "from heron"}
