"""The Spanish notebooks are the English ones, translated: same cells, same programs.

A class in Spanish must not run a different (older) course. Each notebook of
``notebooks/es`` has the cells of its English twin, with the same ids in the same order;
each markdown cell is translated (not a copy), and each code cell is the same program.
Only its words may differ: comments, the prose of strings (a string with a space in it,
an f-string's text and headings, what a ``print`` says) and the width of an f-string's
columns, which follows the words; and a Spanish notebook may call ``set_language`` where
the English one does not (its widgets and figures speak Spanish). Names, numbers, how a
number is written (``:.2f``), scenario and node names, every expression: identical. So a
change to an English code cell fails here until the Spanish one follows. And since no
comparison of programs sees prose, each Spanish cell records the fingerprint of the English
text it translates (metadata ``translation_of``): an English cell edited later, markdown
or code, fails here until its translation is brought up to date and restamped.
"""

from __future__ import annotations

import ast
import hashlib
import re
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from tests.notebook_runner import NOTEBOOKS, course_notebooks

SPANISH = NOTEBOOKS / "es"
PAIRS = [(english, SPANISH / english.relative_to(NOTEBOOKS))
         for english in course_notebooks(NOTEBOOKS)]
_IPYTHON = TransformerManager()


def _is_prose(text: str) -> bool:
    """Words for people (translated), as opposed to a name the program uses."""
    return any(c.isspace() for c in text)


def _sets_language(statement: ast.stmt) -> bool:
    call = statement.value if isinstance(statement, ast.Expr) else None
    if not isinstance(call, ast.Call):
        return False
    func = call.func
    return (isinstance(func, ast.Name) and func.id == "set_language") or (
        isinstance(func, ast.Attribute) and func.attr == "set_language")


_LAYOUT = re.compile(r"^(?:.?[<>=^])?([+\- ]?z?#?)0?\d*")
"""A format spec's alignment and width: layout for the translated words around it."""


def _keep_number_format(spec: ast.JoinedStr) -> None:
    """How a value is written (":.2f", ":+") is the program's; how wide its column is
    (":<28") follows the words of each language, so it may differ."""
    first = spec.values[0] if spec.values else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        first.value = _LAYOUT.sub(r"\1", first.value, count=1)


def program(source: str) -> str:
    """A code cell as a program, with the words people read left out (see the module)."""
    tree = ast.parse(_IPYTHON.transform_cell(source))
    tree.body = [s for s in tree.body if not _sets_language(s)]
    specs = {id(node.format_spec) for node in ast.walk(tree)
             if isinstance(node, ast.FormattedValue) and node.format_spec is not None}
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and id(node) in specs:
            _keep_number_format(node)
            continue
        if isinstance(node, ast.JoinedStr):  # its text, and headings like f"{'step':<9}"
            node.values = [v for v in node.values if not isinstance(v, ast.Constant)]
            for field in node.values:
                if isinstance(field, ast.FormattedValue) and isinstance(field.value,
                                                                        ast.Constant):
                    field.value = ast.Constant("…")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
                node.func.id == "print"):  # what a print says is for people
            node.args = [ast.Constant("…") if isinstance(a, ast.Constant) else a
                         for a in node.args]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _is_prose(
                node.value):
            node.value = "…"
    return ast.unparse(tree)  # the same tree, as code a failing comparison can show


STAMP = "translation_of"
"""The Spanish cell's metadata key: the fingerprint of the English text it translates."""


def fingerprint(source: str) -> str:
    """A short fingerprint of an English cell's text, recorded in its Spanish twin so that
    prose edited in English (which no comparison of programs can see) fails until the
    Spanish follows."""
    return hashlib.sha256(source.encode()).hexdigest()[:12]


def test_every_notebook_has_a_spanish_twin() -> None:
    assert PAIRS and all(spanish.exists() for _, spanish in PAIRS), [
        str(s) for _, s in PAIRS if not s.exists()]
    found = {p.relative_to(SPANISH) for p in SPANISH.rglob("*.ipynb")}
    extra = {p for p in found if not any(part.startswith(".") for part in p.parts)} - {
        s.relative_to(SPANISH) for _, s in PAIRS}  # (.ipynb_checkpoints is Jupyter's)
    assert not extra, f"Spanish notebooks with no English twin: {sorted(map(str, extra))}"


@pytest.mark.parametrize("english, spanish", PAIRS, ids=lambda p: p.stem)
def test_the_spanish_notebook_has_the_same_cells_and_programs(english: Path,
                                                               spanish: Path) -> None:
    en = nbformat.read(english, as_version=4)
    es = nbformat.read(spanish, as_version=4)
    assert [(c.cell_type, c.get("id")) for c in es.cells] == [
        (c.cell_type, c.get("id")) for c in en.cells], f"{spanish.name}: the cells differ"
    for mine, theirs in zip(en.cells, es.cells, strict=True):
        if mine.cell_type == "code":
            assert program(theirs.source) == program(mine.source), (
                f"{spanish.name}, cell {mine.get('id')}: the code differs from the English "
                "notebook's; translate the new English cell")
        else:
            assert theirs.source != mine.source or not mine.source.strip(), (
                f"{spanish.name}, cell {mine.get('id')}: still in English")
        assert theirs.metadata.get(STAMP) == fingerprint(mine.source), (
            f"{spanish.name}, cell {mine.get('id')}: the English cell changed since it was "
            "translated; translate the change, then set the Spanish cell's metadata "
            f"{STAMP!r} to {fingerprint(mine.source)!r}")


def test_the_comparison_sees_a_changed_program_and_not_a_translation() -> None:
    english = 'run = durasim.run("transfer", faults=[Crash(at_step=5)])  # the crash\n' \
              'print(f"{run.outcome} after {len(run.history)} events")'
    spanish = 'durasim.set_language("es")\n' \
              'run = durasim.run("transfer", faults=[Crash(at_step=5)])  # la caída\n' \
              'print(f"{run.outcome} tras {len(run.history)} eventos")'
    assert program(spanish) == program(english)
    for drifted in (english.replace("at_step=5", "at_step=4"),
                    english.replace('"transfer"', '"approval"'),
                    english.replace("len(run.history)", "len(run.trace)")):
        assert program(drifted) != program(english)
    print_heading = 'print(f"{\'step\':<9} {\'what happened\':>20}")'
    assert program(print_heading) == program(print_heading.replace("step", "paso"))
    assert program(print_heading) == program(print_heading.replace("<9", "<12"))  # layout
    amount = 'print(f"day {run.history[-1].time / DAY:.2f}")'
    assert program(amount.replace("day", "día")) == program(amount)
    assert program(amount) != program(amount.replace(".2f", ".0f"))
    assert program("%matplotlib inline\nimport durasim") != program("import durasim")
