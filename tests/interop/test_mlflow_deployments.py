"""MLflow's own Databricks deployment client (`mlflow.deployments.get_deploy_client(
"databricks")`, MLflow 3.17.2 in .venv-conformance), with DATABRICKS_HOST pointed at a real
`heron server --serve-endpoints`, creates, reads, lists, queries, updates and deletes Heron's
serving endpoints unchanged."""

from __future__ import annotations

import pytest
from tests.interop.conftest import RunMlflow
from tests.serving.conftest import IRIS_COLUMNS, EndpointServer, register_iris

pytestmark = pytest.mark.slow

CLIENT_SIDE = """
import json, time
from mlflow.deployments import get_deploy_client

client = get_deploy_client("databricks")
created = client.create_endpoint(config={
    "name": "iris-ep",
    "config": {"served_entities": [{"entity_name": "iris", "entity_version": "1",
                                    "workload_size": "Small", "scale_to_zero_enabled": False}]},
    "tags": [{"key": "team", "value": "risk"}],
})
listed = [e["name"] for e in client.list_endpoints()]
for _ in range(480):
    got = client.get_endpoint("iris-ep")
    if got["state"]["ready"] == "READY":
        break
    time.sleep(0.5)
rows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
row = {"dataframe_split": {"columns": COLUMNS, "data": rows}}
predicted = client.predict(endpoint="iris-ep", inputs=row)
updated = client.update_endpoint_config(endpoint="iris-ep", config={
    "served_entities": [{"name": "v2", "entity_name": "iris", "entity_version": "2"}]})
for _ in range(480):
    got = client.get_endpoint("iris-ep")
    if got["state"]["config_update"] == "NOT_UPDATING" and got["config"]["config_version"] == 2:
        break
    time.sleep(0.5)
tags = client.update_endpoint_tags(endpoint="iris-ep", config={
    "add_tags": [{"key": "tier", "value": "1"}], "delete_tags": ["team"]})
gateway = client.update_endpoint_ai_gateway(endpoint="iris-ep", config={
    "inference_table_config": {"enabled": True, "catalog_name": "main", "schema_name": "serving"}})
again = client.predict(endpoint="iris-ep", inputs=row)
deleted = client.delete_endpoint(endpoint="iris-ep")
remaining = [e["name"] for e in client.list_endpoints()]
print(json.dumps({
    "created": dict(created), "listed": listed, "ready": dict(got["state"]),
    "predicted": dict(predicted), "updated": dict(updated),
    "served": got["config"]["served_entities"][0]["entity_version"], "tags": dict(tags),
    "gateway": dict(gateway), "again": dict(again), "deleted": dict(deleted),
    "remaining": remaining,
}))
"""


def test_mlflow_databricks_deployment_client_drives_heron_endpoints(
    run_mlflow: RunMlflow, tmp_path: object
) -> None:
    from pathlib import Path

    data_dir = Path(str(tmp_path)) / "server"
    data_dir.mkdir()
    server = EndpointServer(
        data_dir=data_dir, backend_uri=f"sqlite:///{data_dir}/heron.db", replicas=1
    )
    server.start()
    try:
        register_iris(server.url, "iris")
        out = run_mlflow(
            CLIENT_SIDE.replace("COLUMNS", repr(IRIS_COLUMNS)),
            DATABRICKS_HOST=server.url,
            DATABRICKS_TOKEN="dapi-heron-test",  # noqa: S106 - Heron runs without auth here
        )
    finally:
        server.stop()
    assert out["created"]["name"] == "iris-ep"
    assert out["created"]["pending_config"]["served_entities"][0]["entity_version"] == "1"
    assert out["listed"] == ["iris-ep"]
    assert out["predicted"] == {"predictions": [0, 2]}
    assert out["updated"]["pending_config"]["config_version"] == 2
    assert out["ready"] == {"ready": "READY", "config_update": "NOT_UPDATING"}
    assert out["served"] == "2"
    assert out["tags"] == {"tags": [{"key": "tier", "value": "1"}]}
    assert out["gateway"]["inference_table_config"]["enabled"] is True
    assert out["again"] == {"predictions": [0, 2]}
    assert out["deleted"] == {}
    assert out["remaining"] == []
