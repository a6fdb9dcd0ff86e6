"""The ``durasim`` command: demo and simulate; user mistakes are one line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def durasim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "durasim", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def test_demo_tells_the_talks_story(tmp_path: Path) -> None:
    done = durasim("demo", "--out", str(tmp_path / "pictures"))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "monolith: rolled back" in out and "event_driven: lost" in out
    assert "Money was destroyed: alice lost 25 but bob never received it" in out
    assert "durable: completed" in out and "retries deposit (attempt 2)" in out
    assert "replays 35 history events" in out  # the worker, as in the slides' story
    pictures = sorted(p.name for p in (tmp_path / "pictures").glob("*.png"))
    assert pictures == ["timeline_durable.png", "timeline_event_driven.png",
                        "timeline_monolith.png"]
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "\x1b[" not in out, "no colour codes in a pipe"


def test_demo_in_spanish_waits_for_enter_before_each_architecture() -> None:
    demo = subprocess.Popen([sys.executable, "-m", "durasim", "demo", "--lang", "es",
                             "--pause", "--no-pictures"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert demo.stdin is not None and demo.stdout is not None
    seen = b""
    try:
        for architecture in ("monolith", "event_driven", "durable"):
            prompt = f"Enter: siguiente arquitectura ({architecture})".encode()
            while prompt not in seen:
                chunk = demo.stdout.read1(4096)
                assert chunk, f"the demo ended before asking for Enter ({architecture})"
                seen += chunk
            assert f"{architecture}: ".encode() not in seen.split(prompt)[-1]
            demo.stdin.write(b"\n")
            demo.stdin.flush()
        rest, err = demo.communicate(timeout=120)
    finally:
        demo.kill()
    out = (seen + rest).decode()
    assert demo.returncode == 0, err
    assert "monolith: revertida" in out and "event_driven: perdida" in out
    assert "durable: completada" in out and "reintenta deposit (intento 2)" in out
    assert "El dinero no se conserva: 150 antes, 125 después" in out
    for english in ("rolled back", "completed", "retries", "attempt", "history", "Money"):
        assert english not in out, english
    assert max(len(line) for line in out.splitlines()) <= 80


def test_demo_has_colour_on_a_terminal() -> None:
    import os
    import pty

    leader, follower = pty.openpty()
    demo = subprocess.Popen([sys.executable, "-m", "durasim", "demo", "--no-pictures"],
                            stdout=follower, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    os.close(follower)
    out = b""
    try:
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closes when the demo ends
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(leader)
        demo.wait(timeout=120)
    assert demo.returncode == 0
    assert b"\x1b[" in out and b"revertida" not in out


def test_demo_after_effect_shows_double_deposits() -> None:
    done = durasim("demo", "--when", "after_effect", "--no-pictures")
    assert done.returncode == 0, done.stderr
    assert "deposit ran twice" in done.stdout


def test_simulate_json_gives_outcome_state_checks_and_history(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"faults": [{"kind": "Crash", "at_step": 5,
                                            "when": "after_effect"}]}))
    done = durasim("simulate", "transfer", "--architecture", "durable", "--faults", str(plan),
                   "-o", "idempotent_activities=true", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["outcome"] == "completed"
    assert data["state"]["balances"] == {"alice": 75, "bob": 75}
    assert all(c["ok"] for c in data["checks"])
    assert data["history"][0] == "WorkflowExecutionStarted"


def test_simulate_text_for_event_driven() -> None:
    done = durasim("simulate", "transfer", "-a", "event_driven", "-o", "outbox=true")
    assert done.returncode == 0, done.stderr
    assert "outcome: completed" in done.stdout


@pytest.mark.parametrize("args, message", [
    (["simulate", "transfr"], "unknown scenario 'transfr'"),
    (["simulate", "transfer", "-a", "mainframe"], "unknown architecture 'mainframe'"),
    (["simulate", "transfer", "-o", "outbox"], "NAME=VALUE"),
    (["simulate", "transfer", "-a", "durable", "-o", "outbox=true"], "no option 'outbox'"),
    (["demo", "--crash-at-step", "9"], "has no step 9"),
    (["demo", "--when", "during"], "invalid choice"),
])
def test_mistakes_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    done = durasim(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_bad_fault_plan_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"faults": [{"kind": "Crash", "at_step": 5, "at_time": 1}]}')
    done = durasim("simulate", "transfer", "--faults", str(bad))
    assert done.returncode == 2 and "exactly one trigger" in done.stderr
    done = durasim("simulate", "transfer", "--faults", str(tmp_path / "missing.json"))
    assert done.returncode == 2 and "cannot read" in done.stderr
