"""Heron's registry routes: a model version's activity log, comments and lineage; the
delivery log of a webhook."""

from __future__ import annotations

from heron import mlflow_json
from heron.entities.registry import ModelLineage, ModelVersionEvent, WebhookDelivery
from heron.server.wire import Endpoints, Fields, Json
from heron.services.access import requires
from heron.services.registry import RegistryService
from heron.services.registry_webhooks import WebhookService
from heron.web.routes import PolicyRoute


def event(e: ModelVersionEvent) -> Json:
    return {
        "event_id": e.event_id,
        "name": e.name,
        "version": e.version,
        "timestamp": e.timestamp,
        "user_id": e.user_id,
        "kind": e.kind,
        "detail": dict(e.detail),
    }


def lineage(chain: ModelLineage) -> Json:
    body: Json = {"model_version": mlflow_json.model_version(chain.model_version)}
    if chain.logged_model is not None:
        m = chain.logged_model
        body["logged_model"] = {
            "model_id": m.model_id,
            "name": m.name,
            "artifact_location": m.artifact_location,
            "experiment_id": m.experiment_id,
            "source_run_id": m.source_run_id,
        }
    if chain.run is not None:
        body["run"] = mlflow_json.run_info(chain.run)
    if chain.dataset_inputs:
        body["dataset_inputs"] = [mlflow_json.dataset_input(d) for d in chain.dataset_inputs]
    if chain.experiment is not None:
        body["experiment"] = mlflow_json.experiment(chain.experiment)
    return body


def delivery(d: WebhookDelivery) -> Json:
    return {
        "delivery_id": d.delivery_id,
        "attempt": d.attempt,
        "webhook_id": d.webhook_id,
        "entity": d.entity,
        "action": d.action,
        "timestamp": d.timestamp,
        "success": d.success,
        "status_code": d.status_code,
        "error": d.error,
    }


def routes(api: Endpoints, service: RegistryService, webhooks: WebhookService) -> list[PolicyRoute]:
    def activity(f: Fields) -> Json:
        events = service.list_model_version_activity(
            f.required_string("name"), f.required_string("version")
        )
        return {"events": [event(e) for e in events]}

    def comment(f: Fields) -> Json:
        added = service.add_model_version_comment(
            f.required_string("name"), f.required_string("version"), f.required_string("comment")
        )
        return {"event": event(added)}

    def get_lineage(f: Fields) -> Json:
        chain = service.get_model_version_lineage(
            f.required_string("name"), f.required_string("version")
        )
        return lineage(chain)

    def deliveries(f: Fields) -> Json:
        found = webhooks.list_deliveries(f.required_string("webhook_id"))
        return {"deliveries": [delivery(d) for d in found]}

    read_model = requires("read", "registered_model", "name")
    return [
        api.get("/webhooks/deliveries", deliveries, requires("read", "webhook", "webhook_id")),
        api.get("/model-versions/lineage", get_lineage, read_model),
        api.get("/model-versions/activity", activity, read_model),
        api.post("/model-versions/comments", comment, read_model),  # readers may comment
    ]
