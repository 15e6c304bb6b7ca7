"""Browser-test fixtures: one real server with demo data, one headless Chromium per session.

Chromium is Debian's (`apt-get install chromium`, done by scripts/dev-setup as root), driven by
Playwright for Python; `playwright install` is never needed. Screenshots go to
ui-screenshots/ at the top of the checkout (CI keeps that folder)."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("HERON_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
SCREENSHOTS = Path(__file__).resolve().parents[2] / "ui-screenshots"


@dataclass
class Demo:
    """What the seeded server holds, for the tests to find and check."""

    url: str
    experiment_id: str
    empty_experiment_id: str
    runs: dict[str, str] = field(default_factory=dict)  # run name -> run id
    model_name: str = "demo-classifier"
    logged_model_id: str = ""


@contextmanager
def sdk_tracking(url: str) -> Iterator[None]:
    """Heron's SDK sends to `url` inside the block (the environment's tracking settings are
    set aside)."""
    import heron

    with pytest.MonkeyPatch.context() as env:
        for name in (
            "HERON_TRACKING_URI",
            "MLFLOW_TRACKING_URI",
            "HERON_EXPERIMENT_NAME",
            "MLFLOW_EXPERIMENT_NAME",
            "HERON_EXPERIMENT_ID",
            "MLFLOW_EXPERIMENT_ID",
        ):
            env.delenv(name, raising=False)  # fmt: skip
        heron.set_tracking_uri(url)
        try:
            yield
        finally:
            heron.set_tracking_uri(None)


def sign_in(page: Any, url: str, user: str, password: str) -> None:
    """Signs `user` in on the login page (a server with --auth)."""
    page.goto(f"{url}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium. A missing binary is a failure with the fix, never a skip."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/dev-setup as root (apt-get install chromium)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (cookies, storage) per test; console errors fail the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if _is_error(msg, tab.url) else None)
    tab.set_default_timeout(10_000)
    try:
        yield tab
    finally:
        context.close()
    assert not errors, f"the page logged errors: {errors}"


def _is_error(message: Any, page_url: str) -> bool:
    if message.type != "error":
        return False
    # The browser reports each script a sandboxed HTML artifact was refused (the sandbox
    # working) and the status of an error page the test asked for: neither is a fault.
    if "'allow-scripts' permission" in message.text:
        return False
    return not (
        message.text.startswith("Failed to load resource")
        and message.location.get("url") == page_url
    )


@pytest.fixture
def screenshot() -> Any:
    """`screenshot(page, "name")` saves ui-screenshots/name.png."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(tab: Any, name: str) -> None:
        tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


@pytest.fixture(scope="session")
def demo(serve_settings: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """A real server (uvicorn in a thread, SQLite) with data made through the SDK over HTTP."""
    from heron.settings import Settings

    home = tmp_path_factory.mktemp("ui-server")
    with serve_settings(Settings.for_home(home)) as url:
        yield _seed(url)


def _seed(url: str) -> Demo:
    from heron.client import HeronClient

    with HeronClient(url) as client:
        return _seed_with(client, url)


def _seed_with(client: Any, url: str) -> Demo:
    from heron.entities import Metric, Param, RunTag

    experiment_id = client.create_experiment("ui-demo")
    empty_id = client.create_experiment("empty <b>experiment</b>")
    demo = Demo(url=url, experiment_id=experiment_id, empty_experiment_id=empty_id)
    start = int(time.time() * 1000) - 3_600_000
    for i in range(8):
        run = client.create_run(experiment_id, run_name=f"run-{i}", start_time=start + i * 1000)
        run_id = run.info.run_id
        demo.runs[f"run-{i}"] = run_id
        metrics = [
            Metric(
                key="accuracy", value=0.5 + i * 0.05 - 0.3 / (s + 1), timestamp=start + s, step=s
            )
            for s in range(60)
        ]
        metrics.append(Metric(key="loss", value=1.0 / (i + 1), timestamp=start, step=0))
        client.log_batch(
            run_id,
            metrics=metrics,
            params=[
                Param(key="lr", value=str(0.1 / (i + 1))),
                Param(key="depth", value=str(i % 3)),
            ],
            tags=[RunTag(key="team", value="vision" if i % 2 else "nlp")],
        )
        client.set_terminated(
            run_id,
            "FAILED" if i == 7 else "FINISHED",
            end_time=start + i * 1000 + 5000 + i * 70_000,
        )
    parent = demo.runs["run-3"]
    for j in range(2):
        child = client.create_run(
            experiment_id,
            run_name=f"child-{j}",
            start_time=start + 100 + j,
            tags={"mlflow.parentRunId": parent},
        )
        demo.runs[f"child-{j}"] = child.info.run_id
        client.log_metric(child.info.run_id, "accuracy", 0.3 + j / 10, step=0)
    _seed_artifacts(client, demo.runs["run-1"])
    client.set_tag(
        demo.runs["run-1"],
        "mlflow.note.content",
        "# Notes\n\nThe **best** run <script>alert(1)</script>",
    )
    _seed_models(client, demo)
    return demo


def _seed_artifacts(client: Any, run_id: str) -> None:
    from PIL import Image

    client.log_text(run_id, "hello from a text file\n", "notes/readme.txt")
    client.log_dict(run_id, {"alpha": 1, "nested": {"beta": [1, 2]}}, "config.json")
    client.log_text(run_id, "a: 1\nb: [x, y]\n", "config.yaml")
    client.log_text(run_id, "name,score\nada,0.9\nbob,0.7\n", "table.csv")
    client.log_text(
        run_id, "<h1 id='inside'>Report</h1><script>parent.document.title='pwned'</script>",
        "report.html",
    )  # fmt: skip
    client.log_text(
        run_id,
        "artifact_path: model\nflavors:\n  python_function:\n    loader_module: heron.pyfunc\n"
        "signature:\n  inputs: '" + json.dumps([{"type": "double", "name": "x"}]) + "'\n"
        "  outputs: '" + json.dumps([{"type": "long"}]) + "'\n",
        "model/MLmodel",
    )
    image = Image.new("RGB", (40, 30), (200, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    client.log_image(run_id, image, "plots/red.png")


def _seed_models(client: Any, demo: Demo) -> None:
    run_id = demo.runs["run-1"]
    model = client.create_logged_model(demo.experiment_id, name="clf", source_run_id=run_id)
    client.finalize_logged_model(model.model_id, "READY")
    demo.logged_model_id = model.model_id
    client.create_registered_model(demo.model_name, description="Classifies *things*")
    client.create_model_version(demo.model_name, f"runs:/{run_id}/model", run_id=run_id)
    client.create_model_version(
        demo.model_name, f"models:/{model.model_id}", run_id=run_id, model_id=model.model_id
    )
    client.set_registered_model_alias(demo.model_name, "champion", "2")
    client.add_model_version_comment(demo.model_name, "2", "Looks good to me")
