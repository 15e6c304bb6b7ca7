"""What the walk of every route needs: a user's private objects (each carrying a secret
marker in a field no request of the walk sends), their snapshot, the requests that aim at
them from every route, and a recorder of the authorization decisions each request made."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from heron.client.http.traces import otlp_body
from heron.entities.trace import Span, SpanStatusCode
from heron.server.policies import RoutePolicy
from heron.services.access import Decision, recording

API = "/api/2.0/mlflow"
API3 = "/api/3.0/mlflow"
WALK_HEADER = "x-walk-id"


class Recorder:
    """Wraps the app: the decisions of each request that carries a walk id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: dict[str, list[Decision]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with recording() as decisions:
            # The live list: the client may read it as soon as it has the answer, before
            # this call returns.
            for name, value in scope["headers"]:
                if name == WALK_HEADER.encode():
                    self.seen[value.decode()] = decisions
            await self.app(scope, receive, send)


@dataclass
class Owner:
    """One user's private objects, by kind."""

    name: str
    marker: str
    ids: dict[str, str] = field(default_factory=dict)


def _ok(resp: httpx.Response) -> Any:
    assert resp.status_code == 200, f"{resp.request.method} {resp.request.url}: {resp.text}"
    return resp.json()


def populate(http: httpx.Client, name: str) -> Owner:
    """Makes `name`'s private experiment, run (metric, param, tag, artifact), trace (with
    feedback), logged model, registered model (version, alias), prompt, dataset (a record),
    scorer, serving endpoint and token, each marked with the user's secret."""
    owner = Owner(name, f"{name}-secret-{uuid.uuid4().hex[:8]}")
    secret, ids = owner.marker, owner.ids
    tag = [{"key": "secret", "value": secret}]
    made = http.post(f"{API}/experiments/create", json={"name": f"{name}-private", "tags": tag})
    ids["experiment"] = _ok(made)["experiment_id"]
    run = _ok(
        http.post(f"{API}/runs/create", json={"experiment_id": ids["experiment"], "tags": tag})
    )
    ids["run"] = run["run"]["info"]["run_id"]
    _ok(http.post(f"{API}/runs/log-batch", json={
        "run_id": ids["run"], "params": [{"key": "secret", "value": secret}],
        "metrics": [{"key": f"m_{secret}", "value": 1.0, "timestamp": 1, "step": 0}],
    }))  # fmt: skip
    ids["artifact"] = run["run"]["info"]["artifact_uri"].removeprefix("mlflow-artifacts:/")
    put = http.put(f"/api/2.0/mlflow-artifacts/artifacts/{ids['artifact']}/model/secret.txt",
                   content=secret.encode())  # fmt: skip
    assert put.status_code == 200, put.text
    ids["trace"] = _trace(http, ids["experiment"], secret)
    assessment = _ok(http.post(f"{API3}/traces/{ids['trace']}/assessments", json={"assessment": {
        "assessment_name": "quality", "feedback": {"value": secret}, "rationale": secret,
        "source": {"source_type": "HUMAN", "source_id": name},
    }}))["assessment"]  # fmt: skip
    ids["assessment"] = assessment["assessment_id"]
    logged = _ok(http.post(f"{API}/logged-models", json={
        "experiment_id": ids["experiment"], "name": "lm", "tags": tag,
        "params": [{"key": "secret", "value": secret}],
    }))["model"]  # fmt: skip
    ids["logged_model"] = logged["info"]["model_id"]
    ids["model"] = f"{name}-model"
    _ok(http.post(f"{API}/registered-models/create",
                  json={"name": ids["model"], "description": secret, "tags": tag}))  # fmt: skip
    _ok(http.post(f"{API}/model-versions/create", json={
        "name": ids["model"], "source": run["run"]["info"]["artifact_uri"] + "/model",
        "run_id": ids["run"], "description": secret,
    }))  # fmt: skip
    _ok(http.post(f"{API}/registered-models/alias",
                  json={"name": ids["model"], "alias": "champion", "version": "1"}))  # fmt: skip
    ids["prompt"] = f"{name}-prompt"
    prompt_tags = [{"key": "mlflow.prompt.is_prompt", "value": "true"}]
    prompt = {"name": ids["prompt"], "tags": prompt_tags, "description": secret}
    _ok(http.post(f"{API}/registered-models/create", json=prompt))
    _ok(http.post(f"{API}/model-versions/create", json={
        "name": ids["prompt"], "source": "prompt-template", "description": secret,
        "tags": [*prompt_tags, {"key": "mlflow.prompt.text", "value": secret}],
    }))  # fmt: skip
    dataset = _ok(http.post(f"{API3}/datasets/create", json={
        "name": f"{name}-dataset", "experiment_ids": [ids["experiment"]],
        "tags": f'{{"secret": "{secret}"}}',
    }))["dataset"]  # fmt: skip
    ids["dataset"] = dataset["dataset_id"]
    _ok(http.post(f"{API3}/datasets/{ids['dataset']}/records",
                  json={"records": f'[{{"inputs": {{"q": "{secret}"}}}}]'}))  # fmt: skip
    _ok(http.post(f"{API3}/scorers/register", json={
        "experiment_id": ids["experiment"], "name": "judge",
        "serialized_scorer": f'{{"name": "judge", "secret": "{secret}"}}',
    }))  # fmt: skip
    ids["endpoint"] = f"{name}-endpoint"
    _ok(http.post("/api/2.0/serving-endpoints", json={
        "name": ids["endpoint"], "tags": tag,
        "config": {"served_entities": [{"entity_name": ids["model"], "entity_version": "1"}]},
    }))  # fmt: skip
    token = _ok(http.post("/api/2.0/heron/tokens/create", json={"name": f"{name}-token"}))
    ids["token"] = token["token_info"]["token_id"]
    return owner


def _trace(http: httpx.Client, experiment_id: str, secret: str) -> str:
    trace_id = "tr-" + uuid.uuid4().hex
    span = Span(
        trace_id=trace_id, span_id=uuid.uuid4().hex[:16], parent_span_id=None, name=secret,
        span_type="AGENT", status=SpanStatusCode.OK, start_time_ns=1_700_000_000_000_000_000,
        end_time_ns=1_700_000_001_000_000_000, inputs={"q": secret}, outputs=secret,
    )  # fmt: skip
    sent = http.post("/v1/traces", content=otlp_body([span]), headers={
        "Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": experiment_id,
    })  # fmt: skip
    assert sent.status_code == 200, sent.text
    _ok(http.patch(f"{API}/traces/{trace_id}/tags", json={"key": "secret", "value": secret}))
    return trace_id


def snapshot(admin: httpx.Client, owner: Owner) -> dict[str, Any]:
    """Everything about `owner`'s objects that a change would show (read as an admin)."""
    ids = owner.ids
    reads = {
        "experiment": (f"{API}/experiments/get", {"experiment_id": ids["experiment"]}),
        "run": (f"{API}/runs/get", {"run_id": ids["run"]}),
        "artifacts": (f"{API}/artifacts/list", {"run_id": ids["run"], "path": "model"}),
        "trace": (f"{API3}/traces/{ids['trace']}", {}),
        "logged_model": (f"{API}/logged-models/{ids['logged_model']}", {}),
        "model": (f"{API}/registered-models/get", {"name": ids["model"]}),
        "version": (f"{API}/model-versions/get", {"name": ids["model"], "version": "1"}),
        "prompt": (f"{API}/registered-models/get", {"name": ids["prompt"]}),
        "dataset": (f"{API3}/datasets/{ids['dataset']}", {}),
        "records": (f"{API3}/datasets/{ids['dataset']}/records", {}),
        "scorers": (f"{API3}/scorers/list", {"experiment_id": ids["experiment"]}),
        "endpoint": (f"/api/2.0/serving-endpoints/{ids['endpoint']}", {}),
        "grants": ("/api/2.0/heron/grants/list", {}),
        "workspace": (f"{API3}/workspaces/{ids['workspace']}", {}),
    }
    found = {what: _ok(admin.get(path, params=params)) for what, (path, params) in reads.items()}
    mine = {ids["experiment"], ids["model"], ids["prompt"], ids["endpoint"], ids["workspace"]}
    found["grants"] = [g for g in found["grants"].get("grants", []) if g["securable_id"] in mine]
    content = admin.get(f"/api/2.0/mlflow-artifacts/artifacts/{ids['artifact']}/model/secret.txt")
    found["file"] = content.content.decode()
    return found


# The fields a request may name an object by, filled with the owner's objects.
def fields(owner: Owner, walker: str, *, own_name: bool = False) -> dict[str, Any]:
    ids = owner.ids
    experiment = ids["experiment"]
    location = {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment}}
    return {
        "experiment_id": experiment,
        "experiment_ids": [experiment],
        "experiment_name": f"{owner.name}-private",
        "run_id": ids["run"],
        "run_uuid": ids["run"],
        "run_ids": [ids["run"]],
        "runs": ids["run"],
        "model_id": ids["logged_model"],
        "source_run_id": ids["run"],
        "trace_id": ids["trace"],
        "request_id": ids["trace"],
        "trace_ids": [ids["trace"]],
        "request_ids": [ids["trace"]],
        "ids": [ids["trace"]],
        "assessment_id": ids["assessment"],
        "name": ids["prompt"] if own_name else ids["model"],
        "version": "1",
        "alias": "champion",
        "stage": "Production",
        "archive_existing_versions": False,
        "source": f"mlflow-artifacts:/{ids['artifact']}/model",
        "dataset_id": ids["dataset"],
        "endpoint_name": ids["endpoint"],
        "workspace_name": ids["workspace"],
        "workspace": ids["workspace"],
        "token_id": ids["token"],
        "username": walker if own_name else owner.name,
        "principal": walker,
        "member": walker,
        "group": "team",
        "privilege": "MANAGE",
        "permission": "MANAGE",
        "resource_type": "experiment",
        "resource_id": experiment,
        "securable_type": "experiment",
        "securable_id": experiment,
        "locations": [location],
        "trace": {"trace_info": {"trace_id": ids["trace"], "trace_location": location}},
        "config": {"served_entities": [{"entity_name": ids["model"], "entity_version": "1"}]},
        "key": "secret",
        "value": "walked",
        "path": "model",
        "description": "walked",
        "new_name": f"{owner.name}-renamed",
        "is_admin": True,
        "password": "walked-password",
        "records": '[{"inputs": {"q": "walked"}}]',
    }


def camel(data: dict[str, Any]) -> dict[str, Any]:
    def one(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(part.title() for part in rest)

    return {one(k): v for k, v in data.items()}


@dataclass(frozen=True)
class WalkRequest:
    method: str
    path: str
    params: dict[str, Any]
    body: dict[str, Any] | None
    form: bool = False


def requests_for(route: RoutePolicy, owner: Owner, walker: str) -> Iterator[WalkRequest]:
    """The requests that aim `route` at `owner`'s objects: their ids in the path, in the
    query and in the body, snake_case and camelCase (and HEAD where GET is served)."""
    ids = owner.ids
    path = _fill(route.path, owner)
    methods = ["GET", "POST"] if route.method == "*" else [route.method]
    if "GET" in methods:
        methods.append("HEAD")
    for method in methods:
        for variant in (
            fields(owner, walker),
            camel(fields(owner, walker)),
            fields(owner, walker, own_name=True),
        ):
            query = {k: _query_value(v) for k, v in variant.items() if _query_value(v) is not None}
            body = None if method in ("GET", "HEAD") else variant
            yield WalkRequest(method, path, query, body, form=path.startswith("/ui/"))
    del ids


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return value if isinstance(value, str) else None


def _fill(template: str, owner: Owner) -> str:
    ids = owner.ids
    endpointish = "serving-endpoints" in template or template.startswith("/endpoints")
    values = {
        "experiment_id": ids["experiment"],
        "run_id": ids["run"],
        "model_id": ids["logged_model"],
        "trace_id": ids["trace"],
        "request_id": ids["trace"],
        "assessment_id": ids["assessment"],
        "dataset_id": ids["dataset"],
        "name": ids["endpoint"] if endpointish else ids["model"],
        "version": "1",
        "path": f"{ids['artifact']}/model/secret.txt",
        "key": "secret",
        "tag_key": "secret",
        "entity": f"{ids['model']}-1",
        "session_id": "s",
        "webhook_id": "w",
        "action": "create",
        "workspace_name": ids["workspace"],
    }

    def one(match: re.Match[str]) -> str:
        name = match.group(1).split(":", 1)[0]
        return values.get(name, "x")

    return re.sub(r"{([^}]+)}", one, template)
