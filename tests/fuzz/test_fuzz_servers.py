"""No request gets a 5xx, and the server logs no traceback: a fixed, seeded stream of requests
to every route (API, OTLP, artifacts, UI pages and forms) of a real `heron server`, once on
SQLite and once as teams deploy it (PostgreSQL, S3, two workers).

The requests are the same on every run (fixed seed and count). A failure lists each request
that got a 5xx; `HERON_FUZZ_SEED` and `HERON_FUZZ_REQUESTS` try other streams by hand."""

from __future__ import annotations

import collections
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.fuzz import plan, world

SEED = int(os.environ.get("HERON_FUZZ_SEED", "21"))
REQUESTS = int(os.environ.get("HERON_FUZZ_REQUESTS", "3000"))
MULTIPART = "/mlflow-artifacts/mpu/"


@pytest.fixture(scope="module")
def app_endpoints(tmp_path_factory: pytest.TempPathFactory) -> list[plan.Endpoint]:
    from heron.app import create_app
    from heron.settings import Settings

    app = create_app(Settings.for_home(tmp_path_factory.mktemp("routes")))
    return plan.endpoints(app)


def _send(http: httpx.Client, request: plan.Request) -> httpx.Response:
    kwargs: dict[str, Any] = {"params": request.params, "headers": request.headers}
    if request.json is not None:  # escaped by json (httpx would refuse a lone surrogate)
        kwargs["content"] = json.dumps(request.json).encode()
        kwargs["headers"] = {"Content-Type": "application/json", **request.headers}
    elif request.form is not None:
        kwargs["data"] = request.form
    elif request.content is not None:
        kwargs["content"] = request.content
    return http.request(request.method, request.path, **kwargs)


def _expected(request: plan.Request, answer: httpx.Response, s3: bool) -> bool:
    """MLflow's own answer to a multipart upload on a store without it: 501 NOT_IMPLEMENTED."""
    return (
        answer.status_code == 501
        and MULTIPART in request.path
        and not s3
        and answer.json().get("error_code") == "NOT_IMPLEMENTED"
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "setup",
    ["server_process", pytest.param("deployed_server", marks=pytest.mark.postgres)],
    ids=["sqlite", "postgresql-s3-2-workers"],
)
def test_no_request_gets_a_server_error(
    setup: str, request: pytest.FixtureRequest, app_endpoints: list[plan.Endpoint]
) -> None:
    server = request.getfixturevalue(setup)
    s3 = setup == "deployed_server"
    failures = []
    answered: collections.Counter[int] = collections.Counter()
    with httpx.Client(base_url=server.url, timeout=60) as http:
        seeded = world.build(http)
        csrf = http.cookies.get("heron_csrf", "")
        assert csrf, "the UI set no CSRF cookie"
        planner = plan.Planner(SEED, app_endpoints, seeded, csrf)
        for fuzzed in planner.requests(REQUESTS):
            answer = _send(http, fuzzed)
            answered[answer.status_code // 100] += 1
            if answer.status_code >= 500 and not _expected(fuzzed, answer, s3):
                failures.append(f"{answer.status_code} {fuzzed.describe()}: {answer.text[:200]}")
    log = Path(server.log_path).read_text(errors="replace")
    assert not failures, f"{len(failures)} of {REQUESTS} requests got a 5xx:\n" + "\n".join(
        failures[:40]
    )
    assert "Traceback" not in log, log[log.index("Traceback") - 200 :][:6000]
    # The stream reaches past the first checks: a fair share of it is done, not refused.
    done = answered[2] + answered[3]
    assert done >= REQUESTS * 0.15, f"only {done} of {REQUESTS} answered 2xx/3xx: {answered}"
