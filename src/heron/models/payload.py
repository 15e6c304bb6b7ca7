"""Prediction requests and responses in MLflow's scoring format (JSON or CSV).

JSON bodies are `{"dataframe_split": {...}}`, `{"dataframe_records": [...]}`,
`{"inputs": ...}` or `{"instances": ...}`, each with optional `"params"`; a response is
`{"predictions": ...}`.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np

from heron.errors import InvalidParameter

INPUT_KEYS = ("dataframe_split", "dataframe_records", "inputs", "instances")


def parse_json(text: str | bytes) -> tuple[Any, dict[str, Any] | None]:
    """(the model input, the params) of a JSON scoring request.

    Raises:
        InvalidParameter: not JSON, or not exactly one of the input keys.
    """
    import pandas as pd

    try:
        body = json.loads(text)
    except ValueError as exc:
        raise InvalidParameter(f"The request is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidParameter(f"The request must be a JSON object with one of {list(INPUT_KEYS)}")
    keys = [k for k in INPUT_KEYS if k in body]
    if len(keys) != 1:
        raise InvalidParameter(
            f"The request must have exactly one of {list(INPUT_KEYS)}, it has {sorted(body)}"
        )
    params = body.get("params")
    if params is not None and not isinstance(params, dict):
        raise InvalidParameter("'params' must be a JSON object")
    key = keys[0]
    value = body[key]
    try:
        if key == "dataframe_split":
            data: Any = pd.DataFrame(
                value["data"], columns=value.get("columns"), index=value.get("index")
            )
        elif key == "dataframe_records":
            data = pd.DataFrame.from_records(value)
        else:
            data = _tensors(value)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidParameter(f"Cannot read {key!r}: {exc}") from None
    return data, params


def _tensors(value: Any) -> Any:
    """`inputs`/`instances`: a list of numbers is an array, a dict of lists a dict of
    arrays when every list is numeric; anything else stays JSON data."""
    if isinstance(value, list) and value and not isinstance(value[0], dict | str):
        array = np.asarray(value)
        if array.dtype != object:
            return array
    return value


def parse_csv(text: str | bytes) -> Any:
    import pandas as pd

    data = text.decode("utf-8") if isinstance(text, bytes) else text
    try:
        return pd.read_csv(io.StringIO(data))
    except (ValueError, pd.errors.ParserError) as exc:
        raise InvalidParameter(f"Cannot read the CSV input: {exc}") from None


def predictions_json(predictions: Any) -> str:
    """`{"predictions": ...}` for a DataFrame (records), Series, array, or JSON data."""
    import pandas as pd

    if isinstance(predictions, pd.DataFrame):
        value: Any = json.loads(predictions.to_json(orient="records"))
    elif isinstance(predictions, pd.Series):
        value = json.loads(predictions.to_json(orient="values"))
    elif isinstance(predictions, np.ndarray):
        value = predictions.tolist()
    else:
        value = predictions
    return json.dumps({"predictions": value}, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
