"""The registry's forms: register a model from a run, and a model's description, tags and
aliases, and its deletion, each through the registry service (so the same checks and
permissions as the API's)."""

from __future__ import annotations

import urllib.parse

from starlette.requests import Request
from starlette.routing import BaseRoute

from heron.errors import InvalidParameter, NotFound
from heron.services.access import requires
from heron.services.registry import RegistryService
from heron.ui.rendering import Form, Renderer, field


def _page(name: str, anchor: str = "") -> str:
    return f"/models/{urllib.parse.quote(name, safe='')}{anchor}"


def routes(renderer: Renderer, registry: RegistryService) -> list[BaseRoute]:
    def register(request: Request, form: Form) -> str:
        name, run_id = field(form, "name").strip(), field(form, "run_id").strip()
        if not run_id:
            raise InvalidParameter("Give the run whose model to register")
        try:
            registry.get_registered_model(name)
        except NotFound:
            registry.create_registered_model(name)
        path = field(form, "path").strip().strip("/")
        made = registry.create_model_version(name, f"runs:/{run_id}/{path}", run_id=run_id)
        return f"{_page(name)}/versions/{made.version}"

    def describe(request: Request, form: Form) -> str:
        name = request.path_params["name"]
        registry.update_registered_model(name, description=field(form, "description"))
        return _page(name)

    def set_tag(request: Request, form: Form) -> str:
        name = request.path_params["name"]
        registry.set_registered_model_tag(name, field(form, "key"), field(form, "value"))
        return _page(name, "#tags")

    def delete_tag(request: Request, form: Form) -> str:
        name = request.path_params["name"]
        registry.delete_registered_model_tag(name, field(form, "key"))
        return _page(name, "#tags")

    def set_alias(request: Request, form: Form) -> str:
        name = request.path_params["name"]
        registry.set_registered_model_alias(name, field(form, "alias"), field(form, "version"))
        return _page(name, "#aliases")

    def delete_alias(request: Request, form: Form) -> str:
        name = request.path_params["name"]
        registry.delete_registered_model_alias(name, field(form, "alias"))
        return _page(name, "#aliases")

    def delete(request: Request, form: Form) -> str:
        registry.delete_registered_model(request.path_params["name"])
        return "/models"

    one = "/ui/models/{name}"
    updates = requires("update", "registered_model", "name")
    return [
        renderer.post("/ui/models/register", register, requires("create", "registered_model")),
        renderer.post(f"{one}/description", describe, updates),
        renderer.post(f"{one}/tags", set_tag, updates),
        renderer.post(f"{one}/tags/delete", delete_tag, updates),
        renderer.post(f"{one}/aliases", set_alias, updates),
        renderer.post(f"{one}/aliases/delete", delete_alias, updates),
        renderer.post(f"{one}/delete", delete, requires("delete", "registered_model", "name")),
    ]
