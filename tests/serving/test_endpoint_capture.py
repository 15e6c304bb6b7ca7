"""What a managed endpoint captures, end to end with real processes: a streamed agent answer
(as chunks, merged, with its trace linked both ways), a graceful stop of the tracking server
under load that loses no captured record, and the Parquet export."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import ServerProcess
from tests.serving.conftest import EndpointServer, Load, register_iris, wait_until
from tests.serving.test_agents import AGENT

from heron.client import HeronClient

pytestmark = pytest.mark.slow

API = "/api/2.0/serving-endpoints"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EndpointServer]:
    data_dir = tmp_path / "server"
    data_dir.mkdir()
    running = EndpointServer(
        data_dir=data_dir, backend_uri=f"sqlite:///{data_dir}/heron.db", replicas=1
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


def _endpoint(http: httpx.Client, model: str) -> str:
    name = f"ep-{uuid.uuid4().hex[:8]}"
    entity = {"name": "live", "entity_name": model, "entity_version": "1"}
    made = http.post(API, json={
        "name": name,
        "config": {"served_entities": [entity]},
        "ai_gateway": {"inference_table_config": {"enabled": True}},
    })  # fmt: skip
    assert made.status_code == 200, made.text

    def ready() -> bool:
        body = http.get(f"{API}/{name}").json()
        return body["state"] == {"ready": "READY", "config_update": "NOT_UPDATING"}

    wait_until(ready, 240, f"endpoint {name}")
    return name


def _register_agent(url: str, tmp_path: Path) -> None:
    import heron
    import heron.pyfunc
    from heron.models.uri import close_clients

    code = tmp_path / "agent_code.py"
    code.write_text(AGENT)
    heron.set_tracking_uri(url)
    try:
        with heron.start_run():
            heron.pyfunc.log_model(
                name="agent", python_model=str(code), registered_model_name="agent"
            )
    finally:
        heron.set_tracking_uri(None)
        close_clients()


def test_a_streamed_agent_answer_is_captured_and_linked_to_its_trace(
    server: EndpointServer, tmp_path: Path
) -> None:
    _register_agent(server.url, tmp_path)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        name = _endpoint(http, "agent")
        body = {"messages": [{"role": "user", "content": "hello there agent"}], "stream": True}
        with http.stream("POST", f"/serving-endpoints/{name}/invocations", json=body) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            events = [line for line in resp.iter_lines() if line]
            request_id = resp.headers["x-request-id"]
            trace_id = resp.headers["x-heron-trace-id"]
        assert events[-1] == "data: [DONE]"
        words = [json.loads(e[6:])["choices"][0]["delta"]["content"] for e in events[:-1]]
        assert words == ["HELLO", "THERE", "AGENT"]

        def record() -> Any:
            found = http.get(
                "/api/2.0/heron/inference-records/by-trace", params={"trace_id": trace_id}
            ).json()["records"]
            return found[0] if found else None

        captured = wait_until(record, 30, "the captured stream")
        assert captured["request_id"] == request_id
        assert len(json.loads(captured["response_chunks"])) == 3
        merged = json.loads(captured["response"])
        assert merged["choices"][0]["message"]["content"] == "HELLOTHEREAGENT"

    with HeronClient(server.url) as client:  # the trace names its inference record

        def trace() -> Any:
            try:
                return client.get_trace(trace_id)
            except Exception:
                return None

        found = wait_until(trace, 60, "the request's trace")
        assert found.info.client_request_id == request_id


def test_a_graceful_stop_under_load_loses_no_captured_record(
    server: EndpointServer, tmp_path: Path
) -> None:
    register_iris(server.url, "iris", fits=1)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        name = _endpoint(http, "iris")
    with Load(f"{server.url}/serving-endpoints/{name}/invocations", threads=4) as load:
        wait_until(lambda: len(load.answers) > 200, 120, "requests under load")
        server.terminate()  # SIGTERM while requests are in flight
    answered = {a[2] for a in load.answers if a[0] == 200}
    assert len(answered) > 200
    again = ServerProcess(data_dir=tmp_path / "again")
    again.data_dir.mkdir()
    again.command = (
        lambda: [  # type: ignore[method-assign]
            *EndpointServer.command(server)[:-3]
        ]
    )
    again.port = server.port
    again.start()
    try:
        with httpx.Client(base_url=again.url, timeout=60) as http:
            exported = http.get(
                "/api/2.0/heron/inference-records/export", params={"endpoint_name": name}
            )
        assert exported.status_code == 200, exported.text
    finally:
        again.stop()
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(exported.content))
    assert answered <= set(table.column("request_id").to_pylist())
    assert table.schema.field("request_time").type.unit == "ms"
    assert set(table.column("status_code").to_pylist()) == {200}
