"""SqlInferenceStore: the inference tables (one row per captured request) and the per-minute
request statistics of the serving endpoints, in SQL."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, and_, or_, select

from heron.entities import Page
from heron.entities.serving import (
    LATENCY_BUCKETS_MS,
    DriftReport,
    EndpointMinute,
    InferenceRecord,
)
from heron.errors import InvalidParameter, NotFound
from heron.store.serving import InferenceQuery
from heron.store.sql.database import Database, insert_for, run_many
from heron.store.sql.serving_tables import drift_reports, inference_records, serving_stats

_I = inference_records
_S = serving_stats
_BUCKETS = len(LATENCY_BUCKETS_MS) + 1


class SqlInferenceStore:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._insert: Any = None  # built once on the database's dialect, then compiled once

    def add_records(self, records: Sequence[InferenceRecord]) -> None:
        if not records:
            return
        rows = [_row(record) for record in records]

        def add(conn: Connection) -> None:
            if self._insert is None:
                stmt = insert_for(conn, _I)
                self._insert = stmt.on_conflict_do_nothing(index_elements=["request_id"])
            run_many(conn, self._insert, rows)

        self._db.write(add)

    def search_records(self, query: InferenceQuery) -> Page[InferenceRecord]:
        stmt = select(_I).where(_I.c.endpoint_id == query.endpoint_id)
        if query.start_time is not None:
            stmt = stmt.where(_I.c.request_time >= query.start_time)
        if query.end_time is not None:
            stmt = stmt.where(_I.c.request_time < query.end_time)
        fingerprint = f"{query.endpoint_id}:{query.start_time}:{query.end_time}"
        if query.page_token:
            time, request_id = _decode(query.page_token, fingerprint)
            stmt = stmt.where(
                or_(
                    _I.c.request_time < time,
                    and_(_I.c.request_time == time, _I.c.request_id < request_id),
                )
            )
        stmt = stmt.order_by(_I.c.request_time.desc(), _I.c.request_id.desc())
        with self._db.read() as conn:
            rows = conn.execute(stmt.limit(query.max_results + 1)).all()
        items = [_record(row) for row in rows[: query.max_results]]
        token = None
        if len(rows) > query.max_results:
            last = items[-1]
            token = _encode(last.request_time, last.request_id, fingerprint)
        return Page(items, token)

    def get_record(self, request_id: str) -> InferenceRecord:
        with self._db.read() as conn:
            row = conn.execute(select(_I).where(_I.c.request_id == request_id)).first()
        if row is None:
            raise NotFound(f"No inference record with request id {request_id!r}")
        return _record(row)

    def records_of_trace(self, trace_id: str) -> list[InferenceRecord]:
        with self._db.read() as conn:
            rows = conn.execute(
                select(_I).where(_I.c.trace_id == trace_id).order_by(_I.c.request_time)
            ).all()
        return [_record(row) for row in rows]

    def put_minutes(self, writer_id: str, minutes: Sequence[EndpointMinute]) -> None:
        if not minutes:
            return
        rows = [_minute_row(writer_id, m) for m in minutes]

        def put(conn: Connection) -> None:
            stmt = insert_for(conn, _S)
            keys = ("endpoint_id", "minute", "served_entity", "served_version", "writer_id")
            figures = {c.name: stmt.excluded[c.name] for c in _S.columns if c.name not in keys}
            conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=figures), rows)

        self._db.write(put)

    def read_minutes(self, endpoint_id: str, since: int) -> list[EndpointMinute]:
        stmt = (
            select(_S)
            .where(_S.c.endpoint_id == endpoint_id, _S.c.minute >= since)
            .order_by(_S.c.minute)
        )
        with self._db.read() as conn:
            rows = conn.execute(stmt).all()
        summed: dict[tuple[int, str, str], dict[str, Any]] = {}
        for row in rows:
            key = (row.minute, row.served_entity, row.served_version)
            into = summed.setdefault(key, {"latency_buckets": [0] * _BUCKETS})
            for name in _FIGURES:
                into[name] = into.get(name, 0) + getattr(row, name)
            for i, count in enumerate(orjson.loads(row.latency_buckets)[:_BUCKETS]):
                into["latency_buckets"][i] += count
        return [
            EndpointMinute(
                endpoint_id=endpoint_id,
                minute=minute,
                served_entity=entity,
                served_version=version,
                **{**figures, "latency_buckets": tuple(figures["latency_buckets"])},
            )
            for (minute, entity, version), figures in summed.items()
        ]

    def put_drift_report(self, report: DriftReport) -> None:
        row = {
            "endpoint_id": report.endpoint_id, "computed_at": report.computed_at,
            "window_start": report.window_start, "window_end": report.window_end,
            "reference": report.reference, "reference_rows": report.reference_rows,
            "current_rows": report.current_rows, "method": report.method,
            "features": orjson.dumps(list(report.features)).decode(), "message": report.message,
        }  # fmt: skip

        def put(conn: Connection) -> None:
            stmt = insert_for(conn, drift_reports).values(**row)
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["endpoint_id", "computed_at"]))

        self._db.write(put)

    def drift_reports(self, endpoint_id: str, limit: int) -> list[DriftReport]:
        d = drift_reports
        stmt = (
            select(d).where(d.c.endpoint_id == endpoint_id).order_by(d.c.computed_at.desc())
        ).limit(limit)
        with self._db.read() as conn:
            rows = conn.execute(stmt).all()
        return [
            DriftReport(
                endpoint_id=r.endpoint_id,
                computed_at=r.computed_at,
                window_start=r.window_start,
                window_end=r.window_end,
                reference=r.reference,
                reference_rows=r.reference_rows,
                current_rows=r.current_rows,
                method=r.method,
                features=orjson.loads(r.features),
                message=r.message,
            )
            for r in rows
        ]


_FIGURES = (
    "requests", "errors_4xx", "errors_5xx", "latency_sum_ms", "shadow_requests",
    "shadow_agreed", "shadow_errors", "shadow_latency_diff_sum_ms", "capture_dropped",
)  # fmt: skip


def _row(r: InferenceRecord) -> dict[str, Any]:
    return {
        "request_id": r.request_id,
        "endpoint_id": r.endpoint_id,
        "endpoint_name": r.endpoint_name,
        "request_date": r.request_date,
        "request_time": r.request_time,
        "client_request_id": r.client_request_id,
        "status_code": r.status_code,
        "execution_duration_ms": r.execution_duration_ms,
        "served_entity_id": r.served_entity_id,
        "served_version": r.served_version,
        "requester": r.requester,
        "request": r.request,
        "response": r.response,
        "response_chunks": r.response_chunks,
        "request_artifact": r.request_artifact,
        "response_artifact": r.response_artifact,
        "logging_error_codes": orjson.dumps(list(r.logging_error_codes)).decode(),
        "trace_id": r.trace_id,
    }


def _record(row: Any) -> InferenceRecord:
    return InferenceRecord(
        request_id=row.request_id,
        endpoint_id=row.endpoint_id,
        endpoint_name=row.endpoint_name,
        request_time=row.request_time,
        status_code=row.status_code,
        execution_duration_ms=row.execution_duration_ms,
        served_entity_id=row.served_entity_id,
        served_version=row.served_version,
        requester=row.requester,
        client_request_id=row.client_request_id,
        request=row.request,
        response=row.response,
        response_chunks=row.response_chunks,
        request_artifact=row.request_artifact,
        response_artifact=row.response_artifact,
        logging_error_codes=tuple(orjson.loads(row.logging_error_codes)),
        trace_id=row.trace_id,
    )


def _minute_row(writer_id: str, m: EndpointMinute) -> dict[str, Any]:
    buckets = list(m.latency_buckets) or [0] * _BUCKETS
    return {
        "endpoint_id": m.endpoint_id,
        "minute": m.minute,
        "served_entity": m.served_entity,
        "served_version": m.served_version,
        "writer_id": writer_id,
        **{name: getattr(m, name) for name in _FIGURES},
        "latency_buckets": orjson.dumps(buckets).decode(),
    }


def _encode(time: int, request_id: str, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([time, request_id, fingerprint])).decode()


def _decode(token: str, fingerprint: str) -> tuple[int, str]:
    try:
        if len(token) > 400:
            raise ValueError
        time, request_id, made_for = orjson.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidParameter("Invalid page_token for inference records") from None
    valid = type(time) is int and abs(time) < 2**62 and isinstance(request_id, str)
    if not valid or made_for != fingerprint or "\x00" in request_id:
        raise InvalidParameter("Invalid page_token for inference records") from None
    return time, request_id
