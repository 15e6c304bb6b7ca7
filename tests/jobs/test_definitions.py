"""Deployment job definitions on SQLite and PostgreSQL: YAML and Python, checked when written,
kept with versions of their own, attached to registered models as MLflow's registry carries
it (`deployment_job_id`)."""

from __future__ import annotations

from typing import Any

import pytest

from heron.entities.deployment_jobs import ConnectionState, TaskKind
from heron.errors import AlreadyExists, InvalidParameter, NotFound

YAML = """
description: release the fraud model
tasks:
  - name: evaluate
    type: evaluate
    model_type: classifier
    data: runs:/abc/test.csv
    targets: label
    baseline: "@champion"
    thresholds:
      accuracy_score: {threshold: 0.8, min_absolute_change: 0}
  - {name: approve, type: approve, approvers: [alice], timeout: 3d}
  - {name: deploy, type: deploy, endpoint: fraud, canary: [10, 50, 100], step_interval: 5m}
  - {name: watch, type: post_deploy_check, window: 30m, max_error_rate: 0.01}
"""


def test_a_job_written_in_yaml_is_read_into_its_tasks(services: Any) -> None:
    job = services.deployment_jobs.create_job("fraud-release", YAML)
    assert job.version == 1
    assert job.description == "release the fraud model"
    assert [(t.name, t.kind) for t in job.tasks] == [
        ("evaluate", TaskKind.EVALUATE),
        ("approve", TaskKind.APPROVE),
        ("deploy", TaskKind.DEPLOY),
        ("watch", TaskKind.POST_DEPLOY_CHECK),
    ]
    assert job.tasks[2].params["canary"] == [10, 50, 100]
    assert job.source == YAML


def test_a_job_from_python_objects_is_the_same_as_from_yaml(services: Any) -> None:
    from heron.deployment_jobs import Approve, Deploy, Evaluate, PostDeployCheck, job_definition

    tasks = [
        Evaluate("evaluate", model_type="classifier", data="runs:/abc/test.csv",
                 targets="label", baseline="@champion",
                 thresholds={"accuracy_score": {"threshold": 0.8, "min_absolute_change": 0}}),
        Approve("approve", approvers=["alice"], timeout="3d"),
        Deploy("deploy", endpoint="fraud", canary=[10, 50, 100], step_interval="5m"),
        PostDeployCheck("watch", window="30m", max_error_rate=0.01),
    ]  # fmt: skip
    from_python = services.deployment_jobs.create_job("py", job_definition(tasks))
    from_yaml = services.deployment_jobs.create_job("yaml", YAML)
    assert from_python.tasks == from_yaml.tasks


def test_updating_a_job_keeps_every_version(services: Any) -> None:
    jobs = services.deployment_jobs
    job = jobs.create_job("release", [{"name": "approve", "type": "approve"}])
    jobs.update_job(job.job_id, YAML)
    assert jobs.get_job(job.job_id).version == 2
    versions = jobs.list_job_versions(job.job_id)
    assert [v.version for v in versions] == [2, 1]
    assert [t.name for t in versions[1].tasks] == ["approve"]
    assert jobs.find_job("release").job_id == job.job_id


def test_a_job_name_is_unique(services: Any) -> None:
    services.deployment_jobs.create_job("release", [{"name": "a", "type": "approve"}])
    with pytest.raises(AlreadyExists):
        services.deployment_jobs.create_job("release", [{"name": "a", "type": "approve"}])


BAD = [
    ("tasks: [", "not valid YAML"),
    ("[]", "at least one"),
    ("tasks: [{name: x, type: teleport}]", "type must be one of"),
    ("tasks: [{name: x, type: approve, colour: red}]", "unknown field(s) colour"),
    ("tasks: [{name: x, type: approve}, {name: x, type: approve}]", "unique"),
    ("tasks: [{name: e, type: evaluate, model_type: classifier, data: d.csv}]", "targets"),
    ("tasks: [{name: e, type: evaluate, model_type: tree, data: d.csv}]", "model_type"),
    ("tasks: [{name: d, type: deploy}]", "alias or endpoint"),
    ("tasks: [{name: d, type: deploy, endpoint: e, canary: [50, 10]}]", "increasing"),
    ("tasks: [{name: d, type: deploy, alias: a, canary: [10, 100]}]", "needs an endpoint"),
    ("tasks: [{name: c, type: post_deploy_check, max_error_rate: 0.1}]", "deploy task"),
    ("tasks: [{name: c, type: post_deploy_check, endpoint: e}]", "max_error_rate"),
    ("tasks: [{name: a, type: approve, timeout: soon}]", "duration"),
    ("tasks: [{name: c, type: custom, callable: os:system}]", "not allowed"),
    ("tasks: [{name: c, type: custom, command: rm -rf /}]", "not allowed"),
    ("tasks: [{name: '../x', type: approve}]", "name must be"),
]


@pytest.mark.parametrize(("definition", "message"), BAD, ids=[m.replace(" ", "-") for _, m in BAD])
def test_a_bad_definition_is_refused_saying_what_to_fix(
    services: Any, definition: str, message: str
) -> None:
    with pytest.raises(InvalidParameter, match=message.replace("(", r"\(").replace(")", r"\)")):
        services.deployment_jobs.create_job("bad", definition)


def test_a_model_names_its_job_as_mlflow_carries_it(services: Any) -> None:
    job = services.deployment_jobs.create_job("release", [{"name": "a", "type": "approve"}])
    registry = services.registry
    model = registry.create_registered_model("fraud", deployment_job_id=job.job_id)
    assert model.deployment_job_id == job.job_id
    registry.update_registered_model("fraud", "the description")
    assert registry.get_registered_model("fraud").deployment_job_id == job.job_id
    detached = registry.update_registered_model("fraud", deployment_job_id="")
    assert detached.deployment_job_id is None
    assert detached.description == "the description"  # kept: only the job was given
    with pytest.raises(NotFound, match="Deployment job"):
        registry.update_registered_model("fraud", deployment_job_id="no-such-job")


def test_a_job_attached_to_a_model_cannot_be_deleted(services: Any) -> None:
    job = services.deployment_jobs.create_job("release", [{"name": "a", "type": "approve"}])
    services.registry.create_registered_model("fraud", deployment_job_id=job.job_id)
    with pytest.raises(InvalidParameter, match="fraud"):
        services.deployment_jobs.delete_job(job.job_id)
    services.registry.update_registered_model("fraud", deployment_job_id="")
    services.deployment_jobs.delete_job(job.job_id)
    with pytest.raises(NotFound):
        services.deployment_jobs.get_job(job.job_id)


def test_a_new_version_starts_its_models_job(services: Any) -> None:
    job = services.deployment_jobs.create_job("release", [{"name": "approve", "type": "approve"}])
    registry = services.registry
    registry.create_registered_model("fraud", deployment_job_id=job.job_id)
    version = registry.create_model_version("fraud", "mlflow-artifacts:/0/m")
    state = version.deployment_job_state
    assert state is not None
    assert (state.job_id, state.job_state, state.run_state) == (
        job.job_id, ConnectionState.CONNECTED, "PENDING",
    )  # fmt: skip
    assert state.current_task_name == "approve"
    run = services.job_runs.latest_run("fraud", "1")
    assert run is not None
    assert run.run_id == state.run_id
    kinds = [e.kind for e in registry.list_model_version_activity("fraud", "1")]
    assert kinds == ["created", "deployment_job_started"]


def test_a_model_without_a_job_starts_nothing(services: Any) -> None:
    services.registry.create_registered_model("fraud")
    version = services.registry.create_model_version("fraud", "mlflow-artifacts:/0/m")
    assert version.deployment_job_state is None
    assert services.job_runs.latest_run("fraud", "1") is None
    with pytest.raises(InvalidParameter, match="No deployment job"):
        services.job_runs.start_run("fraud", "1")
