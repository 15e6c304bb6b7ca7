"""SqlScorerStore: versions of scorers registered in experiments, and their online scoring
configurations."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from heron.entities.evaluation import OnlineScoringConfig, ScorerVersion
from heron.errors import NotFound
from heron.store.sql.database import Database
from heron.store.sql.tables_scorers import online_scoring_configs as configs
from heron.store.sql.tables_scorers import registered_scorers as scorers


def _version(row: Any) -> ScorerVersion:
    return ScorerVersion(
        scorer_id=row.scorer_id,
        experiment_id=str(row.experiment_id),
        name=row.name,
        version=row.version,
        serialized_scorer=row.serialized_scorer,
        creation_time=row.creation_time,
    )


def _config(row: Any) -> OnlineScoringConfig:
    return OnlineScoringConfig(
        config_id=row.config_id,
        scorer_id=row.scorer_id,
        experiment_id=str(row.experiment_id),
        sample_rate=row.sample_rate,
        filter_string=row.filter_string,
    )


def _missing(experiment_id: str, name: str, version: int | None = None) -> NotFound:
    which = f"version {version} of " if version is not None else ""
    return NotFound(f"No {which}scorer {name!r} in experiment {experiment_id}")


class SqlScorerStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def register_scorer(
        self, experiment_id: str, name: str, serialized: str, now: int
    ) -> ScorerVersion:
        """A new version (1, 2, ...) of the scorer `name` of the experiment."""

        def write(conn: Connection) -> ScorerVersion:
            where = (scorers.c.experiment_id == int(experiment_id), scorers.c.name == name)
            latest = conn.execute(
                select(scorers.c.scorer_id, func.max(scorers.c.version))
                .where(*where)
                .group_by(scorers.c.scorer_id)
            ).first()
            scorer_id = latest[0] if latest else "s-" + uuid.uuid4().hex
            version = (latest[1] if latest else 0) + 1
            row = {
                "scorer_version_id": uuid.uuid4().hex,
                "scorer_id": scorer_id,
                "experiment_id": int(experiment_id),
                "name": name,
                "version": version,
                "serialized_scorer": serialized,
                "creation_time": now,
            }
            conn.execute(insert(scorers), [row])
            return ScorerVersion(
                scorer_id=scorer_id,
                experiment_id=experiment_id,
                name=name,
                version=version,
                serialized_scorer=serialized,
                creation_time=now,
            )

        return self._db.write(write)

    def list_scorers(self, experiment_ids: Sequence[str]) -> list[ScorerVersion]:
        """The latest version of each scorer of the experiments, by name."""
        ids = [int(e) for e in experiment_ids]
        latest = (
            select(scorers.c.experiment_id, scorers.c.name, func.max(scorers.c.version).label("v"))
            .where(scorers.c.experiment_id.in_(ids))
            .group_by(scorers.c.experiment_id, scorers.c.name)
            .subquery()
        )
        query = (
            select(scorers)
            .join(
                latest,
                (scorers.c.experiment_id == latest.c.experiment_id)
                & (scorers.c.name == latest.c.name)
                & (scorers.c.version == latest.c.v),
            )
            .order_by(scorers.c.experiment_id, scorers.c.name)
        )
        with self._db.read() as conn:
            return [_version(r) for r in conn.execute(query)]

    def scorer_versions(self, experiment_id: str, name: str) -> list[ScorerVersion]:
        query = (
            select(scorers)
            .where(scorers.c.experiment_id == int(experiment_id), scorers.c.name == name)
            .order_by(scorers.c.version)
        )
        with self._db.read() as conn:
            return [_version(r) for r in conn.execute(query)]

    def get_scorer(self, experiment_id: str, name: str, version: int | None) -> ScorerVersion:
        versions = self.scorer_versions(experiment_id, name)
        if version is None and versions:
            return versions[-1]
        found = [v for v in versions if v.version == version]
        if not found:
            raise _missing(experiment_id, name, version)
        return found[0]

    def delete_scorer(self, experiment_id: str, name: str, version: int | None) -> None:
        """One version, or every version (and its online configuration) when None."""

        def write(conn: Connection) -> None:
            where = [scorers.c.experiment_id == int(experiment_id), scorers.c.name == name]
            ids = list(conn.execute(select(scorers.c.scorer_id).where(*where)).scalars())
            if version is not None:
                where.append(scorers.c.version == version)
            if not conn.execute(delete(scorers).where(*where)).rowcount:
                raise _missing(experiment_id, name, version)
            left = conn.execute(
                select(func.count()).select_from(scorers).where(*where[:2])
            ).scalar_one()
            if not left and ids:
                conn.execute(delete(configs).where(configs.c.scorer_id == ids[0]))

        self._db.write(write)

    def upsert_config(
        self, scorer: ScorerVersion, sample_rate: float, filter_string: str | None, now: int
    ) -> OnlineScoringConfig:
        def write(conn: Connection) -> None:
            values = {
                "sample_rate": sample_rate,
                "filter_string": filter_string,
                "last_update_time": now,
            }
            changed = conn.execute(
                update(configs).where(configs.c.scorer_id == scorer.scorer_id).values(**values)
            ).rowcount
            if not changed:
                conn.execute(
                    insert(configs),
                    [
                        {
                            "config_id": uuid.uuid4().hex,
                            "scorer_id": scorer.scorer_id,
                            "experiment_id": int(scorer.experiment_id),
                            **values,
                        }
                    ],
                )

        self._db.write(write)
        return self.get_configs([scorer.scorer_id])[0]

    def get_configs(self, scorer_ids: Sequence[str]) -> list[OnlineScoringConfig]:
        query = select(configs).where(configs.c.scorer_id.in_(list(scorer_ids)))
        with self._db.read() as conn:
            return [_config(r) for r in conn.execute(query)]

    def latest_by_id(self, scorer_id: str) -> ScorerVersion:
        query = (
            select(scorers)
            .where(scorers.c.scorer_id == scorer_id)
            .order_by(scorers.c.version.desc())
            .limit(1)
        )
        with self._db.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise NotFound(f"No scorer with id {scorer_id!r}")
        return _version(row)

    def active_configs(self) -> list[OnlineScoringConfig]:
        """Every configuration that samples traces (rate above 0)."""
        with self._db.read() as conn:
            return [
                _config(r) for r in conn.execute(select(configs).where(configs.c.sample_rate > 0))
            ]
