"""Fixtures for the model tests: a trained iris classifier and its data."""

from __future__ import annotations

from typing import Any

import pytest

pd = pytest.importorskip("pandas")
sklearn_datasets = pytest.importorskip("sklearn.datasets")


@pytest.fixture(scope="session")
def iris() -> tuple[Any, Any]:
    """(features DataFrame, target Series) of the iris data set, shipped with scikit-learn."""
    return sklearn_datasets.load_iris(return_X_y=True, as_frame=True)


@pytest.fixture(scope="session")
def iris_model(iris: tuple[Any, Any]) -> Any:
    from sklearn.linear_model import LogisticRegression

    features, target = iris
    return LogisticRegression(max_iter=300).fit(features, target)
