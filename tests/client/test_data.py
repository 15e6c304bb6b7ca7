"""`heron.data.from_pandas`: the digest, schema, profile and source a dataset is logged with."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from heron.data import from_pandas
from heron.errors import InvalidParameter


def test_digest_is_stable_for_equal_data_and_changes_with_it() -> None:
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})

    digest = from_pandas(df).digest

    assert digest == from_pandas(df.copy()).digest
    assert len(digest) == 8
    assert int(digest, 16) >= 0
    assert from_pandas(df.assign(a=[1, 2, 4])).digest != digest
    assert from_pandas(df.rename(columns={"b": "c"})).digest != digest


def test_schema_lists_columns_with_mlflow_types() -> None:
    df = pd.DataFrame({"i": [1, 2], "f": [0.5, None], "s": ["a", "b"], "t": [True, False]})

    schema = json.loads(from_pandas(df).schema)

    assert schema == {
        "mlflow_colspec": [
            {"type": "long", "name": "i", "required": True},
            {"type": "double", "name": "f", "required": False},
            {"type": "string", "name": "s", "required": True},
            {"type": "boolean", "name": "t", "required": True},
        ]
    }


def test_profile_counts_rows_and_elements() -> None:
    dataset = from_pandas(pd.DataFrame({"a": range(10), "b": range(10)}))
    assert json.loads(dataset.profile) == {"num_rows": 10, "num_elements": 20}


@pytest.mark.parametrize(
    ("source", "source_type"),
    [(None, "code"), ("data/train.csv", "local"), ("s3://bucket/train.csv", "s3")],
    ids=["code", "local-path", "s3"],
)
def test_source_type_follows_the_source(source: str | None, source_type: str) -> None:
    dataset = from_pandas(pd.DataFrame({"a": [1]}), source=source)
    assert dataset.source_type == source_type
    if source is not None:
        assert json.loads(dataset.source) == {"uri": source}


def test_unhashable_cells_still_get_a_digest() -> None:
    df = pd.DataFrame({"a": [[1, 2], [3]]})
    assert len(from_pandas(df).digest) == 8


def test_name_defaults_and_targets_must_be_a_column() -> None:
    df = pd.DataFrame({"a": [1], "y": [0]})
    assert from_pandas(df).name == "dataset"
    assert from_pandas(df, name="train", targets="y").targets == "y"
    with pytest.raises(InvalidParameter):
        from_pandas(df, targets="label")
