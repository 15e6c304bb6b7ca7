"""What the fuzzer aims at: objects made on the server, and the forms its UI pages show."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

API = "/api/2.0/mlflow"
API3 = "/api/3.0/mlflow"


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str]


@dataclass
class World:
    """Ids and names of what exists (by the wire's field names), the UI's pages and forms."""

    known: dict[str, list[Any]]
    pages: list[str] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)
    query_keys: set[str] = field(default_factory=set)


def _ok(answer: httpx.Response) -> Any:
    assert answer.status_code == 200, (answer.request.url, answer.text[:500])
    return answer.json()


def export_request(trace_hex: str) -> bytes:
    """One trace of two spans in OTLP protobuf."""
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for n, name in enumerate(("agent", "llm")):
        span = scope.spans.add()
        span.trace_id = bytes.fromhex(trace_hex)
        span.span_id = bytes.fromhex(f"{n + 1:016x}")
        if n:
            span.parent_span_id = bytes.fromhex(f"{1:016x}")
        span.name = name
        span.start_time_unix_nano = 1_700_000_000_000_000_000 + n
        span.end_time_unix_nano = 1_700_000_000_250_000_000 - n
        attr = span.attributes.add()
        attr.key, attr.value.string_value = "mlflow.spanInputs", json.dumps({"q": "why?"})
    return request.SerializeToString()


def build(http: httpx.Client) -> World:
    """Makes an experiment with a run (params, metrics, tags, a dataset, an artifact), a logged
    model, a registered model with a version and an alias, a trace with spans and an assessment,
    a catalog and schema; returns what the fuzzer may name."""
    tag = uuid.uuid4().hex[:8]
    exp_name = f"fuzz-{tag}"
    experiment_id = _ok(http.post(f"{API}/experiments/create", json={"name": exp_name}))[
        "experiment_id"
    ]
    _ok(http.post(f"{API}/experiments/create", json={"name": exp_name + "-2"}))
    run = _ok(http.post(f"{API}/runs/create", json={"experiment_id": experiment_id}))["run"]
    run_id = run["info"]["run_id"]
    batch = {
        "run_id": run_id,
        "metrics": [{"key": "m", "value": v, "timestamp": 1, "step": v} for v in range(3)],
        "params": [{"key": "p", "value": "1"}],
        "tags": [{"key": "t", "value": "x"}],
    }
    _ok(http.post(f"{API}/runs/log-batch", json=batch))
    dataset = {"name": "d", "digest": "abc", "source_type": "local", "source": "{}"}
    _ok(http.post(f"{API}/runs/log-inputs", json={"run_id": run_id, "datasets": [
        {"dataset": dataset, "tags": [{"key": "mlflow.data.context", "value": "train"}]}
    ]}))  # fmt: skip
    artifact = f"{experiment_id}/{run_id}/artifacts/notes.txt"
    http.put(f"/api/2.0/mlflow-artifacts/artifacts/{artifact}", content=b"hello").raise_for_status()
    model = _ok(http.post(f"{API}/logged-models", json={
        "experiment_id": experiment_id, "name": "lm", "source_run_id": run_id,
        "params": [{"key": "lp", "value": "2"}],
    }))["model"]  # fmt: skip
    model_id = model["info"]["model_id"]
    name = f"rm-{tag}"
    _ok(http.post(f"{API}/registered-models/create", json={"name": name}))
    version = _ok(http.post(f"{API}/model-versions/create", json={
        "name": name, "source": f"models:/{model_id}", "run_id": run_id, "model_id": model_id,
    }))["model_version"]["version"]  # fmt: skip
    _ok(http.post(f"{API}/registered-models/alias", json={
        "name": name, "alias": "champion", "version": version
    }))  # fmt: skip
    trace_hex = uuid.uuid4().hex
    otlp = http.post(
        "/v1/traces",
        content=export_request(trace_hex),
        headers={"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": experiment_id},
    )
    otlp.raise_for_status()
    trace_id = f"tr-{trace_hex}"
    assessment = _ok(http.post(f"{API3}/traces/{trace_id}/assessments", json={"assessment": {
        "assessment_name": "ok", "feedback": {"value": True},
        "source": {"source_type": "HUMAN", "source_id": "me"},
    }}))["assessment"]  # fmt: skip
    catalog = f"c{tag}"
    _ok(http.post("/api/2.0/heron/catalogs/create", json={"name": catalog}))
    _ok(http.post("/api/2.0/heron/schemas/create", json={"catalog_name": catalog, "name": "s"}))
    tokens = _page_tokens(http, experiment_id, name)
    known: dict[str, list[Any]] = {
        "experiment_id": [experiment_id, "0"],
        "experiment_ids": [experiment_id],
        "experiment_name": [exp_name],
        "run_id": [run_id],
        "run_uuid": [run_id],
        "run_ids": [run_id],
        "model_id": [model_id],
        "source_run_id": [run_id],
        "name": [name, exp_name, "lm", catalog],
        "new_name": [f"new-{tag}"],
        "version": [version, "1"],
        "alias": ["champion"],
        "trace_id": [trace_id],
        "request_id": [trace_id],
        "trace_ids": [trace_id],
        "request_ids": [trace_id],
        "span_id": ["0000000000000001"],
        "assessment_id": [assessment["assessment_id"]],
        "catalog_name": [catalog],
        "full_name": [f"{catalog}.s"],
        "key": ["m", "p", "t", "mlflow.note.content"],
        "metric_key": ["m"],
        "tag_key": ["t"],
        "value": ["1", "x"],
        "path": ["notes.txt", artifact, ""],
        "source": [f"models:/{model_id}", f"runs:/{run_id}/model"],
        "filter": ["metrics.m > 0", "params.p = '1'", "tags.t LIKE 'x%'", "name LIKE 'f%'",
                   "attributes.status = 'RUNNING'", "datasets.name = 'd'", "trace.status = 'OK'",
                   "version_number > 0", "feedback.ok = 'true'"],
        "order_by": ["metrics.m DESC", "name ASC", "creation_time DESC", "attributes.start_time"],
        "page_token": tokens,
        "text": ["x", "hello", "0", "a b"],
    }  # fmt: skip
    world = World(known=known)
    _scrape(http, world, [
        "/", f"/experiments/{experiment_id}", f"/experiments/{experiment_id}/traces",
        f"/runs/{run_id}", f"/runs/{run_id}/charts", f"/runs/{run_id}/artifacts",
        f"/compare?runs={run_id}", "/models", f"/models/{name}",
        f"/models/{name}/versions/{version}", "/logged-models", f"/logged-models/{model_id}",
        f"/traces/{trace_id}",
    ])  # fmt: skip
    return world


def _page_tokens(http: httpx.Client, experiment_id: str, name: str) -> list[str]:
    """Real page tokens of each search, and edited copies whose values are past their columns."""
    found = []
    for path, body in [
        (f"{API}/experiments/search", {"max_results": 1}),
        (f"{API}/runs/search", {"experiment_ids": [experiment_id], "max_results": 1}),
        (f"{API}/runs/search", {"experiment_ids": [experiment_id], "max_results": 1,
                                "order_by": ["metrics.m DESC"]}),
        (f"{API}/logged-models/search", {"experiment_ids": [experiment_id], "max_results": 1}),
    ]:  # fmt: skip
        token = http.post(path, json=body).json().get("next_page_token")
        if token:
            found.append(token)
    for path, query in [
        (f"{API}/registered-models/search", {"max_results": 1}),
        (f"{API}/model-versions/search", {"max_results": 1, "filter": f"name = '{name}'"}),
    ]:
        token = http.get(path, params=query).json().get("next_page_token")
        if token:
            found.append(token)
    return found + [_edited(t) for t in found]


def _edited(token: str) -> str:
    """The token with each integer past a BIGINT and a NUL in each string, when it decodes."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        return token[::-1]

    def edit(value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value + 2**31
        if isinstance(value, str) and len(value) < 40:
            return value + "\x00"
        if isinstance(value, list):
            return [edit(v) for v in value]
        if isinstance(value, dict):
            return {k: edit(v) if k != "q" else v for k, v in value.items()}
        return value

    return base64.urlsafe_b64encode(json.dumps(edit(payload)).encode()).decode().rstrip("=")


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("action", ""), a.get("method", "get").upper(), {})
            self.forms.append(self._form)
        elif tag in ("input", "select", "textarea", "button") and self._form and a.get("name"):
            self._form.fields[a["name"]] = a.get("value", "")
        elif tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def _scrape(http: httpx.Client, world: World, pages: list[str]) -> None:
    for page in pages:
        answer = http.get(page, follow_redirects=True)
        assert answer.status_code == 200, (page, answer.text[:300])
        parser = _Forms()
        parser.feed(answer.text)
        world.pages.append(page)
        for form in parser.forms:
            form.action = form.action or urlsplit(page).path
            if form.method == "GET":
                world.query_keys.update(form.fields)
            elif all(f.action != form.action or f.fields.keys() != form.fields.keys()
                     for f in world.forms):  # fmt: skip
                world.forms.append(form)
        for link in parser.links:
            world.query_keys.update(k for k, _ in parse_qsl(urlsplit(link).query))
