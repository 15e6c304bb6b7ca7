"""The prompt registry from Heron's SDK: register_prompt, load_prompt, search_prompts and
aliases, stored as MLflow stores them (registered models and versions with prompt tags), so
prompts move both ways between Heron's SDK and MLflow's client.

    v = heron.genai.register_prompt("qa", "Answer {{question}} briefly.")
    heron.genai.set_prompt_alias("qa", "production", v.version)
    heron.genai.load_prompt("prompts:/qa@production").format(question="why?")
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from heron.client.client import HeronClient
from heron.client.fluent.state import active_experiment_id, tracking_client
from heron.entities import reserved
from heron.entities.prompt import (
    EXPERIMENT_IDS,
    SOURCE_PLACEHOLDER,
    Prompt,
    PromptVersion,
    Template,
    is_prompt,
    prompt_of,
    version_of,
    version_tags,
)
from heron.errors import InvalidParameter, NotFound

_URI = re.compile(r"prompts:/([^/@]+)(?:/(\d+)|@([\w-]+))?")
_NAME = re.compile(r"[a-zA-Z0-9_.\-]+")  # MLflow's rule for prompt names
_IS_PROMPT = f"tags.`{reserved.IS_PROMPT}` = 'true'"


def register_prompt(
    name: str,
    template: Template,
    *,
    commit_message: str | None = None,
    tags: Mapping[str, str] | None = None,
    response_format: Mapping[str, Any] | None = None,
    model_config: Mapping[str, Any] | None = None,
    client: HeronClient | None = None,
) -> PromptVersion:
    """Registers `template` as the next version of prompt `name` (creating the prompt).

    `template` is a string with {{ variables }}, or a chat: a list of {"role", "content"}
    messages. `tags` go on the version and the prompt, as MLflow's client puts them.

    Raises:
        InvalidParameter: a bad name or template, or a registered model (not a prompt) of
            that name.
    """
    client = client or tracking_client()
    if not _NAME.fullmatch(name):
        raise InvalidParameter(
            f"Invalid prompt name {name!r}: use letters, digits, '_', '-' and '.'"
        )
    wanted = version_tags(
        template, response_format=response_format, model_config=model_config, tags=tags
    )
    try:
        model = client.get_registered_model(name)
    except NotFound:
        model = client.create_registered_model(
            name, tags={reserved.IS_PROMPT: "true", **(tags or {})}, description=commit_message
        )
    else:
        if not is_prompt(model):
            raise InvalidParameter(
                f"{name!r} is a registered model, not a prompt: choose another name"
            )
        for key, value in (tags or {}).items():
            client.set_registered_model_tag(name, key, value)
    created = client.create_model_version(
        name, SOURCE_PLACEHOLDER, tags=wanted, description=commit_message
    )
    _link_to_experiment(client, name, model.tags.get(EXPERIMENT_IDS, ""))
    return version_of(created)


def _link_to_experiment(client: HeronClient, name: str, linked: str) -> None:
    """MLflow compat: a prompt lists the experiments it was registered in (",1,2,")."""
    experiment_id = active_experiment_id(client)
    if f",{experiment_id}," not in linked:
        client.set_registered_model_tag(name, EXPERIMENT_IDS, f"{linked or ','}{experiment_id},")


def load_prompt(
    name_or_uri: str, *, version: int | str | None = None, client: HeronClient | None = None
) -> PromptVersion:
    """A prompt version by URI (`prompts:/qa/3`, `prompts:/qa@production`, `prompts:/qa`
    for the latest) or by name and `version` (a number or an alias; the latest when None).

    Raises:
        NotFound: no such prompt, version or alias.
        InvalidParameter: a malformed URI, or a name that is a model, not a prompt.
    """
    client = client or tracking_client()
    name, ref = _reference(name_or_uri, version)
    model = client.get_registered_model(name)
    if not is_prompt(model):
        raise InvalidParameter(f"{name!r} is a registered model, not a prompt")
    if ref.isdigit():
        return version_of(client.get_model_version(name, ref))
    return version_of(client.get_model_version_by_alias(name, ref))


def _reference(name_or_uri: str, version: int | str | None) -> tuple[str, str]:
    if name_or_uri.startswith("prompts:"):
        match = _URI.fullmatch(name_or_uri)
        if match is None or version is not None:
            raise InvalidParameter(
                f"Invalid prompt URI {name_or_uri!r}: use prompts:/<name>/<version>, "
                "prompts:/<name>@<alias> or prompts:/<name>"
            )
        return match.group(1), match.group(2) or match.group(3) or "latest"
    return name_or_uri, "latest" if version is None else str(version)


def search_prompts(
    filter_string: str | None = None,
    *,
    max_results: int = 100,
    client: HeronClient | None = None,
) -> list[Prompt]:
    """Prompts (not registered models) matching `filter_string`, e.g. `name LIKE 'qa%'` or
    `tags.team = 'search'`, up to `max_results`."""
    client = client or tracking_client()
    text = _IS_PROMPT if not filter_string else f"{filter_string} AND {_IS_PROMPT}"
    found: list[Prompt] = []
    token: str | None = None
    while len(found) < max_results:
        page = client.search_registered_models(
            text, max_results=min(max_results - len(found), 1000), page_token=token
        )
        found.extend(prompt_of(m) for m in page if is_prompt(m))
        token = page.next_page_token
        if not token:
            break
    return found


def set_prompt_alias(
    name: str, alias: str, version: int | str, *, client: HeronClient | None = None
) -> None:
    """Points `alias` at `version` of the prompt (moving it from another version)."""
    (client or tracking_client()).set_registered_model_alias(name, alias, str(version))


def delete_prompt_alias(name: str, alias: str, *, client: HeronClient | None = None) -> None:
    (client or tracking_client()).delete_registered_model_alias(name, alias)


__all__ = [
    "Prompt",
    "PromptVersion",
    "delete_prompt_alias",
    "load_prompt",
    "register_prompt",
    "search_prompts",
    "set_prompt_alias",
]
