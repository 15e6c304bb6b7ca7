"""A model's environment: requirements.txt, python_env.yaml and conda.yaml, with pinned versions.

What a model needs is inferred from its flavor (e.g. scikit-learn and cloudpickle) and from the
modules its pickle or its code file imports, each pinned to the version installed here;
`pip_requirements` replaces that list and `extra_pip_requirements` adds to it.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata as metadata
import os
import pickletools
import platform
import re
import sys
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from heron.errors import InvalidParameter

REQUIREMENTS_FILE = "requirements.txt"
PYTHON_ENV_FILE = "python_env.yaml"
CONDA_ENV_FILE = "conda.yaml"
ENV_FILES = {"conda": CONDA_ENV_FILE, "virtualenv": PYTHON_ENV_FILE}

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
# Modules whose distribution is not what a model needs installed to load.
_IGNORED_MODULES = {"__main__", "builtins", "copyreg", "_codecs"}


def pinned(distribution: str) -> str:
    """`name==version` of an installed distribution; the bare name when it is not installed.
    A local version label (`2.13.0+cpu`) is left out: indexes serve the public version."""
    try:
        return f"{distribution}=={metadata.version(distribution).split('+', 1)[0]}"
    except metadata.PackageNotFoundError:
        return distribution


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


@functools.cache
def _distributions_of() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


def requirements_for_modules(modules: Iterable[str]) -> list[str]:
    """Pinned requirements for top-level module names (the stdlib and unknowns skipped)."""
    out = []
    for module in sorted({m.split(".")[0] for m in modules}):
        if module in _IGNORED_MODULES or module in sys.stdlib_module_names:
            continue
        for distribution in _distributions_of().get(module, [])[:1]:
            out.append(pinned(distribution))
    return out


def modules_in_pickle(data: bytes) -> set[str]:
    """The modules a pickle refers to (the classes and functions it loads by reference)."""
    modules: set[str] = set()
    strings: list[Any] = []
    memo: dict[int, Any] = {}
    for opcode, arg, _ in pickletools.genops(data):
        name = opcode.name
        if name == "GLOBAL" and isinstance(arg, str):
            modules.add(arg.split(" ", 1)[0])
        elif name == "STACK_GLOBAL" and len(strings) >= 2 and isinstance(strings[-2], str):
            modules.add(strings[-2])
        elif "UNICODE" in name or name in ("STRING", "BINSTRING", "SHORT_BINSTRING"):
            strings.append(arg)
        elif name == "MEMOIZE":
            memo[len(memo)] = strings[-1] if strings else None
        elif name in ("BINPUT", "LONG_BINPUT", "PUT") and isinstance(arg, int):
            memo[arg] = strings[-1] if strings else None
        elif name in ("BINGET", "LONG_BINGET", "GET") and isinstance(arg, int):
            strings.append(memo.get(arg))
    return modules


def modules_in_code(path: str | os.PathLike[str]) -> set[str]:
    """The modules a Python file imports (absolute imports only)."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError) as exc:
        raise InvalidParameter(f"Cannot read the model code {str(path)!r}: {exc}") from None
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
    return modules


def resolve_requirements(
    inferred: Sequence[str],
    pip_requirements: Sequence[str] | str | os.PathLike[str] | None,
    extra_pip_requirements: Sequence[str] | str | os.PathLike[str] | None,
) -> list[str]:
    """The final requirement lines.

    Raises:
        InvalidParameter: both `pip_requirements` and `extra_pip_requirements` are given.
    """
    if pip_requirements is not None and extra_pip_requirements is not None:
        raise InvalidParameter(
            "Give pip_requirements (replaces the inferred requirements) or "
            "extra_pip_requirements (adds to them), not both"
        )
    if pip_requirements is not None:
        return _dedupe(_lines(pip_requirements))
    return _dedupe([*inferred, *_lines(extra_pip_requirements)])


def _lines(value: Sequence[str] | str | os.PathLike[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str | os.PathLike):
        path = Path(value)
        if not path.is_file():
            raise InvalidParameter(f"Requirements file {str(value)!r} does not exist")
        lines = path.read_text(encoding="utf-8").splitlines()
    else:
        lines = [str(v) for v in value]
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]


def _dedupe(lines: Iterable[str]) -> list[str]:
    """One line per distribution; an explicit pin given later wins over an inferred one."""
    by_name: dict[str, str] = {}
    for line in lines:
        match = _NAME.match(line)
        key = re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else line
        by_name[key] = line
    return sorted(by_name.values(), key=str.lower)


def write_environment(directory: Path, requirements: Sequence[str]) -> dict[str, str]:
    """Writes the three environment files; returns the pyfunc flavor's `env` entry."""
    (directory / REQUIREMENTS_FILE).write_text("\n".join(requirements), encoding="utf-8")
    python = platform.python_version()
    build = [pinned("pip"), pinned("setuptools"), "wheel"]
    python_env = {
        "python": python,
        "build_dependencies": build,
        "dependencies": [f"-r {REQUIREMENTS_FILE}"],
    }
    (directory / PYTHON_ENV_FILE).write_text(
        yaml.safe_dump(python_env, default_flow_style=False, sort_keys=False), encoding="utf-8"
    )
    pip_version = installed_version("pip")
    conda = {
        "channels": ["conda-forge"],
        "dependencies": [
            f"python={python}",
            f"pip<={pip_version}" if pip_version else "pip",
            {"pip": list(requirements)},
        ],
        "name": "mlflow-env",
    }
    (directory / CONDA_ENV_FILE).write_text(
        yaml.safe_dump(conda, default_flow_style=False, sort_keys=False), encoding="utf-8"
    )
    return dict(ENV_FILES)


def warn_on_version_mismatch(what: str, recorded: Any, running: str | None) -> None:
    """A warning when the model was saved with another major.minor version of `what`."""
    if not recorded or not running:
        return
    if _minor(str(recorded)) != _minor(running):
        warnings.warn(
            f"This model was saved with {what} {recorded} and {running} is running here: "
            "it may fail to load or predict differently",
            UserWarning,
            stacklevel=3,
        )


def _minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])
