"""Datasets to record as run inputs: `from_pandas(df)` describes a DataFrame for `log_input`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from heron.entities import Dataset

if TYPE_CHECKING:
    import pandas as pd

_SAMPLE_ROWS = 10000
_COLUMN_TYPES = {
    "b": "boolean",
    "i": "long",
    "u": "long",
    "f": "double",
    "M": "datetime",
    "m": "string",
    "O": "string",
    "S": "binary",
    "U": "string",
}


@dataclass(frozen=True, slots=True)
class PandasDataset:
    """A DataFrame with the name, digest, source, schema and profile MLflow records for it."""

    df: pd.DataFrame
    name: str
    digest: str
    source_type: str
    source: str
    schema: str
    profile: str
    targets: str | None = None

    def to_entity(self) -> Dataset:
        """The `Dataset` entity that `log_input` sends."""
        return Dataset(
            name=self.name,
            digest=self.digest,
            source_type=self.source_type,
            source=self.source,
            schema=self.schema,
            profile=self.profile,
        )


def from_pandas(
    df: pd.DataFrame,
    source: str | None = None,
    name: str | None = None,
    targets: str | None = None,
) -> PandasDataset:
    """Describes a DataFrame as a dataset for `heron.log_input`.

    Args:
        df: the data.
        source: where it came from (a path or URI); without one the source is this code.
        name: a name to show; default "dataset".
        targets: the name of the label column, if any.

    Returns:
        A `PandasDataset` whose digest is stable for the same columns and rows.

    Raises:
        InvalidParameter: `targets` is not a column of `df`.

    Example:
        >>> ds = heron.data.from_pandas(df, source="data/train.csv", targets="label")
        >>> heron.log_input(ds, context="training")
    """
    if targets is not None and targets not in df.columns:
        from heron.errors import InvalidParameter

        raise InvalidParameter(f"targets column {targets!r} is not in the DataFrame")
    schema = json.dumps({"mlflow_colspec": [_column_spec(df, c) for c in df.columns]})
    profile = json.dumps({"num_rows": len(df), "num_elements": int(df.size)})
    source_type, source_json = _source(source)
    return PandasDataset(
        df=df,
        name=name or "dataset",
        digest=_digest(df, schema),
        source_type=source_type,
        source=source_json,
        schema=schema,
        profile=profile,
        targets=targets,
    )


def _column_spec(df: pd.DataFrame, column: Any) -> dict[str, Any]:
    series = df[column]
    return {
        "type": _COLUMN_TYPES.get(series.dtype.kind, "string"),
        "name": str(column),
        "required": not bool(series.isna().any()),
    }


def _digest(df: pd.DataFrame, schema: str) -> str:
    """First 8 hex digits of sha256 over the schema, the shape and a sample of the rows."""
    import pandas as pd  # only when a DataFrame is being described

    sample = df.head(_SAMPLE_ROWS)
    try:
        rows = pd.util.hash_pandas_object(sample, index=False).to_numpy().tobytes()
    except TypeError:  # unhashable cells (lists, dicts): hash their text instead
        rows = pd.util.hash_pandas_object(sample.astype(str), index=False).to_numpy().tobytes()
    h = hashlib.sha256(schema.encode())
    h.update(f"{len(df)}x{len(df.columns)}".encode())
    h.update(rows)
    return h.hexdigest()[:8]


def _source(source: str | None) -> tuple[str, str]:
    if source is None:
        from heron.client.source import source_tags

        return "code", json.dumps({"tags": source_tags()})
    scheme = source.split("://", 1)[0].lower() if "://" in source else ""
    kind = {"s3": "s3", "http": "http", "https": "http"}.get(scheme, "local")
    return kind, json.dumps({"uri": source})
