"""A local OpenAI-compatible chat completions server that answers judge prompts: the network
boundary of the judge tests (and the benchmark). Nothing of Heron's is faked.

The verdict is "no" when the prompt holds the word WRONG, else "yes" (or the first option, a
4, true, as the prompt's answer format asks). The model name picks a behaviour:
- `judge`: answers at once; `slow-<ms>`: answers after that many milliseconds;
- `throttled`: answers 429 (Retry-After: 0) twice per prompt, then answers;
- `flaky`: answers 500 once per prompt, then answers;
- `down`: always 503;
- `sloppy`: first answers prose without JSON, then JSON inside a code fence when re-asked;
- `hopeless`: never answers JSON."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections import Counter
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

USAGE_OUT = 20


class JudgeServer:
    """The app, and what it was asked (for the tests to check)."""

    def __init__(self) -> None:
        self.url = ""  # set by the fixture that serves it
        self.requests: list[dict[str, Any]] = []
        self.statuses: Counter[str] = Counter()
        self._seen: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._in_flight = 0
        self.peak_in_flight = 0  # the most `slow-` requests it held at once
        self.app = Starlette(routes=[Route("/v1/chat/completions", self.chat, methods=["POST"])])

    def calls(self, model: str | None = None) -> int:
        return sum(1 for r in self.requests if model is None or r["model"] == model)

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        model = str(body["model"])
        prompt = body["messages"][-1]["content"]
        first_prompt = next(m["content"] for m in body["messages"] if m["role"] == "user")
        with self._lock:
            self.requests.append(body)
            self._seen[(model, first_prompt)] += 1
            seen = self._seen[(model, first_prompt)]
        status, answer = self._answer(model, body["messages"], first_prompt, seen)
        if model.startswith("slow-"):
            with self._lock:
                self._in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
            await asyncio.sleep(int(model.removeprefix("slow-")) / 1000)
            with self._lock:
                self._in_flight -= 1
        with self._lock:
            self.statuses[f"{model}:{status}"] += 1
        if status != 200:
            headers = {"Retry-After": "0"} if status == 429 else None
            error = {"error": {"message": f"status {status}"}}
            return JSONResponse(error, status_code=status, headers=headers)
        usage = {"prompt_tokens": len(prompt) // 4 + 1, "completion_tokens": USAGE_OUT}
        usage["total_tokens"] = usage["prompt_tokens"] + USAGE_OUT
        message = {"role": "assistant", "content": answer}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return JSONResponse({"id": "chatcmpl-judge", "object": "chat.completion",
                             "created": 1700000000, "model": model, "choices": [choice],
                             "usage": usage})  # fmt: skip

    def _answer(
        self, model: str, messages: list[dict[str, str]], prompt: str, seen: int
    ) -> tuple[int, str]:
        if model == "down":
            return 503, ""
        if model == "throttled" and seen <= 2:
            return 429, ""
        if model == "flaky" and seen == 1:
            return 500, ""
        reasked = any(m["role"] == "assistant" for m in messages)
        if model == "hopeless" or (model == "sloppy" and not reasked):
            return 200, "Well, having read it all, I would say it is fine."
        verdict = json.dumps({"rationale": "Let's think step by step: checked.",
                              "result": _result(prompt)})  # fmt: skip
        if model == "sloppy":
            return 200, f"Here is my verdict:\n```json\n{verdict}\n```"
        return 200, verdict


def _result(prompt: str) -> Any:
    wrong = "WRONG" in prompt
    form = prompt.rsplit('"result": <', 1)[-1]
    if form.startswith("a number"):
        return 1 if wrong else 4
    if form.startswith("true or false"):
        return not wrong
    if form.startswith("one of"):
        options = re.findall(r'"([^"]+)"', form.split(">", 1)[0])
        return options[-1] if wrong else options[0]
    return "no" if wrong else "yes"
