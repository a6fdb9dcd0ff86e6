"""The README's Python examples run, and say what the README says they print."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs_and_prints_what_it_claims(index: int) -> None:
    code = BLOCKS[index]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        # our own README; a module always has a name (Temporal SDK classes check theirs)
        exec(compile(code, f"README.md example {index + 1}", "exec"),
             {"__name__": f"readme_example_{index + 1}"})
    printed = out.getvalue().splitlines()
    claims = [line.split("#", 1)[1].strip() for line in code.splitlines()
              if line.startswith("print(") and "#" in line]
    for claim in claims:
        assert any(claim in line for line in printed), f"{claim!r} not in {printed}"


def test_readme_has_the_two_commands() -> None:
    text = README.read_text()
    assert "make lab" in text and "make test" in text
