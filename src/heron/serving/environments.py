"""`--env-manager virtualenv`: serve a model from a virtualenv built from its requirements.

The environment holds the model's `requirements.txt` (MLflow's own pins dropped: Heron never
imports mlflow) and Heron itself, installed the way this Heron was (from its source tree, or
its released version). It is cached under `$HERON_HOME/envs/<hash>`, the hash of the Python
version, the requirements and Heron's version, so a second start reuses it; it is built in
a temporary directory and renamed into place, so concurrent starts do not see half an
environment.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path
from urllib.parse import unquote, urlparse

from heron.errors import InvalidParameter
from heron.serving.server import ServeOptions

# Lines of a model's requirements that Heron does not need to serve it.
_NOT_NEEDED = ("mlflow", "mlflow-skinny", "mlflow-tracing")


def heron_requirement() -> str:
    """How pip installs this Heron: its source directory when it was installed from one
    (a checkout, editable or not), else `heron==<version>`."""
    distribution = importlib.metadata.distribution("heron")
    direct = distribution.read_text("direct_url.json")
    if direct:
        url = json.loads(direct).get("url", "")
        parsed = urlparse(url)
        if parsed.scheme == "file" and Path(unquote(parsed.path)).is_dir():
            return unquote(parsed.path)
    return f"heron=={distribution.version}"


def model_requirements(model_dir: Path) -> list[str]:
    """The model's requirements.txt lines that a Heron server needs."""
    path = model_dir / "requirements.txt"
    if not path.is_file():
        return []
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-"):
            raise InvalidParameter(
                f"{path}: pip options ({line!r}) are not installed into a serving environment; "
                "list packages only"
            )
        name = line.replace(" ", "").split("[")[0]
        for separator in ("==", ">=", "<=", "~=", "!=", ">", "<"):
            name = name.split(separator)[0]
        if name.lower().replace("_", "-") not in _NOT_NEEDED:
            lines.append(line)
    return lines


def environment_for(model_dir: Path, root: Path | None = None) -> Path:
    """The virtualenv (built now if it is not cached) that serves the model."""
    requirements = model_requirements(model_dir)
    heron = heron_requirement()
    key = json.dumps([platform.python_version(), sorted(requirements), heron, _heron_version()])
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    root = root or Path(os.environ.get("HERON_HOME", "heron-data")) / "envs"
    target = root / digest
    if (target / "ready").exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"{digest}-", dir=root))
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(building)
        pip = [
            str(_python(building)),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ]
        with tempfile.TemporaryDirectory() as scratch:
            heron_spec = _with_serving_extra(heron, Path(scratch))
            subprocess.run([*pip, *requirements, heron_spec], check=True)  # noqa: S603 - our own args
        (building / "ready").write_text(key, encoding="utf-8")
        try:
            building.rename(target)
        except OSError:  # another start finished first: use that one
            shutil.rmtree(building, ignore_errors=True)
    except (subprocess.CalledProcessError, OSError) as exc:
        shutil.rmtree(building, ignore_errors=True)
        raise InvalidParameter(
            f"Could not build the model's environment from {model_dir / 'requirements.txt'}: {exc}"
        ) from None
    return target


def copy_source(source: Path, target: Path) -> None:
    """Heron's package and build files from the source tree `source` into `target` (pip
    builds in the tree it installs from, and would leave a build/ directory in the user's)."""
    shutil.copytree(
        source / "src", target / "src", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    for name in ("pyproject.toml", "README.md"):
        if (source / name).is_file():
            shutil.copy2(source / name, target / name)


def _with_serving_extra(requirement: str, scratch: Path) -> str:
    """`heron[serving]` (pandas and pyarrow, which a scoring server reads requests with)."""
    if Path(requirement).is_dir():
        copy_source(Path(requirement), scratch / "heron-source")
        return f"{scratch / 'heron-source'}[serving]"
    return requirement.replace("heron==", "heron[serving]==")


def _python(environment: Path) -> Path:
    return environment / ("Scripts" if sys.platform == "win32" else "bin") / "python"


def _heron_version() -> str:
    return importlib.metadata.version("heron")


def serve_in_virtualenv(options: ServeOptions) -> None:
    """Builds (or reuses) the model's environment and runs the scoring server in it; returns
    when that server exits."""
    environment = environment_for(Path(options.model_dir))
    command = [
        str(_python(environment)), "-m", "heron.cli", "models", "serve",
        "-m", options.model_dir, "--env-manager", "local",
        "-h", options.host, "-p", str(options.port), "-w", str(options.workers),
        "-t", str(options.timeout_s), "--batching", options.batching,
        "--max-batch-rows", str(options.max_batch_rows),
        "--max-latency-ms", str(options.max_latency_ms or 0), "--tracing", options.tracing,
    ]  # fmt: skip
    process = subprocess.Popen(command)  # noqa: S603 - our own interpreter and arguments
    try:
        process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait()
