"""The drift statistics against SciPy's (a test-only reference: the server needs NumPy alone)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from heron.services import drift_stats as ds


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.mark.parametrize("shift", [0.0, 0.1, 0.5])
def test_ks_matches_scipy(rng: np.random.Generator, shift: float) -> None:
    a, b = rng.normal(size=400), rng.normal(shift, size=300)
    statistic, p = ds.ks_2samp(a, b)
    expected = stats.ks_2samp(a, b, method="asymp")
    assert statistic == pytest.approx(expected.statistic)
    assert p == pytest.approx(expected.pvalue, abs=0.01)


@pytest.mark.parametrize(("x", "dof"), [(0.5, 1), (3.0, 2), (12.0, 5), (40.0, 30), (200.0, 150)])
def test_chi2_survival_matches_scipy(x: float, dof: int) -> None:
    assert ds.chi2_sf(x, dof) == pytest.approx(stats.chi2.sf(x, dof), rel=1e-6, abs=1e-12)


def test_chi_square_matches_scipy() -> None:
    reference, current = np.array([50.0, 30, 20]), np.array([40.0, 35, 25])
    statistic, p = ds.chi_square(reference, current)
    expected = stats.chisquare(current, reference / reference.sum() * current.sum())
    assert (statistic, p) == pytest.approx((expected.statistic, expected.pvalue))


def test_distances_match_scipy(rng: np.random.Generator) -> None:
    a, b = rng.normal(size=500), rng.normal(1.0, size=400)
    assert ds.wasserstein(a, b) == pytest.approx(stats.wasserstein_distance(a, b))
    p, q = np.array([5.0, 3, 2]), np.array([1.0, 1, 8])
    assert ds.jensen_shannon(p, q) == pytest.approx(jensenshannon(p, q, base=2))


def test_drift_is_found_when_the_data_moves(rng: np.random.Generator) -> None:
    small, large = rng.normal(size=500), rng.normal(size=5000)
    same, moved = rng.permutation(small)[:400], rng.normal(2.0, size=500)
    assert not ds.numeric_drift("x", small, same).drifted
    assert ds.numeric_drift("x", small, moved).test == "ks"
    assert ds.numeric_drift("x", small, moved).drifted
    assert ds.numeric_drift("x", large, moved).test == "wasserstein"
    assert ds.numeric_drift("x", large, moved).drifted
    assert ds.numeric_drift("x", large, moved, method="psi").drifted
    reference = {"a": 500, "b": 300, "c": 200}
    assert not ds.categorical_drift("c", reference, {"a": 50, "b": 30, "c": 20},
                                    reference_rows=1000).drifted  # fmt: skip
    changed = ds.categorical_drift("c", reference, {"a": 5, "b": 5, "c": 90}, reference_rows=1000)
    assert (changed.test, changed.drifted) == ("chi2", True)
    unseen = ds.categorical_drift("c", reference, {"d": 10}, reference_rows=5000)
    assert (unseen.test, unseen.drifted) == ("jensen_shannon", True)
