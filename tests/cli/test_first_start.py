"""A newcomer's first start: `scripts/heron server` on a fresh copy sets up only what the server
needs, shows its progress and serves the UI; the package builds as a wheel (`python -m build`)
whose files alone serve the UI."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _bench() -> object:
    spec = importlib.util.spec_from_file_location("first_start", ROOT / "bench" / "first_start.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scripts_heron_server_on_a_fresh_copy_serves_with_the_server_packages_only(
    tmp_path: Path,
) -> None:
    bench = _bench()
    clone = bench.fresh_copy(tmp_path)  # type: ignore[attr-defined]
    assert not (clone / ".venv").exists()
    result = bench.first_start(clone)  # type: ignore[attr-defined]
    output = "\n".join(result["output"])
    assert "setting up .venv with the server's packages" in output
    assert "starlette" in output  # the packages, as they install
    assert "Heron server at http://127.0.0.1:" in output
    assert result["ui"] is True
    site = next((clone / ".venv" / "lib").glob("python3*/site-packages"))
    installed = {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")}
    assert {"starlette", "uvicorn", "sqlalchemy", "heron"} <= installed
    assert not installed & {"pytest", "torch", "playwright", "numpy", "pandas", "mypy"}
    print(
        f"first start: {result['seconds_to_health']} s to /health, .venv {result['venv_mib']} MiB"
    )


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    shutil.rmtree(ROOT / "build", ignore_errors=True)  # setuptools' work directory
    return next(out.glob("heron-*.whl"))


def test_the_wheel_holds_every_ui_file_and_serves_the_ui(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
         str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    ui = ROOT / "src" / "heron" / "ui"
    for folder in ("templates", "static"):
        for path in (ui / folder).rglob("*"):
            if path.is_file():
                relative = path.relative_to(ROOT / "src")
                assert (target / relative).is_file(), f"{relative} is missing from the wheel"
    from tests.conftest import free_port, wait_for_health

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(target), "HERON_HOME": str(tmp_path / "home")}
    code = "import heron, sys; from heron.cli.main import main; sys.exit(main())"
    server = subprocess.Popen(
        [sys.executable, "-c", code, "server", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_health(url, timeout_s=60, alive=lambda: server.poll() is None)
        where = subprocess.run(
            [sys.executable, "-c", "import heron; print(heron.__file__)"],
            env=env, cwd=tmp_path, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert where.startswith(str(target)), where  # the wheel's files, not the source tree
        page = httpx.get(f"{url}/", timeout=30, follow_redirects=True)
        assert page.status_code == 200
        assert "Experiments" in page.text
        for asset in ("heron.css", "heron.js", "vendor/echarts/echarts.min.js"):
            found = httpx.get(f"{url}/static/{asset}", timeout=30)
            assert found.status_code == 200, asset
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()
