"""log_model: a LoggedModel with the model's files, loaded back by every kind of URI,
in process (a data directory) and through a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import heron
import heron.pyfunc
import heron.sklearn
from heron.errors import InvalidParameter, NotFound
from heron.models.uri import close_clients


@pytest.fixture(params=["local", "server"])
def tracking(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[str]:
    """The tracking URI: a data directory in process, or a live server."""
    for prefix in ("HERON", "MLFLOW"):
        for suffix in ("TRACKING_URI", "EXPERIMENT_NAME", "EXPERIMENT_ID", "ACTIVE_MODEL_ID"):
            monkeypatch.delenv(f"{prefix}_{suffix}", raising=False)
    if request.param == "local":
        uri = str(tmp_path / "home")
    else:
        uri = request.getfixturevalue("live_server")
    heron.set_tracking_uri(uri)
    yield uri
    while heron.active_run() is not None:
        heron.end_run()
    heron.set_tracking_uri(None)
    close_clients()


def test_logged_model_loads_by_every_uri(tracking: str, iris: Any, iris_model: Any) -> None:
    features, _ = iris
    expected = iris_model.predict(features)
    with heron.start_run() as run:
        info = heron.sklearn.log_model(
            iris_model,
            name="clf",
            input_example=features.head(2),
            registered_model_name="iris",
            params={"C": 1.0},
            tags={"team": "ml"},
        )
    assert info.model_uri == f"models:/{info.model_id}"
    assert info.run_id == run.info.run_id
    assert info.registered_model_version == 1
    assert info.signature is not None
    with heron.HeronClient(tracking) as client:
        logged = client.get_logged_model(info.model_id)
        client.set_registered_model_alias("iris", "champion", 1)
    assert str(logged.status) == "READY"
    assert logged.params == {"C": "1.0"}
    assert logged.tags["team"] == "ml"
    assert logged.source_run_id == run.info.run_id
    for uri in (
        info.model_uri,
        f"runs:/{run.info.run_id}/clf",
        "models:/iris/1",
        "models:/iris/latest",
        "models:/iris@champion",
    ):
        model = heron.pyfunc.load_model(uri)
        np.testing.assert_array_equal(model.predict(features), expected, err_msg=uri)
        assert model.metadata.model_id == info.model_id
    raw = heron.sklearn.load_model("models:/iris@champion")
    np.testing.assert_array_equal(raw.predict(features), expected)
    model_info = heron.pyfunc.get_model_info("models:/iris/1")
    assert model_info.model_id == info.model_id
    assert model_info.run_id == run.info.run_id


def test_custom_model_logged_without_a_run(tracking: str, tmp_path: Path) -> None:
    code = tmp_path / "echo.py"
    code.write_text(
        "import heron.models\n"
        "heron.models.set_model(lambda model_input: [q.upper() for q in model_input['q']])\n"
    )
    info = heron.pyfunc.log_model(name="echo", python_model=str(code), input_example={"q": "x"})
    assert info.run_id is None
    model = heron.pyfunc.load_model(info.model_uri)
    assert model.predict({"q": "hi"}) == ["HI"]


def test_failed_save_marks_the_model_upload_failed(tracking: str, iris_model: Any) -> None:
    with pytest.raises(InvalidParameter, match="serialization_format"):
        heron.sklearn.log_model(iris_model, name="bad", serialization_format="nope")
    with heron.HeronClient(tracking) as client:
        page = client.search_logged_models(["0"], filter_string="name = 'bad'")
    assert [str(m.status) for m in page] == ["UPLOAD_FAILED"]


def test_unknown_models_are_not_found(tracking: str) -> None:
    with pytest.raises(NotFound):
        heron.pyfunc.load_model("models:/m-00000000000000000000000000000000")
    with pytest.raises(NotFound):
        heron.pyfunc.load_model("models:/nope/1")
    with heron.start_run() as run:
        pass
    with pytest.raises(NotFound, match="no model"):
        heron.pyfunc.load_model(f"runs:/{run.info.run_id}/missing")
