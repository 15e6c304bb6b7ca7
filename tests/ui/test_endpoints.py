"""The serving endpoint pages in Chromium: the list, an endpoint's charts, shadow verdict,
replicas and recent records, and an inference record linked to its trace both ways. The
endpoint's replica reports, captured requests and statistics are written through the
services into the server's own database, as replicas and the invocation route write them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from heron.entities.serving import (
    EndpointConfig,
    InferenceTableConfig,
    Replica,
    ReplicaState,
    ServedEntity,
    TrafficRoute,
)
from heron.services.inference_capture import Exchange


@pytest.fixture(scope="module")
def seeded(serve_settings: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from heron.services import AllowAll
    from heron.services.build import build_services
    from heron.settings import Settings
    from heron.store.sql import open_sql_stores

    settings = Settings.for_home(tmp_path_factory.mktemp("ui-endpoints"))
    with serve_settings(settings) as url:
        trace_id = _a_trace(url)
        stores = open_sql_stores(
            settings.backend_store_uri, default_artifact_root="mlflow-artifacts:"
        )
        services = build_services(stores, AllowAll(), settings)
        try:
            request_id = _seed(services, trace_id)
        finally:
            services.close()
        yield url, request_id, trace_id


def _a_trace(url: str) -> str:
    import heron
    from heron import tracing

    heron.set_tracking_uri(url)
    try:
        with tracing.start_span("predict") as span:
            span.set_inputs({"inputs": [1]})
        trace_id = tracing.get_last_active_trace_id()
        assert trace_id is not None
        assert tracing.flush(timeout_s=60)
    finally:
        heron.set_tracking_uri(None)
    return trace_id


def _seed(services: Any, trace_id: str) -> str:
    services.registry.create_registered_model("fraud")
    for _ in range(2):
        services.registry.create_model_version("fraud", "mlflow-artifacts:/0/files/m")
    entities = (
        ServedEntity(name="champion", entity_name="fraud", entity_version="1"),
        ServedEntity(name="challenger", entity_name="fraud", entity_version="2"),
    )
    config = EndpointConfig(
        config_version=0,
        served_entities=entities,
        routes=(
            TrafficRoute(served_entity_name="champion", traffic_percentage=90),
            TrafficRoute(served_entity_name="challenger", traffic_percentage=10),
        ),
        shadow_routes=(TrafficRoute(served_entity_name="challenger", traffic_percentage=100),),
    )
    endpoint = services.endpoints.create_endpoint(
        "fraud-ep", config, inference_table=InferenceTableConfig(enabled=True)
    ).endpoint
    now = int(time.time() * 1000)
    services.endpoints.report_replica("fraud-ep", Replica(
        replica_id="r-1", endpoint_id=endpoint.endpoint_id, url="http://127.0.0.1:9", token="t",  # noqa: S106
        state=ReplicaState.READY, config_version=1, versions={"champion": "1", "challenger": "2"},
        host="box", pid=42, started_at=now, heartbeat_at=now,
    ))  # fmt: skip
    inference = services.inference
    for i in range(30):
        version, entity = ("2", "challenger") if i % 10 == 0 else ("1", "champion")
        inference.observe(endpoint.endpoint_id, entity, version, 500 if i == 7 else 200, 3.0 + i)
        inference.observe_shadow(
            endpoint.endpoint_id, "challenger", "2", ok=True, agreed=i % 5 != 0, latency_diff_ms=2
        )
    request_id = str(uuid.uuid4())
    inference.capture(Exchange(
        request_id=request_id, endpoint_id=endpoint.endpoint_id, endpoint_name="fraud-ep",
        request_time=now, status_code=200, execution_duration_ms=4, served_entity="champion",
        served_version="1", requester="alice", request=b'{"inputs": [1]}',
        response=b'{"predictions": [0]}', trace_id=trace_id,
    ))  # fmt: skip
    inference.flush()
    return request_id


def test_endpoint_pages_show_state_charts_verdict_and_records(
    page: Any, seeded: Any, screenshot: Any
) -> None:
    url, request_id, trace_id = seeded
    page.goto(f"{url}/endpoints")
    page.get_by_role("link", name="fraud-ep").click()
    assert page.locator("#endpoint-state").inner_text() == "READY"
    assert "30 requests · 1 errors" in page.locator("#endpoint-summary").inner_text()
    served = page.locator("#served tbody tr")
    assert served.nth(0).inner_text().split("\t")[:4] == ["champion", "fraud", "1", "90%"]
    page.wait_for_selector("#endpoint-charts .chart[data-drawn='true']")
    assert page.locator("#endpoint-charts canvas").count() == 3
    verdict = page.locator("#shadow-verdicts tbody tr").first.inner_text()
    assert "challenger" in verdict
    assert "80.0%" in verdict  # 24 of 30 agreed
    assert "box (pid 42)" in page.locator("#replicas").inner_text()
    screenshot(page, "endpoint")
    page.get_by_role("link", name=request_id[:8]).click()
    assert page.locator("#record-response").inner_text() == '{"predictions": [0]}'
    page.locator("#record-trace").click()
    page.wait_for_url(f"**/traces/{trace_id}")
    link = page.locator("#trace-inference")
    assert request_id in link.inner_text()
    link.click()
    page.wait_for_url(f"**/records/{request_id}")


def test_unknown_endpoint_page_is_404(page: Any, seeded: Any) -> None:
    url, _, _ = seeded
    response = page.goto(f"{url}/endpoints/nope")
    assert response is not None
    assert response.status == 404
