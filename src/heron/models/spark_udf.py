"""`heron.pyfunc.spark_udf`: any model as a pandas UDF for Apache Spark (pyspark, imported
here only), for batch scoring of data that outgrows one machine. MLflow's signature.

The model is fetched once on the driver and shipped to the executors with the job
(`SparkContext.addFile`); each executor process loads it once and scores each Arrow batch in
one `predict`."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from heron.errors import InvalidParameter
from heron.models.uri import download_model

_loaded: dict[str, Any] = {}  # model directory -> the model, per executor process
_lock = threading.Lock()


def spark_udf(
    spark: Any,
    model_uri: str,
    result_type: Any = None,
    env_manager: str = "local",
    params: Mapping[str, Any] | None = None,
) -> Any:
    """A Spark pandas UDF that scores rows with the model at `model_uri`.

    Args:
        spark: the SparkSession.
        model_uri: `runs:/`, `models:/` (id, version, alias) or a path, resolved against the
            tracking URI in effect.
        result_type: the UDF's Spark type, a `DataType` or its DDL string (`"double"`,
            `"string"`, `"array<double>"`, ...); `"double"` when None, as MLflow.
        env_manager: `"local"` (this Python environment) only.
        params: the model's inference params, passed to every `predict`.

    Returns:
        A UDF to call on columns: `df.withColumn("p", udf("a", "b"))` or `udf(*df.columns)`.
        The columns take the names of the model's input signature, in order, when it has
        one (else their own positions).

    Example:
        >>> udf = heron.pyfunc.spark_udf(spark, "models:/iris@champion")
        >>> df.withColumn("prediction", udf(*feature_columns))
    """
    if env_manager != "local":
        raise InvalidParameter(
            f"env_manager={env_manager!r} is not supported by heron.pyfunc.spark_udf: use "
            "'local' (the executors' own Python environment)"
        )
    from pyspark.sql.pandas.functions import pandas_udf
    from pyspark.sql.types import ArrayType, DataType, _parse_datatype_string

    spark_type = _parse_datatype_string(result_type or "double")
    if isinstance(result_type, DataType):
        spark_type = result_type
    local = download_model(model_uri)
    spark.sparkContext.addFile(str(local), recursive=True)
    name = Path(local).name
    names = _input_names(local)
    wanted = dict(params) if params else None
    as_lists = isinstance(spark_type, ArrayType)

    import pandas as pd

    def score(batches: Any) -> Any:  # its hints for pyspark are set below
        from pyspark import SparkFiles

        model = _model(SparkFiles.get(name))
        for columns in batches:
            columns = columns if isinstance(columns, tuple) else (columns,)
            labels = names if names and len(names) == len(columns) else range(len(columns))
            frame = pd.DataFrame(dict(zip(labels, columns, strict=True)))
            yield _as_series(model.predict(frame, params=wanted), as_lists)

    # pyspark picks the kind of UDF from these hints: iterator of column tuples -> series
    score.__annotations__ = {
        "batches": Iterator[tuple[pd.Series, ...]],
        "return": Iterator[pd.Series],
    }
    return pandas_udf(score, returnType=spark_type)  # type: ignore[call-overload]


def _model(path: str) -> Any:
    with _lock:
        model = _loaded.get(path)
        if model is None:
            from heron.models.pyfunc_model import load_pyfunc

            model = _loaded[path] = load_pyfunc(Path(path))
    return model


def _input_names(path: Path) -> list[str] | None:
    from heron.models.mlmodel import Model

    signature = Model.load(path).signature
    if signature is None or signature.inputs is None or signature.inputs.is_tensor_spec():
        return None
    names = [str(name) for name in signature.inputs.input_names()]
    return names or None


def _as_series(predictions: Any, as_lists: bool) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(predictions, pd.DataFrame):
        if as_lists:
            return pd.Series(predictions.to_numpy().tolist())
        return predictions.iloc[:, 0]
    if isinstance(predictions, pd.Series):
        return predictions.reset_index(drop=True)
    array = np.asarray(predictions)
    if as_lists:
        return pd.Series([list(row) if np.ndim(row) else [row] for row in array])
    return pd.Series(array.reshape(len(array), -1)[:, 0] if array.ndim > 1 else array)
