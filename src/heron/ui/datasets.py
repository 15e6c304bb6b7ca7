"""Evaluation datasets in the UI: an experiment's datasets (on its Evaluations tab) and a
dataset's page: its records at any version, the list of its versions (what each change did),
and the evaluations that were run on it, each with the version it used."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.routing import BaseRoute

from heron.entities import Run, reserved
from heron.entities.evaluation import DatasetRecord, EvaluationDataset
from heron.errors import InvalidParameter
from heron.services.access import requires
from heron.services.build import Services
from heron.ui.rendering import PageResult, Renderer

MAX_RECORDS_SHOWN = 1000
MAX_VERSIONS_SHOWN = 200
MAX_EVALUATIONS_SHOWN = 100


@dataclass(frozen=True, slots=True)
class DatasetUse:
    """The dataset an evaluation run used, and which version of it (0: not known)."""

    dataset_id: str
    name: str
    version: int


def shown(value: Any) -> str:
    """A value of a record or a score as text: JSON for anything but a string."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def dataset_use(run: Run) -> DatasetUse | None:
    """What the run's tags and inputs say of the evaluation dataset it was scored on."""
    dataset_id = run.data.tags.get(reserved.EVAL_DATASET_ID)
    if not dataset_id:
        return None
    text = run.data.tags.get(reserved.EVAL_DATASET_VERSION, "")
    names = [i.dataset.name for i in run.dataset_inputs]
    return DatasetUse(
        dataset_id, names[0] if names else dataset_id, int(text) if text.isdigit() else 0
    )


def experiment_datasets(services: Services, experiment_id: str) -> list[EvaluationDataset]:
    return list(
        services.datasets.search_datasets([experiment_id], max_results=200, order_by=["name"])
    )


def routes(renderer: Renderer, services: Services) -> list[BaseRoute]:
    def dataset_page(request: Request) -> PageResult:
        dataset = services.datasets.get_dataset(request.path_params["dataset_id"])
        versions = list(
            services.datasets.list_versions(dataset.dataset_id, max_results=MAX_VERSIONS_SHOWN)
        )
        wanted = _version(request.query_params.get("version", ""), dataset.version)
        records: list[DatasetRecord] = []
        if wanted:
            records = list(
                services.datasets.get_records(
                    dataset.dataset_id, max_results=MAX_RECORDS_SHOWN, version=wanted
                )
            )
        selected = next((v for v in versions if v.version == wanted), None)
        experiment = (
            services.experiments.get_experiment(dataset.experiment_ids[0])
            if dataset.experiment_ids
            else None
        )
        return "dataset.html", {
            "dataset": dataset,
            "experiment": experiment,
            "versions": versions,
            "version": wanted,
            "selected": selected,
            "records": records,
            "evaluations": _evaluations(services, dataset),
            "dataset_use": dataset_use,
            "shown": shown,
            "nav": "experiments",
        }

    return [
        renderer.get(
            "/datasets/{dataset_id}", dataset_page, requires("read", "dataset", "dataset_id")
        )
    ]


def _version(text: str, newest: int) -> int:
    if not text:
        return newest
    if not text.isdigit() or not 1 <= int(text) <= max(newest, 1) or len(text) > 9:
        raise InvalidParameter(f"version is a number from 1 to {newest}, not {text[:20]!r}")
    return int(text)


def _evaluations(services: Services, dataset: EvaluationDataset) -> list[Run]:
    """The evaluation runs of the dataset's experiments that were scored on it, newest
    first."""
    if not dataset.experiment_ids:
        return []
    return list(
        services.runs.search_runs(
            list(dataset.experiment_ids),
            # the id is one Heron made ("d-" and hex digits): nothing to quote
            filter_string=f"tags.`{reserved.EVAL_DATASET_ID}` = '{dataset.dataset_id}'",
            max_results=MAX_EVALUATIONS_SHOWN,
            order_by=["attributes.start_time DESC"],
        )
    )
