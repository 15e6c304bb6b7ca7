"""Prompts and their versions, as MLflow keeps them: a registered model tagged
mlflow.prompt.is_prompt=true, each version a model version whose tags hold the template (text,
or a chat's messages as JSON), its kind, response format and model configuration."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from heron.entities import reserved
from heron.entities.registry import ModelVersion, RegisteredModel
from heron.errors import InvalidParameter

PROMPT_TEXT = "mlflow.prompt.text"
PROMPT_TYPE = "_mlflow_prompt_type"  # "text" or "chat"
RESPONSE_FORMAT = "_mlflow_prompt_response_format"  # JSON
MODEL_CONFIG = "_mlflow_prompt_model_config"  # JSON
EXPERIMENT_IDS = "_mlflow_experiment_ids"  # ",1,2," on the prompt: where it was registered
SOURCE_PLACEHOLDER = "dummy-source"  # a prompt version's source: it has no files
# {{ name }} or {{ a.b }}: MLflow's variables
VARIABLE = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*(?:\.[a-zA-Z_][a-zA-Z0-9_]*)*)\s*\}\}")
_HIDDEN = (reserved.IS_PROMPT, PROMPT_TEXT, PROMPT_TYPE, RESPONSE_FORMAT, MODEL_CONFIG)

Template = str | list[dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptVersion:
    """One version of a prompt. `format(**variables)` fills its {{ variables }} in."""

    name: str
    version: int
    template: Template
    commit_message: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)  # the version's own, user-set
    aliases: Sequence[str] = ()
    response_format: Mapping[str, Any] | None = None
    model_config: Mapping[str, Any] | None = None
    creation_timestamp: int = 0  # ms since epoch

    @property
    def uri(self) -> str:
        return f"prompts:/{self.name}/{self.version}"

    @property
    def is_text_prompt(self) -> bool:
        return isinstance(self.template, str)

    @property
    def variables(self) -> frozenset[str]:
        """The names of the template's {{ variables }}."""
        return frozenset(VARIABLE.findall(_text_of(self.template)))

    def format(self, *, allow_partial: bool = False, **variables: Any) -> Template:
        """The template with each {{ variable }} replaced by str(value): a string for a text
        prompt, the list of messages for a chat prompt.

        Raises:
            InvalidParameter: a variable has no value (unless `allow_partial`).
        """
        missing = sorted(self.variables - variables.keys())
        if missing and not allow_partial:
            raise InvalidParameter(
                f"Prompt {self.uri} needs values for {', '.join(missing)}; pass them to "
                "format(), e.g. format(" + ", ".join(f"{m}=..." for m in missing) + ")"
            )
        if isinstance(self.template, str):
            return _fill(self.template, variables)
        return [
            {**m, "content": _fill(m["content"], variables)}
            if isinstance(m.get("content"), str)
            else dict(m)
            for m in self.template
        ]


@dataclass(frozen=True, slots=True, kw_only=True)
class Prompt:
    """A prompt: its name, description, own tags and aliases (alias -> version)."""

    name: str
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)
    creation_timestamp: int = 0
    last_updated_timestamp: int = 0
    experiment_ids: Sequence[str] = ()


def _fill(text: str, variables: Mapping[str, Any]) -> str:
    return VARIABLE.sub(
        lambda m: str(variables[m.group(1)]) if m.group(1) in variables else m.group(0), text
    )


def _text_of(template: Template) -> str:
    if isinstance(template, str):
        return template
    return "\n".join(str(m.get("content", "")) for m in template)


def is_prompt(model: RegisteredModel) -> bool:
    return model.tags.get(reserved.IS_PROMPT, "").lower() == "true"


def prompt_of(model: RegisteredModel) -> Prompt:
    """The prompt a registered model holds (its tags less the prompt's own)."""
    ids = model.tags.get(EXPERIMENT_IDS, "")
    return Prompt(
        name=model.name,
        description=model.description,
        tags={k: v for k, v in model.tags.items() if k not in _HIDDEN and k != EXPERIMENT_IDS},
        aliases=dict(model.aliases),
        creation_timestamp=model.creation_timestamp,
        last_updated_timestamp=model.last_updated_timestamp,
        experiment_ids=tuple(i for i in ids.split(",") if i),
    )


def version_of(found: ModelVersion) -> PromptVersion:
    """The prompt version a model version holds.

    Raises:
        InvalidParameter: it is not a prompt's version.
    """
    tags = found.tags
    if reserved.IS_PROMPT not in tags or PROMPT_TEXT not in tags:
        raise InvalidParameter(
            f"Version {found.version} of {found.name!r} is a model version, not a prompt's"
        )
    text = tags[PROMPT_TEXT]
    template: Template = text
    if tags.get(PROMPT_TYPE) == "chat":
        template = _json(text, list) or text
    return PromptVersion(
        name=found.name,
        version=int(found.version),
        template=template,
        commit_message=found.description,
        tags={k: v for k, v in tags.items() if k not in _HIDDEN},
        aliases=tuple(found.aliases),
        response_format=_json(tags.get(RESPONSE_FORMAT), dict),
        model_config=_json(tags.get(MODEL_CONFIG), dict),
        creation_timestamp=found.creation_timestamp,
    )


def version_tags(
    template: Template,
    *,
    response_format: Mapping[str, Any] | None = None,
    model_config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The model version tags that hold a prompt version, as MLflow's client writes them.

    Raises:
        InvalidParameter: a template that is neither text nor a list of role/content messages.
    """
    out = dict(tags or {})
    out[reserved.IS_PROMPT] = "true"
    if isinstance(template, str):
        out[PROMPT_TYPE], out[PROMPT_TEXT] = "text", template
    elif isinstance(template, list) and all(
        isinstance(m, dict) and "role" in m and "content" in m for m in template
    ):
        out[PROMPT_TYPE], out[PROMPT_TEXT] = "chat", orjson.dumps(template).decode()
    else:
        raise InvalidParameter(
            "A prompt template is a string, or a list of messages such as "
            '[{"role": "user", "content": "Hello {{name}}"}]'
        )
    if response_format is not None:
        out[RESPONSE_FORMAT] = orjson.dumps(dict(response_format)).decode()
    if model_config is not None:
        out[MODEL_CONFIG] = orjson.dumps(dict(model_config)).decode()
    return out


def _json(text: str | None, kind: type) -> Any:
    if not text:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, kind) else None
