"""Logged models (with their files and the runs that made them) and the registry: registered
models and prompts, with versions (their sources pointed at the copies), aliases and tags."""

from __future__ import annotations

from heron.entities import LoggedModel, LoggedModelOutput, LoggedModelStatus, reserved
from heron.entities.registry import ModelVersion
from heron.errors import NotFound
from heron.transfer.base import SOURCE_MODEL, SOURCE_VERSION, Transfer, every


class LoggedModels:
    name = "logged models"

    def copy(self, transfer: Transfer) -> None:
        found = {
            source_id: every(transfer.source.search_logged_models, experiment_ids=[source_id])
            for source_id in transfer.experiments
        }
        transfer.progress.start(self.name, sum(map(len, found.values())))
        for source_id, models in found.items():
            target_experiment = transfer.experiments[source_id]
            there = {
                m.tags[SOURCE_MODEL]: m
                for m in every(
                    transfer.target.search_logged_models, experiment_ids=[target_experiment]
                )
                if SOURCE_MODEL in m.tags
            }
            for model in models:
                copy = there.get(model.model_id)
                if copy is None:
                    copy = self._copy_model(transfer, model, target_experiment)
                transfer.models[model.model_id] = copy.model_id
                transfer.artifact_uris[model.artifact_location] = copy.artifact_location
                transfer.count(self.name, copied=model.model_id not in there)
        self._link_outputs(transfer)

    @staticmethod
    def _copy_model(transfer: Transfer, model: LoggedModel, experiment_id: str) -> LoggedModel:
        target = transfer.target
        copy = target.create_logged_model(
            experiment_id,
            name=model.name,
            source_run_id=transfer.runs.get(model.source_run_id or ""),
            tags={**model.tags, SOURCE_MODEL: model.model_id},
            params=dict(model.params),
            model_type=model.model_type,
        )
        transfer.copy_files(model.artifact_location, copy.artifact_location)
        if model.status != LoggedModelStatus.PENDING:
            copy = target.finalize_logged_model(copy.model_id, model.status)
        return copy

    @staticmethod
    def _link_outputs(transfer: Transfer) -> None:
        """The runs' outputs (which run produced which model), on the copies."""
        for source_run, target_run in transfer.runs.items():
            run = transfer.source.get_run(source_run)
            outputs = [
                LoggedModelOutput(model_id=transfer.models[o.model_id], step=o.step)
                for o in run.model_outputs
                if o.model_id in transfer.models
            ]
            if outputs:
                transfer.target.log_outputs(target_run, outputs)


class RegisteredModels:
    """Registered models and prompts (registered models tagged `mlflow.prompt.is_prompt`,
    which MLflow's search leaves out unless asked for), matched by name."""

    name = "registered models"

    def copy(self, transfer: Transfer) -> None:
        source = transfer.source
        models = {m.name: m for m in every(source.search_registered_models, max_results=1000)}
        prompts = every(
            source.search_registered_models,
            filter_string=f"tags.`{reserved.IS_PROMPT}` = 'true'",
            max_results=1000,
        )
        models.update({m.name: m for m in prompts})
        transfer.progress.start(self.name, len(models))
        for name, model in sorted(models.items()):
            try:
                there = transfer.target.get_registered_model(name)
                copied = False
            except NotFound:
                there = transfer.target.create_registered_model(
                    name, tags=dict(model.tags), description=model.description
                )
                copied = True
            for key, value in model.tags.items():
                if there.tags.get(key) != value:
                    transfer.target.set_registered_model_tag(name, key, value)
            numbers = self._copy_versions(
                transfer, name, model.tags.get(reserved.IS_PROMPT) == "true"
            )
            for alias, version in model.aliases.items():
                if version in numbers and there.aliases.get(alias) != numbers[version]:
                    transfer.target.set_registered_model_alias(name, alias, numbers[version])
            transfer.count(self.name, copied=copied)

    def _copy_versions(self, transfer: Transfer, name: str, prompt: bool) -> dict[str, str]:
        """Copies the versions the target lacks; returns source version -> target version."""
        query = f"name = '{_quoted(name)}'"
        if prompt:  # MLflow's search leaves prompt versions out unless asked for them
            query += f" AND tags.`{reserved.IS_PROMPT}` = 'true'"
        there = {
            v.tags[SOURCE_VERSION]: v.version
            for v in every(transfer.target.search_model_versions, filter_string=query)
            if SOURCE_VERSION in v.tags
        }
        versions = every(transfer.source.search_model_versions, filter_string=query)
        for version in sorted(versions, key=lambda v: int(v.version)):
            if version.version not in there:
                there[version.version] = self._copy_version(transfer, version).version
        return there

    @staticmethod
    def _copy_version(transfer: Transfer, version: ModelVersion) -> ModelVersion:
        return transfer.target.create_model_version(
            version.name,
            source=_mapped_source(transfer, version.source),
            run_id=transfer.runs.get(version.run_id or ""),
            tags={**version.tags, SOURCE_VERSION: version.version},
            description=version.description,
            model_id=transfer.models.get(version.model_id or ""),
        )


def _mapped_source(transfer: Transfer, source: str) -> str:
    """A version's source pointed at the copies: `runs:/<id>/…`, `models:/<id>`, or a URI
    under a copied run's or logged model's artifact root; any other source as it is."""
    if source.startswith("models:/"):
        model_id = source[len("models:/") :].split("/", 1)[0]
        if model_id in transfer.models:
            return source.replace(model_id, transfer.models[model_id], 1)
    if source.startswith("runs:/"):
        run_id = source[len("runs:/") :].split("/", 1)[0]
        if run_id in transfer.runs:
            return source.replace(run_id, transfer.runs[run_id], 1)
    for root, copy in transfer.artifact_uris.items():
        if source == root or source.startswith(root.rstrip("/") + "/"):
            return copy + source[len(root) :]
    return source


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")
