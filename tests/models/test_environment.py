"""Environment inference: what a model imports, pinned; the files written."""

from __future__ import annotations

from pathlib import Path

import cloudpickle
import pytest

from heron.errors import InvalidParameter
from heron.models import environment


def test_modules_in_a_pickle_are_found() -> None:
    import yaml

    data = cloudpickle.dumps({"dumper": yaml.SafeDumper, "path": Path("x")})
    modules = environment.modules_in_pickle(data)
    assert "yaml.dumper" in modules
    assert environment.requirements_for_modules(modules) == [environment.pinned("PyYAML")]


def test_modules_in_code_are_found(tmp_path: Path) -> None:
    code = tmp_path / "agent.py"
    code.write_text("import os\nimport yaml\nfrom rich.console import Console\nfrom . import x\n")
    assert environment.modules_in_code(code) == {"os", "yaml", "rich.console"}
    requirements = environment.requirements_for_modules(environment.modules_in_code(code))
    assert sorted(r.split("==")[0] for r in requirements) == ["PyYAML", "rich"]


def test_requirements_dedupe_with_explicit_pins_winning() -> None:
    out = environment.resolve_requirements(["numpy==1.0", "pandas==2.0"], None, ["numpy>=2"])
    assert out == ["numpy>=2", "pandas==2.0"]


def test_requirements_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "req.txt").write_text("# comment\nfoo==1\n\nbar\n")
    assert environment.resolve_requirements([], tmp_path / "req.txt", None) == ["bar", "foo==1"]
    with pytest.raises(InvalidParameter, match="does not exist"):
        environment.resolve_requirements([], tmp_path / "nope.txt", None)
