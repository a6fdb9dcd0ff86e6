"""Every course notebook runs top to bottom in a fresh kernel and is committed clean.

A notebook that fails on a student's machine during a class costs the class; so each one
(and the exercises' solutions) is executed here exactly as *Restart & Run All* would, with
a timeout per cell. How long each takes is measured by benchmarks/bench_notebooks.py (the
course's budget is 15 seconds of cell time), never asserted here: a slow machine must not
fail CI.
Notebook 08 is run twice: with the real Temporal dev server when it is there, and with the
Temporal CLI made unavailable, where it must say so and still succeed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

from tests.conftest import REPO
from tests.notebook_runner import NOTEBOOKS, execute

COURSE = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = sorted((NOTEBOOKS / "solutions").glob("*.ipynb"))
EXPECTED = ["00_start_here", "01_abstractions_and_complexity", "02_monolith_transactions",
            "03_event_driven", "04_durable_execution", "05_event_history_and_replay",
            "06_determinism_and_versioning", "07_property_testing", "08_real_temporal",
            "09_exercises", "10_your_own_workflow"]


def text_of(nb: nbformat.NotebookNode) -> str:
    out = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            out += [output.get("text", ""), data.get("text/plain", ""), data.get("text/html", "")]
    return "\n".join(out)


def test_the_course_has_the_eleven_notebooks_and_the_solutions() -> None:
    assert [p.stem for p in COURSE] == EXPECTED
    assert [p.stem for p in SOLUTIONS] == ["09_exercises_solutions"]


@pytest.mark.parametrize("path", [*COURSE, *SOLUTIONS], ids=lambda p: p.stem)
def test_committed_without_outputs_with_goals_and_questions(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name} was committed with outputs: run "
                "jupyter nbconvert --clear-output --inplace")
    first, last = nb.cells[0], nb.cells[-1]
    assert first.cell_type == "markdown" and "Learning goals" in first.source
    assert last.cell_type == "markdown" and "## Recap" in last.source
    questions = last.source.split("Three questions", 1)
    assert len(questions) == 2, f"{path.name} does not end with three questions"
    assert [line[:2] for line in questions[1].splitlines() if line[:2] in ("1.", "2.", "3.")] \
        == ["1.", "2.", "3."]


@pytest.mark.notebooks
@pytest.mark.parametrize("path", [*COURSE, *SOLUTIONS], ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path) -> None:
    nb, _ = execute(path)  # a failing cell raises CellExecutionError with its traceback
    if path.stem == "09_exercises":
        # the starting points are wrong on purpose: the checks must say so, not crash
        assert "not yet" in text_of(nb)
    if path.stem == "05_event_history_and_replay":
        # the prose's numbers come from the runs, and the history's waits are explained
        output = text_of(nb)
        assert "the worker crashed after 10 history events" in output
        assert "start-to-close timeout (10.0 s)" in output and "sticky queue" in output
    if path.stem == "04_durable_execution":
        # each characteristic by its real mechanism: a real kill, a call resumed from its
        # checkpoint (not from zero), queries that write nothing, a cancellation that cleans up
        output = text_of(nb)
        assert "was killed by SIGKILL" in output or "no fork here" in output
        # each person paid once: ana and ben by the killed process, eva by the one resuming
        assert re.search(r"all payments:\nana paid by process (\d+)\nben paid by process \1\n"
                         r"eva paid by process (?!\1\n)\d+\n", output), output
        assert "'ana verified: stages 7-12 by attempt 2'" in output
        assert "2 queries wrote 0 events; 2 updates sent, 1 accepted and recorded" in output
        assert "canceled; activities run: {'hold_stock': 1, 'release_stock': 1}" in output


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.stem)
def test_two_predictions_come_before_the_runs_and_the_recap_links_them(path: Path) -> None:
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
    recap = nb.cells[-1].source.split("Three questions", 1)[-1]
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
