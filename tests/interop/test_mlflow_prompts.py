"""The prompt registry from MLflow 3.17.2's client against Heron: text and chat templates,
response formats and model configs, `prompts:/name/3` and `prompts:/name@alias` URIs, aliases,
tags, search, and prompts kept apart from registered models; and the same prompts read and
written by Heron's SDK (heron.genai)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import heron

pytestmark = pytest.mark.slow
RunMlflow = Callable[..., Any]


MLFLOW_SIDE = """
import json
import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

g = mlflow.genai
v1 = g.register_prompt("qa", "Answer {{question}} briefly.", commit_message="first",
                       tags={"team": "search"})
v2 = g.register_prompt("qa", "Answer {{question}} for {{audience}}.",
                       model_config={"model_name": "gpt-4o", "temperature": 0.2})
chat = g.register_prompt(
    "chatty",
    [{"role": "system", "content": "You are {{persona}}."},
     {"role": "user", "content": "{{question}}"}],
    response_format={"type": "object", "properties": {"answer": {"type": "string"}}},
)
g.set_prompt_alias("qa", "production", 1)
g.set_prompt_tag("qa", "domain", "support")
g.set_prompt_version_tag("qa", 2, "reviewed", "yes")
by_version = g.load_prompt("prompts:/qa/2")
by_alias = g.load_prompt("prompts:/qa@production")
latest = g.load_prompt("prompts:/qa@latest")
by_name = g.load_prompt("qa", version=1)
loaded_chat = g.load_prompt("prompts:/chatty/1")
found = g.search_prompts(filter_string="name LIKE 'q%'")
every = g.search_prompts()
g.delete_prompt_alias("qa", "production")
try:
    g.load_prompt("prompts:/qa@production")
    gone = "still there"
except MlflowException as exc:
    gone = exc.error_code
client = MlflowClient()
client.create_registered_model("a-real-model")
models = [m.name for m in client.search_registered_models()]
try:
    g.load_prompt("prompts:/a-real-model/1")
    not_a_prompt = "loaded"
except MlflowException as exc:
    not_a_prompt = "refused"
print(json.dumps({
    "versions": [v1.version, v2.version, chat.version],
    "by_version": by_version.format(question="why", audience="kids"),
    "variables": sorted(by_version.variables),
    "model_config": by_version.model_config,
    "by_alias": [by_alias.version, by_alias.template],
    "latest": latest.version,
    "by_name": by_name.commit_message,
    "chat": loaded_chat.format(persona="a pirate", question="where?"),
    "chat_type": loaded_chat.is_text_prompt,
    "response_format": loaded_chat.response_format,
    "found": [p.name for p in found],
    "every": sorted(p.name for p in every),
    "prompt_tags": {k: v for k, v in client.get_prompt("qa").tags.items()
                    if not k.startswith(("mlflow.", "_mlflow"))},
    "version_tags": {k: v for k, v in g.load_prompt("qa", version=2).tags.items()
                     if not k.startswith(("mlflow.", "_mlflow"))},
    "gone": gone,
    "models": models,
    "not_a_prompt": not_a_prompt,
}))
"""


def test_the_prompt_registry_from_the_mlflow_client(server: str, run_mlflow: RunMlflow) -> None:
    seen = run_mlflow(MLFLOW_SIDE, MLFLOW_TRACKING_URI=server)
    assert seen["versions"] == [1, 2, 1]
    assert seen["by_version"] == "Answer why for kids."
    assert seen["variables"] == ["audience", "question"]
    assert seen["model_config"] == {"model_name": "gpt-4o", "temperature": 0.2}
    assert seen["by_alias"] == [1, "Answer {{question}} briefly."]
    assert seen["latest"] == 2
    assert seen["by_name"] == "first"
    assert seen["chat"] == [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "where?"},
    ]
    assert seen["chat_type"] is False
    assert seen["response_format"] == {
        "type": "object",
        "properties": {"answer": {"type": "string"}},
    }
    assert seen["found"] == ["qa"]
    assert seen["every"] == ["chatty", "qa"]
    assert seen["prompt_tags"] == {"team": "search", "domain": "support"}
    assert seen["version_tags"] == {"reviewed": "yes"}
    assert seen["gone"] == "RESOURCE_DOES_NOT_EXIST"
    assert seen["models"] == ["a-real-model"]  # prompts are not models
    assert seen["not_a_prompt"] == "refused"


def test_prompts_move_both_ways_between_heron_and_mlflow(
    server: str, run_mlflow: RunMlflow
) -> None:
    heron.set_tracking_uri(server)
    text = heron.genai.register_prompt(
        "greet", "Hello {{name}}!", commit_message="first", tags={"lang": "en"}
    )
    chat = heron.genai.register_prompt(
        "greet",
        [{"role": "user", "content": "Say hello to {{name}}."}],
        response_format={"type": "string"},
        model_config={"temperature": 0.5},
    )
    heron.genai.set_prompt_alias("greet", "live", text.version)
    assert (text.version, chat.version) == (1, 2)
    assert text.format(name="Ann") == "Hello Ann!"
    with pytest.raises(heron.errors.InvalidParameter, match="name"):
        text.format()
    seen = run_mlflow(
        """
import json
import mlflow
g = mlflow.genai
live = g.load_prompt("prompts:/greet@live")
latest = g.load_prompt("prompts:/greet/2")
made = g.register_prompt("from-mlflow", "Bye {{who}}", commit_message="by mlflow")
g.set_prompt_alias("from-mlflow", "stable", 1)
print(json.dumps({"live": live.format(name="Bo"), "latest": latest.format(name="Cy"),
                  "config": latest.model_config, "format": latest.response_format,
                  "message": live.commit_message}))
""",
        MLFLOW_TRACKING_URI=server,
    )
    assert seen == {
        "live": "Hello Bo!",
        "latest": [{"role": "user", "content": "Say hello to Cy."}],
        "config": {"temperature": 0.5},
        "format": {"type": "string"},
        "message": "first",
    }
    made = heron.genai.load_prompt("prompts:/from-mlflow@stable")
    assert (made.version, made.commit_message, made.format(who="Dee")) == (
        1,
        "by mlflow",
        "Bye Dee",
    )
    assert heron.genai.load_prompt("from-mlflow").version == 1
    assert heron.genai.load_prompt("greet", version="live").version == 1
    found = heron.genai.search_prompts("name LIKE 'gr%'")
    assert [(p.name, p.tags, p.aliases) for p in found] == [
        ("greet", {"lang": "en"}, {"live": "1"})
    ]
    assert sorted(p.name for p in heron.genai.search_prompts()) == ["from-mlflow", "greet"]
    with pytest.raises(heron.errors.NotFound):
        heron.genai.load_prompt("prompts:/greet/9")
