"""The registry over HTTP: MLflow's /registered-models and /model-versions routes, and
Heron's own /api/2.0/heron/model-versions/* (activity, comments, lineage)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from heron import mlflow_json
from heron.client.http import wire
from heron.client.http.transport import Transport
from heron.client.http.wire import tag_dict
from heron.entities import Page
from heron.entities.registry import (
    LineageModel,
    ModelLineage,
    ModelVersion,
    ModelVersionEvent,
    ModelVersionStage,
    ModelVersionStatus,
    RegisteredModel,
)
from heron.mlflow_json import Json

API = "/api/2.0/mlflow"
HERON_API = "/api/2.0/heron"


class HttpRegistry:
    """The `RegistryApi` methods over a transport (`heron.client.http.transport.Transport`)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create_registered_model(
        self,
        name: str,
        *,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
        deployment_job_id: str | None = None,
    ) -> RegisteredModel:
        tag_list = mlflow_json.key_values(tags or {})
        body = {"name": name, "tags": tag_list, "description": description,
                "deployment_job_id": deployment_job_id}  # fmt: skip
        return registered_model_in(self._post("registered-models/create", body))

    def get_registered_model(self, name: str) -> RegisteredModel:
        return registered_model_in(self._get("registered-models/get", {"name": name}))

    def search_registered_models(
        self,
        *,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        query = _search_query(filter_string, max_results, order_by, page_token)
        body = self._t.get(f"{API}/registered-models/search", query)
        items = [registered_model_in(m) for m in body.get("registered_models", ())]
        return Page(items, body.get("next_page_token") or None)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        body = {"name": name, "new_name": new_name}
        return registered_model_in(self._post("registered-models/rename", body))

    def update_registered_model(
        self, name: str, description: str | None = None, *, deployment_job_id: str | None = None
    ) -> RegisteredModel:
        body = {"name": name, "description": description, "deployment_job_id": deployment_job_id}
        return registered_model_in(self._send("PATCH", "registered-models/update", body))

    def delete_registered_model(self, name: str) -> None:
        self._send("DELETE", "registered-models/delete", {"name": name})

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        self._t.post(f"{API}/registered-models/set-tag", {"name": name, "key": key, "value": value})

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._send("DELETE", "registered-models/delete-tag", {"name": name, "key": key})

    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None:
        body = {"name": name, "alias": alias, "version": str(version)}
        self._t.post(f"{API}/registered-models/alias", body)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._send("DELETE", "registered-models/alias", {"name": name, "alias": alias})

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        body = self._t.post(
            f"{API}/registered-models/get-latest-versions",
            {"name": name, "stages": list(stages or [])},
        )
        return [model_version_in(v) for v in body.get("model_versions", ())]

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
        body = {
            "name": name,
            "source": source,
            "run_id": run_id or None,
            "tags": mlflow_json.key_values(tags or {}),
            "run_link": run_link or None,
            "description": description,
            "model_id": model_id or None,
        }
        return model_version_in(self._post("model-versions/create", body))

    def get_model_version(self, name: str, version: str) -> ModelVersion:
        return model_version_in(
            self._get("model-versions/get", {"name": name, "version": str(version)})
        )

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        query = {"name": name, "alias": alias}
        return model_version_in(self._get("registered-models/alias", query))

    def get_model_version_download_uri(self, name: str, version: str) -> str:
        query = {"name": name, "version": str(version)}
        body = self._t.get(f"{API}/model-versions/get-download-uri", query)
        return str(body.get("artifact_uri", ""))

    def search_model_versions(
        self,
        *,
        filter_string: str | None = None,
        max_results: int = 200_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        query = _search_query(filter_string, max_results, order_by, page_token)
        body = self._t.get(f"{API}/model-versions/search", query)
        items = [model_version_in(v) for v in body.get("model_versions", ())]
        return Page(items, body.get("next_page_token") or None)

    def update_model_version(
        self, name: str, version: str, description: str | None = None
    ) -> ModelVersion:
        body = {"name": name, "version": str(version), "description": description}
        return model_version_in(self._send("PATCH", "model-versions/update", body))

    def transition_model_version_stage(
        self, name: str, version: str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        body = {
            "name": name,
            "version": str(version),
            "stage": stage,
            "archive_existing_versions": archive_existing_versions,
        }
        return model_version_in(self._post("model-versions/transition-stage", body))

    def delete_model_version(self, name: str, version: str) -> None:
        self._send("DELETE", "model-versions/delete", {"name": name, "version": str(version)})

    def set_model_version_tag(self, name: str, version: str, key: str, value: str) -> None:
        body = {"name": name, "version": str(version), "key": key, "value": value}
        self._t.post(f"{API}/model-versions/set-tag", body)

    def delete_model_version_tag(self, name: str, version: str, key: str) -> None:
        body = {"name": name, "version": str(version), "key": key}
        self._send("DELETE", "model-versions/delete-tag", body)

    def list_model_version_activity(self, name: str, version: str) -> list[ModelVersionEvent]:
        query = {"name": name, "version": str(version)}
        body = self._t.get(f"{HERON_API}/model-versions/activity", query)
        return [event_in(e) for e in body.get("events", ())]

    def add_model_version_comment(self, name: str, version: str, comment: str) -> ModelVersionEvent:
        payload = {"name": name, "version": str(version), "comment": comment}
        body = self._t.post(f"{HERON_API}/model-versions/comments", payload)
        return event_in(body["event"])

    def get_model_version_lineage(self, name: str, version: str) -> ModelLineage:
        query = {"name": name, "version": str(version)}
        return lineage_in(self._t.get(f"{HERON_API}/model-versions/lineage", query))

    def _get(self, path: str, query: Mapping[str, Any]) -> Json:
        body: Json = self._t.get(f"{API}/{path}", query)
        return body

    def _post(self, path: str, body: Mapping[str, Any]) -> Json:
        answer: Json = self._t.post(f"{API}/{path}", body)
        return answer

    def _send(self, method: str, path: str, body: Mapping[str, Any]) -> Json:
        answer: Json = self._t.send_json(method, f"{API}/{path}", body)
        return answer


def _search_query(
    filter_string: str | None,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None,
) -> dict[str, Any]:
    return {
        "filter": filter_string or None,
        "max_results": max_results,
        "order_by": list(order_by or []) or None,
        "page_token": page_token or None,
    }


def model_version_in(body: Json) -> ModelVersion:
    body = body.get("model_version", body)
    return ModelVersion(
        name=str(body.get("name", "")),
        version=str(body.get("version", "")),
        creation_timestamp=int(body.get("creation_timestamp", 0)),
        last_updated_timestamp=int(body.get("last_updated_timestamp", 0)),
        current_stage=ModelVersionStage(body.get("current_stage") or "None"),
        source=str(body.get("source", "")),
        user_id=body.get("user_id") or None,
        description=body.get("description") or None,
        run_id=body.get("run_id") or None,
        run_link=body.get("run_link") or None,
        model_id=body.get("model_id") or None,
        status=ModelVersionStatus(body.get("status") or "READY"),
        status_message=body.get("status_message") or None,
        tags=tag_dict(body.get("tags")),
        aliases=tuple(str(a) for a in body.get("aliases", ())),
        deployment_job_state=(
            mlflow_json.deployment_job_state_in(body["deployment_job_state"])
            if body.get("deployment_job_state")
            else None
        ),
    )


def registered_model_in(body: Json) -> RegisteredModel:
    body = body.get("registered_model", body)
    return RegisteredModel(
        name=str(body.get("name", "")),
        creation_timestamp=int(body.get("creation_timestamp", 0)),
        last_updated_timestamp=int(body.get("last_updated_timestamp", 0)),
        user_id=body.get("user_id") or None,
        description=body.get("description") or None,
        latest_versions=tuple(model_version_in(v) for v in body.get("latest_versions", ())),
        tags=tag_dict(body.get("tags")),
        aliases={str(a["alias"]): str(a["version"]) for a in body.get("aliases", ())},
        deployment_job_id=body.get("deployment_job_id") or None,
    )


def lineage_in(body: Json) -> ModelLineage:
    model = body.get("logged_model")
    run = body.get("run")
    experiment = body.get("experiment")
    return ModelLineage(
        model_version=model_version_in(body["model_version"]),
        logged_model=None
        if model is None
        else LineageModel(
            model_id=str(model["model_id"]),
            name=str(model.get("name", "")),
            artifact_location=str(model.get("artifact_location", "")),
            experiment_id=str(model.get("experiment_id", "")),
            source_run_id=model.get("source_run_id") or None,
        ),
        run=None if run is None else wire.run_info_in(run),
        dataset_inputs=tuple(wire.dataset_input_in(d) for d in body.get("dataset_inputs", ())),
        experiment=None if experiment is None else wire.experiment_in(experiment),
    )


def event_in(body: Json) -> ModelVersionEvent:
    return ModelVersionEvent(
        event_id=int(body.get("event_id", 0)),
        name=str(body.get("name", "")),
        version=str(body.get("version", "")),
        timestamp=int(body.get("timestamp", 0)),
        user_id=body.get("user_id") or None,
        kind=str(body.get("kind", "")),
        detail=dict(body.get("detail") or {}),
    )
