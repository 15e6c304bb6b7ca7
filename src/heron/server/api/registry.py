"""Heron's registry routes: a model version's activity log and comments."""

from __future__ import annotations

from starlette.routing import Route

from heron.entities.registry import ModelVersionEvent
from heron.server.wire import Endpoints, Fields, Json
from heron.services.registry import RegistryService


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


def routes(api: Endpoints, service: RegistryService) -> list[Route]:
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

    return [
        api.get("/model-versions/activity", activity),
        api.post("/model-versions/comments", comment),
    ]
