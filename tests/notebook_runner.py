"""Run a course notebook as *Restart & Run All* would: a fresh kernel, its own folder.

Shared by tests/test_notebooks.py (does each notebook run clean?) and
benchmarks/bench_notebooks.py (how many seconds does each one take?), so both execute a
notebook the same way.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
CELL_TIMEOUT = 90
"""Seconds one cell may run before the run counts as hung."""


def course_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """The numbered notebooks of ``folder``, then its solutions, in course order."""
    return [*sorted(folder.glob("[0-9][0-9]_*.ipynb")),
            *sorted((folder / "solutions").glob("*.ipynb"))]


def execute(path: Path) -> tuple[nbformat.NotebookNode, float]:
    """Run the notebook in a fresh kernel from its own folder; (executed notebook, seconds).

    The seconds count cell execution only (the kernel's start-up is not the notebook's).

    Raises:
        nbclient.exceptions.CellExecutionError: a cell failed (with its traceback).
    """
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    with client.setup_kernel():
        started = time.perf_counter()
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        elapsed = time.perf_counter() - started
    return nb, elapsed
