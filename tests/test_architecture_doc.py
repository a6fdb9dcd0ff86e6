"""docs/ARCHITECTURE.md stays a true map: its layers, files, names and packages exist.

A map that drifts from the code misleads the next person more than no map, so the
document is checked like code: the layers it draws are the import-linter contract CI
enforces, every file and dotted name it cites exists, every package and engine module has
its place in it, and the glossary says where each name really lives.
"""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
CODE = set(re.findall(r"`([^`\n]+)`", DOC))
"""Everything the document writes as code."""


def test_the_layers_are_the_contract_lint_imports_enforces() -> None:
    block = re.search(r"```layers\n(.*?)```", DOC, re.S)
    assert block is not None, "docs/ARCHITECTURE.md lost its ```layers block"
    drawn = [line.strip() for line in block.group(1).splitlines() if line.strip()]
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = [c for c in config["tool"]["importlinter"]["contracts"]
                   if c["type"] == "layers"]
    assert drawn == contract["layers"]


def test_every_file_it_cites_exists() -> None:
    paths = sorted(c for c in CODE if c.startswith(("durasim/", "docs/", "tests/"))
                   or c == "pyproject.toml")
    assert len(paths) > 20
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert not missing, f"docs/ARCHITECTURE.md cites files that do not exist: {missing}"


def resolve(dotted: str) -> Any:
    """The object ``durasim.a.b.Name.attr`` names: the longest importable module, then
    attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name)
        return found
    raise ModuleNotFoundError(dotted)


DOTTED = sorted(c for c in CODE if re.fullmatch(r"durasim(\.\w+)+", c))


@pytest.mark.parametrize("dotted", DOTTED)
def test_every_dotted_name_it_cites_exists(dotted: str) -> None:
    assert resolve(dotted) is not None


def test_it_walks_through_the_code_by_dotted_names() -> None:
    assert len(DOTTED) > 30


def test_every_package_and_top_level_module_has_its_place() -> None:
    package = ROOT / "durasim"
    names = [p.name for p in package.iterdir() if (p / "__init__.py").exists()]
    names += [p.stem for p in package.glob("*.py") if not p.stem.startswith("__")]
    absent = [n for n in sorted(names)
              if n not in CODE and not any(c.startswith((f"durasim/{n}/", f"durasim/{n}.py"))
                                           for c in CODE)]
    assert not absent, f"docs/ARCHITECTURE.md does not say what these are: {absent}"


def test_every_engine_module_is_in_the_reading_order() -> None:
    modules = [p.name for p in (ROOT / "durasim" / "engine").glob("*.py")
               if p.name != "__init__.py"]
    absent = [m for m in sorted(modules) if m not in CODE and f"durasim/engine/{m}" not in CODE]
    assert not absent, f"docs/ARCHITECTURE.md's engine section misses: {absent}"


GLOSSARY = re.findall(r"^\| `(\w+)` \| .* \| `(durasim/[\w/]+\.py)` \|$", DOC, re.M)


def test_the_glossary_covers_the_runs_the_issue_names() -> None:
    named = {name for name, _ in GLOSSARY}
    assert {"Run", "WorkflowRun", "Execution", "WorkflowInstance", "RunRecord"} <= named


@pytest.mark.parametrize(("name", "path"), GLOSSARY)
def test_the_glossary_says_where_each_name_is_defined(name: str, path: str) -> None:
    source = (ROOT / path).read_text(encoding="utf-8")
    assert re.search(rf"^(class {name}\b|{name} = )", source, re.M), (
        f"{name} is not defined in {path}")
