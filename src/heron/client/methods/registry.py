"""The model registry half of `HeronClient`: MLflow's `MlflowClient` registry methods."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from heron.client.backend import Backend
from heron.entities import Page
from heron.entities.registry import (
    ModelLineage,
    ModelVersion,
    ModelVersionEvent,
    RegisteredModel,
)
from heron.errors import InvalidParameter, NotFound


class RegistryMethods:
    """Mixed into `HeronClient`; `backend` is the client's backend."""

    @property
    def backend(self) -> Backend:
        raise NotImplementedError  # pragma: no cover - HeronClient provides it

    # Registered models

    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        deployment_job_id: str | None = None,
    ) -> RegisteredModel:
        """Creates a registered model, its new versions running the deployment job
        `deployment_job_id` when given. Raises AlreadyExists when the name is taken."""
        return self.backend.registry.create_registered_model(
            name, tags=_strings(tags), description=description, deployment_job_id=deployment_job_id
        )

    def get_registered_model(self, name: str) -> RegisteredModel:
        """Returns the model with its tags, aliases and latest version per stage."""
        return self.backend.registry.get_registered_model(name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        return self.backend.registry.rename_registered_model(name, new_name)

    def update_registered_model(
        self, name: str, description: str | None = None, deployment_job_id: str | None = None
    ) -> RegisteredModel:
        """Sets the description, or attaches the deployment job `deployment_job_id` (''
        detaches it; the description stays unless given too)."""
        return self.backend.registry.update_registered_model(
            name, description, deployment_job_id=deployment_job_id
        )

    def delete_registered_model(self, name: str) -> None:
        """Deletes the model with all its versions, tags and aliases (no undo)."""
        self.backend.registry.delete_registered_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        """One page of models: `name LIKE 'fraud%' AND tags.team = 'risk'`, ordered by
        `name`, `creation_timestamp` or `last_updated_timestamp` (ASC/DESC)."""
        return self.backend.registry.search_registered_models(
            filter_string=filter_string,
            max_results=max_results,
            order_by=order_by,
            page_token=page_token,
        )

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        self.backend.registry.set_registered_model_tag(name, key, str(value))

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self.backend.registry.delete_registered_model_tag(name, key)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """Legacy stages: the newest version in each of `stages` (all stages when None)."""
        return self.backend.registry.get_latest_versions(name, stages)

    # Aliases

    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        """Points `alias` at `version`, moving it from another version at once."""
        self.backend.registry.set_registered_model_alias(name, alias, str(version))

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self.backend.registry.delete_registered_model_alias(name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self.backend.registry.get_model_version_by_alias(name, alias)

    # Model versions

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        """Registers `source` (`runs:/<run_id>/<path>`, `models:/<model_id>`, or a URI inside
        the server's artifact roots) as the next version of `name`."""
        return self.backend.registry.create_model_version(
            name,
            source,
            run_id=run_id,
            tags=_strings(tags),
            run_link=run_link,
            description=description,
            model_id=model_id,
        )

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        return self.backend.registry.get_model_version(name, str(version))

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        """Where the version's files are (an artifact URI)."""
        return self.backend.registry.get_model_version_download_uri(name, str(version))

    def update_model_version(
        self, name: str, version: str | int, description: str | None = None
    ) -> ModelVersion:
        return self.backend.registry.update_model_version(name, str(version), description)

    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Legacy stages (None, Staging, Production, Archived); prefer aliases."""
        return self.backend.registry.transition_model_version_stage(
            name, str(version), stage, archive_existing_versions
        )

    def delete_model_version(self, name: str, version: str | int) -> None:
        self.backend.registry.delete_model_version(name, str(version))

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 200_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        """One page of versions: `name = 'fraud' AND run_id = '...'`, `tags.k = 'v'`,
        `source_path LIKE '...'`, `version_number > 3`."""
        return self.backend.registry.search_model_versions(
            filter_string=filter_string,
            max_results=max_results,
            order_by=order_by,
            page_token=page_token,
        )

    def set_model_version_tag(self, name: str, version: str | int, key: str, value: Any) -> None:
        self.backend.registry.set_model_version_tag(name, str(version), key, str(value))

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        self.backend.registry.delete_model_version_tag(name, str(version), key)

    def copy_model_version(self, src_model_uri: str, dst_name: str) -> ModelVersion:
        """Promotes `models:/<name>/<version>` (or `models:/<name>@<alias>`) into `dst_name`
        (created when missing) as its next version, with the same files, run and tags."""
        source = self._version_of(src_model_uri)
        try:
            self.get_registered_model(dst_name)
        except NotFound:
            self.create_registered_model(dst_name)
        return self.create_model_version(
            dst_name,
            f"models:/{source.name}/{source.version}",
            run_id=source.run_id,
            tags=source.tags,
            run_link=source.run_link,
            description=source.description,
            model_id=source.model_id,
        )

    def _version_of(self, model_uri: str) -> ModelVersion:
        rest = model_uri.removeprefix("models:/")
        name, at, alias = rest.partition("@")
        if at and name:
            return self.get_model_version_by_alias(name, alias)
        name, _, version = rest.rpartition("/")
        if not model_uri.startswith("models:/") or not name or not version:
            raise InvalidParameter(
                f"Expected models:/<name>/<version> or models:/<name>@<alias>, got {model_uri!r}"
            )
        return self.get_model_version(name, version)

    # Activity

    def get_model_version_activity(self, name: str, version: str | int) -> list[ModelVersionEvent]:
        """Everything that happened to the version (created, aliases, tags, stages,
        comments), oldest first, with who did it."""
        return self.backend.registry.list_model_version_activity(name, str(version))

    def add_model_version_comment(
        self, name: str, version: str | int, comment: str
    ) -> ModelVersionEvent:
        return self.backend.registry.add_model_version_comment(name, str(version), comment)

    # Lineage

    def get_model_version_lineage(self, name: str, version: str | int) -> ModelLineage:
        """Version -> LoggedModel -> source run -> its datasets -> experiment."""
        return self.backend.registry.get_model_version_lineage(name, str(version))


def _strings(mapping: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (mapping or {}).items()}
