"""A model directory on disk: creating it, copying code into it, and confining paths to it."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from heron.errors import AlreadyExists, InvalidParameter

CODE_DIR = "code"


def new_directory(path: str | os.PathLike[str]) -> Path:
    """Creates the directory a model is saved to; it must not exist yet (or be empty).

    Raises:
        AlreadyExists: `path` exists and holds files.
    """
    directory = Path(path).expanduser().resolve()
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise AlreadyExists(f"Path {str(path)!r} already exists and is not empty")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def inside(root: Path, relative: str | os.PathLike[str], what: str = "path") -> Path:
    """`root / relative`, refused when it escapes `root` (absolute, '..', or a symlink out).

    A model's MLmodel names its files; a crafted one must not make Heron read elsewhere.

    Raises:
        InvalidParameter: the path leaves the model directory.
    """
    text = os.fspath(relative)
    root = root.resolve()
    target = (root / text).resolve()
    if os.path.isabs(text) or not target.is_relative_to(root):
        raise InvalidParameter(
            f"The model's {what} {text!r} points outside the model directory: refusing to load it"
        )
    return target


def copy_code_paths(
    directory: Path, code_paths: Sequence[str | os.PathLike[str]] | None
) -> str | None:
    """Copies each file or package in `code_paths` to `<model>/code/`; the flavor's `code`."""
    if not code_paths:
        return None
    code = directory / CODE_DIR
    code.mkdir()
    for source in code_paths:
        path = Path(source)
        if not path.exists():
            raise InvalidParameter(f"Code path {str(source)!r} does not exist")
        target = code / path.name
        if path.is_dir():
            shutil.copytree(path, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, target)
    return CODE_DIR


def add_code_to_path(directory: Path, code: str | None) -> None:
    """Puts the model's code directory first on `sys.path` so its pickles can import it."""
    if not code:
        return
    folder = str(inside(directory, code, "code directory"))
    if folder not in sys.path:
        sys.path.insert(0, folder)


def copy_artifact(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy2(source, target)


def flavor_conf(directory: Path, model: Any, flavor: str) -> dict[str, Any]:
    """The model's entry for `flavor`, its code directory put on `sys.path`.

    Raises:
        InvalidParameter: the model has no such flavor.
    """
    conf = model.flavors.get(flavor)
    if conf is None:
        raise InvalidParameter(
            f"This model has no {flavor} flavor (it has {sorted(model.flavors)}): load it with "
            "heron.pyfunc.load_model or its own flavor"
        )
    add_code_to_path(directory, conf.get("code"))
    return dict(conf)
