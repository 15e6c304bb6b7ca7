"""docs/mlflow-compatibility.md's route table against the app: every row marked served is
served (under /api/ and the UI's /ajax-api/ copy alike), every row marked not served is not,
every row marked "with --auth" is served by a server with --auth and only by such a server,
and every route either app serves in MLflow's namespaces has a row. When a route is added or
removed, the failure says which row to add or change. With ../shared beside the repository,
the table must also list every route of the wire spec."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from starlette.applications import Starlette

from heron.server.policies import table
from heron.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "mlflow-compatibility.md"
SPEC = Path(os.environ.get("HERON_SHARED", ROOT.parent / "shared")) / "mlflow-rest-api.md"
ROW = re.compile(
    r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \| (served|not served|with --auth) \|"
)
SPEC_ROW = re.compile(r"^\| (GET|POST|PUT|PATCH|DELETE) \| (/[^\s,]+)")
# Where MLflow's routes live; Heron's own (/api/2.0/heron, the UI's pages, the Databricks
# serving-endpoints API) are documented elsewhere.
MLFLOW_PLACES = ("/api/2.0/mlflow", "/api/3.0/mlflow", "/ajax-api/2.0/mlflow",
                 "/ajax-api/3.0/mlflow", "/ajax-api/3.0/jobs", "/v1/traces", "/gateway",
                 "/graphql", "/get-artifact", "/model-versions/get-artifact", "/health",
                 "/version", "/metrics")  # fmt: skip


def doc_rows(auth: bool = False) -> list[tuple[str, str, bool]]:
    """(method, path, served) of every row of the doc's route tables, for a server without
    --auth or (`auth`) with it."""
    found = []
    for line in DOC.read_text().splitlines():
        match = ROW.match(line)
        if match:
            state = match.group(3)
            served = state == "served" or (auth and state == "with --auth")
            found.append((match.group(1), match.group(2), served))
    return found


@pytest.fixture(scope="module")
def auth_app(tmp_path_factory: pytest.TempPathFactory) -> Starlette:
    """The app as `heron server --auth` builds it (MLflow's basic-auth routes join it)."""
    from heron.app import create_app

    home = tmp_path_factory.mktemp("auth-server")
    return create_app(Settings.for_home(home, auth=True))


@pytest.fixture(params=[False, True], ids=["default", "with-auth"])
def app_and_auth(
    request: pytest.FixtureRequest, server_app: Starlette, auth_app: Starlette
) -> tuple[Starlette, bool]:
    return (auth_app, True) if request.param else (server_app, False)


def _pattern(template: str) -> re.Pattern[str]:
    """A route template ({name}, {name:path}) as a regex over concrete paths."""
    parts = re.split(r"(\{[^}]*\})", template)
    regex = "".join(
        (".+" if p.endswith(":path}") else "[^/]+") if p.startswith("{") else re.escape(p)
        for p in parts
    )
    return re.compile(regex)


def _concrete(template: str) -> str:
    return re.sub(r"\{[^}]*\}", "p1", template)


def _api(path: str) -> str:
    return path.replace("/ajax-api/", "/api/", 1) if path.startswith("/ajax-api/") else path


def _served(routes: list[tuple[str, str]], method: str, path: str) -> bool:
    return any(m == method and _pattern(p).fullmatch(_concrete(path)) for m, p in routes)


def _app_routes(app: Starlette) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in table(app.routes) if r.method != "*"]


def test_every_row_says_truly_whether_the_app_serves_it(
    app_and_auth: tuple[Starlette, bool],
) -> None:
    app, auth = app_and_auth
    routes = _app_routes(app)
    wrong = []
    for method, path, served in doc_rows(auth):
        copies = [path]
        if path.startswith(("/api/2.0/mlflow/", "/api/3.0/mlflow/")):
            copies.append(path.replace("/api/", "/ajax-api/", 1))  # MLflow serves both
        for copy in copies:
            if served and not _served(routes, method, copy):
                wrong.append(
                    f"{method} {copy} is marked served{' with --auth' if auth else ''} but "
                    "the app does not serve it"
                )
            if not served and _served(routes, method, copy):
                state = "with --auth" if auth else "served"
                wrong.append(
                    f"{method} {copy} is served{' with --auth' if auth else ''} now: mark its "
                    f"row so ('| {method} | `{path}` | {state} | |')"
                )
    assert not wrong, f"{DOC}:\n" + "\n".join(wrong)


def test_every_mlflow_route_the_app_serves_has_a_row(
    app_and_auth: tuple[Starlette, bool],
) -> None:
    app, auth = app_and_auth
    rows = doc_rows(auth)
    missing = []
    for method, path in _app_routes(app):
        if not path.startswith(MLFLOW_PLACES):
            continue
        pattern = _pattern(_api(path))
        if not any(m == method and pattern.fullmatch(_concrete(_api(p))) for m, p, _ in rows):
            missing.append(
                f"| {method} | `{_api(path)}` | {'with --auth' if auth else 'served'} | |"
            )
    assert not missing, (
        f"Routes of MLflow's API without a row in {DOC.name}; add these rows to its route "
        "table (under the section they belong to):\n" + "\n".join(sorted(set(missing)))
    )


@pytest.mark.skipif(not SPEC.exists(), reason=f"the wire spec is not at {SPEC}")
def test_the_table_lists_every_route_of_the_wire_spec() -> None:
    listed = {(m, p) for m, p, _ in doc_rows()}
    absent = []
    for line in SPEC.read_text().splitlines():
        match = SPEC_ROW.match(line)
        if match and match.group(2).startswith("/api/") and (match.groups() not in listed):
            absent.append(f"| {match.group(1)} | `{match.group(2)}` | not served | why |")
    assert not absent, f"Rows of {SPEC.name} missing from {DOC.name}:\n" + "\n".join(absent)
