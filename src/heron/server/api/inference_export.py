"""Inference records as a Parquet file, with Databricks' column names and types (pyarrow,
imported here only: it is `heron[serving]`'s)."""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterable

from heron.entities.serving import InferenceRecord
from heron.errors import NotImplementedByServer


def to_parquet(records: Iterable[InferenceRecord]) -> bytes:
    """The records as one Parquet file (request_time a UTC timestamp, request_date a date)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise NotImplementedByServer(
            "Exporting to Parquet needs pyarrow on the server: pip install 'heron[serving]'"
        ) from None
    rows = list(records)
    columns = {
        "request_date": pa.array(
            [datetime.date.fromisoformat(r.request_date) for r in rows], pa.date32()
        ),
        "request_time": pa.array([r.request_time for r in rows], pa.timestamp("ms", tz="UTC")),
        "request_id": pa.array([r.request_id for r in rows], pa.string()),
        "client_request_id": pa.array([r.client_request_id for r in rows], pa.string()),
        "status_code": pa.array([r.status_code for r in rows], pa.int32()),
        "execution_duration_ms": pa.array([r.execution_duration_ms for r in rows], pa.int64()),
        "served_entity_id": pa.array([r.served_entity_id for r in rows], pa.string()),
        "served_version": pa.array([r.served_version for r in rows], pa.string()),
        "requester": pa.array([r.requester for r in rows], pa.string()),
        "request": pa.array([r.request for r in rows], pa.string()),
        "response": pa.array([r.response for r in rows], pa.string()),
        "response_chunks": pa.array([r.response_chunks for r in rows], pa.string()),
        "request_artifact": pa.array([r.request_artifact for r in rows], pa.string()),
        "response_artifact": pa.array([r.response_artifact for r in rows], pa.string()),
        "logging_error_codes": pa.array(
            [list(r.logging_error_codes) for r in rows], pa.list_(pa.string())
        ),
        "trace_id": pa.array([r.trace_id for r in rows], pa.string()),
    }
    out = io.BytesIO()
    pq.write_table(pa.table(columns), out)
    return out.getvalue()
