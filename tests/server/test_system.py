"""/health, /version and server-info."""

from __future__ import annotations

import httpx
import pytest


def test_health_is_plain_ok(http: httpx.Client) -> None:
    resp = http.get("/health")
    assert (resp.status_code, resp.text) == (200, "OK")


def test_version_is_an_mlflow_version_of_at_least_3_4(http: httpx.Client) -> None:
    # MLflow compat: the client gates OTLP span export on the server version being >= 3.4.
    resp = http.get("/version")
    assert resp.status_code == 200
    assert tuple(int(p) for p in resp.text.split(".")) >= (3, 4)


@pytest.mark.parametrize("prefix", ["/api", "/ajax-api"])
def test_server_info(http: httpx.Client, prefix: str) -> None:
    resp = http.get(f"{prefix}/3.0/mlflow/server-info")
    assert resp.status_code == 200
    body = resp.json()
    assert body["store_type"] == "SqlStore"
    assert body["multipart_uploads_enabled"] is False
    assert body["features_enabled"] == {"gateway": False}
