"""What a history may hold: the same in memory and after a real reload from SQLite.

The rule (durasim.engine.store_values): JSON values and bytes; tuples become lists and
non-string keys become their JSON text on the way in, in every store; anything else is
refused. Hypothesis generates payloads, puts them in both stores, reopens the SQLite file
in a new SQLiteStore and compares with exact types (``1 == 1.0 == True`` in Python, so
plain ``==`` would let a changed type through).
"""

from __future__ import annotations

import enum
import json
import math
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import durasim
from durasim import SQLiteStore
from durasim.engine import EventType, HistoryEvent, MemoryStore
from durasim.engine.store_values import dumps, loads, normalised
from durasim.errors import StoreError

E = EventType

def payloads(*, with_bytes: bool = True) -> st.SearchStrategy[Any]:
    """Nested JSON-like values: big ints, floats, any unicode, bytes, tag-like keys."""
    scalars = (st.none() | st.booleans() | st.integers()
               | st.integers(min_value=-(10 ** 300), max_value=10 ** 300)
               | st.floats(allow_nan=False) | st.text(st.characters(codec=None))
               | st.sampled_from(["$bytes", "$dict", "", "\x00"]))
    if with_bytes:
        scalars |= st.binary()
    keys = st.text(max_size=8) | st.sampled_from(["$bytes", "$dict"])
    return st.recursive(
        scalars,
        lambda inner: (st.lists(inner, max_size=4) | st.tuples(inner, inner)
                       | st.dictionaries(keys, inner, max_size=4)
                       | st.dictionaries(st.integers() | st.booleans() | st.none(), inner,
                                         max_size=3)),
        max_leaves=20)


def same(a: Any, b: Any) -> bool:
    """Equal values of the very same types, all the way down (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def started(attributes: dict[str, Any]) -> list[HistoryEvent]:
    return [HistoryEvent(1, E.WORKFLOW_EXECUTION_STARTED, 0.0, attributes)]


def completed(result: Any) -> list[HistoryEvent]:
    return [HistoryEvent(2, E.ACTIVITY_TASK_COMPLETED, 1.5, {"result": result})]


@given(payload=payloads())
def test_payloads_survive_a_reload_with_their_types(tmp_path_factory: pytest.TempPathFactory,
                                                     payload: Any) -> None:
    path = tmp_path_factory.mktemp("values") / "h.db"
    memory = MemoryStore()
    memory.create_run("w", "r", "T", events=started({"input": [payload]}))
    memory.append("w", "r", completed(payload), state={"buffered": [["X", payload]]})
    with SQLiteStore(path) as store:
        store.create_run("w", "r", "T", events=started({"input": [payload]}))
        store.append("w", "r", completed(payload), state={"buffered": [["X", payload]]})
        written = [e.attributes for e in store.run("w", "r").events]
    with SQLiteStore(path) as reloaded:
        record = reloaded.run("w", "r")
        read = [e.attributes for e in record.events]
        assert same(read, written), "memory and disk agree"
        assert same(read, [e.attributes for e in memory.run("w", "r").events]), \
            "MemoryStore keeps what SQLiteStore gives back"
        assert same(loads(dumps(normalised(payload))), normalised(payload))
        assert same(record.state["buffered"][0][1], normalised(payload)), "state keeps types"


@given(payload=payloads(with_bytes=False))
def test_without_bytes_the_rule_is_exactly_a_json_round_trip(payload: Any) -> None:
    assert same(normalised(payload), json.loads(json.dumps(payload)))


def test_bytes_stay_bytes_and_tuples_become_lists(tmp_path: Path) -> None:
    class Colour(enum.IntEnum):
        RED = 1

    value = {"raw": b"\x00\xffdata", "pair": (1, 2), "keys": {1: "a", None: "b", False: "c"},
             "colour": Colour.RED, "tag": {"$bytes": "not bytes"}, "buf": bytearray(b"ab")}
    with SQLiteStore(tmp_path / "h.db") as store:
        store.create_run("w", "r", "T", events=started(value))
    with SQLiteStore(tmp_path / "h.db") as store:
        got = store.run("w", "r").events[0].attributes
    assert same(got, {"raw": b"\x00\xffdata", "pair": [1, 2],
                      "keys": {"1": "a", "null": "b", "false": "c"}, "colour": 1,
                      "tag": {"$bytes": "not bytes"}, "buf": b"ab"})


def test_the_stored_history_is_a_copy(tmp_path: Path) -> None:
    result = [1, 2]
    store = MemoryStore()
    store.create_run("w", "r", "T", events=started({"input": []}))
    store.append("w", "r", completed(result))
    result.append(3)  # the activity keeps changing its list after returning it
    assert store.run("w", "r").events[1].attributes["result"] == [1, 2]


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
@pytest.mark.parametrize(("value", "named"), [
    ({1, 2}, "attributes.result is of type set"),
    (object(), "attributes.result is of type object"),
    ({"a": [1, {2.5j}]}, "attributes.result.a[1] is of type set"),
    ({(1, 2): "x"}, "attributes.result has a key of type tuple"),
    (10 ** 5000, "attributes.result is an integer too long"),
], ids=["set", "object", "nested-set", "tuple-key", "huge-int"])
def test_values_a_history_cannot_keep_are_refused_the_same_way(
        tmp_path: Path, store_kind: str, value: Any, named: str) -> None:
    store = MemoryStore() if store_kind == "memory" else SQLiteStore(tmp_path / "h.db")
    store.create_run("w", "r", "T", events=started({"input": []}))
    expected = f"w/r event 2 (ActivityTaskCompleted): {named}"
    with pytest.raises(StoreError, match=re.escape(expected)):
        store.append("w", "r", completed(value))
    assert len(store.run("w", "r").events) == 1, "nothing half-appended"
    store.close()


def test_memory_changes_only_after_the_transaction_commits(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    store = SQLiteStore(path)
    store.create_run("w", "r", "T", events=started({"input": []}))
    blocker = sqlite3.connect(path, isolation_level=None, timeout=0)
    blocker.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    store._live().execute("PRAGMA busy_timeout=0")
    with pytest.raises(StoreError, match="database is locked"):
        store.append("w", "r", completed(7), state={"x": 1}, status="completed")
    record = store.run("w", "r")
    assert (len(record.events), record.status, record.state) == (1, "running", {})
    blocker.execute("ROLLBACK")
    blocker.close()
    store.append("w", "r", completed(7), status="completed")  # memory and disk still agree
    store.close()
    with SQLiteStore(path) as again:
        assert [e.event_id for e in again.run("w", "r").events] == [1, 2]
        assert again.run("w", "r").status == "completed"


@durasim.activity
def echo(value: Any) -> Any:
    return (value, b"\x00raw")


@durasim.workflow
async def Tuples(ctx: durasim.engine.WorkflowContext, value: Any, extra: Any = None) -> Any:
    """Passes a tuple and an int-keyed dict to an activity and continues as new with a
    tuple: the code's commands must match the recorded (normalised) events on replay."""
    echoed = await ctx.activity(echo, (value, {1: "one"}))
    await ctx.sleep(5)
    if value == "first":
        ctx.continue_as_new("again", (1, 2))
    return (echoed, extra, "done")


EXPECTED_TUPLES = [[["again", {"1": "one"}], b"\x00raw"], [1, 2], "done"]


@pytest.mark.parametrize("crash", [None, 9, 14], ids=["no-crash", "crash-9", "crash-14"])
def test_workflows_passing_tuples_replay_against_their_normalised_history(
        tmp_path: Path, crash: int | None) -> None:
    faults = [durasim.Crash(node="worker", after_events=crash)] if crash else []
    in_memory = durasim.execute(Tuples, "first", faults=faults, until=3600)
    with SQLiteStore(tmp_path / "h.db") as store:
        on_disk = durasim.execute(Tuples, "first", faults=faults, store=store, until=3600)
    with SQLiteStore(tmp_path / "h.db") as store:  # a new process would see this
        reloaded = [e.attributes for r in store.runs() for e in r.events]
    assert (in_memory.status, on_disk.status) == ("completed", "completed")
    assert same(in_memory.result, EXPECTED_TUPLES) and same(on_disk.result, EXPECTED_TUPLES)
    assert same(reloaded, [e.attributes for h in on_disk.histories for e in h.events])
    for history in on_disk.histories:
        durasim.Replayer(workflows=[Tuples]).replay(history)
