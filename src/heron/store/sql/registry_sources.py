"""SqlModelSourceStore: the LoggedModels and runs a model version's source URI may name."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from heron.store.registry import LoggedModelSource
from heron.store.sql.database import Database
from heron.store.sql.tables import logged_models, run_model_outputs, runs

lm = logged_models


class SqlModelSourceStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def find_logged_model(self, model_id: str) -> LoggedModelSource | None:
        with self._db.read() as conn:
            row = conn.execute(select(lm).where(lm.c.model_id == model_id)).first()
        return None if row is None else _source(row)

    def find_run_logged_model(self, run_id: str, name: str) -> LoggedModelSource | None:
        outputs = run_model_outputs
        with self._db.read() as conn:
            row = conn.execute(
                select(lm)
                .outerjoin(
                    outputs,
                    (outputs.c.model_id == lm.c.model_id) & (outputs.c.run_uuid == run_id),
                )
                .where(lm.c.source_run_id == run_id, lm.c.name == name)
                .order_by(outputs.c.step.desc().nulls_last(), lm.c.creation_timestamp_ms.desc())
                .limit(1)
            ).first()
        return None if row is None else _source(row)

    def find_run_artifact_uri(self, run_id: str) -> str | None:
        with self._db.read() as conn:
            found = conn.execute(
                select(runs.c.artifact_uri).where(runs.c.run_uuid == run_id)
            ).scalar_one_or_none()
        return None if found is None else str(found)


def _source(row: Any) -> LoggedModelSource:
    return LoggedModelSource(
        model_id=row.model_id,
        name=row.name,
        artifact_location=row.artifact_location,
        source_run_id=row.source_run_id,
        experiment_id=str(row.experiment_id),
    )
