"""SqlAssessmentStore: feedback and expectations on traces, with override history."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update

from heron.clock import now_ms
from heron.entities.assessment import Assessment
from heron.errors import NotFound
from heron.store.crypto.fields import Sealer
from heron.store.sql.database import Database, fetch
from heron.store.sql.tables import assessments, traces
from heron.store.sql.traces_rows import ASSESSMENT_COLUMNS, assessment_from_row, assessment_row
from heron.store.sql.traces_sealed import sealed_assessment_row

_TRACE = select(traces.c.experiment_id, traces.c.request_time, traces.c.model_id).where(
    traces.c.trace_id == bindparam("trace_id")
)
_UPDATABLE = ("name", "value", "rationale", "metadata", "error", "valid", "span_id")


def _not_found(trace_id: str, assessment_id: str) -> NotFound:
    return NotFound(f"Assessment with ID {assessment_id!r} not found for trace {trace_id!r}")


def _one(conn: Connection, trace_id: str, assessment_id: str, sealer: Sealer) -> Assessment:
    rows = conn.execute(
        select(*ASSESSMENT_COLUMNS).where(
            assessments.c.assessment_id == assessment_id, assessments.c.trace_id == trace_id
        )
    ).all()
    if not rows:
        raise _not_found(trace_id, assessment_id)
    return assessment_from_row(rows[0], sealer)


class SqlAssessmentStore:
    """Assessments; with field encryption on, `sealer` seals rationales and expectations'
    values (traces_sealed.sealed_assessment_row)."""

    def __init__(self, database: Database, sealer: Sealer | None = None) -> None:
        self._db = database
        self._sealer = sealer or Sealer(None)

    def create_assessment(self, assessment: Assessment) -> Assessment:
        now = now_ms()
        created = dataclasses.replace(
            assessment,
            assessment_id="a-" + uuid.uuid4().hex,
            create_time=assessment.create_time or now,
            last_update_time=now,
        )

        def write(conn: Connection) -> Assessment:
            found = fetch(conn, _TRACE, {"trace_id": created.trace_id})
            if not found:
                raise NotFound(f"Trace with ID {created.trace_id!r} not found")
            experiment_id, trace_time, model_id = found[0]
            if created.overrides:
                _one(conn, created.trace_id, created.overrides, self._sealer)
                conn.execute(
                    update(assessments)
                    .where(assessments.c.assessment_id == created.overrides)
                    .values(valid=False, last_update_time=now)
                )
            row = {
                **sealed_assessment_row(self._sealer, assessment_row(created)),
                "experiment_id": experiment_id,
                "trace_time": trace_time,
                "model_id": model_id,
            }
            conn.execute(assessments.insert(), [row])  # compiled once
            return created

        return self._db.write(write)

    def get_assessment(self, trace_id: str, assessment_id: str) -> Assessment:
        with self._db.read() as conn:
            return _one(conn, trace_id, assessment_id, self._sealer)

    def update_assessment(
        self, trace_id: str, assessment_id: str, changes: Mapping[str, Any]
    ) -> Assessment:
        fields = {k: v for k, v in changes.items() if k in _UPDATABLE}

        def write(conn: Connection) -> Assessment:
            old = _one(conn, trace_id, assessment_id, self._sealer)
            new = dataclasses.replace(old, **fields, last_update_time=now_ms())
            row = sealed_assessment_row(self._sealer, assessment_row(new))
            del row["assessment_id"]
            conn.execute(
                update(assessments)
                .where(assessments.c.assessment_id == assessment_id)
                .values(**row)
            )
            return new

        return self._db.write(write)

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        def write(conn: Connection) -> None:
            try:
                old = _one(conn, trace_id, assessment_id, self._sealer)
            except NotFound:
                return  # MLflow compat: deleting an assessment that is not there is a no-op
            if old.overrides:
                conn.execute(
                    update(assessments)
                    .where(assessments.c.assessment_id == old.overrides)
                    .values(valid=True, last_update_time=now_ms())
                )
            conn.execute(delete(assessments).where(assessments.c.assessment_id == assessment_id))

        self._db.write(write)
