"""`GET /metrics` keeps the samples of the endpoints the caller may see, and every HELP and
TYPE line, from prometheus-client's own exposition."""

from __future__ import annotations

from heron.server.serving_metrics import EndpointMetrics, visible_only


def test_only_the_visible_endpoints_samples_are_kept() -> None:
    metrics = EndpointMetrics()
    for endpoint in ("mine", "theirs", 'odd"name'):
        metrics.requests.labels(endpoint, "model", "1", "200").inc()
    shown = visible_only(metrics.exposition(), {"mine", 'odd"name'}).decode()
    assert 'endpoint="mine"' in shown
    assert 'endpoint="odd\\"name"' in shown
    assert "theirs" not in shown
    assert "# HELP heron_endpoint_requests" in shown
    assert "# TYPE heron_endpoint_requests" in shown
