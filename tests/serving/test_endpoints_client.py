"""Managed endpoints driven by Heron's SDK (`HeronClient`) and CLI (`heron endpoints`) against
a real `heron server --serve-endpoints` and its replicas: create, query, a canary split,
rollback, the inference records, tags, delete, and bad input answered with MLflow's codes."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from tests.serving.conftest import IRIS_COLUMNS, IRIS_ROW, EndpointServer, wait_until

from heron.cli.main import main
from heron.client import HeronClient
from heron.entities.serving import ServedEntity
from heron.errors import (
    AlreadyExists,
    HeronError,
    InvalidParameter,
    NotFound,
    NotImplementedByServer,
)

pytestmark = pytest.mark.slow

pd = pytest.importorskip("pandas")


@pytest.fixture
def client(endpoint_server: EndpointServer) -> Iterator[HeronClient]:
    with HeronClient(endpoint_server.url) as client:
        yield client


@pytest.fixture
def name(client: HeronClient) -> Iterator[str]:
    """A fresh endpoint's name; deleted at the end when the test left it."""
    name = f"ep-{uuid.uuid4().hex[:8]}"
    yield name
    with contextlib.suppress(NotFound):
        client.delete_endpoint(name)


def _versions(client: HeronClient, name: str, times: int) -> set[str]:
    row = pd.DataFrame([[5.1, 3.5, 1.4, 0.2]], columns=IRIS_COLUMNS)
    return {client.query_endpoint(name, row).served_version for _ in range(times)}


def test_the_sdk_drives_an_endpoint_through_a_canary_and_a_rollback(
    client: HeronClient, endpoint_server: EndpointServer, name: str
) -> None:
    created = client.create_endpoint(
        name, ["stable=models:/iris/1"], tags={"team": "fraud"}, inference_table=True
    )
    assert created.endpoint.config.config_version == 1
    assert created.endpoint.config.served_entities[0] == ServedEntity(
        name="stable", entity_name="iris", entity_version="1"
    )
    assert created.endpoint.inference_table.enabled
    ready = client.wait_for_endpoint(name, timeout_s=240)
    assert ready.ready
    assert ready.served_config is not None
    assert {r.state for r in ready.replicas} == {"READY"}

    answer = client.query_endpoint(name, IRIS_ROW)
    assert answer.body == {"predictions": [0]}
    assert (answer.served_entity, answer.served_version) == ("stable", "1")

    canary = client.update_endpoint_config(
        name,
        ["stable=models:/iris/1", "canary=models:/iris/2"],
        traffic={"stable": 50, "canary": 50},
    )
    assert canary.endpoint.config.config_version == 2
    client.wait_for_endpoint(name, timeout_s=240)
    assert _versions(client, name, 40) == {"1", "2"}
    only = client.query_endpoint(name, IRIS_ROW, served_entity="canary")
    assert only.served_version == "2"

    rolled = client.rollback_endpoint(name)
    assert rolled.endpoint.config.config_version == 3
    assert [e.name for e in rolled.endpoint.config.served_entities] == ["stable"]
    client.wait_for_endpoint(name, timeout_s=240)
    assert _versions(client, name, 10) == {"1"}

    def captured() -> bool:
        found = {r.request_id for r in client.search_inference_records(name, max_results=1000)}
        return answer.request_id in found and only.request_id in found

    wait_until(captured, 30, "the requests in the inference table")
    record = client.get_inference_record(answer.request_id)
    assert (record.endpoint_name, record.status_code, record.served_version) == (name, 200, "1")
    assert json.loads(record.request or "") == IRIS_ROW

    assert client.set_endpoint_tags(name, {"stage": "prod"}, delete=["team"]) == {"stage": "prod"}
    assert name in {s.endpoint.name for s in client.list_endpoints()}
    client.delete_endpoint(name)
    with pytest.raises(NotFound):
        client.get_endpoint(name)


def test_the_client_in_process_reads_what_the_server_serves(
    client: HeronClient, endpoint_server: EndpointServer, name: str
) -> None:
    client.create_endpoint(name, ["models:/iris/2"], inference_table=True)
    over_http = client.get_endpoint(name)
    with HeronClient(endpoint_server.backend_uri) as local:
        in_process = local.get_endpoint(name)
        assert in_process.endpoint.config == over_http.endpoint.config
        assert in_process.endpoint.inference_table == over_http.endpoint.inference_table
        assert in_process.endpoint.endpoint_id == over_http.endpoint.endpoint_id
        with pytest.raises(NotImplementedByServer, match="http:// URL as the tracking URI"):
            local.query_endpoint(name, IRIS_ROW)


@pytest.mark.parametrize(
    ("served", "traffic", "error", "says"),
    [
        (["a=models:/iris/1", "b=models:/iris/2"], {"a": 60, "b": 30}, InvalidParameter,
         "add up to 100"),
        (["models:/iris/99"], None, InvalidParameter, "iris"),
        (["models:/iris@nobody"], None, InvalidParameter, "nobody"),
        (["a=models:/iris/1", "b=models:/iris/2"], None, InvalidParameter, "routes is required"),
        (["models:/iris/1"], {"other": 100}, InvalidParameter, "other"),
        (["runs:/abc/model"], None, InvalidParameter, "models:/MODEL/VERSION"),
    ],
    ids=["split-not-100", "no-such-version", "no-such-alias", "no-routes", "unknown-route",
         "not-a-model-uri"],
)  # fmt: skip
def test_a_bad_configuration_is_refused_with_its_code(
    client: HeronClient,
    name: str,
    served: list[str],
    traffic: dict[str, int] | None,
    error: type[HeronError],
    says: str,
) -> None:
    with pytest.raises(error, match=says) as raised:
        client.create_endpoint(name, served, traffic)
    assert raised.value.code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(NotFound):
        client.get_endpoint(name)


def test_errors_over_the_wire_keep_mlflow_codes(client: HeronClient, name: str) -> None:
    with pytest.raises(NotFound) as missing:
        client.get_endpoint(name)
    assert missing.value.code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(InvalidParameter, match="Invalid serving endpoint name"):
        client.create_endpoint("no spaces allowed", ["models:/iris/1"])
    client.create_endpoint(name, ["models:/iris/1"])
    with pytest.raises(AlreadyExists):
        client.create_endpoint(name, ["models:/iris/1"])
    with pytest.raises(InvalidParameter, match="no configuration before version 1"):
        client.rollback_endpoint(name)
    with pytest.raises(NotFound):
        client.query_endpoint(f"{name}-gone", IRIS_ROW)
    with pytest.raises(InvalidParameter, match="Cannot send a list"):
        client.query_endpoint(name, [1, 2])


def test_a_payload_the_model_refuses_is_a_400_naming_the_column(
    client: HeronClient, name: str
) -> None:
    client.create_endpoint(name, ["models:/iris/1"])
    client.wait_for_endpoint(name, timeout_s=240)
    bad = {"dataframe_split": {"columns": ["petal"], "data": [[1.0]]}}
    with pytest.raises(HeronError) as refused:
        client.query_endpoint(name, bad)
    assert refused.value.code in {"BAD_REQUEST", "INVALID_PARAMETER_VALUE"}
    assert "sepal length (cm)" in refused.value.message


def _heron(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_the_cli_drives_an_endpoint_end_to_end(endpoint_server: EndpointServer, name: str) -> None:
    uri = ("--tracking-uri", endpoint_server.url)
    code, out, err = _heron("endpoints", "create", name, "-s", "stable=models:/iris/1",
                            "--capture", "--tag", "team=fraud", "--wait", *uri)  # fmt: skip
    assert code == 0, out + err
    assert "READY, NOT_UPDATING" in out
    assert "stable = models:/iris/1" in out

    code, out, err = _heron("endpoints", "query", name, "--data", json.dumps(IRIS_ROW), *uri)
    assert code == 0, out + err
    assert json.loads(out) == {"predictions": [0]}
    assert "served by stable (version 1)" in err
    request_id = err.rsplit("request id ", 1)[1].strip()

    code, out, err = _heron("endpoints", "update", name, "-s", "stable=models:/iris/1",
                            "-s", "canary=models:/iris/2", "-t", "stable=90", "-t", "canary=10",
                            "--wait", *uri)  # fmt: skip
    assert code == 0, out + err
    assert "configuration 2" in out
    assert "stable 90%, canary 10%" in out

    code, out, err = _heron("endpoints", "list", *uri)
    assert code == 0
    assert name in out

    code, out, err = _heron("endpoints", "rollback", name, "--wait", *uri)
    assert code == 0, out + err
    assert "configuration 3 repeats configuration 1" in out
    assert "canary" not in out

    def captured() -> list[dict[str, object]]:
        code, out, _ = _heron("endpoints", "records", name, "--json", *uri)
        rows = [json.loads(line) for line in out.splitlines()] if code == 0 else []
        return [r for r in rows if r["request_id"] == request_id]

    (record,) = wait_until(captured, 30, "the CLI's request in the inference table")
    assert record["status_code"] == 200
    assert record["served_version"] == "1"

    code, out, err = _heron("endpoints", "tag", name, "--set", "stage=prod", "--delete", "team",
                            *uri)  # fmt: skip
    assert (code, out.split()) == (0, ["stage=prod"])
    code, out, err = _heron("endpoints", "delete", name, *uri)
    assert code == 0
    assert f"Deleted serving endpoint {name!r}" in out
    code, out, err = _heron("endpoints", "get", name, *uri)
    assert code == 1
    assert "does not exist" in err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("-s", "models:/iris/1", "-t", "iris-1=all"), "whole number"),
        (("-s", "models:/iris/1", "-t", "iris-1"), "KEY=VALUE"),
        (("-s", "iris:1",), "models:/MODEL/VERSION"),
        (("-s", "a=models:/iris/1", "-s", "b=models:/iris/2", "-t", "a=50", "-t", "b=40"),
         "add up to 100"),
    ],
    ids=["percent-not-a-number", "traffic-without-value", "not-a-model-uri", "split-not-100"],
)  # fmt: skip
def test_the_cli_says_what_is_wrong(
    endpoint_server: EndpointServer, name: str, args: tuple[str, ...], says: str
) -> None:
    code, out, err = _heron("endpoints", "create", name, *args,
                            "--tracking-uri", endpoint_server.url)  # fmt: skip
    assert code in (1, 2)
    assert says in err
    assert "Traceback" not in out + err


def test_the_cli_query_needs_one_body(endpoint_server: EndpointServer) -> None:
    code, _, err = _heron("endpoints", "query", "x", "--tracking-uri", endpoint_server.url)
    assert code == 2
    assert "--data or --input-path" in err
