"""One store, one writer: a process holds a store file while it may drive its runs.

Two processes driving one store would each recover the other's open runs and write into
them. So opening a :class:`~durasim.engine.store.SQLiteStore` takes an exclusive lock on
a small file beside the database (``<file>.lock``) and writes who holds it and since when.
The operating system releases the lock when the holder exits, however it exits: a store
left by a SIGKILLed process is simply taken over by the next one to open it. Several
``SQLiteStore`` objects of one process share the process's hold (a notebook may open the
same file twice); the last one closed lets it go.

Needs ``fcntl`` (Linux, macOS). Where it is missing the lock is not taken.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from pathlib import Path

from durasim.errors import StoreError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_HELD: dict[tuple[int, str], tuple[int, int]] = {}
"""(process id, lock file) -> (file descriptor, how many stores of this process use it)."""


def _forget_inherited() -> None:
    """In a forked child: the parent's holds are not the child's; drop them."""
    for (pid, _), (fd, _) in list(_HELD.items()):
        if pid != os.getpid():
            os.close(fd)  # the parent's own descriptor keeps its lock
    _HELD.clear()


os.register_at_fork(after_in_child=_forget_inherited)


def lock_path(database: Path) -> Path:
    """Where the lock of ``database`` lives."""
    return database.with_name(database.name + ".lock")


def acquire(database: Path) -> Path:
    """Hold ``database`` for this process (again, if it already does).

    Returns: the lock file, to give back to :func:`release`.

    Raises:
        StoreError: another live process holds it, or the lock file cannot be made.
    """
    path = lock_path(database)
    key = (os.getpid(), str(path.resolve()))
    if key in _HELD:
        fd, users = _HELD[key]
        _HELD[key] = (fd, users + 1)
        return path
    try:
        fd = _open(path)
    except OSError as error:
        raise StoreError(f"{database}: cannot create the lock file {path.name} beside it "
                         f"({error.strerror}); the folder must be writable, or copy the "
                         "store to a folder that is") from None
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
            os.close(fd)
            pid, since = [*holder, "?", "?"][:2]
            raise StoreError(
                f"{database} is held by process {pid} since {since}: one store has one "
                "writer. Wait for that process to finish, or stop it (a store left by a "
                "killed process is taken over), or use another file") from None
    since = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    with contextlib.suppress(OSError):  # a lock file of another user: held, but unsigned
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {since}\n".encode(), 0)
    _HELD[key] = (fd, 1)
    return path


def _open(path: Path) -> int:
    """The lock file, made if missing; read-only if another user made it (flock needs
    no write access, only the note of who holds it does)."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError:
        if not path.exists():
            raise
        return os.open(path, os.O_RDONLY)


def release(path: Path) -> None:
    """Give back one hold of this process on the lock file ``path``."""
    key = (os.getpid(), str(path.resolve()))
    if key not in _HELD:
        return
    fd, users = _HELD.pop(key)
    if users > 1:
        _HELD[key] = (fd, users - 1)
    else:
        os.close(fd)  # closing the only descriptor releases the lock
