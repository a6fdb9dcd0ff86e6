"""Issue 12.6: a small front door, and the course uses only it.

``durasim/__init__.py`` exports what a notebook needs (at most 30 names); everything else
comes from its subpackage. The notebooks, the README and the exercises reach the package
only through the front door or an explicit subpackage, so a student never meets a name
that is not there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import durasim

REPO = Path(__file__).resolve().parents[1]
SUBPACKAGES = {p.stem for p in (REPO / "durasim").iterdir()
               if p.suffix == ".py" or (p / "__init__.py").exists()} - {"__init__", "__main__"}


def test_the_front_door_is_small_and_sorted() -> None:
    assert len(durasim.__all__) <= 30
    assert durasim.__all__ == sorted(durasim.__all__, key=lambda n: (n[0].islower(), n))
    for name in durasim.__all__:
        assert getattr(durasim, name) is not None


def test_a_missing_name_says_where_to_look() -> None:
    with pytest.raises(AttributeError, match=r"durasim\.engine"):
        durasim.Simulation  # noqa: B018 - the kernel lives in durasim.core now


def _course_code() -> list[tuple[str, str]]:
    """(where, code) for every notebook cell, README block and exercise module."""
    found = []
    for path in sorted(REPO.glob("notebooks/**/*.ipynb")) + sorted(REPO.glob("slides/*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                found.append((path.name, "".join(cell["source"])))
    readme = (REPO / "README.md").read_text()
    found += [("README.md", block) for block in re.findall(r"```python\n(.*?)```", readme, re.S)]
    found += [(path.name, path.read_text())
              for path in sorted((REPO / "durasim" / "exercises").glob("*.py"))]
    return found


@pytest.mark.parametrize("where, code", _course_code(),
                         ids=[f"{w}-{i}" for i, (w, _) in enumerate(_course_code())])
def test_the_course_uses_only_the_front_door(where: str, code: str) -> None:
    allowed = set(durasim.__all__) | SUBPACKAGES | {"__version__"}
    for match in re.finditer(r"(?<![\w.])durasim\.([A-Za-z_]\w*)", code):
        assert match.group(1) in allowed, f"{where}: durasim.{match.group(1)}"
    for match in re.finditer(r"from durasim import (?:\(([^)]*)\)|([^\n(]+))", code):
        for name in re.split(r"[\s,]+", (match.group(1) or match.group(2)).strip()):
            assert not name or name in allowed, f"{where}: from durasim import {name}"


def test_no_module_is_longer_than_one_idea() -> None:
    """No module over 450 lines: one idea each (issue 12.4)."""
    long = {str(p.relative_to(REPO)): n for p in (REPO / "durasim").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 450}
    assert not long, long
