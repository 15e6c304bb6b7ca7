"""Error bodies and statuses: bad input is a 400 with MLflow's JSON, never a 500."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

CREATE = "/api/2.0/mlflow/experiments/create"


def _invalid(resp: httpx.Response) -> str:
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    return str(body["message"])


@pytest.mark.parametrize(
    "path", ["/api/2.0/mlflow/nope", "/api/2.0/mlflow/runs/nope", "/nope", "/api/9.0/x"]
)
def test_unknown_route_is_404_without_json(http: httpx.Client, path: str) -> None:
    # MLflow compat: the client maps a non-JSON 404 to ENDPOINT_NOT_FOUND and falls back.
    resp = http.get(path)
    assert resp.status_code == 404
    assert not resp.headers["content-type"].startswith("application/json")


def test_wrong_method_is_405(http: httpx.Client) -> None:
    assert http.get(CREATE).status_code == 405


def test_malformed_json(http: httpx.Client) -> None:
    resp = http.post(CREATE, content=b'{"name": ', headers={"Content-Type": "application/json"})
    assert "not valid JSON" in _invalid(resp)


def test_wrong_content_type(http: httpx.Client) -> None:
    resp = http.post(CREATE, content=b'{"name": "x"}', headers={"Content-Type": "text/plain"})
    assert "Content-Type" in _invalid(resp)


def test_missing_content_type(http: httpx.Client) -> None:
    resp = http.post(CREATE, content=b'{"name": "x"}')
    assert "Content-Type header is missing" in _invalid(resp)


def test_content_type_with_charset_is_fine(http: httpx.Client) -> None:
    resp = http.post(
        "/api/2.0/mlflow/experiments/search",
        content=b"{}",
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert resp.status_code == 200


def test_deeply_nested_json(http: httpx.Client) -> None:
    body = b'{"name": "x", "tags": ' + b"[" * 100 + b"]" * 100 + b"}"
    resp = http.post(CREATE, content=body, headers={"Content-Type": "application/json"})
    assert "nests deeper" in _invalid(resp)


def test_oversize_body(http: httpx.Client, max_request_bytes: int) -> None:
    body = b'{"name": "' + b"x" * max_request_bytes + b'"}'
    resp = http.post(CREATE, content=body, headers={"Content-Type": "application/json"})
    assert "larger than the server's limit" in _invalid(resp)


def test_oversize_chunked_body_is_refused_while_it_arrives(
    http: httpx.Client, max_request_bytes: int
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(max_request_bytes // 1024 + 1):
            yield b"x" * 1024
        yield b'"}'

    resp = http.post(CREATE, content=chunks(), headers={"Content-Type": "application/json"})
    assert "larger than the server's limit" in _invalid(resp)


def test_body_that_is_not_an_object(http: httpx.Client) -> None:
    assert "JSON object" in _invalid(http.post(CREATE, json=[1, 2]))


def test_missing_required_field(http: httpx.Client) -> None:
    msg = _invalid(http.post(CREATE, json={}))
    assert msg == "Missing value for required parameter 'name'"


def test_wrong_type_of_field(http: httpx.Client) -> None:
    assert "'name' must be a string" in _invalid(http.post(CREATE, json={"name": 5}))


def test_both_spellings_of_a_field(http: httpx.Client, run_id: str) -> None:
    resp = http.post(
        "/api/2.0/mlflow/runs/set-tag",
        json={"run_id": run_id, "runId": run_id, "key": "k", "value": "v"},
    )
    assert "given twice" in _invalid(resp)


def test_double_encoded_json_body(http: httpx.Client) -> None:
    # MLflow compat: a body that is a JSON string holding the JSON object is decoded twice.
    resp = http.post(
        "/api/2.0/mlflow/experiments/search",
        content=b'"{\\"max_results\\": 1}"',
        headers={"Content-Type": "application/json"},
    )
    assert resp.status_code == 200, resp.text


def test_empty_body_is_empty_message(http: httpx.Client) -> None:
    resp = http.post(
        "/api/2.0/mlflow/experiments/search",
        content=b"",
        headers={"Content-Type": "application/json"},
    )
    assert resp.status_code == 200


def test_unexpected_exception_is_a_generic_500_that_keeps_the_connection(
    server_app: Starlette,
    serve_app: Callable[[Starlette], AbstractContextManager[str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def boom(request: Request) -> Response:
        raise RuntimeError("secret detail")

    async def port(request: Request) -> Response:
        assert request.client is not None
        return Response(str(request.client.port))  # the client's end of the connection

    app = Starlette(
        middleware=server_app.user_middleware, exception_handlers=server_app.exception_handlers
    )
    app.router.routes.extend([Route("/boom", boom, methods=["POST"]), Route("/port", port)])
    with serve_app(app) as url, httpx.Client(base_url=url) as client:
        before = client.get("/port").text
        resp = client.post("/boom")
        assert resp.status_code == 500
        assert resp.json()["error_code"] == "INTERNAL_ERROR"
        assert "secret" not in resp.text
        assert client.get("/port").text == before  # the same keep-alive connection
    assert "secret detail" in caplog.text  # the traceback is in the server's log
