"""Models straight from S3 (`s3://bucket/prefix`), through the client's artifact layer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import heron
import heron.pyfunc
import heron.sklearn
from heron.errors import NotFound
from heron.models.uri import close_clients


@pytest.fixture
def s3_env(s3_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", s3_server.endpoint_url)
    for name in ("HERON_TRACKING_URI", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    heron.set_tracking_uri(str(tmp_path / "home"))
    yield s3_server
    heron.set_tracking_uri(None)
    close_clients()


def test_model_loads_from_an_s3_uri(
    s3_env: Any, tmp_path: Path, iris: Any, iris_model: Any
) -> None:
    features, _ = iris
    local = tmp_path / "model"
    heron.sklearn.save_model(iris_model, local, input_example=features.head(2))
    bucket = s3_env.shared_bucket()
    prefix = f"models/{tmp_path.name}"
    client = s3_env.client()
    for file in local.rglob("*"):
        if file.is_file():
            client.upload_file(str(file), bucket, f"{prefix}/{file.relative_to(local).as_posix()}")
    model = heron.pyfunc.load_model(f"s3://{bucket}/{prefix}")
    np.testing.assert_array_equal(model.predict(features), iris_model.predict(features))
    info = heron.pyfunc.get_model_info(f"s3://{bucket}/{prefix}")
    assert info.flavors["sklearn"]["serialization_format"] == "cloudpickle"
    with pytest.raises(NotFound):
        heron.pyfunc.load_model(f"s3://{bucket}/{prefix}-missing")
