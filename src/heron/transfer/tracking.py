"""Experiments and runs: params, tags, whole metric histories, datasets, artifacts, nesting."""

from __future__ import annotations

from collections.abc import Sequence

from heron.entities import Metric, Param, Run, RunStatus, RunTag, reserved
from heron.transfer.base import COMPLETE, SOURCE_RUN, Transfer, every

_METRICS_PER_BATCH = 1000  # MLflow's log-batch limits
_PARAMS_PER_BATCH = 100


class Experiments:
    """Matched by name: an experiment of the same name on the target receives the runs."""

    name = "experiments"

    def copy(self, transfer: Transfer) -> None:
        found = every(transfer.source.search_experiments, max_results=1000)
        transfer.progress.start(self.name, len(found))
        for experiment in found:
            target = transfer.target.get_experiment_by_name(experiment.name)
            copied = target is None
            if target is None:
                target_id = transfer.target.create_experiment(
                    experiment.name, tags=dict(experiment.tags)
                )
                target = transfer.target.get_experiment(target_id)
            for key, value in experiment.tags.items():
                if target.tags.get(key) != value:
                    transfer.target.set_experiment_tag(target.experiment_id, key, value)
            transfer.experiments[experiment.experiment_id] = target.experiment_id
            transfer.count(self.name, copied=copied)


class Runs:
    """Each run whole; a run the target already holds complete (by its source tag) is
    skipped, one cut short by an earlier attempt is deleted and copied again."""

    name = "runs"

    def copy(self, transfer: Transfer) -> None:
        by_experiment = {
            source_id: every(transfer.source.search_runs, experiment_ids=[source_id])
            for source_id in transfer.experiments
        }
        transfer.progress.start(self.name, sum(map(len, by_experiment.values())))
        unparented: list[tuple[str, str]] = []  # (target run, source parent)
        for source_id, found in by_experiment.items():
            done = self._already_there(transfer, transfer.experiments[source_id])
            for run in sorted(found, key=lambda r: (r.info.start_time, r.info.run_id)):
                there = done.get(run.info.run_id)
                if there is None:
                    target_id = self._copy_run(transfer, run, transfer.experiments[source_id])
                    parent = run.data.tags.get(reserved.PARENT_RUN_ID)
                    if parent and parent not in transfer.runs:
                        unparented.append((target_id, parent))
                else:
                    target_id = there.info.run_id
                    transfer.artifact_uris[run.info.artifact_uri] = there.info.artifact_uri
                transfer.runs[run.info.run_id] = target_id
                transfer.count(self.name, copied=there is None)
        for target_id, parent in unparented:  # a child copied before its parent
            if parent in transfer.runs:
                transfer.target.set_tag(target_id, reserved.PARENT_RUN_ID, transfer.runs[parent])

    @staticmethod
    def _already_there(transfer: Transfer, experiment_id: str) -> dict[str, Run]:
        done: dict[str, Run] = {}
        for run in every(transfer.target.search_runs, experiment_ids=[experiment_id]):
            source_id = run.data.tags.get(SOURCE_RUN)
            if source_id is None:
                continue
            if run.data.tags.get(COMPLETE) == "true":
                done[source_id] = run
            else:
                transfer.target.delete_run(run.info.run_id)  # cut short: copy it again
        return done

    @staticmethod
    def _copy_run(transfer: Transfer, run: Run, experiment_id: str) -> str:
        target = transfer.target
        tags = {**run.data.tags, SOURCE_RUN: run.info.run_id}
        if tags.get(reserved.PARENT_RUN_ID) in transfer.runs:
            tags[reserved.PARENT_RUN_ID] = transfer.runs[tags[reserved.PARENT_RUN_ID]]
        created = target.create_run(
            experiment_id, start_time=run.info.start_time, tags=tags, run_name=run.info.run_name
        )
        run_id = created.info.run_id
        params = [Param(key=k, value=v) for k, v in run.data.params.items()]
        for i in range(0, len(params), _PARAMS_PER_BATCH):
            target.log_batch(run_id, params=params[i : i + _PARAMS_PER_BATCH])
        for key in sorted({m.key for m in run.data.metrics}):
            _copy_history(transfer, run.info.run_id, run_id, key)
        if run.dataset_inputs:
            target.log_inputs(run_id, datasets=list(run.dataset_inputs))
        transfer.copy_files(run.info.artifact_uri, created.info.artifact_uri)
        transfer.artifact_uris[run.info.artifact_uri] = created.info.artifact_uri
        if run.info.status != RunStatus.RUNNING:
            target.set_terminated(run_id, run.info.status, end_time=run.info.end_time)
        target.log_batch(run_id, tags=[RunTag(key=COMPLETE, value="true")])
        return run_id


def _copy_history(transfer: Transfer, source_run: str, target_run: str, key: str) -> None:
    history: Sequence[Metric] = transfer.source.get_metric_history(source_run, key)
    for i in range(0, len(history), _METRICS_PER_BATCH):
        transfer.target.log_batch(target_run, metrics=history[i : i + _METRICS_PER_BATCH])
