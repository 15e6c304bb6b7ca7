"""MLflow's own `mlflow.pyfunc.spark_udf` (MLflow 3.17.2, in .venv-conformance) with a
`models:/` URI that a real Heron server resolves, on Spark in local mode. .venv-conformance
has no pyspark of its own: the test hands it the pyspark of Heron's environment on its path
(the shared venv stays as it is)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from tests.conftest import ServerProcess
from tests.interop.conftest import MLFLOW_PYTHON, RunMlflow
from tests.serving.conftest import IRIS_COLUMNS, register_iris

pytestmark = pytest.mark.slow
pyspark = pytest.importorskip("pyspark", reason="pyspark is in the dev extra")

MLFLOW_SIDE = """
import json, os
import pandas as pd
import mlflow.pyfunc
from pyspark.sql import SparkSession

spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
         .getOrCreate())
columns = COLUMNS
rows = pd.DataFrame([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], columns=columns)
udf = mlflow.pyfunc.spark_udf(spark, "models:/iris/1", result_type="double", env_manager="local")
scored = spark.createDataFrame(rows).withColumn("p", udf(*columns)).toPandas()
spark.stop()
print(json.dumps(scored["p"].tolist()))
"""


def test_mlflow_spark_udf_scores_a_model_heron_serves(
    run_mlflow: RunMlflow, server_process: ServerProcess, tmp_path: Path
) -> None:
    register_iris(server_process.url, "iris", fits=1)
    shared = tmp_path / "pyspark-path"
    shared.mkdir()
    for package in ("pyspark", "py4j"):
        module = sys.modules.get(package) or __import__(package)
        (shared / package).symlink_to(Path(module.__file__ or "").parent)
    out = run_mlflow(
        MLFLOW_SIDE.replace("COLUMNS", repr(IRIS_COLUMNS)),
        MLFLOW_TRACKING_URI=server_process.url,
        PYTHONPATH=str(shared),
        PYSPARK_PYTHON=str(MLFLOW_PYTHON),
        SPARK_LOCAL_IP="127.0.0.1",
    )
    assert out == [0.0, 2.0]
