"""Input examples: saved beside the model as JSON (with a serving payload), and read back."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from heron.errors import InvalidParameter

EXAMPLE_FILE = "input_example.json"
SERVING_EXAMPLE_FILE = "serving_input_example.json"


def split_example(example: Any) -> tuple[Any, dict[str, Any] | None]:
    """(the input, the params) of an example given as `input` or `(input, params)`."""
    if isinstance(example, tuple) and len(example) == 2 and isinstance(example[1], Mapping):
        return example[0], dict(example[1])
    return example, None


def save_example(directory: Path, example: Any) -> dict[str, Any]:
    """Writes input_example.json and serving_input_example.json; returns the MLmodel's
    `saved_input_example_info`.

    Raises:
        InvalidParameter: the example is not JSON-serialisable data.
    """
    import pandas as pd

    data, params = split_example(example)
    info: dict[str, Any] = {
        "artifact_path": EXAMPLE_FILE,
        "serving_input_path": SERVING_EXAMPLE_FILE,
    }
    serving: dict[str, Any]
    if isinstance(data, pd.Series):
        data = data.to_frame()
    if isinstance(data, pd.DataFrame):
        body: Any = {"columns": [str(c) for c in data.columns], "data": data.to_numpy().tolist()}
        info.update(type="dataframe", pandas_orient="split")
        serving = {"dataframe_split": body}
    elif isinstance(data, np.ndarray) or (
        isinstance(data, Mapping) and data and all(isinstance(v, np.ndarray) for v in data.values())
    ):
        body = (
            data.tolist()
            if isinstance(data, np.ndarray)
            else {k: v.tolist() for k, v in data.items()}
        )
        info["type"] = "ndarray"
        serving = {"inputs": body}
    else:
        body = data
        info["type"] = "json_object"
        serving = {"inputs": body}
    if params:
        info["params"] = "true"  # MLflow compat: a string
        serving["params"] = params
        body = {"inputs": body, "params": params}
    try:
        (directory / EXAMPLE_FILE).write_text(_dumps(body), encoding="utf-8")
        (directory / SERVING_EXAMPLE_FILE).write_text(_dumps(serving, indent=2), encoding="utf-8")
    except (TypeError, ValueError) as exc:
        raise InvalidParameter(f"The input example cannot be saved as JSON: {exc}") from None
    return info


def _dumps(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, default=_json_value, indent=indent)


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def load_example(directory: Path, info: Mapping[str, Any] | None) -> Any:
    """The saved example as the model takes it: a DataFrame, an array, or JSON data; with
    params, `(input, params)`. None when the model has no example."""
    if not info:
        return None
    path = directory / str(info.get("artifact_path", EXAMPLE_FILE))
    if not path.is_file():
        return None
    body: Any = json.loads(path.read_text(encoding="utf-8"))
    params: Any = None
    if str(info.get("params", "")).lower() == "true" and isinstance(body, dict):
        body, params = body.get("inputs"), body.get("params")
    kind = info.get("type")
    data: Any = body
    if kind == "dataframe":
        import pandas as pd

        data = pd.DataFrame(body["data"], columns=body["columns"])
    elif kind == "ndarray":
        if isinstance(body, dict):
            data = {k: np.asarray(v) for k, v in body.items()}
        else:
            data = np.asarray(body)
    return (data, params) if params is not None else data
