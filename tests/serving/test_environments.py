"""`--env-manager virtualenv` and `heron models generate-dockerfile`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from tests.serving.conftest import IRIS_COLUMNS, ScoringServer

from heron.cli.main import main
from heron.errors import InvalidParameter
from heron.serving.environments import heron_requirement, model_requirements


def test_mlflows_own_pins_are_left_out_of_the_environment(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "mlflow==3.17.2\nscikit-learn==1.9.1  # the model\n\nmlflow-skinny\nnumpy>=2\n"
    )
    assert model_requirements(tmp_path) == ["scikit-learn==1.9.1", "numpy>=2"]


def test_pip_options_in_requirements_are_refused(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("--index-url http://example.invalid\nnumpy\n")
    with pytest.raises(InvalidParameter, match="pip options"):
        model_requirements(tmp_path)


def test_heron_installs_from_its_source_tree() -> None:
    assert (Path(heron_requirement()) / "pyproject.toml").is_file()


def test_generate_dockerfile_writes_a_build_context(iris_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "context"
    result = CliRunner().invoke(
        main, ["models", "generate-dockerfile", "-m", str(iris_dir), "-d", str(out)]
    )
    assert result.exit_code == 0, result.output
    dockerfile = (out / "Dockerfile").read_text()
    assert (out / "model" / "MLmodel").is_file()
    assert (out / "heron" / "src" / "heron" / "serving" / "app.py").is_file()
    assert "'/opt/heron[serving]'" in dockerfile
    assert "'scikit-learn==" in dockerfile
    assert 'CMD ["heron", "models", "serve", "-m", "/opt/ml/model"' in dockerfile
    again = CliRunner().invoke(
        main, ["models", "generate-dockerfile", "-m", str(iris_dir), "-d", str(out)]
    )
    assert again.exit_code == 1
    assert "not empty" in again.output


@pytest.mark.slow
def test_a_model_is_served_from_a_virtualenv_of_its_requirements(
    iris_dir: Path, iris_model: Any, tmp_path: Path
) -> None:
    import pandas as pd

    home = tmp_path / "home"
    env = {**os.environ, "HERON_HOME": str(home)}
    server = ScoringServer(["-m", str(iris_dir), "--env-manager", "virtualenv"], tmp_path / "log")
    command = [
        str(Path(sys.executable).parent / "heron"), "models", "serve",
        "-m", str(iris_dir), "--env-manager", "virtualenv", "-p", str(server.port),
    ]  # fmt: skip
    server.start(timeout_s=900, command=command, env=env)
    try:
        rows = [[5.1, 3.5, 1.4, 0.2]]
        answer = httpx.post(
            f"{server.url}/invocations",
            content=json.dumps({"dataframe_split": {"columns": IRIS_COLUMNS, "data": rows}}),
            headers={"Content-Type": "application/json"},
        )
        expected = iris_model.predict(pd.DataFrame(rows, columns=IRIS_COLUMNS)).tolist()
        assert answer.json() == {"predictions": expected}
    finally:
        server.stop()
    (environment,) = (home / "envs").iterdir()
    assert list(environment.glob("lib/python*/site-packages/sklearn"))
    assert not list(environment.glob("lib/python*/site-packages/torch"))  # only what it needs
