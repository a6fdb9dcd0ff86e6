"""Every course notebook, in English and in Spanish, runs top to bottom in a fresh kernel
and is committed clean.

A notebook that fails on a student's machine during a class costs the class; so each one
(and the exercises' solutions) is executed here exactly as *Restart & Run All* would, with
a timeout per cell, in both languages (``notebooks/es`` holds the Spanish twins; that they
are the same programs is tests/test_notebook_translations.py's job). How long each takes
is measured by benchmarks/bench_notebooks.py (the course's budget is 15 seconds of cell
time), never asserted here: a slow machine must not fail CI.
Notebooks 08 and 10 are run again (in English: the Spanish twins are the same programs) with
the Temporal CLI (or SDK) made unavailable, where
they must say so and still succeed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

from tests.conftest import REPO
from tests.notebook_runner import NOTEBOOKS, course_notebooks, execute

FOLDERS = {"en": NOTEBOOKS, "es": NOTEBOOKS / "es"}
COURSE = {language: sorted(folder.glob("[0-9][0-9]_*.ipynb"))
          for language, folder in FOLDERS.items()}
EVERY = [pytest.param(language, path, id=f"{language}-{path.stem}")
         for language, folder in FOLDERS.items() for path in course_notebooks(folder)]
NUMBERED = [pytest.param(language, path, id=f"{language}-{path.stem}")
            for language, paths in COURSE.items() for path in paths]
EXPECTED = ["00_start_here", "01_abstractions_and_complexity", "02_monolith_transactions",
            "03_event_driven", "04_durable_execution", "05_event_history_and_replay",
            "06_determinism_and_versioning", "07_property_testing", "08_real_temporal",
            "09_exercises", "10_your_own_workflow"]
WORDS = {"en": ("Learning goals", "## Recap", "Three questions"),
         "es": ("Objetivos de aprendizaje", "## Repaso", "Tres preguntas")}
"""The first cell's heading, the last cell's, and the questions that end it."""

SAYS: dict[tuple[str, str], list[str]] = {
    # the prose's numbers come from the runs, and the history's waits are explained
    ("en", "05_event_history_and_replay"): [
        "the worker crashed after 10 history events", "start-to-close timeout (10.0 s)",
        "sticky queue"],
    ("es", "05_event_history_and_replay"): [
        "el worker se cayó después de 10 eventos del historial",
        "timeout start-to-close del intento (10.0 s)", "cola sticky"],
    # the starting points are wrong on purpose: the checks must say so, not crash
    # (durasim.exercises explains in English only)
    ("en", "09_exercises"): ["not yet"],
    ("es", "09_exercises"): ["not yet"],
    # each characteristic by its real mechanism: a call resumed from its checkpoint (not
    # from zero), queries that write nothing, a cancellation that cleans up
    ("en", "04_durable_execution"): [
        "'ana verified: stages 7-12 by attempt 2'",
        "2 queries wrote 0 events; 2 updates sent, 1 accepted and recorded",
        "canceled; activities run: {'hold_stock': 1, 'release_stock': 1}"],
    ("es", "04_durable_execution"): [
        "'ana verificada: etapas 7-12 en el intento 2'",
        "2 consultas escribieron 0 eventos; 2 actualizaciones enviadas, 1 aceptada(s) y "
        "registrada(s)",
        "canceled; actividades corridas: {'hold_stock': 1, 'release_stock': 1}"],
}
"""What a notebook's output must say, because its prose relies on it."""

PAID_ONCE = {
    "en": (r"was killed by SIGKILL|no fork here",
           r"all payments:\nana paid by process (\d+)\nben paid by process \1\n"
           r"eva paid by process (?!\1\n)\d+\n"),
    "es": (r"murió por SIGKILL|aquí no hay fork",
           r"todos los pagos:\nana pagada por el proceso (\d+)\nben pagada por el proceso "
           r"\1\neva pagada por el proceso (?!\1\n)\d+\n"),
}
"""Notebook 04: a real kill, then each person paid once (ana and ben by the killed process,
eva by the one that resumed it)."""


def text_of(nb: nbformat.NotebookNode) -> str:
    out = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            out += [output.get("text", ""), data.get("text/plain", ""), data.get("text/html", "")]
    return "\n".join(out)


@pytest.mark.parametrize("language", FOLDERS)
def test_the_course_has_the_eleven_notebooks_and_the_solutions(language: str) -> None:
    assert [p.stem for p in COURSE[language]] == EXPECTED
    assert [p.stem for p in course_notebooks(FOLDERS[language])][len(EXPECTED):] == [
        "09_exercises_solutions"]


@pytest.mark.parametrize("language, path", EVERY)
def test_committed_without_outputs_with_goals_and_questions(language: str, path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name} was committed with outputs: run "
                "jupyter nbconvert --clear-output --inplace")
    goals, recap, three = WORDS[language]
    first, last = nb.cells[0], nb.cells[-1]
    assert first.cell_type == "markdown" and goals in first.source
    assert last.cell_type == "markdown" and recap in last.source
    questions = last.source.split(three, 1)
    assert len(questions) == 2, f"{path.name} does not end with three questions"
    assert [line[:2] for line in questions[1].splitlines() if line[:2] in ("1.", "2.", "3.")] \
        == ["1.", "2.", "3."]


@pytest.mark.notebooks
@pytest.mark.parametrize("language, path", EVERY)
def test_notebook_runs_top_to_bottom(language: str, path: Path) -> None:
    nb, _ = execute(path)  # a failing cell raises CellExecutionError with its traceback
    output = text_of(nb)
    for said in SAYS.get((language, path.stem), []):
        assert said in output, f"{path.name} ({language}) no longer says {said!r}"
    if path.stem == "04_durable_execution":
        killed, paid_once = PAID_ONCE[language]
        assert re.search(killed, output) and re.search(paid_once, output), output


@pytest.mark.parametrize("language, path", NUMBERED)
def test_two_predictions_come_before_the_runs_and_the_recap_links_them(language: str,
                                                                        path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    anchors: list[str] = []
    for index, cell in enumerate(nb.cells):
        found = re.findall(r'<a id="(predict-\d+)"></a>', cell.source)
        if cell.cell_type == "markdown" and found:
            anchors += found
            widget = nb.cells[index + 1]
            assert widget.cell_type == "code" and "Predict(" in widget.source, (
                f"{path.name}: {found[0]} is not followed by its Predict widget")
    assert len(anchors) >= 2, f"{path.name} has {len(anchors)} predict-then-see moments"
    recap = nb.cells[-1].source.split(WORDS[language][2], 1)[-1]
    for anchor in anchors:
        assert f"(#{anchor})" in recap, f"{path.name}: the recap questions skip {anchor}"


@pytest.mark.notebooks
def test_real_temporal_notebook_without_temporal_says_so_and_succeeds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    missing = REPO / "no-such-dir" / "temporal"
    assert not missing.exists()
    monkeypatch.setenv("DURASIM_TEMPORAL_CLI", str(missing))  # the kernel inherits it
    nb, _ = execute(NOTEBOOKS / "08_real_temporal.ipynb")
    output = text_of(nb)
    assert "Temporal is not available here" in output
    assert "pip install 'durasim[temporal]'" in output
    assert "replayed durasim's history" in output
    assert os.environ["DURASIM_TEMPORAL_CLI"] == str(missing)


@pytest.mark.notebooks
def test_own_workflow_notebook_without_the_server_says_so_and_succeeds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DURASIM_TEMPORAL_CLI", str(REPO / "no-such-dir" / "temporal"))
    nb, _ = execute(NOTEBOOKS / "10_your_own_workflow.ipynb")
    output = text_of(nb)
    assert "The Temporal dev server could not be used here" in output
    assert "durasim's history alone" in output
    assert "the smallest plan that charges twice" in output


@pytest.mark.notebooks
def test_own_workflow_notebook_without_the_sdk_says_so_and_succeeds(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A ``temporalio`` that cannot be imported, first on the kernel's path: the extra is
    missing. The notebook says how to install it and runs durasim's twin of the workflow."""
    (tmp_path / "temporalio.py").write_text(
        "raise ImportError('No module named temporalio (hidden by the test)')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    nb, _ = execute(NOTEBOOKS / "10_your_own_workflow.ipynb")
    output = text_of(nb)
    assert "The Temporal SDK is not available here" in output
    assert "pip install 'durasim[temporal]'" in output
    assert "skipped: the Temporal SDK is not installed" in output
    assert "with the idempotency key, no generated plan charged twice" in output
