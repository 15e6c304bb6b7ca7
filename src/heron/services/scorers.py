"""ScorerService: scorers and judges registered in an experiment (versions of MLflow's
serialized form), and their online scoring: a sample rate and a filter of the new traces they
score (register, then start with a rate, update, stop with rate 0)."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from heron.clock import now_ms
from heron.entities.evaluation import OnlineScoringConfig, ScorerVersion
from heron.errors import InvalidParameter
from heron.search.traces import parse_trace_filter
from heron.services.access import Authorizer, authorize, listing
from heron.services.changes import changed_field, changed_fields, noting
from heron.store import ids
from heron.store.evaluation import ScorerStore
from heron.store.experiments import ExperimentStore

MAX_NAME = 250  # registered_scorers.name
MAX_SERIALIZED = 1024 * 1024
INT32_MAX = ids.INT32_MAX  # registered_scorers.version


def picked(trace_id: str, scorer_name: str, sample_rate: float) -> bool:
    """Whether a scorer at `sample_rate` scores the trace: a hash of the trace id and the
    scorer's name, read as a number in [0, 1), below the rate. The same trace and scorer
    always hash alike, so lowering the rate from 0.5 to 0.1 keeps a subset of the traces."""
    digest = hashlib.sha256(f"{trace_id}\n{scorer_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < sample_rate


class ScorerService:
    def __init__(
        self, store: ScorerStore, experiments: ExperimentStore, authorizer: Authorizer
    ) -> None:
        self._store = store
        self._experiments = experiments
        self._authorizer = authorizer

    def _experiment(self, experiment_id: str, action: str) -> str:
        found = ids.experiment_id(experiment_id)
        authorize(self._authorizer, "update" if action == "update" else "read", "experiment", found)
        self._experiments.get_experiment(found)  # raises NotFound
        return found

    def register_scorer(self, experiment_id: str, name: str, serialized: str) -> ScorerVersion:
        """A new version of the scorer. Raises InvalidParameter for a bad name or a
        serialized scorer that is not a JSON object."""
        found = self._experiment(experiment_id, "update")
        _name(name)
        if not isinstance(serialized, str) or len(serialized) > MAX_SERIALIZED:
            raise InvalidParameter(
                f"serialized_scorer is a JSON text of at most {MAX_SERIALIZED} bytes"
            )
        try:
            parsed = orjson.loads(serialized)
        except orjson.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, dict):
            raise InvalidParameter("serialized_scorer must be a JSON object (MLflow's form)")
        made = self._store.register_scorer(found, name, serialized, now_ms())
        before = made.version - 1 or None
        changed_field("experiment", found, f"scorers.{name}.version", before, made.version)
        return made

    def list_scorers(self, experiment_ids: list[str]) -> list[ScorerVersion]:
        return self._store.list_scorers([self._experiment(e, "read") for e in experiment_ids])

    def scorer_versions(self, experiment_id: str, name: str) -> list[ScorerVersion]:
        return self._store.scorer_versions(self._experiment(experiment_id, "read"), _name(name))

    def get_scorer(
        self, experiment_id: str, name: str, version: int | None = None
    ) -> ScorerVersion:
        found = self._experiment(experiment_id, "read")
        return self._store.get_scorer(found, _name(name), _version(version))

    def delete_scorer(self, experiment_id: str, name: str, version: int | None = None) -> None:
        found = self._experiment(experiment_id, "update")
        self._store.delete_scorer(found, _name(name), _version(version))
        gone = "every version" if version is None else f"version {version}"
        changed_field("experiment", found, f"scorers.{name}", gone, None)

    def set_online_config(
        self, experiment_id: str, name: str, sample_rate: float, filter_string: str | None = None
    ) -> OnlineScoringConfig:
        """Starts (rate above 0), updates, or stops (rate 0) the scorer on new traces."""
        found = self._experiment(experiment_id, "update")
        if not isinstance(sample_rate, int | float) or not 0.0 <= sample_rate <= 1.0:
            raise InvalidParameter(f"sample_rate is between 0 and 1, not {sample_rate!r}")
        parse_trace_filter(filter_string)  # raises InvalidParameter, saying where
        scorer = self._store.get_scorer(found, _name(name), None)
        before = next(iter(self._store.get_configs([scorer.scorer_id])), None) if noting() else None
        config = self._store.upsert_config(
            scorer, float(sample_rate), filter_string or None, now_ms()
        )
        changed_fields(
            "experiment", found,
            _sampling(name, before.sample_rate if before else None,
                      before.filter_string if before else None),
            _sampling(name, config.sample_rate, config.filter_string),
        )  # fmt: skip
        return config

    def online_configs(self, scorer_ids: list[str]) -> list[OnlineScoringConfig]:
        """The configurations of these scorers that the caller may read."""
        visible = listing(self._authorizer, "run")
        return [c for c in self._store.get_configs(scorer_ids) if visible.shows(c.experiment_id)]

    def active_configs(self) -> list[OnlineScoringConfig]:
        """Every scorer that samples new traces (that the caller may read), for the
        monitoring worker."""
        visible = listing(self._authorizer, "run")
        return [c for c in self._store.active_configs() if visible.shows(c.experiment_id)]

    def scorer_by_id(self, scorer_id: str) -> ScorerVersion:
        """The latest version of the scorer `scorer_id` names. Raises NotFound."""
        found = self._store.latest_by_id(scorer_id)
        self._readable(found.experiment_id)
        return found

    def _readable(self, experiment_id: str) -> bool:
        authorize(self._authorizer, "read", "experiment", experiment_id)
        return True


def _name(name: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InvalidParameter(f"A scorer name has 1 to {MAX_NAME} characters")
    return name


def _version(version: int | None) -> int | None:
    if version is not None and not 1 <= version <= INT32_MAX:
        raise InvalidParameter(f"A scorer version is a positive integer, not {version}")
    return version


def _sampling(name: str, rate: float | None, filter_string: str | None) -> dict[str, Any]:
    return {f"scorers.{name}.sample_rate": rate, f"scorers.{name}.filter_string": filter_string}
