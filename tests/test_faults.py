"""Fault plans are data: validated, JSON round-trip, junk never escapes as anything else."""

from __future__ import annotations

import contextlib
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from durasim.errors import FaultPlanError
from durasim.faults import (
    Crash,
    DelayMessage,
    DropMessage,
    DuplicateMessage,
    FailActivity,
    FaultPlan,
    Partition,
    as_plan,
)

EVERY_KIND = FaultPlan([
    Crash(at_step=5),
    Crash(node="worker", after_events=7, restart_after=2.0),
    Crash(node="server", at_time=3.5, when="after_effect", restart_after=None),
    Crash(at_step="deposit", when="after_effect"),
    DropMessage(message="deposit"),
    DuplicateMessage(src="broker", copies=2, nth=3),
    DelayMessage(dst="ledger", by=4.0, step=4),
    Partition(("broker", "ledger"), start=1.0, end=2.0),
    FailActivity("withdraw", attempts=2),
])


def test_json_round_trip_is_exact() -> None:
    text = EVERY_KIND.to_json()
    assert FaultPlan.from_json(text) == EVERY_KIND
    assert json.loads(text)["faults"][0] == {
        "kind": "Crash", "node": None, "at_step": 5, "after_events": None, "at_time": None,
        "when": "before_effect", "restart_after": 1.0}


def test_a_partition_that_never_heals_round_trips() -> None:
    plan = FaultPlan([Partition(("a",), start=2.0)])
    assert FaultPlan.from_json(plan.to_json()).faults[0].end == math.inf  # type: ignore[union-attr]


@pytest.mark.parametrize("bad, field", [
    (lambda: Crash(), "at_step"),
    (lambda: Crash(at_step=5, at_time=1.0), "at_step"),
    (lambda: Crash(at_time=-1.0), "at_time"),
    (lambda: Crash(at_step=0), "at_step"),
    (lambda: Crash(at_step=5, when="during"), "when"),
    (lambda: Crash(at_step=5, restart_after=-2), "restart_after"),
    (lambda: Crash(after_events=0), "after_events"),
    (lambda: DropMessage(nth=0), "nth"),
    (lambda: DuplicateMessage(copies=0), "copies"),
    (lambda: DelayMessage(by=math.nan), "by"),
    (lambda: Partition((), 0, 1), "nodes"),
    (lambda: Partition(("a",), 2.0, 1.0), "end"),
    (lambda: FailActivity("", 1), "name"),
])
def test_invalid_faults_name_the_field(bad, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FaultPlanError, match=rf"\.{field}: "):
        bad()


def test_unknown_kind_lists_the_valid_ones() -> None:
    with pytest.raises(FaultPlanError, match="unknown kind 'Meteor'; valid kinds: Crash"):
        FaultPlan.from_dict({"faults": [{"kind": "Meteor"}]})


def test_unknown_field_is_named() -> None:
    with pytest.raises(FaultPlanError, match=r"fault #1 \(Crash\)\.at_stpe: unknown field"):
        FaultPlan.from_dict([{"kind": "Crash", "at_stpe": 5}])


def test_as_plan_accepts_what_people_pass() -> None:
    assert as_plan(None) == FaultPlan()
    assert as_plan(Crash(at_step=5)) == FaultPlan([Crash(at_step=5)])
    assert as_plan([Crash(at_step=5)]) == FaultPlan([Crash(at_step=5)])
    with pytest.raises(FaultPlanError, match="not a fault"):
        as_plan(["crash"])  # type: ignore[list-item]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=True)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(["kind", "message", "node", "at_step", "after_events", "at_time",
                               "when", "restart_after", "src", "dst", "step", "nth", "copies", "by",
                               "nodes", "start", "end", "name", "attempts", "bogus"])
junk_fault = st.dictionaries(field_names, json_values, max_size=6) | st.fixed_dictionaries(
    {"kind": st.sampled_from(["Crash", "DropMessage", "DuplicateMessage", "DelayMessage",
                              "Partition", "FailActivity", "Nope"])},
    optional={f: json_values for f in ["node", "at_step", "after_events", "at_time", "when",
                                       "restart_after", "nth", "copies", "by", "nodes",
                                       "start", "end", "name", "attempts"]})


@given(st.one_of(json_values, st.lists(junk_fault, max_size=4),
                 st.fixed_dictionaries({"faults": st.lists(junk_fault, max_size=4)})))
def test_junk_plans_raise_only_fault_plan_error(data: object) -> None:
    try:
        plan = FaultPlan.from_dict(data)
    except FaultPlanError as exc:
        assert "\n" not in str(exc)
        return
    assert FaultPlan.from_json(plan.to_json()) == plan


@given(st.text(max_size=60) | st.binary(max_size=40).map(lambda b: b.decode("latin-1")))
def test_junk_json_text_raises_only_fault_plan_error(text: str) -> None:
    with contextlib.suppress(FaultPlanError):  # anything else escapes and fails the test
        FaultPlan.from_json(text)
