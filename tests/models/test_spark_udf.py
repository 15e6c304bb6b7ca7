"""heron.pyfunc.spark_udf on Apache Spark in local mode (pyspark, Java 17 from Debian's
openjdk-17-jre-headless): a logged scikit-learn model scores a Spark DataFrame."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heron.errors import InvalidParameter

pytestmark = [
    pytest.mark.slow,
    # pyspark's own notice about pandas 3, raised when it converts a batch
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),  # its toPandas
]
pyspark = pytest.importorskip("pyspark", reason="pyspark is in the dev extra")


def _popen_without_preexec(command: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """pyspark starts its JVM with a preexec_fn (to ignore SIGINT), which runs the at-fork
    handlers in the child of this many-threaded test process: one of them waited forever on a
    lock another thread held at the fork. A new session keeps the terminal's SIGINT from the
    JVM as well, and a child without preexec_fn runs no Python before exec."""
    kwargs.pop("preexec_fn", None)
    return subprocess.Popen(command, start_new_session=True, **kwargs)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    if shutil.which("java") is None:
        pytest.fail("Java is missing: apt-get install openjdk-17-jre-headless (.ci/run does)")
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # local mode: no outside address
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers run this Python
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("pyspark.java_gateway.Popen", _popen_without_preexec)
        session = (
            SparkSession.builder.master("local[2]")
            .appName("heron-spark-udf")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .getOrCreate()
        )
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture(scope="module")
def iris_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import heron.sklearn

    features, labels = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=300).fit(features, labels)
    path = tmp_path_factory.mktemp("spark") / "iris"
    heron.sklearn.save_model(model, path, input_example=features.head(2))
    return path, features


def test_spark_udf_scores_a_dataframe_as_predict_does(spark: Any, iris_dir: Any) -> None:
    import heron.pyfunc

    path, features = iris_dir
    frame = spark.createDataFrame(features)
    udf = heron.pyfunc.spark_udf(spark, str(path), result_type="double")
    scored = frame.withColumn("prediction", udf(*features.columns)).toPandas()
    expected = heron.pyfunc.load_model(str(path)).predict(features)
    assert scored["prediction"].tolist() == [float(p) for p in expected]


def test_spark_udf_default_type_is_double_and_arrays_work(spark: Any, iris_dir: Any) -> None:
    import heron.pyfunc

    path, features = iris_dir
    frame = spark.createDataFrame(features.head(10))
    doubles = frame.select(heron.pyfunc.spark_udf(spark, str(path))(*features.columns).alias("p"))
    assert dict(doubles.dtypes)["p"] == "double"
    arrays = frame.select(
        heron.pyfunc.spark_udf(spark, str(path), "array<double>")(*features.columns).alias("p")
    ).toPandas()
    assert all(len(row) == 1 for row in arrays["p"])


def test_other_env_managers_are_refused(spark: Any, iris_dir: Any) -> None:
    import heron.pyfunc

    with pytest.raises(InvalidParameter, match="env_manager"):
        heron.pyfunc.spark_udf(spark, str(iris_dir[0]), env_manager="virtualenv")
