"""SSO and workload identity against a real OIDC provider on localhost (tests/oidc_provider)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider
from tests.server.security.conftest import ADMIN, serve_with_auth


@dataclass
class Sso:
    heron: str
    provider: Provider


@pytest.fixture
def sso(tmp_path: Path, serve_app: Any, serve_settings: Any) -> Iterator[Sso]:
    provider = Provider()
    with serve_app(provider.app()) as issuer:
        provider.issuer = issuer
        with serve_with_auth(
            tmp_path, serve_settings, oidc_issuer=issuer, oidc_client_id=CLIENT_ID,
            oidc_client_secret=CLIENT_SECRET, oidc_user_claim="preferred_username",
            workload_issuers=(issuer,),
        ) as running:  # fmt: skip
            yield Sso(running.url, provider)


def _exchange(sso: Sso, token: str) -> httpx.Response:
    with httpx.Client(base_url=sso.heron) as client:
        return client.post("/api/2.0/heron/tokens/exchange", json={"subject_token": token})


def test_a_workload_trades_its_token_for_a_short_lived_one(sso: Sso) -> None:
    with httpx.Client(base_url=sso.heron, auth=ADMIN) as admin:
        made = admin.post("/api/2.0/heron/principals/create",
                          json={"name": "repo:org/app:ref:refs/heads/main",
                                "principal_type": "service_principal"})  # fmt: skip
        assert made.status_code == 200, made.text
        granted = admin.post("/api/2.0/heron/grants/grant", json={
            "principal": "repo:org/app:ref:refs/heads/main", "principal_type": "service_principal",
            "privilege": "EDIT", "securable_type": "experiment", "securable_id": "0",
        })  # fmt: skip
        assert granted.status_code == 200, granted.text
    job_token = sso.provider.mint({"sub": "repo:org/app:ref:refs/heads/main", "aud": "heron"})
    answer = _exchange(sso, job_token)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["access_token"].startswith("heron_wlt_")
    assert body["expires_in"] == 3600
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    with httpx.Client(base_url=sso.heron, headers=bearer) as job:
        created = job.post("/api/2.0/mlflow/runs/create", json={"experiment_id": "0"})
    assert created.status_code == 200, created.text
    assert created.json()["run"]["info"]["user_id"] == "repo:org/app:ref:refs/heads/main"


def test_bad_workload_tokens_are_refused(sso: Sso) -> None:
    subject = {"sub": "nobody-made-this", "aud": "heron"}
    other_key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    now = int(time.time())
    cases = {
        "unknown-principal": sso.provider.mint(subject),
        "wrong-audience": sso.provider.mint({**subject, "aud": "someone-else"}),
        "forged-signature": sso.provider.mint(subject, key=other_key),
        "expired": sso.provider.mint({**subject, "exp": now - 3600, "iat": now - 7200}),
        "untrusted-issuer": sso.provider.mint({**subject, "iss": "https://evil.example"}),
        "not-a-jwt": "hello",
    }
    for name, token in cases.items():
        answer = _exchange(sso, token)
        assert answer.status_code == 401, (name, answer.text)
        assert answer.json()["error_code"] == "UNAUTHENTICATED", name


def test_the_callback_refuses_a_login_it_did_not_start(sso: Sso) -> None:
    with httpx.Client(base_url=sso.heron) as browser:
        answer = browser.get("/login/oidc/callback", params={"code": "x", "state": "y"})
    assert answer.status_code == 401
    assert "not started here" in answer.text
