"""The statistics of input drift, one feature at a time, with Evidently's defaults: on a small
reference (up to 1,000 rows) the two-sample Kolmogorov-Smirnov test for numeric features and
the chi-square test for categorical ones (drift when p < 0.05); on a larger one the Wasserstein
distance in units of the reference's standard deviation for numeric features and the
Jensen-Shannon distance for categorical ones (drift at 0.1 or more); the population stability
index on request (drift at 0.1 or more). NumPy only: no SciPy on the server."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

SMALL_REFERENCE = 1000
P_VALUE = 0.05
DISTANCE = 0.1
PSI_BINS = 10


@dataclass(frozen=True, slots=True)
class FeatureDrift:
    feature: str
    kind: str  # "numeric" or "categorical"
    test: str  # "ks", "chi2", "wasserstein", "jensen_shannon", "psi"
    statistic: float
    p_value: float | None
    threshold: float
    drifted: bool


def numeric_drift(
    feature: str, reference: np.ndarray, current: np.ndarray, *, method: str | None = None
) -> FeatureDrift:
    """Drift of a numeric feature: KS on a small reference, Wasserstein on a large one, or
    `method` ("ks", "wasserstein", "psi")."""
    method = method or ("ks" if len(reference) <= SMALL_REFERENCE else "wasserstein")
    if method == "ks":
        statistic, p = ks_2samp(reference, current)
        return FeatureDrift(feature, "numeric", "ks", statistic, p, P_VALUE, p < P_VALUE)
    if method == "psi":
        value = psi_numeric(reference, current)
        return FeatureDrift(feature, "numeric", "psi", value, None, DISTANCE, value >= DISTANCE)
    spread = float(np.std(reference)) or 1.0
    value = wasserstein(reference, current) / spread
    return FeatureDrift(feature, "numeric", "wasserstein", value, None, DISTANCE, value >= DISTANCE)


def categorical_drift(
    feature: str,
    reference: Mapping[str, int],
    current: Mapping[str, int],
    *,
    method: str | None = None,
    reference_rows: int,
) -> FeatureDrift:
    """Drift of a categorical feature from its value counts: chi-square on a small
    reference, Jensen-Shannon on a large one, or `method` ("chi2", "jensen_shannon", "psi")."""
    method = method or ("chi2" if reference_rows <= SMALL_REFERENCE else "jensen_shannon")
    values = sorted(set(reference) | set(current))
    ref = np.array([reference.get(v, 0) for v in values], dtype=float)
    cur = np.array([current.get(v, 0) for v in values], dtype=float)
    if method == "chi2":
        statistic, p = chi_square(ref, cur)
        return FeatureDrift(feature, "categorical", "chi2", statistic, p, P_VALUE, p < P_VALUE)
    if method == "psi":
        value = psi(ref, cur)
        return FeatureDrift(feature, "categorical", "psi", value, None, DISTANCE, value >= DISTANCE)
    value = jensen_shannon(ref, cur)
    return FeatureDrift(
        feature, "categorical", "jensen_shannon", value, None, DISTANCE, value >= DISTANCE
    )


def ks_2samp(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The two-sample KS statistic and its asymptotic p-value (Stephens' correction)."""
    a, b = np.sort(a), np.sort(b)
    both = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, both, side="right") / len(a)
    cdf_b = np.searchsorted(b, both, side="right") / len(b)
    d = float(np.max(np.abs(cdf_a - cdf_b)))
    n = len(a) * len(b) / (len(a) + len(b))
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    if lam < 1e-3:
        return d, 1.0
    p = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return d, min(1.0, max(0.0, p))


def chi_square(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Pearson's chi-square of the current counts against the reference's proportions."""
    keep = reference > 0
    expected = reference[keep] / reference[keep].sum() * current.sum()
    observed = current[keep]
    unseen = current[~keep].sum()  # values the reference never had: all of it is drift
    statistic = float(((observed - expected) ** 2 / expected).sum()) + (
        float("inf") if unseen else 0.0
    )
    dof = max(1, int(keep.sum()) - 1)
    return statistic, chi2_sf(statistic, dof)


def chi2_sf(x: float, dof: int) -> float:
    """P(X > x) for a chi-square variable with `dof` degrees of freedom."""
    if math.isinf(x):
        return 0.0
    return _upper_gamma(dof / 2, x / 2)


def _upper_gamma(a: float, x: float) -> float:
    """The regularized upper incomplete gamma function Q(a, x)."""
    if x <= 0:
        return 1.0
    if x < a + 1:  # the series for P(a, x)
        term = total = 1.0 / a
        n = a
        for _ in range(500):
            n += 1
            term *= x / n
            total += term
            if term < total * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(-x + a * math.log(x) - math.lgamma(a)))
    b, c, d = x + 1 - a, 1e300, 1 / (x + 1 - a)  # the continued fraction for Q(a, x)
    h = d
    for i in range(1, 500):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = 1e-300 if abs(d) < 1e-300 else d
        c = b + an / c
        c = 1e-300 if abs(c) < 1e-300 else c
        d = 1 / d
        h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return min(1.0, math.exp(-x + a * math.log(x) - math.lgamma(a)) * h)


def wasserstein(a: np.ndarray, b: np.ndarray) -> float:
    """The first Wasserstein distance between two samples (the area between their CDFs)."""
    a, b = np.sort(a), np.sort(b)
    both = np.sort(np.concatenate([a, b]))
    widths = np.diff(both)
    cdf_a = np.searchsorted(a, both[:-1], side="right") / len(a)
    cdf_b = np.searchsorted(b, both[:-1], side="right") / len(b)
    return float(np.sum(np.abs(cdf_a - cdf_b) * widths))


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """The Jensen-Shannon distance (base 2: between 0 and 1) of two count vectors."""
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(x: np.ndarray, y: np.ndarray) -> float:
        keep = x > 0
        return float(np.sum(x[keep] * np.log2(x[keep] / y[keep])))

    return math.sqrt(max(0.0, (kl(p, m) + kl(q, m)) / 2))


def psi(reference: np.ndarray, current: np.ndarray, floor: float = 1e-4) -> float:
    """The population stability index of two count vectors over the same bins."""
    r = np.maximum(reference / reference.sum(), floor)
    c = np.maximum(current / current.sum(), floor)
    return float(np.sum((c - r) * np.log(c / r)))


def psi_numeric(reference: np.ndarray, current: np.ndarray) -> float:
    """PSI over the reference's deciles."""
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, PSI_BINS + 1)))
    if len(edges) < 2:
        edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
    inner = edges[1:-1]
    ref = np.bincount(np.searchsorted(inner, reference, side="right"), minlength=len(edges) - 1)
    cur = np.bincount(np.searchsorted(inner, current, side="right"), minlength=len(edges) - 1)
    return psi(ref.astype(float), cur.astype(float))


def counts(values: Sequence[object]) -> dict[str, int]:
    found: dict[str, int] = {}
    for value in values:
        key = str(value)
        found[key] = found.get(key, 0) + 1
    return found
