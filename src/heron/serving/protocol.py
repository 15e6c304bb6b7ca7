"""MLflow's scoring protocol: request bodies (JSON, CSV, Parquet) in, predictions out.

JSON bodies are `{"dataframe_split": ...}`, `{"dataframe_records": ...}`, `{"inputs": ...}`
or `{"instances": ...}`, with optional `"params"`; a chat, completion or embedding body
(`messages`, `prompt` or `input` at the top) goes to the model as it is and is answered
without the `{"predictions": ...}` wrapper, as MLflow's scoring server does.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from heron.errors import BadRequest
from heron.models.schema import ColSpec, DataType, Schema

CONTENT_TYPE_JSON = "application/json"
CONTENT_TYPE_CSV = "text/csv"
CONTENT_TYPE_PARQUET = "application/vnd.apache.parquet"
CONTENT_TYPES = (CONTENT_TYPE_CSV, CONTENT_TYPE_JSON, CONTENT_TYPE_PARQUET)

SPLIT, RECORDS, INPUTS, INSTANCES = "dataframe_split", "dataframe_records", "inputs", "instances"
INPUT_KEYS = (SPLIT, RECORDS, INPUTS, INSTANCES)
LLM_KEYS = ("messages", "prompt", "input")


class UnsupportedMediaType(Exception):
    """The body's content type (or its charset) is not one the server reads: a 415."""


@dataclass(slots=True)
class Request:
    """One scoring request, parsed but not yet turned into the model's input.

    `kind` is the JSON key (`dataframe_split`, ...), `llm` for a bare chat/completion
    body, or `frame` for CSV and Parquet (then `value` is already a DataFrame)."""

    kind: str
    value: Any
    params: dict[str, Any] | None = None
    stream: bool = False  # a chat body with "stream": true, answered as server-sent events
    request_id: str | None = None  # a managed endpoint's id for it (its inference record's)

    @property
    def unwrapped(self) -> bool:
        """Answered without the `predictions` wrapper (MLflow's unified LLM format)."""
        return self.kind == "llm"


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, checked as MLflow checks it.

    Raises:
        UnsupportedMediaType: no content type, a charset other than UTF-8, unknown
            parameters, or a type outside CONTENT_TYPES.
    """
    if not content_type:
        raise UnsupportedMediaType(
            f"The request has no Content-Type: send one of {list(CONTENT_TYPES)}"
        )
    mime, *parameters = (part.strip() for part in content_type.split(";"))
    values = {k.strip().lower(): v.strip() for k, _, v in (p.partition("=") for p in parameters)}
    if values.pop("charset", "utf-8").lower() != "utf-8":
        raise UnsupportedMediaType("The scoring server only supports UTF-8")
    if values:
        raise UnsupportedMediaType(
            f"Unrecognized content type parameters: {', '.join(sorted(values))}"
        )
    mime = mime.lower()
    if mime not in CONTENT_TYPES:
        raise UnsupportedMediaType(
            "This predictor only supports the following content types: "
            f"{list(CONTENT_TYPES)}. Got {content_type!r}."
        )
    return mime


def parse(body: bytes, mime: str, param_names: Sequence[str] = ()) -> Request:
    """The request in `body` of media type `mime` (from `media_type`).

    Args:
        param_names: the model's params schema names; in a bare LLM body those keys are
            params, every other key is data.

    Raises:
        BadRequest: a body that does not read as its type, or JSON of the wrong shape.
    """
    if mime == CONTENT_TYPE_JSON:
        return parse_json(body, param_names)
    if mime == CONTENT_TYPE_CSV:
        return Request("frame", parse_csv(body))
    return Request("frame", parse_parquet(body))


def parse_json(body: bytes | str, param_names: Sequence[str] = ()) -> Request:
    """A JSON scoring request (see the module's docstring)."""
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"Invalid input. The request is not valid JSON: {exc}") from None
    if not isinstance(decoded, dict):
        kind = "a list" if isinstance(decoded, list) else type(decoded).__name__
        raise BadRequest(
            f"Invalid input. The input must be a JSON dictionary with exactly one of the "
            f"input fields {list(INPUT_KEYS)}. Received {kind}."
        )
    if any(key in decoded for key in LLM_KEYS):
        names = set(param_names)
        llm_params = {k: v for k, v in decoded.items() if k in names}
        data = {k: v for k, v in decoded.items() if k not in names}
        stream = data.pop("stream", False) is True
        return Request("llm", data, llm_params or None, stream)
    keys = [k for k in INPUT_KEYS if k in decoded]
    if len(keys) != 1:
        raise BadRequest(
            f"The input must be a JSON dictionary with exactly one of the input fields "
            f"{list(INPUT_KEYS)}. Received dictionary with input fields: {list(decoded)}."
        )
    params = decoded.get("params")
    if params is not None and not isinstance(params, dict):
        raise BadRequest("'params' must be a JSON object of parameter names to values")
    kind = keys[0]
    value = decoded[kind]
    _check_shape(kind, value)
    return Request(kind, value, params)


def _check_shape(kind: str, value: Any) -> None:
    if kind == SPLIT:
        if not isinstance(value, dict):
            raise BadRequest(
                f"Invalid input. Dataframe split format must be a dictionary. "
                f"Got {type(value).__name__}."
            )
        extra = set(value) - {"columns", "data", "index"}
        if "data" not in value or extra:
            raise BadRequest(
                "Invalid input. Dataframe split format must have 'data' field and optionally "
                f"'columns' and 'index' fields. Got {sorted(value)}."
            )
        if not isinstance(value["data"], list):
            raise BadRequest("Invalid input. 'dataframe_split.data' must be a list of rows")
    elif kind == RECORDS and not isinstance(value, list):
        raise BadRequest(
            "Invalid input. Dataframe records format must be a list of records. "
            f"Got {'dictionary' if isinstance(value, dict) else type(value).__name__}."
        )


def parse_csv(body: bytes | str) -> Any:
    import pandas as pd

    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        return pd.read_csv(io.StringIO(text))
    except (UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise BadRequest(
            "Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid "
            f"CSV-formatted Pandas DataFrame produced using `DataFrame.to_csv()`. Error: {exc}"
        ) from None


def parse_parquet(body: bytes) -> Any:
    import pandas as pd

    try:
        return pd.read_parquet(io.BytesIO(body))
    except ImportError:
        raise BadRequest(
            "Parquet input needs pyarrow on the scoring server: pip install 'heron[serving]'"
        ) from None
    except Exception as exc:  # pyarrow raises its own error types for a bad file
        raise BadRequest(
            "Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid "
            f"Parquet file produced using `DataFrame.to_parquet()`. Error: {exc}"
        ) from None


def model_input(request: Request, schema: Schema | None) -> Any:
    """What `predict` gets for `request`: a DataFrame for the dataframe formats, arrays or
    JSON data for `inputs`/`instances`, the bare body for an LLM request."""
    import pandas as pd

    value = request.value
    kind = request.kind
    try:
        if kind == SPLIT:
            frame = pd.DataFrame(
                value["data"], columns=value.get("columns"), index=value.get("index")
            )
        elif kind == RECORDS:
            frame = pd.DataFrame(value)
        elif kind == INSTANCES:
            return _instances(value)
        elif kind == INPUTS:
            return _inputs(value, schema)
        else:
            return value
    except (TypeError, ValueError, AssertionError) as exc:
        raise BadRequest(
            f"Invalid input. Provided {kind} field is not a valid dataframe representation: {exc}"
        ) from None
    return decode_binary_columns(frame, schema)


def decode_binary_columns(frame: Any, schema: Schema | None) -> Any:
    """MLflow compat: binary columns travel base64-encoded in JSON."""
    if schema is None or schema.is_tensor_spec():
        return frame
    for spec in schema.inputs:
        if (
            isinstance(spec, ColSpec)
            and spec.type is DataType.binary
            and spec.name in frame.columns
        ):
            column = frame[spec.name]
            try:
                frame[spec.name] = column.map(
                    lambda x: base64.b64decode(x) if isinstance(x, str) else x
                )
            except ValueError as exc:
                raise BadRequest(
                    f"Column {spec.name!r} is binary: send base64 text ({exc})"
                ) from None
    return frame


def _instances(value: Any) -> Any:
    """`instances`: a list of records becomes columns; a list of values an array."""
    if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
        columns: dict[str, list[Any]] = {}
        for record in value:
            for key, item in record.items():
                columns.setdefault(key, []).append(item)
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise BadRequest(
                "Invalid input. The length of values for each input/column name are not the same"
            )
        return {k: np.asarray(v) if _numeric(v) else v for k, v in columns.items()}
    return _inputs(value, None)


def _inputs(value: Any, schema: Schema | None) -> Any:
    """`inputs`: a list of values is an array; with a one-column schema, that column."""
    if isinstance(value, list) and not any(isinstance(x, dict) for x in value):
        if schema is not None and schema.has_input_names() and len(schema.inputs) == 1:
            return {schema.inputs[0].name: value}
        if value and _numeric(value):
            return np.asarray(value)
        return value
    if isinstance(value, dict):
        return {
            k: np.asarray(v) if isinstance(v, list) and _numeric(v) else v for k, v in value.items()
        }
    return value


def _numeric(values: list[Any]) -> bool:
    """A non-empty (nested) list of numbers NumPy reads as a regular array."""
    if not values:
        return False
    try:
        array = np.asarray(values)
    except ValueError:
        return False
    return array.dtype.kind in "biuf"


def render(predictions: Any, *, unwrapped: bool = False) -> bytes:
    """The JSON answer for `predictions`, as MLflow writes it: DataFrames as records, a
    Series as records of its one column, arrays as lists."""
    value = jsonable(predictions)
    document = value if unwrapped else {"predictions": value}
    if _has_non_finite(predictions):
        # MLflow compat: NaN and infinity are written as JavaScript's literals (NaN,
        # Infinity), which Python's json and most clients read; orjson would write null.
        return json.dumps(document, default=_default).encode()
    try:
        return orjson.dumps(document, default=_default, option=orjson.OPT_SERIALIZE_NUMPY)
    except TypeError:
        return json.dumps(document, default=_default).encode()


def jsonable(predictions: Any) -> Any:
    import pandas as pd

    if isinstance(predictions, pd.DataFrame):
        return predictions.to_dict(orient="records")
    if isinstance(predictions, pd.Series):
        return pd.DataFrame(predictions).to_dict(orient="records")
    if isinstance(predictions, np.ndarray) and not _orjson_native(predictions):
        return predictions.tolist()
    return predictions


def _orjson_native(array: np.ndarray[Any, Any]) -> bool:
    return bool(array.flags.c_contiguous) and array.dtype.kind in "biuf" and array.dtype.isnative


def _has_non_finite(predictions: Any) -> bool:
    import pandas as pd

    if isinstance(predictions, np.ndarray) and predictions.dtype.kind == "f":
        return not bool(np.isfinite(predictions).all())
    if isinstance(predictions, pd.DataFrame | pd.Series):
        frame = predictions.to_frame() if isinstance(predictions, pd.Series) else predictions
        floats = frame.select_dtypes(include="floating")
        return floats.size > 0 and not bool(np.isfinite(floats.to_numpy()).all())
    return False


def _default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes | bytearray):
        return base64.encodebytes(bytes(value)).decode("ascii")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "model_dump"):  # pydantic models (chat responses)
        return value.model_dump()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
