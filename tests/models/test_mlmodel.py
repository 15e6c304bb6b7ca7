"""The MLmodel file: written as MLflow writes it, read back without losing fields."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from heron.errors import InvalidParameter, NotFound
from heron.models.mlmodel import Model
from heron.models.signature import infer_signature

# An MLmodel written by MLflow 3.17.2's sklearn flavor (recorded).
MLFLOW_MLMODEL = """\
artifact_path: /tmp/mlruns/0/models/m-bd146ff36fd74eb38e3a46293677bb7a/artifacts
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.skops
    predict_fn: predict
    python_version: 3.11.7
  sklearn:
    code: null
    pickled_model: model.skops
    serialization_format: skops
    sklearn_version: 1.9.1
    skops_trusted_types: null
is_signature_from_type_hint: false
mlflow_version: 3.17.2
model_id: m-bd146ff36fd74eb38e3a46293677bb7a
model_size_bytes: 11544
model_uuid: m-bd146ff36fd74eb38e3a46293677bb7a
prompts: null
run_id: e52b2c3c12a3480b8169ee2b25c41d8a
saved_input_example_info:
  artifact_path: input_example.json
  pandas_orient: split
  serving_input_path: serving_input_example.json
  type: dataframe
signature:
  inputs: '[{"type": "double", "name": "x", "required": true}]'
  outputs: '[{"type": "long", "required": true}]'
  params: null
type_hint_from_example: false
utc_time_created: '2026-11-25 14:12:00.067498'
"""


def test_mlflow_file_reads_and_writes_back_the_same(tmp_path: Path) -> None:
    (tmp_path / "MLmodel").write_text(MLFLOW_MLMODEL)
    model = Model.load(tmp_path)
    assert model.model_id == "m-bd146ff36fd74eb38e3a46293677bb7a"
    assert model.run_id == "e52b2c3c12a3480b8169ee2b25c41d8a"
    assert model.pyfunc["loader_module"] == "mlflow.sklearn"
    assert model.signature is not None
    assert model.signature.inputs is not None
    assert model.signature.inputs.input_names() == ["x"]
    assert yaml.safe_load(model.to_yaml()) == yaml.safe_load(MLFLOW_MLMODEL)


def test_new_model_has_mlflow_fields(tmp_path: Path) -> None:
    model = Model(signature=infer_signature({"q": "text"}))
    model.add_flavor("python_function", loader_module="mlflow.pyfunc.model")
    model.save(tmp_path / "MLmodel")
    data = yaml.safe_load((tmp_path / "MLmodel").read_text())
    assert data["mlflow_version"] == "3.17.2"
    assert len(data["model_uuid"]) == 32
    assert data["model_id"] is None
    assert data["utc_time_created"]
    assert data["signature"]["inputs"] == '[{"type": "string", "name": "q", "required": true}]'


def test_missing_or_broken_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="MLmodel"):
        Model.load(tmp_path)
    (tmp_path / "MLmodel").write_text("flavors: [1, 2]")
    with pytest.raises(InvalidParameter, match="flavors"):
        Model.load(tmp_path)
    (tmp_path / "MLmodel").write_text("a: [")
    with pytest.raises(InvalidParameter, match="YAML"):
        Model.load(tmp_path)


def test_model_without_pyfunc_says_so() -> None:
    with pytest.raises(InvalidParameter, match="no python_function flavor"):
        _ = Model(flavors={"keras": {}}).pyfunc
