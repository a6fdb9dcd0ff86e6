"""Stop a Temporal dev server whose owner died, and delete its temporary folder.

:class:`~durasim.bridges.temporal.TemporalDevServer` stops its server when the ``with``
block ends or the interpreter exits. A process killed with SIGKILL runs neither, and
without this guard its server would keep six ports open and its database folder on disk
for good. So next to each server the owner starts this small process, holding the read end
of a pipe whose write end only the owner has. A pipe's write end closes when its owner
exits, however it exits, so:

- the owner stops the server itself, writes ``stopped`` and closes the pipe: the guard
  reads that and exits without touching anything;
- the owner dies: the guard reads end-of-file without ``stopped``, kills the server's
  session (the server runs as the leader of a session of its own) and deletes the folder.

(A process forked from the owner without ``exec`` shares the pipe, so the guard acts when
the last of them exits.)

It is started as a script (``python .../watchdog.py PID FOLDER``), imports only the
standard library, and runs in its own session, so a Ctrl-C meant for the owner never
reaches it. POSIX only (sessions, ``killpg``).
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time

#: What the owner writes before it closes the pipe, once it has stopped the server itself.
STOPPED = b"stopped\n"
#: How long to wait for the killed server to be gone before deleting its folder anyway.
GONE_TIMEOUT = 5.0


def _gone(pid: int) -> bool:
    """Whether ``pid`` no longer runs (it exited, or is a zombie nobody has reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # some other user's process has that pid now
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def kill_server(pid: int) -> None:
    """Kill the session ``pid`` leads and wait (briefly) until its leader is gone.

    The session check makes sure ``pid`` is still the server: had the server exited and
    its pid been given to an unrelated process, that process would not lead a session with
    its own pid as id, and is left alone.
    """
    try:
        if os.getsid(pid) != pid:
            return
        os.killpg(pid, signal.SIGKILL)
    except OSError:  # already gone
        return
    deadline = time.monotonic() + GONE_TIMEOUT
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.02)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or not argv[1].isdigit():
        print(f"usage: {argv[0]} SERVER_PID FOLDER", file=sys.stderr)
        return 2
    pid, folder = int(argv[1]), argv[2]
    told = sys.stdin.buffer.read()  # returns when the owner closes the pipe or dies
    if told == STOPPED:
        return 0
    kill_server(pid)
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
