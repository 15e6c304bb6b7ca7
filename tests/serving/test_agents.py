"""A GenAI agent served: chat bodies in and out, streaming as server-sent events, and each
request traced to a real tracking server with its trace id in the response header."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import ServerProcess
from tests.serving.conftest import StartServer, code_model

from heron.client import HeronClient
from heron.errors import NotFound

pytestmark = pytest.mark.slow

AGENT = """
import heron
import heron.models
from heron.pyfunc import PythonModel


class Agent(PythonModel):
    @heron.trace(span_type="LLM")
    def shout(self, text):
        return text.upper()

    def predict(self, context, model_input, params=None):
        text = self.shout(model_input["messages"][-1]["content"])
        message = {"role": "assistant", "content": text}
        return {"object": "chat.completion",
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}

    def predict_stream(self, context, model_input, params=None):
        for word in model_input["messages"][-1]["content"].split():
            delta = {"role": "assistant", "content": self.shout(word)}
            yield {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]}
        if model_input["messages"][-1]["content"] == "fail late":
            raise ValueError("the tool broke")


heron.models.set_model(Agent())
"""
CHAT = {"messages": [{"role": "user", "content": "hello there agent"}]}


@pytest.fixture
def agent(start_server: StartServer, server_process: ServerProcess, tmp_path: Path) -> str:
    model = code_model(tmp_path / "agent", AGENT)
    return start_server(model, "--tracking-uri", server_process.url).url


def _trace(tracking: str, trace_id: str) -> Any:
    with HeronClient(tracking) as client:
        deadline = time.monotonic() + 30
        while True:
            try:
                return client.get_trace(trace_id)
            except NotFound:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


def test_a_chat_request_is_answered_and_traced(agent: str, server_process: ServerProcess) -> None:
    answer = httpx.post(f"{agent}/invocations", json=CHAT, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == "HELLO THERE AGENT"
    trace = _trace(server_process.url, answer.headers["x-heron-trace-id"])
    names = sorted(span.name for span in trace.spans)
    assert names == ["predict", "shout"]
    assert trace.root_span is not None
    assert trace.root_span.name == "predict"


def test_a_streaming_request_gets_server_sent_events(
    agent: str, server_process: ServerProcess
) -> None:
    with httpx.stream(
        "POST", f"{agent}/invocations", json={**CHAT, "stream": True}, timeout=30
    ) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/event-stream"
        trace_id = answer.headers["x-heron-trace-id"]
        events = [line for line in answer.iter_lines() if line]
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in events[:-1]]
    assert [c["choices"][0]["delta"]["content"] for c in chunks] == ["HELLO", "THERE", "AGENT"]
    trace = _trace(server_process.url, trace_id)
    assert [s.name for s in trace.spans].count("shout") == 3


def test_an_empty_stream_and_a_stream_that_fails_midway(agent: str) -> None:
    body = {"messages": [{"role": "user", "content": ""}], "stream": True}
    answer = httpx.post(f"{agent}/invocations", json=body, timeout=30)
    assert answer.status_code == 200  # no words: an empty stream
    assert answer.text == "data: [DONE]\n\n"
    late = {"messages": [{"role": "user", "content": "fail late"}], "stream": True}
    answer = httpx.post(f"{agent}/invocations", json=late, timeout=30)
    lines = [line for line in answer.text.splitlines() if line]
    assert json.loads(lines[-2].removeprefix("data: "))["error_code"] == "BAD_REQUEST"
    assert lines[-1] == "data: [DONE]"


def test_a_model_that_does_not_stream_says_so(start_server: StartServer, iris_dir: Path) -> None:
    url = start_server(iris_dir).url
    answer = httpx.post(f"{url}/invocations", json={**CHAT, "stream": True}, timeout=30)
    assert answer.status_code == 400
    assert "does not stream" in answer.json()["message"]
