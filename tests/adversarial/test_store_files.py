"""Bad store files: each is one line of StoreError naming the path and what to do.

A folder, a damaged or foreign file, a read-only file or folder, rows with an unknown
event type, damaged JSON, a missing event, a closed store: never a raw ``sqlite3`` or
``json`` exception, never a traceback's worth of text.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from durasim import SQLiteStore
from durasim.engine import EventType, HistoryEvent
from durasim.engine.store import StoreError as StoreErrorFromEngine
from durasim.errors import DurasimError, StoreError

E = EventType
NOBODY = 65534


def refused(path: Path, *fragments: str) -> StoreError:
    """Opening ``path`` raises one line of StoreError naming it and each fragment."""
    with pytest.raises(StoreError) as caught:
        SQLiteStore(path)
    return one_line(caught.value, path, *fragments)


def one_line(error: StoreError, path: Path, *fragments: str) -> StoreError:
    message = str(error)
    assert "\n" not in message, message
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message
    assert error.__cause__ is None, "no raw exception chained"
    assert error.__context__ is None or error.__suppress_context__, "none shown either"
    return error


def make_store(path: Path) -> None:
    """A store with one run of four events, closed."""
    with SQLiteStore(path) as store:
        store.create_run("w", "r", "T", events=[
            HistoryEvent(1, E.WORKFLOW_EXECUTION_STARTED, 0.0, {"input": [b"\x01"]}),
            HistoryEvent(2, E.WORKFLOW_TASK_SCHEDULED, 0.0, {"attempt": 1})])
        store.append("w", "r", [
            HistoryEvent(3, E.WORKFLOW_TASK_STARTED, 0.1, {"scheduledEventId": 2}),
            HistoryEvent(4, E.WORKFLOW_TASK_COMPLETED, 0.2, {"scheduledEventId": 2})],
            state={"started_at": 0.0})


def tamper(path: Path, sql: str) -> None:
    with sqlite3.connect(path) as db:
        db.execute(sql)
    db.close()


def test_store_error_lives_in_durasim_errors() -> None:
    assert StoreErrorFromEngine is StoreError
    assert issubclass(StoreError, DurasimError)


def test_a_folder(tmp_path: Path) -> None:
    refused(tmp_path, "is a folder")


def test_a_missing_folder(tmp_path: Path) -> None:
    refused(tmp_path / "nowhere" / "h.db", "does not exist")


@pytest.mark.parametrize("content", [b"hello, I am a text file\n", os.urandom(8192),
                                     b"SQLite format 3\x00" + b"\xff" * 4000],
                         ids=["text", "random", "damaged-header"])
def test_a_file_that_is_not_a_store(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "h.db"
    path.write_bytes(content)
    refused(path, "move it away or give another path")
    assert path.read_bytes() == content, "the file was left as it was"


def test_a_sqlite_file_of_another_program(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    tamper(path, "CREATE TABLE events (id INTEGER, what TEXT)")
    refused(path, "not a durasim store")


@pytest.mark.parametrize(("sql", "fragments"), [
    ("UPDATE events SET event_type='TaskTeleported' WHERE event_id=3",
     ("run w/r event 3", "unknown event type 'TaskTeleported'")),
    ("UPDATE events SET attributes='{\"scheduledEventId\": 2' WHERE event_id=4",
     ("run w/r event 4 attributes", "not valid store JSON")),
    ("UPDATE events SET attributes='[1, 2]' WHERE event_id=2",
     ("run w/r event 2 attributes", "not an object")),
    ("UPDATE events SET attributes='{\"input\": [{\"$bytes\": \"%%%\"}]}' WHERE event_id=1",
     ("run w/r event 1 attributes", "invalid base64")),
    ("UPDATE events SET time='soon' WHERE event_id=2", ("run w/r event 2", "not a number")),
    ("UPDATE runs SET state='{\"started_at\": ' WHERE run_id='r'", ("run w/r state",)),
    ("UPDATE runs SET parent='\"me\"' WHERE run_id='r'", ("run w/r parent", "not an object")),
    ("DELETE FROM events WHERE event_id=3",
     ("run w/r has event 4 where 3 was expected", "events missing")),
    ("UPDATE events SET run_id='ghost' WHERE event_id=4", ("run w/ghost event 4",
                                                           "belongs to no run")),
], ids=["event-type", "json", "not-object", "base64", "time", "state", "parent", "gap",
        "orphan"])
def test_damaged_rows(tmp_path: Path, sql: str, fragments: tuple[str, ...]) -> None:
    path = tmp_path / "h.db"
    make_store(path)
    tamper(path, sql)
    refused(path, *fragments, "restore it from a copy")
    SQLiteStore(tmp_path / "other.db").close()  # a failed open held nothing


def test_a_closed_store(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    store = SQLiteStore(path)
    store.create_run("w", "r", "T", events=[
        HistoryEvent(1, E.WORKFLOW_EXECUTION_STARTED, 0.0, {})])
    store.close()
    store.close()  # twice is fine
    with pytest.raises(StoreError) as caught:
        store.append("w", "r", [HistoryEvent(2, E.WORKFLOW_TASK_SCHEDULED, 0.0, {})])
    one_line(caught.value, path, "is closed", "open the file again")
    assert len(store.run("w", "r").events) == 1, "memory did not run ahead of the file"
    with SQLiteStore(path) as again:
        assert [e.event_id for e in again.run("w", "r").events] == [1]


def test_appending_to_an_unknown_run(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "h.db") as store, pytest.raises(StoreError, match="no run"):
        store.append("w", "ghost", [])


# -- permissions: checked as an unprivileged user (root may write anything) -----------
@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder an unprivileged user can reach (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="durasim-perm-"))
    folder.chmod(0o777)
    yield folder
    folder.chmod(0o755)
    shutil.rmtree(folder)


def try_open(path: Path) -> str:
    try:
        SQLiteStore(path).close()
    except StoreError as error:
        return f"StoreError {error}"
    except BaseException as error:
        return f"{type(error).__name__} {error}"
    return "opened"


def open_as_user(path: Path) -> str:
    """Open ``path`` in a process that file permissions apply to; its one-line answer.

    As root, a forked child drops to uid/gid 65534 first (a fork: the interpreter of
    this venv may live where that user cannot read).
    """
    if os.geteuid() != 0:
        return try_open(path)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.write(write, try_open(path).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        text = answer.read()
    os.waitpid(pid, 0)
    return text


def test_a_read_only_file(shared_folder: Path) -> None:
    path = shared_folder / "h.db"
    make_store(path)
    path.chmod(0o444)
    answer = open_as_user(path)
    assert answer.startswith("StoreError"), answer
    assert "\n" not in answer and str(path) in answer and "chmod u+rw" in answer, answer


def test_a_read_only_folder(shared_folder: Path) -> None:
    make_store(shared_folder / "h.db")
    shared_folder.chmod(0o555)
    for name in ("h.db", "new.db"):
        answer = open_as_user(shared_folder / name)
        assert answer.startswith("StoreError"), answer
        assert "is read-only" in answer and "writable folder" in answer, answer
