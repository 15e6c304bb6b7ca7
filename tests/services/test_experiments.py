"""Experiment rules, run against SQLite and PostgreSQL through the real stores."""

from __future__ import annotations

import pytest

from heron.entities import LifecycleStage, ViewType
from heron.errors import AlreadyExists, InvalidParameter, NotFound
from heron.services import ExperimentService, RunService


def test_default_experiment_exists(experiments: ExperimentService) -> None:
    default = experiments.get_experiment("0")
    assert default.name == "Default"
    assert default.artifact_location == "mlflow-artifacts:/0"


def test_create_and_get_experiment_with_tags(experiments: ExperimentService) -> None:
    experiment_id = experiments.create_experiment("vision", tags={"team": "cv"})
    got = experiments.get_experiment(experiment_id)
    assert got.name == "vision"
    assert got.tags == {"team": "cv"}
    assert got.lifecycle_stage is LifecycleStage.ACTIVE
    assert got.artifact_location == f"mlflow-artifacts:/{experiment_id}"
    assert experiments.get_experiment_by_name("vision").experiment_id == experiment_id


@pytest.mark.parametrize("name", ["", " ", "x" * 501], ids=["empty", "blank", "too-long"])
def test_create_experiment_rejects_bad_name(experiments: ExperimentService, name: str) -> None:
    with pytest.raises(InvalidParameter):
        experiments.create_experiment(name)


def test_duplicate_name_is_already_exists_even_when_deleted(
    experiments: ExperimentService,
) -> None:
    experiment_id = experiments.create_experiment("dup")
    with pytest.raises(AlreadyExists):
        experiments.create_experiment("dup")
    experiments.delete_experiment(experiment_id)
    with pytest.raises(AlreadyExists):
        experiments.create_experiment("dup")


def test_artifact_location_outside_configured_roots_is_refused(
    experiments: ExperimentService,
) -> None:
    with pytest.raises(InvalidParameter, match="outside the artifact roots"):
        experiments.create_experiment("evil", artifact_location="/etc")
    with pytest.raises(InvalidParameter):
        experiments.create_experiment("evil2", artifact_location="mlflow-artifacts:/../x")
    inside = experiments.create_experiment("ok", artifact_location="mlflow-artifacts:/team-a")
    assert experiments.get_experiment(inside).artifact_location == "mlflow-artifacts:/team-a"


def test_missing_experiment_is_not_found(experiments: ExperimentService) -> None:
    with pytest.raises(NotFound):
        experiments.get_experiment("424242")
    with pytest.raises(NotFound):
        experiments.get_experiment_by_name("nope")
    with pytest.raises(NotFound):
        experiments.delete_experiment("424242")


def test_rename_to_taken_name_is_refused(experiments: ExperimentService) -> None:
    a = experiments.create_experiment("a")
    experiments.create_experiment("b")
    with pytest.raises(AlreadyExists):
        experiments.rename_experiment(a, "b")
    experiments.rename_experiment(a, "c")
    assert experiments.get_experiment(a).name == "c"


def test_delete_experiment_deletes_its_runs_and_restore_brings_them_back(
    experiments: ExperimentService, runs: RunService
) -> None:
    experiment_id = experiments.create_experiment("lifecycle")
    run_id = runs.create_run(experiment_id).info.run_id
    experiments.delete_experiment(experiment_id)
    assert runs.get_run(run_id).info.lifecycle_stage is LifecycleStage.DELETED
    deleted = experiments.search_experiments(view_type=ViewType.DELETED_ONLY)
    assert [e.experiment_id for e in deleted] == [experiment_id]
    experiments.restore_experiment(experiment_id)
    assert runs.get_run(run_id).info.lifecycle_stage is LifecycleStage.ACTIVE


def test_experiment_tags_overwrite_and_delete(experiments: ExperimentService) -> None:
    experiment_id = experiments.create_experiment("tags")
    experiments.set_experiment_tag(experiment_id, "stage", "dev")
    experiments.set_experiment_tag(experiment_id, "stage", "prod")
    assert experiments.get_experiment(experiment_id).tags == {"stage": "prod"}
    experiments.delete_experiment_tag(experiment_id, "stage")
    assert experiments.get_experiment(experiment_id).tags == {}
    with pytest.raises(NotFound):
        experiments.delete_experiment_tag(experiment_id, "stage")


def test_experiment_tag_value_over_limit_is_refused_not_truncated(
    experiments: ExperimentService,
) -> None:
    experiment_id = experiments.create_experiment("limits")
    with pytest.raises(InvalidParameter, match="20000"):
        experiments.set_experiment_tag(experiment_id, "k", "v" * 20001)
    assert experiments.get_experiment(experiment_id).tags == {}
