"""The OIDC login in real Chromium: Heron's login page, the provider's, back signed in, with
the groups the provider names."""

from __future__ import annotations

from typing import Any

import httpx
from tests.server.security.conftest import ADMIN
from tests.server.security.test_oidc import Sso, sso  # noqa: F401 - the fixture


def test_sign_in_with_single_sign_on(page: Any, sso: Sso) -> None:  # noqa: F811
    sso.provider.users["carol"] = {"groups": ["ml-team", "reviewers"]}
    page.goto(f"{sso.heron}/models")
    assert "/login" in page.url
    page.click("#sso-login")
    page.wait_for_url(f"{sso.provider.issuer}/authorize*")
    page.fill("#login", "carol")
    page.click("#approve")
    page.wait_for_url(f"{sso.heron}/models")
    assert "carol" in page.inner_text("#user-menu")
    with httpx.Client(base_url=sso.heron, auth=ADMIN) as admin:
        members = admin.get("/api/2.0/heron/groups/members/list", params={"group": "ml-team"})
        assert [m["name"] for m in members.json()["members"]] == ["carol"]
        current = admin.get("/api/2.0/mlflow/users/get", params={"username": "carol"})
        assert current.json()["user"]["is_admin"] is False
