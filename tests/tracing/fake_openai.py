"""A small OpenAI-compatible HTTP server for the autolog tests: chat completions (whole or as
server-sent events), responses (whole or streamed), embeddings and legacy completions, with
fixed answers and usage so the tests can check what the spans recorded. The model "broken"
answers 400 the way the OpenAI API does."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

BROKEN_MODEL = "broken"
CHAT_USAGE = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
REPLY_PIECES = ["Hel", "lo, ", "world"]


def _error() -> Response:
    error = {"message": "The model `broken` does not exist", "type": "invalid_request_error",
             "param": "model", "code": "model_not_found"}  # fmt: skip
    body = {"error": error}
    return JSONResponse(body, status_code=400)


def _sse(events: list[dict[str, Any]], done: bool = True) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        for event in events:
            yield f"data: {json.dumps(event)}\n\n".encode()
        if done:
            yield b"data: [DONE]\n\n"

    return StreamingResponse(body(), media_type="text/event-stream")


async def chat(request: Request) -> Response:
    req = await request.json()
    if req["model"] == BROKEN_MODEL:
        return _error()
    base = {"id": "chatcmpl-1", "created": 1700000000, "model": req["model"] + "-2024-01-01"}
    if not req.get("stream"):
        message = {"role": "assistant", "content": "".join(REPLY_PIECES)}
        return JSONResponse({**base, "object": "chat.completion", "usage": CHAT_USAGE,
                             "choices": [{"index": 0, "message": message,
                                          "finish_reason": "stop"}]})  # fmt: skip
    chunk = {**base, "object": "chat.completion.chunk"}
    events = [{**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
    events += [{**chunk, "choices": [{"index": 0, "delta": {"content": p}}]} for p in REPLY_PIECES]
    events.append({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    if (req.get("stream_options") or {}).get("include_usage"):
        events.append({**chunk, "choices": [], "usage": CHAT_USAGE})
    return _sse(events)


def _response(model: str) -> dict[str, Any]:
    return {
        "id": "resp-1", "object": "response", "created_at": 1700000000, "model": model,
        "status": "completed", "parallel_tool_calls": False, "tool_choice": "auto", "tools": [],
        "output": [{"type": "message", "id": "msg-1", "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": "".join(REPLY_PIECES),
                                 "annotations": []}]}],
        "usage": {"input_tokens": 9, "output_tokens": 3, "total_tokens": 12,
                  "input_tokens_details": {"cached_tokens": 0},
                  "output_tokens_details": {"reasoning_tokens": 0}},
    }  # fmt: skip


async def responses(request: Request) -> Response:
    req = await request.json()
    if req["model"] == BROKEN_MODEL:
        return _error()
    answer = _response(req["model"])
    if not req.get("stream"):
        return JSONResponse(answer)
    events: list[dict[str, Any]] = [
        {"type": "response.created", "sequence_number": 0,
         "response": {**answer, "status": "in_progress", "output": [], "usage": None}},
    ]  # fmt: skip
    for n, piece in enumerate(REPLY_PIECES, start=1):
        events.append({"type": "response.output_text.delta", "sequence_number": n,
                       "item_id": "msg-1", "output_index": 0, "content_index": 0,
                       "delta": piece, "logprobs": []})  # fmt: skip
    events.append({"type": "response.completed", "sequence_number": 9, "response": answer})
    return _sse(events, done=False)


async def embeddings(request: Request) -> Response:
    req = await request.json()
    if req["model"] == BROKEN_MODEL:
        return _error()
    texts = req["input"] if isinstance(req["input"], list) else [req["input"]]
    vectors = [[float(len(t)), 0.5, -0.5] for t in texts]
    if req.get("encoding_format") == "base64":  # what older clients ask for by default
        vectors = [base64.b64encode(struct.pack("<3f", *v)).decode() for v in vectors]  # type: ignore[misc]
    data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
    usage = {"prompt_tokens": 2 * len(texts), "total_tokens": 2 * len(texts)}
    return JSONResponse({"object": "list", "data": data, "model": req["model"], "usage": usage})


def app() -> Starlette:
    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/responses", responses, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
        ]
    )
