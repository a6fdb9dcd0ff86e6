"""Attack the history readers with mutated real histories: nothing escapes but durasim's errors.

A history reaches durasim from a file a student exported, edited or truncated, or from
code that built it in memory. Every reader must either work or say in one line what is
wrong and where: loading, the history table (text and HTML), writing JSON back, and the
Replayer. The only exceptions allowed out are :class:`HistoryFormatError` (the history
is malformed or impossible) and, from the Replayer on a well-formed history that the
workflow code does not fit, :class:`NondeterminismError` (other commands) or
:class:`ReplayTaskError` (the code raised on the history's inputs, e.g. an argument
damaged into ``null``).

The attacks start from every history recorded on a real Temporal server in
``tests/fixtures`` and from histories the engine wrote for a few programs (activities
that fail and retry, timers, signals, patches, children, parallel groups, a worker
crash), and damage them with :func:`durasim.strategies.history_mutations` or, for the
in-memory path, by changing the decoded events directly.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tests.workflows.recorded as recorded
from durasim.commands.history import history_lines
from durasim.engine.api import execute
from durasim.engine.definitions import workflow_definition
from durasim.engine.history import History, HistoryEvent
from durasim.engine.replayer import Replayer
from durasim.errors import HistoryFormatError, NondeterminismError, ReplayTaskError
from durasim.faults import Crash, FailActivity
from durasim.strategies import (
    ActivityStep,
    ChildStep,
    HeartbeatStep,
    LocalActivityStep,
    ParallelStep,
    PatchStep,
    Program,
    QueryStep,
    SignalStep,
    TimerStep,
    UpdateStep,
    WaitConditionStep,
    build_workflow,
    history_mutations,
    history_sources,
)
from durasim.viz.history import history_table_html
from tests.properties import CI, examples

pytestmark = pytest.mark.slow

FUZZED = examples(20_000, dev=300)
"""Mutated histories per attack under the ci profile (``make test``); a few in dev."""


def _is_workflow(value: Any) -> bool:
    try:
        workflow_definition(value)
    except TypeError:
        return False
    return True


PROGRAMS = {
    "activities, timer, signal, patch": (Program((
        ActivityStep("a1", 1), TimerStep(5.0), SignalStep("s1", 3, at=1.0),
        PatchStep("p1"), ActivityStep("a2", 2, duration=0.5))), ()),
    "failure, child, parallel": (Program((
        ActivityStep("a1", 2, fails=True), ChildStep(Program((ActivityStep("a2", 3),))),
        ParallelStep(((ActivityStep("a3", 4),), (TimerStep(1.0), ActivityStep("a4", 5)))))),
        ()),
    "retries and a worker crash": (Program((
        ActivityStep("a1", 1), ActivityStep("a2", 2), TimerStep(60.0))),
        (FailActivity("program_step", attempts=2), Crash(node="worker", after_events=9))),
    "heartbeats, local activity, update, query, timed waits": (Program((
        HeartbeatStep("h1", 3), LocalActivityStep("l1", 4),
        UpdateStep("u1", 5, at=1.0, refused=True), QueryStep("q1", 6, at=2.0),
        WaitConditionStep("w1", 3600.0, signal_at=10.0), WaitConditionStep("w2", 3600.0))),
        (Crash(node="worker", at_step="program_heartbeat", restart_after=1.0),)),
}
"""Programs whose engine histories are attacked, with the faults they run under."""


@dataclass(frozen=True)
class Base:
    """A valid history to attack: its JSON text, and the workflows that replay it."""

    name: str
    text: str


def _bases() -> tuple[list[Base], list[Any]]:
    bases = [Base(path.name, path.read_text(encoding="utf-8")) for path in history_sources()]
    workflows = [v for v in vars(recorded).values() if _is_workflow(v)]
    for name, (program, faults) in PROGRAMS.items():
        built = build_workflow(program)
        run = execute(built.workflow, requests=built.requests, faults=list(faults))
        assert run.status == "completed", (name, run.status)
        bases.append(Base(f"engine: {name}", run.history.to_temporal_json()))
        workflows += built.workflows
    return bases, workflows


BASES, WORKFLOWS = _bases()
REPLAYER = Replayer(workflows=WORKFLOWS)
DOCS = {base.name: json.loads(base.text) for base in BASES}
LOADED = {name: History.from_temporal_json(doc) for name, doc in DOCS.items()}
NAMES = st.sampled_from(sorted(DOCS))


def test_every_base_history_is_valid_and_replays() -> None:
    """The attacks start from histories every reader accepts, so what breaks is the damage."""
    replayed = []
    for base in BASES:
        history = History.from_temporal_json(base.text)
        if history.workflow_type in REPLAYER.definitions:  # (a few recordings have none)
            REPLAYER.replay(history)
            replayed.append(base.name)
    assert sum(1 for name in replayed if name.startswith("engine")) == len(PROGRAMS)
    assert sum(1 for name in replayed if not name.startswith("engine")) >= 15, replayed


def read_everything(history: History) -> None:
    """What a student can do with a loaded history: show it, write it, replay it."""
    for event in history:
        repr(event)
        event.summary()
    history_lines(history, full=True)
    history_table_html(history, compact=True)
    history._repr_html_()
    text = history.to_temporal_json()
    assert History.from_temporal_json(text) == history
    try:
        REPLAYER.replay(history)
    except (NondeterminismError, ReplayTaskError) as error:
        assert str(error) and "\n" not in str(error)
        raise


def attack(read: Callable[[], History]) -> str:
    """Run one attack; returns how it ended. Any exception but durasim's fails the test."""
    try:
        history = read()
    except HistoryFormatError as error:
        assert str(error) and "\n" not in str(error), str(error)[:300]
        return "refused"
    try:
        read_everything(history)
    except NondeterminismError:
        return "nondeterminism"
    except ReplayTaskError:
        return "code raised"
    return "replayed"


@st.composite
def damaged_documents(draw: st.DrawFn) -> Any:
    """A recorded or engine-written history, mutated, as parsed JSON or as text."""
    doc = draw(history_mutations(DOCS[draw(NAMES)]))
    as_text = draw(st.booleans()) or isinstance(doc, str)  # a str is read as a path
    return json.dumps(doc) if as_text else doc


def test_damaged_documents_load_show_write_and_replay_or_say_why() -> None:
    outcomes: Counter[str] = Counter()

    @settings(max_examples=FUZZED)
    @given(doc=damaged_documents())
    def one(doc: Any) -> None:
        outcomes[attack(lambda: History.from_temporal_json(doc))] += 1

    one()
    assert outcomes.total() >= FUZZED
    if CI:  # the damage reaches every reader, not only the loader
        assert outcomes["refused"] > FUZZED // 10, outcomes
        assert outcomes["replayed"] > FUZZED // 20, outcomes
        assert outcomes["nondeterminism"] > FUZZED // 100, outcomes


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 2**64) | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=2),
    max_leaves=4)


@st.composite
def damaged_in_memory(draw: st.DrawFn) -> History:
    """A history built in memory (no JSON behind it) whose events were then changed."""
    source = LOADED[draw(NAMES)]
    events = [HistoryEvent(e.event_id, e.event_type, e.time, copy.deepcopy(e.attributes))
              for e in source]
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(events) - 1))
        event = events[i]
        keys = sorted(event.attributes)
        kind = draw(st.sampled_from(["forget", "junk", "retarget", "drop", "repeat",
                                     "renumber", "time"]))
        if kind == "forget" and keys:
            del event.attributes[draw(st.sampled_from(keys))]
        elif kind == "junk" and keys:
            event.attributes[draw(st.sampled_from(keys))] = draw(_JSON_VALUES)
        elif kind == "retarget":
            ids = [k for k in keys if k.endswith("EventId")]
            if ids:
                event.attributes[draw(st.sampled_from(ids))] = draw(
                    st.integers(-1, len(events) + 1) | st.sampled_from(["1", 1.0, True]))
        elif kind == "drop" and len(events) > 1:
            del events[i]
        elif kind == "repeat":
            copied = copy.deepcopy(event)
            events.insert(draw(st.integers(i + 1, len(events))), copied)
        elif kind == "renumber":
            event.event_id = draw(st.integers(0, len(events) + 1))
        elif kind == "time":
            event.time = draw(st.sampled_from([float("nan"), float("inf"), -1.0, "0"]))
        if draw(st.booleans()):  # usually the ids are made to run 1, 2, 3... again
            for number, each in enumerate(events, 1):
                each.event_id = number
    return History(events, workflow_id=source.workflow_id,
                   workflow_type=source.workflow_type, source="<in memory>")


def test_histories_built_in_memory_are_checked_before_replay() -> None:
    outcomes: Counter[str] = Counter()

    @settings(max_examples=FUZZED // 4)
    @given(history=damaged_in_memory())
    def one(history: History) -> None:
        try:
            REPLAYER.replay(history)
        except HistoryFormatError as error:
            assert str(error).startswith("<in memory>: event index "), str(error)[:300]
            with pytest.raises(HistoryFormatError):
                history.to_temporal_json()  # never written out for a reload to refuse
            outcomes["refused"] += 1
            return
        except NondeterminismError:
            outcomes["nondeterminism"] += 1
            return
        except ReplayTaskError as error:
            assert "\n" not in str(error), str(error)[:300]
            outcomes["code raised"] += 1
            return
        outcomes[attack(lambda: History.from_temporal_json(history.to_temporal_json()))] += 1

    one()
    assert outcomes.total() >= FUZZED // 4
    if CI:
        assert outcomes["refused"] > FUZZED // 40, outcomes
        assert outcomes["replayed"] > FUZZED // 400, outcomes
