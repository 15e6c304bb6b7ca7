"""`heron models generate-dockerfile`: a build context for an image that serves a model."""

from __future__ import annotations

import shutil
from pathlib import Path

from heron.errors import AlreadyExists
from heron.models.mlmodel import Model
from heron.serving.environments import copy_source, heron_requirement, model_requirements

PORT = 8080


def write_build_context(model_dir: Path, output: Path) -> Path:
    """Copies the model to `output/model`, Heron's source to `output/heron` (when this Heron
    was installed from a source tree) and writes `output/Dockerfile`; returns its path.

    Raises:
        AlreadyExists: `output` exists and is not empty.
    """
    if output.exists() and any(output.iterdir()):
        raise AlreadyExists(f"{output} exists and is not empty: choose another directory")
    output.mkdir(parents=True, exist_ok=True)
    shutil.copytree(model_dir, output / "model")
    heron = heron_requirement()
    install_heron = heron
    if Path(heron).is_dir():  # a source tree: its package and build files go in the context
        copy_source(Path(heron), output / "heron")
        install_heron = "/opt/heron"
    python = str(Model.load(model_dir).pyfunc.get("python_version") or "3.11").rsplit(".", 1)[0]
    requirements = " ".join(f"'{line}'" for line in model_requirements(model_dir))
    dockerfile = output / "Dockerfile"
    dockerfile.write_text(
        _DOCKERFILE.format(
            python=python,
            requirements=requirements,
            heron=install_heron,
            copy_heron="COPY heron/ /opt/heron/\n" if install_heron != heron else "",
            port=PORT,
        ),
        encoding="utf-8",
    )
    return dockerfile


_DOCKERFILE = """\
# Serves the model in ./model with `heron models serve` on port {port}.
FROM python:{python}-slim
ENV PYTHONUNBUFFERED=1
{copy_heron}RUN pip install --no-cache-dir {requirements} '{heron}[serving]'
COPY model/ /opt/ml/model/
EXPOSE {port}
# Loading the model runs its code: build images only of models you trust.
CMD ["heron", "models", "serve", "-m", "/opt/ml/model", "-h", "0.0.0.0", "-p", "{port}"]
"""
