"""Input drift of an endpoint against its training data, on SQLite and PostgreSQL: the
reference is a CSV artifact of a run, the current data the captured requests."""

from __future__ import annotations

import time
import uuid
from typing import Any

import numpy as np
import orjson
import pytest

from heron.errors import InvalidParameter
from heron.services.drift import REFERENCE_TAG
from heron.services.inference_capture import Exchange


@pytest.fixture
def services(services_with_endpoint: Any) -> Any:
    return services_with_endpoint


def _reference(services: Any, rows: int) -> str:
    rng = np.random.default_rng(1)
    run = services.runs.create_run("0")
    lines = ["x,y,color"] + [
        f"{x:.4f},{y:.4f},{c}"
        for x, y, c in zip(rng.normal(size=rows), rng.normal(size=rows),
                           rng.choice(["red", "green", "blue"], size=rows), strict=True)
    ]  # fmt: skip
    services.artifacts.write_artifact(
        run.info.artifact_uri, "train.csv", ["\n".join(lines).encode()]
    )
    return f"runs:/{run.info.run_id}/train.csv"


def _capture(services: Any, rows: int, x_shift: float) -> None:
    rng = np.random.default_rng(2)
    endpoint = services.endpoints.get_endpoint("ep").endpoint
    now = int(time.time() * 1000)
    for i in range(0, rows, 10):
        data = [
            [
                float(rng.normal(x_shift)),
                float(rng.normal()),
                str(rng.choice(["red", "green", "blue"])),
            ]
            for _ in range(10)
        ]
        body = {"dataframe_split": {"columns": ["x", "y", "color"], "data": data}}
        services.inference.capture(Exchange(
            request_id=str(uuid.uuid4()), endpoint_id=endpoint.endpoint_id, endpoint_name="ep",
            request_time=now - i, status_code=200, execution_duration_ms=1, served_entity="a",
            served_version="1", requester="r", request=orjson.dumps(body), response=b"{}",
        ))  # fmt: skip
    services.inference.flush()


@pytest.mark.parametrize(("rows", "numeric_test"), [(500, "ks"), (3000, "wasserstein")])
def test_a_moved_feature_drifts_and_the_others_do_not(
    services: Any, rows: int, numeric_test: str
) -> None:
    services.endpoints.update_tags("ep", {REFERENCE_TAG: _reference(services, rows)}, [])
    _capture(services, 400, x_shift=1.5)
    report = services.drift.compute("ep")
    by_feature = {f["feature"]: f for f in report.features}
    assert (report.reference_rows, report.current_rows) == (rows, 400)
    assert by_feature["x"]["test"] == numeric_test
    assert by_feature["x"]["drifted"] is True
    assert by_feature["y"]["drifted"] is False
    assert by_feature["color"]["test"] == ("chi2" if rows <= 1000 else "jensen_shannon")
    assert by_feature["color"]["drifted"] is False
    time.sleep(0.01)  # reports are keyed by their time (ms)
    psi = services.drift.compute("ep", method="psi")
    assert {f["test"] for f in psi.features} == {"psi"}
    assert [r.computed_at for r in services.drift.reports("ep")] == [
        psi.computed_at,
        report.computed_at,
    ]
    assert services.drift.watched() == ["ep"]


def test_without_reference_data_the_error_says_what_to_set(services: Any) -> None:
    with pytest.raises(InvalidParameter, match=REFERENCE_TAG):
        services.drift.compute("ep")
    services.endpoints.update_tags("ep", {REFERENCE_TAG: "runs:/nope"}, [])
    with pytest.raises(InvalidParameter, match="runs:/<run_id>/<path"):
        services.drift.compute("ep")
