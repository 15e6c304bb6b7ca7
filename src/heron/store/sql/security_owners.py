"""SqlOwnerStore: where a run, an artifact file or an evaluation dataset belongs, and which
registered models hold prompts (each one indexed read), for the grants that decide about
them."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from heron.entities import reserved
from heron.store.ids import MAX_EXPERIMENT_ID
from heron.store.security import DatasetOwners
from heron.store.sql.database import Database, fetch
from heron.store.sql.json_sql import bound_list, in_bound_list
from heron.store.sql.tables import experiments, registered_model_tags, registered_models, runs
from heron.store.sql.tables_evaluation import evaluation_dataset_experiments, evaluation_datasets
from heron.store.workspaces import current_workspace

_RUN = select(runs.c.experiment_id).where(runs.c.run_uuid == bindparam("run"))
_NUMBERED = select(experiments.c.experiment_id, experiments.c.artifact_location).where(
    in_bound_list(experiments.c.experiment_id)
)
_LOCATED = select(experiments.c.experiment_id, experiments.c.artifact_location).where(
    in_bound_list(experiments.c.artifact_location)
)
_DATASET = select(evaluation_datasets.c.created_by).where(
    evaluation_datasets.c.dataset_id == bindparam("dataset")
)
_DATASET_EXPERIMENTS = (
    select(evaluation_dataset_experiments.c.experiment_id, experiments.c.workspace)
    .join(
        experiments,
        experiments.c.experiment_id == evaluation_dataset_experiments.c.experiment_id,
    )
    .where(evaluation_dataset_experiments.c.dataset_id == bindparam("dataset"))
)
_PROMPT = (
    select(registered_model_tags.c.value)
    .join(
        registered_models,
        registered_models.c.registered_model_id == registered_model_tags.c.registered_model_id,
    )
    .where(
        registered_models.c.name == bindparam("name"),
        registered_model_tags.c.key == reserved.IS_PROMPT,
    )
)
_PROMPT_IN = _PROMPT.where(registered_models.c.workspace == bindparam("workspace"))


class SqlOwnerStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def experiment_of_run(self, run_id: str) -> str | None:
        with self._db.read() as conn:
            rows = fetch(conn, _RUN, {"run": run_id})
        return str(rows[0][0]) if rows else None

    def experiment_of_location(self, uri: str) -> str | None:
        """The experiment whose location is the longest directory of `uri`. The server's
        layout (`<root>/<experiment id>/...`) is found by primary key; a location an admin
        chose elsewhere by comparing locations."""
        prefixes = _directories(uri)
        numbered = sorted({n for n in map(_last_number, prefixes) if n is not None})
        with self._db.read() as conn:
            rows = fetch(conn, _NUMBERED, {"ids": bound_list(numbered)}) if numbered else []
            found = _longest(rows, prefixes)
            if found is None:
                found = _longest(fetch(conn, _LOCATED, {"ids": bound_list(prefixes)}), prefixes)
        return found

    def dataset_owners(self, dataset_id: str) -> DatasetOwners | None:
        with self._db.read() as conn:
            made = fetch(conn, _DATASET, {"dataset": dataset_id})
            if not made:
                return None
            linked = fetch(conn, _DATASET_EXPERIMENTS, {"dataset": dataset_id})
        return DatasetOwners(
            experiment_ids=tuple(str(row[0]) for row in linked), created_by=made[0][0],
            workspaces=tuple(str(row[1]) for row in linked),
        )  # fmt: skip

    def is_prompt(self, name: str) -> bool:
        workspace = current_workspace()
        with self._db.read() as conn:
            if workspace is None:
                rows = fetch(conn, _PROMPT, {"name": name})
            else:
                rows = fetch(conn, _PROMPT_IN, {"name": name, "workspace": workspace})
        return bool(rows) and str(rows[0][0]).lower() == "true"


def _directories(uri: str) -> list[str]:
    """`uri` and each directory above it: `s3://b/1/r/a.txt` gives `s3://b/1/r/a.txt`,
    `s3://b/1/r`, `s3://b/1`, `s3://b`, ... (locations are kept without a trailing /)."""
    parts = uri.rstrip("/").split("/")
    return ["/".join(parts[:n]) for n in range(len(parts), 0, -1) if parts[n - 1]]


def _last_number(directory: str) -> int | None:
    last = directory.rsplit("/", 1)[-1]
    if not (last.isascii() and last.isdigit()) or len(last) > 10:
        return None
    number = int(last)
    return number if number <= MAX_EXPERIMENT_ID else None


def _longest(rows: list[tuple[object, object]], prefixes: list[str]) -> str | None:
    order = {prefix: rank for rank, prefix in enumerate(prefixes)}  # longest first
    found = [(order[str(loc).rstrip("/")], str(id_)) for id_, loc in rows
             if str(loc).rstrip("/") in order]  # fmt: skip
    return min(found)[1] if found else None
