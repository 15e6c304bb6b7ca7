"""The real mlflow 3.17.2 client against a Heron server with --auth: basic and bearer
credentials from its usual variables, and MLflow's basic-auth admin client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server.security.conftest import ADMIN, serve_with_auth

pytestmark = pytest.mark.slow

RunMlflow = Callable[..., Any]


@pytest.fixture
def server(tmp_path: Path, serve_settings: Any) -> Iterator[str]:
    with serve_with_auth(tmp_path, serve_settings) as running:
        yield running.url


def test_mlflow_logs_with_basic_and_bearer_credentials(server: str, run_mlflow: RunMlflow) -> None:
    with httpx.Client(base_url=server, auth=ADMIN) as admin:
        token = admin.post("/api/2.0/heron/tokens/create", json={"name": "ci"}).json()["token"]
    code = """
import json, mlflow
mlflow.set_experiment("auth-{kind}")
with mlflow.start_run() as run:
    mlflow.log_metric("acc", 0.9)
    mlflow.log_text("hello", "notes.txt")
got = mlflow.get_run(run.info.run_id)
text = mlflow.artifacts.load_text(run.info.artifact_uri + "/notes.txt")
print(json.dumps({{"user": got.info.user_id, "acc": got.data.metrics["acc"], "text": text}}))
"""
    basic = run_mlflow(
        code.format(kind="basic"), MLFLOW_TRACKING_URI=server,
        MLFLOW_TRACKING_USERNAME=ADMIN[0], MLFLOW_TRACKING_PASSWORD=ADMIN[1],
    )  # fmt: skip
    bearer = run_mlflow(code.format(kind="bearer"), MLFLOW_TRACKING_URI=server,
                        MLFLOW_TRACKING_TOKEN=token)  # fmt: skip
    assert basic == bearer == {"user": "root", "acc": 0.9, "text": "hello"}


def test_mlflow_without_credentials_is_refused(server: str, run_mlflow: RunMlflow) -> None:
    result = run_mlflow(
        """
import json, mlflow
from mlflow.exceptions import MlflowException
try:
    mlflow.search_experiments()
    print(json.dumps("allowed"))
except MlflowException as exc:
    print(json.dumps(str(exc)[:300]))
""",
        MLFLOW_TRACKING_URI=server,
    )
    assert "401" in result or "UNAUTHENTICATED" in result


def test_mlflow_basic_auth_admin_client_works(server: str, run_mlflow: RunMlflow) -> None:
    result = run_mlflow(
        """
import json, mlflow
from mlflow.server import get_app_client
mlflow.set_tracking_uri(URI)
exp = mlflow.create_experiment("shared")
client = get_app_client("basic-auth", tracking_uri=URI)
user = client.create_user("alice", "alice-password")
got = client.get_user("alice")
client.update_user_admin("alice", True)
admin_now = client.get_user("alice").is_admin
client.update_user_admin("alice", False)
client.update_user_password("alice", "alice-password-2")
client.grant_user_permission("alice", "experiment", exp, "EDIT")
perm = client.get_user_permission("alice", "experiment", exp)
role = client.create_role("default", "readers", "read everything")
rp = client.add_role_permission(role.id, "registered_model", "*", "READ")
assignment = client.assign_role("alice", role.id)
roles = [r.name for r in client.list_user_roles("alice")]
perms = [p.permission for p in client.list_role_permissions(role.id)]
client.revoke_user_permission("alice", "experiment", exp)
after = client.get_user_permission("alice", "experiment", exp)
client.unassign_role("alice", role.id)
client.delete_role(role.id)
client.delete_user("alice")
try:
    client.get_user("alice")
    gone = False
except Exception:
    gone = True
print(json.dumps({"id": user.id == got.id, "admin": admin_now,
                  "perm": [perm.allowed, perm.permission], "roles": roles, "perms": perms,
                  "after": after.permission, "gone": gone}))
""".replace("URI", repr(server)),
        MLFLOW_TRACKING_USERNAME=ADMIN[0],
        MLFLOW_TRACKING_PASSWORD=ADMIN[1],
    )
    assert result == {
        "id": True, "admin": True, "perm": [True, "EDIT"], "roles": ["readers"],
        "perms": ["READ"], "after": "NO_PERMISSIONS", "gone": True,
    }  # fmt: skip
    with httpx.Client(base_url=server, auth=("alice", "alice-password-2")) as alice:
        assert alice.get("/api/2.0/mlflow/experiments/search").status_code == 401
