"""Attack the ``durasim`` command with what a user can type: one line, exit 2, no traceback.

Each attack runs the real command in a subprocess, as a student would in a terminal, with
a file or an argument that is wrong in a way the command must explain rather than crash
on, hang on, or (worse) treat as success: binary and absurdly nested fault plans,
``--out`` on a file or on a path that cannot exist, histories with text that is not
Unicode, endless inputs like ``/dev/zero``, and a workflow module that exits while being
imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO

MONEY = REPO / "tests" / "fixtures" / "temporal" / "money_transfer.json"


def durasim(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """The real command, with a timeout that turns a hang into a failure."""
    return subprocess.run([sys.executable, "-m", "durasim", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, errors="backslashreplace",
                          timeout=120, check=False)


def _file(name: str, content: bytes) -> Callable[[Path], list[str | Path]]:
    """An attack that writes ``content`` to ``name`` and passes its path where ``{}`` is."""
    def prepare(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content)
        return path
    return lambda folder: [str(prepare(folder))]


def _with_surrogate(doc_text: str) -> bytes:
    """money_transfer.json with a workflow type holding a lone surrogate (escaped in JSON)."""
    doc = json.loads(doc_text)
    start = doc["events"][0]["workflowExecutionStartedEventAttributes"]
    start["workflowType"]["name"] = "Money\ud800Transfer"
    return json.dumps(doc).encode("ascii")  # ASCII JSON: the surrogate is a \\ud800 escape


EXITS_AT_IMPORT = {
    "exit0.py": "import sys\nsys.exit(0)\n",
    "exit3.py": "import sys\nsys.exit(3)\n",
    "exit_message.py": "raise SystemExit('bye from the workflow module')\n",
}

ATTACKS: dict[str, tuple[Callable[[Path], list[str | Path]], str]] = {
    # name: (the arguments, given a scratch folder; a fragment the one line must hold)
    "binary fault plan": (
        lambda d: ["simulate", "transfer", "--faults", *_file("plan.json", b"\x89PNG\x00\xff")(d)],
        "not UTF-8"),
    "deeply nested fault plan": (
        lambda d: ["simulate", "transfer", "--faults",
                   *_file("plan.json", b'{"faults": ' + b"[" * 100_000 + b"]" * 100_000
                          + b"}")(d)],
        "fault plan"),
    "fault plan nested just below the parser's limit": (
        lambda d: ["simulate", "transfer", "--faults",
                   *_file("plan.json", b'{"faults": [' + b"[" * 900 + b"]" * 900 + b"]}")(d)],
        "fault #1"),
    "fault plan from /dev/zero": (
        lambda d: ["simulate", "transfer", "--faults", "/dev/zero"], "/dev/zero"),
    "fault plan that is a folder": (
        lambda d: ["simulate", "transfer", "--faults", str(d)], "cannot read"),
    "demo --out on an existing file": (
        lambda d: ["demo", "--out", *_file("taken", b"not a folder")(d)], "taken"),
    "demo --out under /dev/null": (
        lambda d: ["demo", "--out", "/dev/null/pictures"], "/dev/null/pictures"),
    "demo --out with a name too long": (
        lambda d: ["demo", "--out", str(d / ("x" * 300))], "--out"),
    "figures --out on an existing file": (
        lambda d: ["figures", "--out", *_file("taken", b"not a folder")(d)], "taken"),
    "figures --out under /dev/null": (
        lambda d: ["figures", "--out", "/dev/null/figures"], "/dev/null/figures"),
    "history with a lone surrogate": (
        lambda d: ["history", *_file("h.json", _with_surrogate(MONEY.read_text()))(d)],
        "workflowExecutionStartedEventAttributes.workflowType"),
    "replay of a history with a lone surrogate": (
        lambda d: ["replay", *_file("h.json", _with_surrogate(MONEY.read_text()))(d),
                   "--workflow", "tests.workflows.recorded:MoneyTransfer"],
        "lone surrogate"),
    "history from /dev/zero": (lambda d: ["history", "/dev/zero"], "/dev/zero"),
    "replay from /dev/zero": (
        lambda d: ["replay", "/dev/zero", "--workflow", "tests.workflows.recorded:Transfer"],
        "/dev/zero"),
    "history that is a folder": (lambda d: ["history", str(d)], "cannot read"),
    **{f"replay of a module that calls sys.exit at import ({name})": (
        lambda d, name=name: ["replay", str(MONEY), "--workflow",
                              f"{_module(d, name)}:MoneyTransfer"],
        "exit") for name in EXITS_AT_IMPORT},
}


def _module(folder: Path, name: str) -> str:
    """Write the workflow module ``name`` where the command will import it from."""
    (folder / name).write_text(EXITS_AT_IMPORT[name], encoding="utf-8")
    return Path(name).stem


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_bad_input_is_one_line_and_exit_2(attack: str, tmp_path: Path) -> None:
    arguments, fragment = ATTACKS[attack]
    cwd = tmp_path if "sys.exit" in attack else REPO  # user modules are found from the cwd
    done = durasim(*arguments(tmp_path), cwd=cwd)
    assert (done.returncode, done.stderr.count("\n"), "Traceback" in done.stderr) == (
        2, 1, False), done.stderr[-2000:]
    assert done.stderr.startswith("durasim: ") and fragment in done.stderr, done.stderr
