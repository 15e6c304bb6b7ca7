"""Loading what a replica serves: each served entity's model version fetched from the
artifact store, loaded as a scoring app, and checked on its input example before it
answers anyone (its health check)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from heron.entities.serving import EndpointConfig, ServedEntity
from heron.errors import InvalidParameter
from heron.services.artifacts import ArtifactService
from heron.services.serving_endpoints import EndpointService
from heron.serving.app import ScoringApp
from heron.serving.replica import Served, Serving
from heron.serving.server import ServeOptions, build_app
from heron.store.artifacts import paths

_log = logging.getLogger("heron.serving")


class ModelLoader:
    """Fetches and loads model versions into `directory`, keeping each version loaded as
    long as some configuration serves it."""

    def __init__(
        self,
        endpoints: EndpointService,
        artifacts: ArtifactService,
        directory: Path,
        options: ServeOptions,
    ) -> None:
        self._endpoints = endpoints
        self._artifacts = artifacts
        self._directory = directory
        self._options = options

    def serving(
        self,
        config: EndpointConfig,
        versions: Mapping[str, str],
        current: Serving | None,
    ) -> Serving:
        """What to serve for `config` with its entities at `versions`: models already
        loaded at the same version are kept, the others loaded and checked.

        Raises:
            Exception: a model cannot be fetched, loaded or answer its input example.
        """
        loaded = {} if current is None else {
            (s.entity.entity_name, s.version): s for s in current.entities.values()
        }  # fmt: skip
        entities: dict[str, Served] = {}
        for entity in config.served_entities:
            version = versions[entity.name]
            served = loaded.get((entity.entity_name, version))
            if served is None:
                served = self._load(entity, version)
            elif served.entity != entity:  # same model, renamed or resized entity
                served = Served(entity=entity, version=version, app=served.app)
            entities[entity.name] = served
        return Serving.of(config.config_version, entities, config.routes)

    def _load(self, entity: ServedEntity, version: str) -> Served:
        location = self._endpoints.model_location(entity, version)
        target = self._directory / f"{entity.entity_name}-{version}"
        if not (target / "MLmodel").exists():
            partial = target.with_name(target.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            self._fetch(location, "", partial)
            partial.rename(target)
        _log.info("Loading %s version %s from %s", entity.entity_name, version, location)
        app = build_app(replace(self._options, model_dir=str(target)))
        try:
            _check(app)
        except Exception:
            app.batcher.close()
            raise
        return Served(entity=entity, version=version, app=app)

    def _fetch(self, location: str, path: str, into: Path) -> None:
        into.mkdir(parents=True, exist_ok=True)
        for info in self._artifacts.list_all_artifacts(location, path):
            name = paths.clean(info.path.rsplit("/", 1)[-1])
            if info.is_dir:
                self._fetch(location, info.path, into / name)
                continue
            with open(into / name, "wb") as out:
                for chunk in self._artifacts.read_artifact(location, info.path):
                    out.write(chunk)


def _check(app: ScoringApp) -> None:
    """Predicts the model's input example, when it was saved with one."""
    model = app.scorer.model
    example = model.metadata.load_input_example(model.path)
    if example is None:
        return
    try:
        model.predict(example)
    except Exception as exc:
        raise InvalidParameter(
            f"The model failed its health check (predicting its input example): "
            f"{type(exc).__name__}: {exc}"
        ) from exc
