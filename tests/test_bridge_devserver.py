"""The Temporal dev server the bridge starts never outlives its owner (issue 17.10).

A notebook kernel can be killed outright (SIGKILL, out of memory, "restart kernel"); no
``with`` block or ``atexit`` hook runs then. These tests kill a real Python process that
owns a real dev server and check, from outside, that the server's listening ports close
and its temporary folder disappears; and that an ordinary stop leaves no helper process
behind. They need Linux (``/proc``) and the ``temporal`` extra, and are skipped with the
reason otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from durasim.bridges.temporal import TemporalDevServer, TemporalServerError, require_temporalio

pytestmark = [
    pytest.mark.temporal,
    pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux's /proc"),
]

#: Generous bounds for a loaded machine; nothing here asserts how fast things happen.
STARTUP_DEADLINE = 120.0
CLEANUP_DEADLINE = 30.0

OWNER = textwrap.dedent("""
    import json, sys, time
    from durasim.bridges.temporal import TemporalDevServer, TemporalServerError
    server = TemporalDevServer()
    try:
        server.start()
    except TemporalServerError as error:
        facts = {"error": str(error)}
    else:
        facts = {"pid": server.pid, "folder": str(server.folder), "port": server.port}
    with open(sys.argv[1] + ".tmp", "w") as out:
        json.dump(facts, out)
    import os; os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    time.sleep(600)
""")


def listening_ports(pid: int) -> set[int]:
    """The TCP ports process ``pid`` listens on, read from /proc (its socket inodes)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def running(pid: int) -> bool:
    """Alive and not a zombie (a zombie holds no ports and no files)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def guards_of(folder: Path) -> list[int]:
    """Pids of the watchdog processes watching ``folder`` (from their command lines)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(arg.endswith(b"watchdog.py") for arg in argv) and str(folder).encode() in argv:
            found.append(int(entry.name))
    return found


@pytest.fixture
def owner(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], dict[str, object]]]:
    """A Python process that started a dev server and then just waits; skipped, with the
    reason, when the server cannot start. Whatever the test does, nothing is left behind."""
    try:
        require_temporalio()
    except TemporalServerError as exc:
        pytest.skip(f"no Temporal SDK: {exc}")
    facts_file = tmp_path / "owner.json"
    proc = subprocess.Popen([sys.executable, "-c", OWNER, str(facts_file)],
                            stdin=subprocess.DEVNULL)
    facts: dict[str, object] = {}
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE
        while not facts_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the owner process did not start a server (exit {proc.poll()})")
            time.sleep(0.1)
        facts = json.loads(facts_file.read_text())
        if "error" in facts:
            pytest.skip(f"no Temporal dev server: {facts['error']}")
        yield proc, facts
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        pid = facts.get("pid")
        if isinstance(pid, int) and running(pid):  # the guard failed: clean up after it
            os.killpg(pid, signal.SIGKILL)
        if isinstance(facts.get("folder"), str):
            shutil.rmtree(str(facts["folder"]), ignore_errors=True)


def test_a_sigkilled_owner_leaves_no_open_port_and_no_folder(
        owner: tuple[subprocess.Popen[bytes], dict[str, object]]) -> None:
    proc, facts = owner
    pid, port, folder = int(str(facts["pid"])), int(str(facts["port"])), Path(str(facts["folder"]))
    ports = listening_ports(pid)
    assert port in ports, f"the gRPC port {port} is not among {sorted(ports)}"
    assert folder.is_dir() and guards_of(folder)

    proc.send_signal(signal.SIGKILL)  # no with-block exit, no atexit: the kernel is gone
    proc.wait(timeout=30)

    deadline = time.monotonic() + CLEANUP_DEADLINE
    while time.monotonic() < deadline:
        if not running(pid) and not folder.exists() and not any(map(accepts, ports)):
            break
        time.sleep(0.1)
    assert not running(pid), "the dev server outlived its owner"
    assert [p for p in sorted(ports) if accepts(p)] == []
    assert not folder.exists(), "the temporary folder outlived its owner"
    assert guards_of(folder) == [], "the watchdog did not exit after its work"


def test_an_ordinary_stop_leaves_no_watchdog_behind() -> None:
    try:
        require_temporalio()
        server = TemporalDevServer().start()
    except TemporalServerError as exc:
        pytest.skip(f"no Temporal dev server: {exc}")
    try:
        folder, pid = server.folder, server.pid
        assert len(guards_of(folder)) == 1
    finally:
        server.stop()
    assert not running(pid) and not folder.exists()
    assert guards_of(folder) == []
    with pytest.raises(TemporalServerError):
        server.folder  # noqa: B018 - the property raises once the server is stopped
