"""store.ids: what an experiment id or a model version can be, read once for every service."""

from __future__ import annotations

import pytest

from heron.errors import InvalidParameter, NotFound
from heron.store import ids


@pytest.mark.parametrize(
    ("given", "read"),
    [("0", "0"), ("7", "7"), ("007", "7"), ("2147483647", "2147483647"), ("0" * 30 + "5", "5")],
)
def test_experiment_ids_are_decimals_that_fit_the_column(given: str, read: str) -> None:
    assert ids.experiment_id(given) == read
    assert ids.experiment_key(given) == int(read)


@pytest.mark.parametrize(
    "given",
    ["2147483648", "987654321012", "9" * 5000, "", "x", "-1", "1.5", " 1", "²", "٣", 3, None],
    ids=["int32+1", "int64", "5000-digits", "empty", "x", "negative", "float", "space",
         "superscript", "arabic-3", "int", "none"],
)  # fmt: skip
def test_ids_no_experiment_can_have_are_not_found(given: object) -> None:
    with pytest.raises(NotFound, match="No Experiment with id="):
        ids.experiment_id(given)


def test_a_search_drops_numbers_no_experiment_can_have_and_refuses_non_ids() -> None:
    assert ids.searched_experiment_ids(["1", "987654321012", "02"]) == ["1", "2"]
    with pytest.raises(NotFound):
        ids.searched_experiment_ids(["1", "x"])


@pytest.mark.parametrize(("given", "read"), [("1", "1"), (3, "3"), ("0010", "10")])
def test_model_versions_are_decimals(given: object, read: str) -> None:
    assert ids.model_version(given) == read


@pytest.mark.parametrize("given", ["x", "-1", "1.5", "", True, None, "²"])
def test_a_model_version_that_is_no_integer_is_invalid(given: object) -> None:
    with pytest.raises(InvalidParameter, match="must be an integer"):
        ids.model_version(given)


@pytest.mark.parametrize("given", ["2147483648", "9" * 5000])
def test_a_model_version_past_the_column_is_not_found(given: str) -> None:
    with pytest.raises(NotFound, match="versions go up to 2147483647"):
        ids.model_version(given)


def test_a_surrogate_key_past_its_column_names_no_row() -> None:
    assert ids.row_key("role_id", 2**31 - 1) == 2**31 - 1
    for value in (2**31, 2**40, -1):
        with pytest.raises(NotFound, match="No role_id with id"):
            ids.row_key("role_id", value)
