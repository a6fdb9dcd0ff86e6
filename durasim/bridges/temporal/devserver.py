"""A throw-away Temporal dev server on the loopback address: started, awaited, always stopped.

durasim's engine promises histories with Temporal's event types, in Temporal's order. The
only honest way to keep that promise is to run the same workflow on Temporal itself and
compare. :class:`TemporalDevServer` starts the ``temporal`` CLI's development server on a
free ``127.0.0.1`` port with its database in a temporary folder, waits until it really
serves the ``default`` namespace, and always stops it again: a teaching notebook must never
leave a server behind, not even when its kernel is killed (see ``watchdog.py``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from durasim.bridges.temporal import watchdog
from durasim.bridges.temporal.install import (
    TemporalServerError,
    find_temporal_cli,
    require_temporalio,
)

if TYPE_CHECKING:  # only for type checkers: the SDK is an optional extra
    from temporalio.client import Client

__all__ = ["TemporalDevServer", "free_port"]

_HOST = "127.0.0.1"
_STDERR_TAIL_LINES = 20


def free_port(host: str = _HOST) -> int:
    """Ask the OS for a TCP port nobody is listening on.

    There is a small window between closing this socket and the server binding the port;
    on a teaching machine that race is far less likely than a clash on a fixed port.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = _STDERR_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def _stop_process(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Terminate ``proc``, kill it if it lingers past ``timeout``, and reap it."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def _start_guard(server: subprocess.Popen[bytes], folder: Path) -> subprocess.Popen[bytes] | None:
    """Start the watchdog that stops ``server`` and deletes ``folder`` if this process dies.

    None where it cannot work (no POSIX sessions); there only the ``with`` block and the
    interpreter's exit stop the server.
    """
    if os.name != "posix":
        return None
    return subprocess.Popen(
        [sys.executable, "-I", watchdog.__file__, str(server.pid), str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


class _Running:
    """What one started server holds: its process, its folder and its watchdog.

    ``close`` is the one way to let go of them, from :meth:`TemporalDevServer.stop` or
    from the interpreter's exit (a ``weakref.finalize``, which must not hold the server).
    """

    def __init__(self, tmp: tempfile.TemporaryDirectory[str]) -> None:
        self.tmp = tmp
        self.folder = Path(tmp.name)
        self.proc: subprocess.Popen[bytes] | None = None
        self.guard: subprocess.Popen[bytes] | None = None

    def close(self, timeout: float) -> None:
        """Stop the server (terminate, then kill), delete the folder, dismiss the guard."""
        if self.proc is not None:
            _stop_process(self.proc, timeout)
        with contextlib.suppress(OSError):
            self.tmp.cleanup()
        guard, self.guard = self.guard, None
        if guard is not None and guard.stdin is not None:
            with contextlib.suppress(OSError):  # a guard that died has nothing to be told
                guard.stdin.write(watchdog.STOPPED)
                guard.stdin.close()
            try:
                guard.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                guard.kill()
                guard.wait(timeout=timeout)


class TemporalDevServer:
    """A throw-away Temporal dev server on ``127.0.0.1``, as a context manager.

    Example:
        >>> with TemporalDevServer() as server:  # doctest: +SKIP
        ...     client = await server.connect()

    The server binds every port to the loopback address, runs without its web UI, keeps its
    SQLite database in a temporary folder, and is stopped (terminate, then kill) and its
    folder deleted when the ``with`` block ends, whatever happened inside it, or at the
    latest when the interpreter exits. If this process is killed outright (SIGKILL, a
    crashed kernel), a watchdog process kills the server and deletes the folder instead.

    Args:
        cli: Path of the ``temporal`` binary; found with :func:`find_temporal_cli` if omitted.
        port: gRPC port; a free one if omitted.
        startup_timeout: Seconds to wait for the server to serve its namespace.
        stop_timeout: Seconds to wait after SIGTERM before SIGKILL.
        extra_args: More ``temporal server start-dev`` flags, e.g. dynamic config values.
    """

    namespace: str = "default"

    def __init__(
        self,
        *,
        cli: str | os.PathLike[str] | None = None,
        port: int | None = None,
        startup_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        extra_args: Sequence[str] = (),
    ) -> None:
        if startup_timeout <= 0 or stop_timeout <= 0:
            raise ValueError(
                "startup_timeout and stop_timeout must be positive numbers of seconds."
            )
        self._cli_arg = cli
        self._port_arg = port
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.extra_args = tuple(extra_args)
        self._run: _Running | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._port: int | None = None
        self._cli: Path | None = None

    # -- what a user reads -------------------------------------------------------------

    @property
    def port(self) -> int:
        """The gRPC port the server listens on (only while it runs)."""
        if self._port is None or not self.running:
            raise TemporalServerError("The Temporal dev server is not running; use it in `with`.")
        return self._port

    @property
    def address(self) -> str:
        """``"127.0.0.1:PORT"``, what ``Client.connect`` and ``temporal --address`` expect."""
        return f"{_HOST}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int:
        """The server's process id (only while it runs)."""
        if self._proc is None or not self.running:
            raise TemporalServerError("The Temporal dev server is not running; use it in `with`.")
        return self._proc.pid

    @property
    def folder(self) -> Path:
        """The temporary folder with the server's database and logs (only while started)."""
        if self._run is None:
            raise TemporalServerError("The Temporal dev server is not running; use it in `with`.")
        return self._run.folder

    @property
    def _proc(self) -> subprocess.Popen[bytes] | None:
        return self._run.proc if self._run is not None else None

    @property
    def cli(self) -> Path:
        """The ``temporal`` binary this server runs."""
        if self._cli is None:
            self._cli = Path(self._cli_arg) if self._cli_arg is not None else find_temporal_cli()
        return self._cli

    # -- lifecycle ---------------------------------------------------------------------

    def __enter__(self) -> TemporalDevServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> TemporalDevServer:
        """Start the server and block until it serves the ``default`` namespace.

        Raises:
            TemporalServerError: the binary is missing, the process died (the message ends
                with its stderr), or it was not ready within ``startup_timeout`` seconds.
        """
        if self._run is not None:
            raise TemporalServerError("This TemporalDevServer was already started.")
        cli = self.cli
        run = self._run = _Running(tempfile.TemporaryDirectory(prefix="durasim-temporal-"))
        self._port = self._port_arg if self._port_arg is not None else free_port()
        cmd = [
            str(cli),
            "server",
            "start-dev",
            "--headless",  # no web UI: nothing to bind, nothing to leave open
            "--ip",
            _HOST,
            "--port",
            str(self._port),
            "--db-filename",
            str(run.folder / "temporal.db"),
            *self.extra_args,
        ]
        stdout = (run.folder / "stdout.log").open("wb")
        stderr = (run.folder / "stderr.log").open("wb")
        try:
            # Files, not pipes: a chatty server can never block on a full pipe buffer.
            # A new session keeps a notebook's Ctrl-C from reaching the server mid-write,
            # and gives the watchdog one group to kill.
            run.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                cwd=run.folder,
                start_new_session=True,
            )
        except OSError as exc:
            self.stop()
            raise TemporalServerError(f"Could not run {cli}: {exc}") from exc
        finally:
            stdout.close()
            stderr.close()
        self._finalizer = weakref.finalize(self, run.close, self.stop_timeout)
        try:
            run.guard = _start_guard(run.proc, run.folder)
            self._wait_until_ready(run.folder)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (terminate, then kill) and delete its temporary database.

        Safe to call twice and on a server that never started.
        """
        run, self._run = self._run, None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if run is not None:
            run.close(self.stop_timeout)

    def _wait_until_ready(self, folder: Path) -> None:
        """Poll until the namespace answers; fail fast if the process dies.

        An open TCP port is not enough: the frontend accepts connections a moment before
        the ``default`` namespace is registered, and a worker started in that moment fails.
        So after the port opens, ask the CLI itself to describe the namespace.
        """
        assert self._proc is not None and self._port is not None
        deadline = time.monotonic() + self.startup_timeout
        stderr_log = folder / "stderr.log"
        while True:
            code = self._proc.poll()
            if code is not None:
                raise TemporalServerError(
                    f"The Temporal dev server exited with code {code} while starting "
                    f"({self.cli} on port {self._port}). Its last stderr lines:\n"
                    f"{_tail(stderr_log) or '(nothing)'}"
                )
            if self._port_open() and self._namespace_ready():
                return
            if time.monotonic() > deadline:
                raise TemporalServerError(
                    f"The Temporal dev server did not serve namespace {self.namespace!r} on "
                    f"{_HOST}:{self._port} within {self.startup_timeout:g} s. "
                    f"Its last stderr lines:\n{_tail(stderr_log) or '(nothing)'}"
                )
            time.sleep(0.1)

    def _port_open(self) -> bool:
        assert self._port is not None
        try:
            with socket.create_connection((_HOST, self._port), timeout=0.5):
                return True
        except OSError:
            return False

    def _namespace_ready(self) -> bool:
        assert self._port is not None
        cmd = [
            str(self.cli),
            "operator",
            "namespace",
            "describe",
            "--namespace",
            self.namespace,
            "--address",
            f"{_HOST}:{self._port}",
            "--disable-config-file",
            "--disable-config-env",
            "--command-timeout",
            "2s",
            "--output",
            "none",
        ]
        try:
            done = subprocess.run(
                cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=5, check=False
            )
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0

    # -- talking to it -----------------------------------------------------------------

    async def connect(self) -> Client:
        """Connect a ``temporalio`` client to this server's ``default`` namespace.

        Raises:
            TemporalServerError: ``temporalio`` is missing (the message names the extra) or
                the server is not running.
        """
        require_temporalio()
        from temporalio.client import Client

        return await Client.connect(self.address, namespace=self.namespace)

    def __repr__(self) -> str:
        where = f"{_HOST}:{self._port}" if self.running else "stopped"
        return f"TemporalDevServer({where})"

