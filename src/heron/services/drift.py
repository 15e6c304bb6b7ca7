"""DriftService: drift of a serving endpoint's inputs against its training data, per feature.

The reference is the training data itself, a CSV or Parquet file named by the endpoint's tag
`heron.drift.reference` (`runs:/<run_id>/<path>` or an artifact URI); its profile (numeric
values, categories and their counts) is read once and kept in memory. The current data is
the requests the inference table captured in the window (their JSON bodies read back into
rows). Each feature is tested as `drift_stats` says (Evidently's defaults, or PSI on request);
the report is stored, computed on a schedule by `heron server --serve-endpoints` and on
request by the API."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

import orjson

from heron.entities.serving import DriftReport, InferenceRecord
from heron.errors import InvalidParameter, NotImplementedByServer
from heron.services.access import Authorizer, authorize, listing
from heron.services.artifacts import ArtifactService
from heron.services.runs import RunService
from heron.store.serving import EndpointStore, InferenceQuery, InferenceStore

REFERENCE_TAG = "heron.drift.reference"
WINDOW_MS = 60 * 60_000
MAX_CURRENT = 10_000  # requests read back for one report
METHODS = ("auto", "psi")


class DriftService:
    def __init__(
        self,
        endpoints: EndpointStore,
        inference: InferenceStore,
        runs: RunService,
        artifacts: ArtifactService,
        authorizer: Authorizer,
    ) -> None:
        self._endpoints = endpoints
        self._inference = inference
        self._runs = runs
        self._artifacts = artifacts
        self._authorizer = authorizer
        self._references: dict[str, Any] = {}  # reference URI -> its DataFrame
        self._lock = threading.Lock()

    def compute(
        self, name: str, *, method: str = "auto", window_ms: int = WINDOW_MS
    ) -> DriftReport:
        """Tests each feature of the last `window_ms` of captured requests against the
        reference, stores the report and returns it."""
        authorize(self._authorizer, "update", "serving_endpoint", name)
        if method not in METHODS:
            raise InvalidParameter(f"method must be one of {list(METHODS)}, got {method[:20]!r}")
        endpoint = self._endpoints.get_endpoint(name)
        reference_uri = endpoint.tags.get(REFERENCE_TAG)
        if not reference_uri:
            raise InvalidParameter(
                f"Serving endpoint {name!r} has no reference data: set its tag "
                f"{REFERENCE_TAG} to the training data (runs:/<run_id>/<path> of a CSV or "
                "Parquet file)"
            )
        _require_data_packages()
        now = int(time.time() * 1000)
        reference = self._reference(reference_uri)
        current = _frame(self._requests(endpoint.endpoint_id, now - window_ms, now))
        features, message = _test(reference, current, None if method == "auto" else method)
        report = DriftReport(
            endpoint_id=endpoint.endpoint_id, computed_at=now, window_start=now - window_ms,
            window_end=now, reference=reference_uri, reference_rows=len(reference),
            current_rows=len(current), method=method,
            features=[asdict(f) for f in features], message=message,
        )  # fmt: skip
        self._inference.put_drift_report(report)
        return report

    def reports(self, name: str, limit: int = 20) -> list[DriftReport]:
        authorize(self._authorizer, "read", "serving_endpoint", name)
        endpoint = self._endpoints.get_endpoint(name)
        return self._inference.drift_reports(endpoint.endpoint_id, limit)

    def watched(self) -> list[str]:
        """The endpoints that name their reference data (the schedule computes those)."""
        visible = listing(self._authorizer, "serving_endpoint")
        return [
            e.name for e in self._endpoints.list_endpoints(visible) if e.tags.get(REFERENCE_TAG)
        ]

    def _requests(self, endpoint_id: str, start: int, end: int) -> list[InferenceRecord]:
        query = InferenceQuery(
            endpoint_id=endpoint_id, start_time=start, end_time=end, max_results=MAX_CURRENT
        )
        return [r for r in self._inference.search_records(query) if r.status_code == 200]

    def _reference(self, uri: str) -> Any:
        with self._lock:
            cached = self._references.get(uri)
        if cached is not None:
            return cached
        import pandas as pd

        root, path = self._locate(uri)
        data = b"".join(self._artifacts.read_artifact(root, path))
        if path.endswith(".csv"):
            frame = pd.read_csv(io.BytesIO(data))
        elif path.endswith((".parquet", ".pq")):
            frame = pd.read_parquet(io.BytesIO(data))
        else:
            raise InvalidParameter(f"The reference data {uri!r} must be a .csv or .parquet file")
        with self._lock:
            self._references[uri] = frame
        return frame

    def _locate(self, uri: str) -> tuple[str, str]:
        if uri.startswith("runs:"):
            run_id, _, path = uri[len("runs:") :].lstrip("/").partition("/")
            if not run_id or not path:
                raise InvalidParameter(f"{uri!r}: use runs:/<run_id>/<path of the file>")
            return self._runs.get_run(run_id).info.artifact_uri, path
        root, _, path = uri.rpartition("/")
        return root, path


def _frame(records: Iterable[InferenceRecord]) -> Any:
    """The rows of the captured JSON requests (`dataframe_split`, `dataframe_records`, and
    `inputs`/`instances` given as records)."""
    import pandas as pd

    parts = []
    for record in records:
        if not record.request:
            continue
        try:
            body = orjson.loads(record.request)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(body, dict):
            continue
        split = body.get("dataframe_split")
        if isinstance(split, dict) and isinstance(split.get("data"), list):
            parts.append(pd.DataFrame(split["data"], columns=split.get("columns")))
            continue
        rows = body.get("dataframe_records") or body.get("inputs") or body.get("instances")
        if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
            parts.append(pd.DataFrame(rows))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _require_data_packages() -> None:
    """Drift is tested with NumPy and pandas, which `heron server` alone does not install."""
    try:
        import numpy  # noqa: F401
        import pandas  # noqa: F401
    except ImportError as e:
        raise NotImplementedByServer(
            f"Input drift needs NumPy and pandas on the server ({e.name} is missing): "
            "pip install 'heron[pandas]'"
        ) from e


def _test(reference: Any, current: Any, method: str | None) -> tuple[list[Any], str]:
    import pandas as pd

    from heron.services import drift_stats

    shared = [c for c in reference.columns if c in current.columns]
    if current.empty:
        return [], "No captured JSON requests in the window"
    if not shared:
        return [], "The requests share no column with the reference data"
    found = []
    for column in shared:
        ref, cur = reference[column].dropna(), current[column].dropna()
        if ref.empty or cur.empty:
            continue
        if pd.api.types.is_numeric_dtype(ref) and pd.api.types.is_numeric_dtype(cur):
            found.append(drift_stats.numeric_drift(
                str(column), ref.to_numpy(float), cur.to_numpy(float), method=method
            ))  # fmt: skip
        else:
            found.append(drift_stats.categorical_drift(
                str(column), drift_stats.counts(ref.tolist()), drift_stats.counts(cur.tolist()),
                method=method, reference_rows=len(ref),
            ))  # fmt: skip
    return found, ""
