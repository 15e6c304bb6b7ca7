"""The fuzzer's requests: every route of the app, each request built from a seeded generator.

API routes get bodies (or queries) shaped by MLflow's spec for that route (`wire.json`), with
one or two fields made hostile; Heron's own routes a body of its fields; artifact routes odd
paths and bytes; OTLP protobuf or JSON; UI pages odd query parameters; UI forms the fields their
pages render, with the CSRF token (or a wrong one now and then)."""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.routing import Route
from tests.fuzz import values
from tests.fuzz.world import World, export_request

PARAM = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # a template: /runs/{run_id}


@dataclass
class Request:
    method: str
    path: str
    params: list[tuple[str, str]] | None = None
    json: Any = None
    form: dict[str, str] | None = None
    content: bytes | None = None
    headers: dict[str, str | bytes] = field(default_factory=dict)

    def describe(self) -> str:
        body = self.json if self.json is not None else (self.form or self.content or "")
        return (
            f"{self.method} {self.path} params={self.params!r:.300} body={body!r:.300}"
            f" headers={self.headers!r:.300}"
        )


def endpoints(app: Starlette) -> list[Endpoint]:
    """Every (method, path) the app serves, HEAD aside (GET's twin), static files aside."""
    found: set[Endpoint] = set()
    for route in app.routes:
        by_path = getattr(route, "_by_path", None)  # heron.server.routing.PathTable
        if by_path is not None:
            found.update(Endpoint(m, p) for p, methods in by_path.items() for m in methods)
        elif isinstance(route, Route):
            found.update(Endpoint(m, route.path) for m in route.methods or ())
    return sorted((e for e in found if e.method != "HEAD"), key=lambda e: (e.path, e.method))


def _spec_key(endpoint: Endpoint) -> str:
    path = PARAM.sub("{}", endpoint.path).replace("/ajax-api/", "/api/")
    return f"{endpoint.method} {path}"


def _text(value: Any) -> str:
    """How a value goes into a URL or a form: no lone surrogates (they encode to no UTF-8),
    and at most 15,000 characters (httpx refuses URLs past 64 KiB)."""
    return str(value)[:15_000].encode("utf-8", "replace").decode()


def _header(value: Any) -> bytes:
    """A header's value: the UTF-8 of the value, without what HTTP refuses (control bytes)."""
    return bytes(b for b in _text(value)[:2000].encode("utf-8") if b >= 0x20 and b != 0x7F)


class Planner:
    def __init__(self, seed: int, app_endpoints: list[Endpoint], world: World, csrf: str) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - a repeatable stream, not a secret
        self.endpoints = app_endpoints
        self.world = world
        self.csrf = csrf
        self.values = values.Values(self.rng, world.known)
        self.specs: dict[str, list[list[Any]]] = values.WIRE["routes"]

    def requests(self, count: int) -> Iterator[Request]:
        for _ in range(count):
            yield self.request()

    def request(self) -> Request:
        made = self._request()
        if self.rng.random() < 0.03:  # who is calling: the name a row records as its author
            user = _text(values.hostile(self.rng)).encode("utf-8")
            made.headers["Authorization"] = b"Basic " + base64.b64encode(user + b":secret")
        return made

    def _request(self) -> Request:
        rng = self.rng
        if self.world.forms and rng.random() < 0.12:
            return self._form()
        endpoint = rng.choice(self.endpoints)
        path = self._path(endpoint.path)
        if endpoint.path == "/v1/traces":
            return self._otlp()
        if "/mlflow-artifacts/" in endpoint.path or "/heron/artifacts/" in endpoint.path:
            return self._artifact(endpoint, path)
        if not endpoint.path.startswith(("/api/", "/ajax-api/")):
            return self._page(endpoint, path)
        fields = self.specs.get(_spec_key(endpoint))
        if fields is None:
            fields = values.HERON_FIELDS
        fields = [f for f in fields if f"{{{f[0]}" not in endpoint.path]
        body = self.values.body(fields, rng.choice([0, 1, 1, 2]))
        if endpoint.method == "GET":
            return Request("GET", path, params=self._query(body))
        return Request(endpoint.method, path, json=body)

    def _path(self, template: str) -> str:
        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if self.rng.random() < 0.2:
                return quote(_text(values.hostile(self.rng)), safe="")
            if name == "path":
                choices = self.world.known["path"]
            elif name == "action":
                choices = ["create", "complete", "abort"]
            else:
                choices = self.world.known.get(name, self.world.known["text"])
            return quote(str(self.rng.choice(choices)), safe="/" if name == "path" else "")

        return PARAM.sub(fill, template)

    def _query(self, body: dict[str, Any]) -> list[tuple[str, str]]:
        params = []
        for key, value in body.items():
            for item in value if isinstance(value, list) else [value]:
                if not isinstance(item, dict):
                    params.append((key, _text(item)))
        return params

    def _otlp(self) -> Request:
        rng = self.rng
        headers: dict[str, str | bytes] = {
            "x-mlflow-experiment-id": rng.choice(self.world.known["experiment_id"])
        }
        if rng.random() < 0.3:
            headers["x-mlflow-experiment-id"] = _header(values.hostile(rng))
        if rng.random() < 0.7:
            content = export_request(rng.randbytes(16).hex())
            if rng.random() < 0.5:  # flip some bytes: protobuf that may or may not parse
                data = bytearray(content)
                for _ in range(rng.randint(1, 4)):
                    data[rng.randrange(len(data))] = rng.randrange(256)
                content = bytes(data)
            headers["Content-Type"] = "application/x-protobuf"
            return Request("POST", "/v1/traces", content=content, headers=headers)
        return Request("POST", "/v1/traces", json=self.values.body([], 3), headers=headers)

    def _artifact(self, endpoint: Endpoint, path: str) -> Request:
        rng = self.rng
        if endpoint.method == "PUT":
            content = rng.choice([b"", b"x", rng.randbytes(rng.randint(1, 3000))])
            headers: dict[str, str | bytes] = {}
            if rng.random() < 0.2:
                headers["Content-Digest"] = _header(values.hostile(rng))
            return Request("PUT", path, content=content, headers=headers)
        if endpoint.method == "POST":  # multipart upload steps
            body = self.values.body([["path", "string", False], ["num_parts", "int64", False],
                                     ["upload_id", "string", False], ["parts", "string[]", False]],
                                    rng.choice([1, 2]))  # fmt: skip
            return Request("POST", path, json=body)
        query = [("path", _text(rng.choice([*self.world.known["path"], values.hostile(rng)])))]
        return Request(endpoint.method, path, params=query if rng.random() < 0.5 else None)

    def _page(self, endpoint: Endpoint, path: str) -> Request:
        rng = self.rng
        keys = sorted(self.world.query_keys) or ["q"]
        params = []
        for _ in range(rng.choice([0, 1, 2, 3])):
            key = rng.choice(keys)
            known = self.world.known.get(key, self.world.known["text"])
            value = rng.choice(known) if rng.random() < 0.4 else values.hostile(rng)
            params.append((key, _text(value)))
        if endpoint.method == "POST":
            form = dict(params)
            form["csrf_token"] = self.csrf
            return Request("POST", path, form=form)
        return Request(endpoint.method, path, params=params)

    def _form(self) -> Request:
        rng = self.rng
        form = rng.choice(self.world.forms)
        data = dict(form.fields)
        names = sorted(data) or ["x"]
        for _ in range(rng.choice([1, 1, 2, 3])):
            name = rng.choice(names)
            if name == "csrf_token" and rng.random() < 0.7:
                continue
            data[name] = _text(values.hostile(rng))
        if "csrf_token" in data and data["csrf_token"] != self.csrf and rng.random() < 0.5:
            data["csrf_token"] = self.csrf
        return Request(form.method, form.action, form=data)
