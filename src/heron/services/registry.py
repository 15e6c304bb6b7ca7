"""Model registry rules: registered models, versions, aliases, legacy stages, activity."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from heron.entities import Page, reserved
from heron.entities.registry import (
    LineageModel,
    ModelLineage,
    ModelVersion,
    ModelVersionEvent,
    ModelVersionStage,
    RegisteredModel,
)
from heron.errors import InvalidParameter, NotFound
from heron.search import registry as registry_search
from heron.services import validation as v
from heron.services.access import Action, Authorizer, authorize, created, listing
from heron.services.changes import changed, changed_field, noting
from heron.services.registry_namespaces import split_three_level
from heron.services.registry_rules import (
    SourceResolver,
    check_alias,
    check_description,
    check_model_name,
    check_tag,
    check_tags,
    check_version,
    is_prompt_version,
    prompt_source,
)
from heron.store.experiments import ExperimentStore
from heron.store.registry import (
    ModelSourceStore,
    ModelVersionStore,
    NamespaceStore,
    NewModelVersion,
    RegisteredModelStore,
    RegistryQuery,
)
from heron.store.runs import RunStore

MAX_MODEL_SEARCH = 1000
MAX_VERSION_SEARCH = 200_000
MAX_COMMENT = 10_000
MAX_JOB_ID = 36


class TagGuard(Protocol):
    """Asks more of whoever sets or deletes some version tags: the tag an approval task of
    the model's deployment job reads (MLflow's way to approve) needs PROMOTE."""

    def check_tag(self, name: str, version: str, key: str) -> None:
        """Returns when the caller may set or delete tag `key`; raises PermissionDenied."""
        ...


class RegistryService:
    def __init__(
        self,
        models: RegisteredModelStore,
        versions: ModelVersionStore,
        sources: ModelSourceStore,
        authorizer: Authorizer,
        *,
        artifact_roots: Sequence[str],
        runs: RunStore | None = None,
        experiments: ExperimentStore | None = None,
        namespaces: NamespaceStore | None = None,
        tag_guard: TagGuard | None = None,
    ) -> None:
        self._models = models
        self._versions = versions
        self._sources = sources
        self._runs = runs
        self._experiments = experiments
        self._namespaces = namespaces
        self._authorizer = authorizer
        self._tag_guard = tag_guard
        self._resolver = SourceResolver(sources, artifact_roots, self._version_or_alias)

    def _check(self, action: Action, name: str) -> str | None:
        return authorize(self._authorizer, action, "registered_model", name).name

    def _promote(self, name: str, alias: str) -> str:
        """Moving an alias is PROMOTE, which a grant may limit to some aliases."""
        return authorize(self._authorizer, "promote", "model_alias", f"{name}@{alias}").name

    # Registered models

    def create_registered_model(
        self,
        name: str,
        *,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
        deployment_job_id: str | None = None,
    ) -> RegisteredModel:
        """`deployment_job_id`: the deployment job each new version runs (NotFound when no
        job has that id)."""
        check_model_name(name)
        self._require_namespace(name)
        actor = self._check("create", name)
        made = self._models.create_registered_model(
            name,
            tags=check_tags("Registered model tag", tags),
            description=check_description(description),
            actor=actor,
            deployment_job_id=_job_id(deployment_job_id) or None,
        )
        created(self._authorizer, "prompt" if is_prompt_version(tags) else "registered_model", name)
        changed("registered_model", name, after={"name": name, "description": made.description})
        return made

    def get_registered_model(self, name: str) -> RegisteredModel:
        check_model_name(name)
        self._check("read", name)
        return self._models.get_registered_model(name)

    def search_registered_models(
        self,
        *,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        parsed = registry_search.parse_registered_model_filter(filter_string)
        prompts = _asks_for_prompts(parsed)
        query = RegistryQuery(
            filter=parsed,
            order_by=registry_search.parse_registered_model_order_by(list(order_by or [])),
            max_results=v.check_max_results(max_results, MAX_MODEL_SEARCH),
            page_token=page_token or None,
            include_prompts=prompts,
            visible=listing(self._authorizer, "prompt" if prompts else "registered_model"),
        )
        return self._models.search_registered_models(query)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        check_model_name(name)
        check_model_name(new_name, "new_name")
        self._require_namespace(new_name)
        self._check("update", name)
        self._check("create", new_name)
        renamed = self._models.rename_registered_model(name, new_name)
        self._authorizer.renamed("registered_model", name, new_name)
        changed("registered_model", new_name, before={"name": name}, after={"name": new_name})
        return renamed

    def update_registered_model(
        self, name: str, description: str | None = None, *, deployment_job_id: str | None = None
    ) -> RegisteredModel:
        """Sets the description; with `deployment_job_id`, attaches that deployment job (''
        detaches it) and leaves the description alone unless it is given too."""
        check_model_name(name)
        self._check("update", name)
        job = _job_id(deployment_job_id)
        before = self._model_before(name)
        updated = self._models.update_registered_model(
            name,
            description=check_description(description),
            set_description=job is None or description is not None,
            deployment_job_id=job or None,
            set_deployment_job=job is not None,
        )
        if before is not None:
            changed_field(
                "registered_model", name, "description", before.description, updated.description
            )
        return updated

    def delete_registered_model(self, name: str) -> None:
        check_model_name(name)
        self._check("delete", name)
        before = self._model_before(name)
        self._models.delete_registered_model(name)
        self._authorizer.removed("registered_model", name)
        if before is not None:
            changed(
                "registered_model", name, before={"name": name, "aliases": dict(before.aliases)}
            )

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        check_model_name(name)
        check_tag("Registered model tag", key, value)
        self._check("update", name)
        before = self._model_before(name)
        self._models.set_registered_model_tag(name, key, value)
        if before is not None:
            changed_field("registered_model", name, f"tags.{key}", before.tags.get(key), value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        check_model_name(name)
        v.check_string("key", key)
        self._check("update", name)
        before = self._model_before(name)
        self._models.delete_registered_model_tag(name, key)
        if before is not None:
            changed_field("registered_model", name, f"tags.{key}", before.tags.get(key), None)

    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None:
        check_model_name(name)
        check_alias(alias)
        version = check_version(version)
        actor = self._promote(name, alias)
        before = self._model_before(name)
        self._models.set_registered_model_alias(name, alias, version, actor=actor)
        if before is not None:
            changed_field(
                "registered_model", name, f"aliases.{alias}", before.aliases.get(alias), version
            )

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        check_model_name(name)
        v.check_string("alias", alias)
        actor = self._promote(name, alias)
        before = self._model_before(name)
        self._models.delete_registered_model_alias(name, alias, actor=actor)
        if before is not None:
            changed_field(
                "registered_model", name, f"aliases.{alias}", before.aliases.get(alias), None
            )

    def _model_before(self, name: str) -> RegisteredModel | None:
        """The model as it is, when its changes are noted for the audit log."""
        return self._models.get_registered_model(name) if noting() else None

    def _version_before(self, name: str, version: str) -> ModelVersion | None:
        return self._versions.get_model_version(name, version) if noting() else None

    def _version_changed(
        self, before: ModelVersion | None, after: ModelVersion | None, *fields: str
    ) -> None:
        if before is not None:
            changed(
                "model_version",
                f"{before.name}/{before.version}",
                before={f: str(getattr(before, f)) for f in fields},
                after=None if after is None else {f: str(getattr(after, f)) for f in fields},
            )

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        check_model_name(name)
        self._check("read", name)
        return self._models.get_latest_versions(name, [_stage(s) for s in stages or ()])

    # Model versions

    def create_model_version(
        self,
        name: str,
        source: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        check_model_name(name)
        actor = self._check("update", name)
        if run_id:
            v.check_run_reference("run_id", run_id)
        if model_id:
            v.check_model_reference("model_id", model_id)
        if is_prompt_version(tags):
            resolved = prompt_source(source, run_id or None)
        else:
            resolved = self._resolver.resolve(source, run_id or None, model_id or None)
            # A version reads its files from its source: the caller must be able to read it.
            authorize(self._authorizer, "read", "artifact", resolved.storage_location)
        made = self._versions.create_model_version(
            name,
            NewModelVersion(
                source=source,
                storage_location=resolved.storage_location,
                run_id=resolved.run_id,
                run_link=run_link or None,
                model_id=resolved.model_id,
                description=check_description(description),
                tags=check_tags("Model version tag", tags),
            ),
            actor=actor,
        )
        changed(
            "model_version",
            f"{name}/{made.version}",
            after={"source": source, "run_id": made.run_id, "model_id": made.model_id},
        )
        return made

    def get_model_version(self, name: str, version: str) -> ModelVersion:
        check_model_name(name)
        version = check_version(version)
        self._check("read", name)
        return self._versions.get_model_version(name, version)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        check_model_name(name)
        v.check_string("alias", alias)
        self._check("read", name)
        if alias.lower() == "latest":
            # MLflow compat: the reserved alias names the highest version (prompts:/x@latest).
            versions = self._models.get_latest_versions(name, [])
            if not versions:
                raise NotFound(f"Latest version not found for model {name}.")
            return max(versions, key=lambda found: int(found.version))
        return self._versions.get_model_version_by_alias(name, alias)

    def get_model_version_download_uri(self, name: str, version: str) -> str:
        found = self.get_model_version(name, version)
        if not found.storage_location:
            raise InvalidParameter(
                f"Version {found.version} of {name!r} is a prompt version: it has no files "
                "to download (its template is its mlflow.prompt.text tag)"
            )
        return found.storage_location

    def search_model_versions(
        self,
        *,
        filter_string: str | None = None,
        max_results: int = MAX_VERSION_SEARCH,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        parsed = registry_search.parse_model_version_filter(filter_string)
        query = RegistryQuery(
            filter=parsed,
            order_by=registry_search.parse_model_version_order_by(list(order_by or [])),
            max_results=v.check_max_results(max_results, MAX_VERSION_SEARCH),
            page_token=page_token or None,
            include_prompts=_asks_for_prompts(parsed),
            visible=listing(self._authorizer, "model_version"),
        )
        return self._versions.search_model_versions(query)

    def update_model_version(
        self, name: str, version: str, description: str | None = None
    ) -> ModelVersion:
        check_model_name(name)
        version = check_version(version)
        actor = self._check("update", name)
        before = self._version_before(name, version)
        updated = self._versions.update_model_version(
            name, version, description=check_description(description), actor=actor
        )
        self._version_changed(before, updated, "description")
        return updated

    def transition_model_version_stage(
        self, name: str, version: str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Legacy stages (None, Staging, Production, Archived); aliases replace them."""
        check_model_name(name)
        version = check_version(version)
        target = _stage(stage)
        if archive_existing_versions and target not in (
            ModelVersionStage.STAGING,
            ModelVersionStage.PRODUCTION,
        ):
            raise InvalidParameter(
                f"Model version transition cannot archive existing model versions because "
                f"'{target}' is not an Active stage. Valid stages are Staging and Production."
            )
        actor = self._check("promote", name)
        before = self._version_before(name, version)
        moved = self._versions.transition_model_version_stage(
            name,
            version,
            target,
            archive_existing_versions=archive_existing_versions,
            actor=actor,
        )
        self._version_changed(before, moved, "current_stage")
        return moved

    def delete_model_version(self, name: str, version: str) -> None:
        check_model_name(name)
        version = check_version(version)
        self._check("delete", name)
        before = self._version_before(name, version)
        self._versions.delete_model_version(name, version)
        self._version_changed(before, None, "source", "current_stage")

    def set_model_version_tag(self, name: str, version: str, key: str, value: str) -> None:
        check_model_name(name)
        version = check_version(version)
        check_tag("Model version tag", key, value)
        actor = self._check("update", name)
        if self._tag_guard is not None:
            self._tag_guard.check_tag(name, version, key)
        self._versions.set_model_version_tag(name, version, key, value, actor=actor)

    def delete_model_version_tag(self, name: str, version: str, key: str) -> None:
        check_model_name(name)
        version = check_version(version)
        v.check_string("key", key)
        actor = self._check("update", name)
        if self._tag_guard is not None:
            self._tag_guard.check_tag(name, version, key)
        self._versions.delete_model_version_tag(name, version, key, actor=actor)

    # Activity

    def list_model_version_activity(self, name: str, version: str) -> list[ModelVersionEvent]:
        check_model_name(name)
        version = check_version(version)
        self._check("read", name)
        return self._versions.list_model_version_events(name, version)

    def add_model_version_comment(self, name: str, version: str, comment: str) -> ModelVersionEvent:
        check_model_name(name)
        version = check_version(version)
        text = v.check_string("comment", comment)
        if not text.strip():
            raise InvalidParameter("Missing value for required parameter 'comment'")
        v.check_length("Comment", text, MAX_COMMENT)
        actor = self._check("annotate", name)
        return self._versions.add_model_version_event(
            name, version, "comment", {"comment": text}, actor=actor
        )

    def _require_namespace(self, name: str) -> None:
        """A `catalog.schema.model` name needs its schema to exist."""
        parts = split_three_level(name)
        if parts is not None and self._namespaces is not None:
            self._namespaces.get_schema(parts[0], parts[1])

    # Lineage

    def get_model_version_lineage(self, name: str, version: str) -> ModelLineage:
        """The chain behind a version: its LoggedModel, the run that produced it, the
        datasets that run used, and the experiment. Links that are gone are left out."""
        model_version = self.get_model_version(name, version)
        found = (
            self._sources.find_logged_model(model_version.model_id)
            if model_version.model_id
            else None
        )
        logged_model = None
        if found is not None:
            logged_model = LineageModel(
                model_id=found.model_id,
                name=found.name,
                artifact_location=found.artifact_location,
                experiment_id=found.experiment_id,
                source_run_id=found.source_run_id,
            )
        run_id = model_version.run_id or (found.source_run_id if found else None)
        run = None
        if run_id and self._runs is not None:
            with contextlib.suppress(NotFound):
                run = self._runs.get_run(run_id)
        experiment_id = run.info.experiment_id if run else (found.experiment_id if found else None)
        experiment = None
        if experiment_id and self._experiments is not None:
            with contextlib.suppress(NotFound):
                experiment = self._experiments.get_experiment(experiment_id)
        return ModelLineage(
            model_version=model_version,
            logged_model=logged_model,
            run=run.info if run else None,
            dataset_inputs=tuple(run.dataset_inputs) if run else (),
            experiment=experiment,
        )

    def _version_or_alias(self, name: str, version: str) -> ModelVersion:
        """`version` is a number, "latest", or "@alias" (from a models:/ source URI)."""
        if version.startswith("@"):
            return self.get_model_version_by_alias(name, version[1:])
        if version == "latest":
            latest = max(self.get_latest_versions(name), key=lambda m: int(m.version), default=None)
            if latest is None:
                raise InvalidParameter(f"Registered model {name!r} has no versions")
            return latest
        return self.get_model_version(name, version)


def _job_id(job_id: object) -> str | None:
    """A deployment job id as the wire gives it ('' detaches); None when not given."""
    if job_id is None:
        return None
    return v.check_length("deployment_job_id", v.check_string("deployment_job_id", job_id),
                          MAX_JOB_ID)  # fmt: skip


def _stage(stage: str) -> ModelVersionStage:
    """A legacy stage by name, in any case (MLflow's spelling comes back)."""
    for known in ModelVersionStage:
        if isinstance(stage, str) and stage.lower() == known.value.lower():
            return known
    names = ", ".join(s.value for s in ModelVersionStage)
    raise InvalidParameter(f"Invalid Model Version stage: {stage!r}. Value must be one of {names}.")


def _asks_for_prompts(filter_: Sequence[Any]) -> bool:
    """MLflow compat: prompts appear only when the filter asks for them by their tag."""
    for c in filter_:
        if c.entity == "tag" and c.key == reserved.IS_PROMPT and isinstance(c.value, str):
            value = c.value.lower()
            return (c.op == "=" and value == "true") or (c.op == "!=" and value == "false")
    return False
