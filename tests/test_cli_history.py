"""``durasim history`` and ``durasim replay`` on real Temporal histories, as a user runs them.

Each test starts the real command (``python -m durasim``) in a subprocess, so what is
checked is what a student sees: the table, the one-line verdict, the exit status, and no
traceback for a mistake of theirs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from durasim import History
from durasim.cli import main
from tests.conftest import REPO

RECORDED = Path(__file__).parent / "fixtures" / "recorded"

#: A copy of the shared fixture's workflow with the first two activities swapped: the kind
#: of change Temporal's Replayer exists to catch before it reaches running executions.
MUTATED = '''
import durasim

@durasim.activity
def debit(account, amount):
    return amount

@durasim.activity
def credit(account, amount):
    return amount

@durasim.activity
def notify(account):
    return "sent"

@durasim.workflow
async def MoneyTransfer(ctx, amount):
    await ctx.activity(credit, "bob", amount, start_to_close=5)
    await ctx.activity(debit, "alice", amount, start_to_close=5)
    await ctx.activity(notify, "bob", start_to_close=5)
    return amount
'''


def durasim_cli(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "durasim", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=60, check=False)


def assert_one_line_error(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert lines[0].startswith("durasim: ")
    for fragment in fragments:
        assert fragment in lines[0]


# --- durasim history -------------------------------------------------------------------


def test_history_prints_the_compact_table(temporal_fixtures: Path) -> None:
    done = durasim_cli("history", temporal_fixtures / "money_transfer.json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == ("MoneyTransfer (workflow id money_transfer): 23 events; "
                        "12 workflow-task events hidden, --full shows them")
    assert lines[1].split() == ["id", "time", "event", "details"]
    rows = lines[2:]
    history = History.from_temporal_json(temporal_fixtures / "money_transfer.json")
    assert [r.split()[3] for r in rows] == history.event_types(compact=True)
    assert [int(r.split()[0]) for r in rows] == [1, 5, 6, 7, 11, 12, 13, 17, 18, 19, 23]
    assert rows[1].split() == ["5", "0.037", "s", "ActivityTaskScheduled", "debit(['alice',",
                               "25])"]
    assert rows[-1].endswith("WorkflowExecutionCompleted  -> 25")


def test_history_full_shows_workflow_tasks(temporal_fixtures: Path) -> None:
    done = durasim_cli("history", temporal_fixtures / "delayed_transfer.json", "--full")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "DelayedTransfer (workflow id delayed_transfer): 22 events"
    history = History.from_temporal_json(temporal_fixtures / "delayed_transfer.json")
    assert [r.split()[3] for r in lines[2:]] == history.event_types()
    timer = next(r for r in lines if "TimerFired" in r)
    assert timer.split()[1:3] == ["3.016", "s"]  # the durable timer of 3 s


@pytest.mark.parametrize("name", sorted(p.stem for p in RECORDED.glob("*.json")))
def test_history_reads_every_recording(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    # In-process (the same entry point as the console script): a subprocess each is slow.
    assert main(["history", str(RECORDED / f"{name}.json")]) == 0
    out, err = capsys.readouterr()
    history = History.from_temporal_json(RECORDED / f"{name}.json")
    assert err == ""
    assert len(out.splitlines()) == 2 + len(history.event_types(compact=True))
    assert main(["history", str(RECORDED / f"{name}.json"), "--full"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2 + len(history)


def test_history_reads_the_cli_json_too() -> None:
    done = durasim_cli("history", RECORDED / "cli" / "transfer.json")
    assert done.returncode == 0, done.stderr
    assert "notify(['bob'])" in done.stdout


def test_history_shows_retries_as_the_last_attempt() -> None:
    done = durasim_cli("history", RECORDED / "retry_then_success.json")
    started = next(r for r in done.stdout.splitlines() if "ActivityTaskStarted" in r)
    assert started.endswith("attempt 3")


MALFORMED = [
    ('{"events": [', ("invalid JSON at line",)),
    ('{"events": [{"eventId": "1", "eventTime": "2026-01-01T00:00:00Z", '
     '"eventType": "EVENT_TYPE_NOT_A_THING"}]}', ("event index 0", "eventType")),
    ('{"events": [{"eventTime": "2026-01-01T00:00:00Z"}]}', ("event index 0", "eventId")),
    ("[1, 2", ("invalid JSON",)),
    ('"just a string"', ("top level",)),
]


def test_history_malformed_file_is_one_line_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(MALFORMED[0][0], encoding="utf-8")
    assert_one_line_error(durasim_cli("history", path), str(path), *MALFORMED[0][1])


@pytest.mark.parametrize("content, fragments", MALFORMED,
                         ids=["truncated", "unknown-type", "missing-id", "bad-array",
                              "not-a-history"])
def test_every_malformed_file_is_one_line_exit_2(tmp_path: Path, content: str,
                                                 fragments: tuple[str, ...],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    assert main(["history", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"durasim: {path}")
    for fragment in fragments:
        assert fragment in line


def test_history_missing_file_is_one_line_exit_2(tmp_path: Path) -> None:
    assert_one_line_error(durasim_cli("history", tmp_path / "nope.json"), "no such file")


def test_history_without_a_file_is_an_argparse_error() -> None:
    assert_one_line_error(durasim_cli("history"), "FILE.json")


# --- durasim replay --------------------------------------------------------------------


@pytest.mark.parametrize("fixture, workflow, commands", [
    ("money_transfer", "MoneyTransfer", 4), ("delayed_transfer", "DelayedTransfer", 4)])
def test_replay_ok_on_the_shared_fixtures(temporal_fixtures: Path, fixture: str,
                                          workflow: str, commands: int) -> None:
    path = temporal_fixtures / f"{fixture}.json"
    done = durasim_cli("replay", path, "--workflow", f"tests.workflows.recorded:{workflow}")
    assert done.returncode == 0, done.stderr
    events = len(json.loads(path.read_text())["events"])
    assert done.stdout == f"replay ok: {events} events, {commands} commands matched\n"
    assert done.stderr == ""


@pytest.mark.parametrize("fixture, workflow", [
    ("transfer", "Transfer"), ("saga_refund", "SagaTransfer"), ("signal_wait", "Approval"),
    ("parent_child", "Payroll"), ("continue_as_new_run1", "Counter"),
    ("retry_then_success", "RetryThenSuccess"), ("non_retryable_failure", "Transfer")])
def test_replay_ok_on_the_recordings(fixture: str, workflow: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["replay", str(RECORDED / f"{fixture}.json"),
                 "--workflow", f"tests.workflows.recorded:{workflow}"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("replay ok: ")


def test_replay_of_changed_code_exits_1_with_the_tmprl1100_line(
        temporal_fixtures: Path, tmp_path: Path) -> None:
    (tmp_path / "flows.py").write_text(textwrap.dedent(MUTATED), encoding="utf-8")
    done = durasim_cli("replay", temporal_fixtures / "money_transfer.json",
                       "--workflow", "flows:MoneyTransfer", cwd=tmp_path)  # found in the cwd
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line == ("durasim: replay failed: [TMPRL1100] workflow 'money_transfer': history "
                    "event 5 is ActivityTaskScheduled(debit, ['alice', 25]) but the code "
                    "issued ScheduleActivityTask(credit, ['bob', 25])")


def test_replay_of_code_that_raises_exits_1_with_one_line() -> None:
    """A real recording, replayed with the code whose bug it recorded: not "replay ok"."""
    done = durasim_cli("replay", RECORDED / "workflow_bug_first_task.json", "--workflow",
                       "tests.test_workflow_task_failures:TypoTransferBuggy")
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("durasim: replay failed: replaying workflow ")
    assert "NameError: name 'amounnt' is not defined" in line


def test_replay_of_the_wrong_workflow_exits_1(temporal_fixtures: Path) -> None:
    done = durasim_cli("replay", temporal_fixtures / "money_transfer.json",
                       "--workflow", "tests.workflows.recorded:DelayedTransfer")
    assert done.returncode == 1
    assert "MoneyTransfer" in done.stderr and len(done.stderr.splitlines()) == 1


def test_replay_unknown_module_is_one_line_exit_2(temporal_fixtures: Path) -> None:
    done = durasim_cli("replay", temporal_fixtures / "money_transfer.json",
                       "--workflow", "no_such_module_here:Transfer")
    assert_one_line_error(done, "cannot import module 'no_such_module_here'")


@pytest.mark.parametrize("spec, fragment", [
    ("no_such_module_here:Transfer", "cannot import module 'no_such_module_here'"),
    ("tests.workflows.recorded:Nope", "has no 'Nope'"),
    ("tests.workflows.recorded:withdraw", "is not a workflow"),
    ("os:path", "is not a workflow"),
    ("Transfer", "is not MODULE:FUNCTION"),
    ('os:system("touch pwned")', "is not MODULE:FUNCTION"),
    ("__import__('os'):x", "is not MODULE:FUNCTION"),
])
def test_replay_bad_workflow_is_one_line_exit_2(temporal_fixtures: Path, spec: str,
                                                fragment: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(temporal_fixtures / "money_transfer.json"),
                 "--workflow", spec]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("durasim: ") and fragment in line
    assert not (REPO / "pwned").exists()


def test_replay_module_that_crashes_on_import_is_one_line_exit_2(
        temporal_fixtures: Path, tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom at import')\n")
    done = durasim_cli("replay", temporal_fixtures / "money_transfer.json",
                       "--workflow", "broken:Flow", cwd=tmp_path)
    assert_one_line_error(done, "RuntimeError: boom at import")


def test_replay_malformed_history_is_one_line_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"events": [', encoding="utf-8")
    done = durasim_cli("replay", path, "--workflow", "tests.workflows.recorded:Transfer")
    assert_one_line_error(done, "invalid JSON")


def test_replay_needs_the_workflow_option(temporal_fixtures: Path) -> None:
    done = durasim_cli("replay", temporal_fixtures / "money_transfer.json")
    assert_one_line_error(done, "--workflow")
