"""The Prompts pages in a real browser, over prompts the mlflow 3.17.2 client registered: the
list (and an experiment's tab), a prompt's aliases, two versions side by side with their
differences marked, and the traces that used each version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.interop.conftest import run_mlflow_code
from tests.ui.conftest import Demo

pytestmark = pytest.mark.slow

MLFLOW_SIDE = """
import json
import mlflow
from mlflow import MlflowClient

exp = mlflow.set_experiment("prompted").experiment_id
g = mlflow.genai
g.register_prompt("support-answer", "Hello {{name}}.\\nAnswer: {{question}}\\nBe brief.",
                  commit_message="first cut")
v2 = g.register_prompt(
    "support-answer", "Hello {{name}}.\\nAnswer kindly: {{question}}\\nBe brief.\\nSign off.",
    commit_message="kinder", tags={"reviewed": "yes"})
g.register_prompt("support-chat", [{"role": "system", "content": "You help {{team}}."}])
g.set_prompt_alias("support-answer", "production", 2)

@mlflow.trace(name="answered-with-v2")
def answer():
    return "ok"

answer()
mlflow.flush_trace_async_logging()
MlflowClient().link_prompt_versions_to_trace([v2], mlflow.get_last_active_trace_id())
print(json.dumps({"experiment_id": exp, "trace_id": mlflow.get_last_active_trace_id()}))
"""


def test_the_prompts_pages(demo: Demo, page: Any, tmp_path: Path, screenshot: Any) -> None:
    seen = run_mlflow_code(MLFLOW_SIDE, tmp_path, MLFLOW_TRACKING_URI=demo.url)
    page.goto(f"{demo.url}/")
    page.get_by_role("link", name="Prompts", exact=True).click()
    page.wait_for_url(f"{demo.url}/prompts")
    table = page.locator("#prompts")
    assert "support-answer" in table.inner_text()
    assert "@production → v2" in table.inner_text()
    page.goto(f"{demo.url}/experiments/{seen['experiment_id']}/prompts")
    assert page.locator("#tab-prompts").get_attribute("aria-current") == "page"
    page.get_by_role("link", name="support-answer").click()
    page.wait_for_url(f"{demo.url}/prompts/support-answer")
    assert "@production" in page.locator("#prompt-aliases").inner_text()
    # the experiment it was registered in, by name
    registered_in = page.get_by_role("link", name="prompted", exact=True)
    assert registered_in.get_attribute("href") == f"/experiments/{seen['experiment_id']}"
    diff = page.locator("#prompt-diff")
    assert diff.locator("th").nth(0).inner_text().startswith("Version 1")
    assert diff.locator("th").nth(1).inner_text().startswith("Version 2 (@production)")
    changed = diff.locator("tr.diff-changed")
    assert changed.count() == 1
    assert "Answer kindly" in changed.inner_text()
    added = diff.locator("tr.diff-added")
    assert added.count() == 1
    assert "Sign off." in added.inner_text()
    assert diff.locator("tr.diff-same").count() == 2
    used = page.locator("#traces-2")
    assert "answered-with-v2" in used.inner_text()
    assert page.locator("#traces-1").count() == 0  # version 1: no trace used it
    page.select_option("#compare-a", "2")
    page.click("#compare-form button[type=submit]")
    assert page.locator("#prompt-diff tr.diff-same").count() == 4
    screenshot(page, "prompt")
    used.get_by_role("link").click()
    page.wait_for_url(f"{demo.url}/traces/{seen['trace_id']}")
