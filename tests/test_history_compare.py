"""compare_histories: two histories side by side, aligned by event, differences marked.

This is the tool that shows a class (and the conformance tests) whether the simulator wrote
what Temporal wrote, so it must flag every difference that carries meaning and none of the
noise that never matches between runs (times, run ids, stack traces).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

import durasim
from durasim import History
from durasim.history_compare import KEY_ATTRIBUTES, compare_histories
from tests.workflows import recorded as wf

RECORDED = Path(__file__).parent / "fixtures" / "recorded"
ACTIVITIES = [wf.withdraw, wf.deposit, wf.notify, wf.refund, wf.flaky, wf.pay, wf.tick]


def load(name: str) -> History:
    return History.from_temporal_json(RECORDED / f"{name}.json")


def simulate(workflow: object, *args: object, id: str) -> History:
    return durasim.execute(workflow, *args, id=id, activities=ACTIVITIES).history


def test_the_simulator_matches_the_recorded_transfer_event_by_event() -> None:
    cmp = compare_histories(simulate(wf.Transfer, 100, id="transfer"), load("transfer"))
    assert cmp.same_types and cmp.same
    assert cmp.differences == []
    assert len(cmp.rows) == 23
    text = str(cmp)
    assert text.splitlines()[-1] == "same event types; 0 differing row(s)"
    assert "withdraw(['alice', 100])" in text
    assert "transfer.json" in text.splitlines()[0]  # a file's name heads its column


def test_a_different_event_type_is_marked_in_its_row() -> None:
    cmp = compare_histories(simulate(wf.Transfer, 100, id="x"), load("saga_refund"),
                            labels=("durasim", "temporal"))
    assert not cmp.same_types
    kinds = {d.row: d.kind for d in cmp.differences}
    assert kinds[13] == "type"  # ActivityTaskCompleted vs ActivityTaskFailed
    assert kinds[1] == "attributes"  # Transfer vs SagaTransfer
    row13 = next(line for line in str(cmp).splitlines() if " 13 " in line)
    assert row13.startswith("*")
    assert "ActivityTaskCompleted" in row13 and "ActivityTaskFailed" in row13
    diff13 = next(d for d in cmp.differences if d.row == 13)
    assert str(diff13) == ("row 13: 13 ActivityTaskCompleted vs 13 ActivityTaskFailed "
                           "(event type differs)")


def test_a_changed_key_attribute_is_named() -> None:
    real = load("retry_then_success")
    changed = copy.deepcopy(real)
    started = next(e for e in changed if e.event_type.value == "ActivityTaskStarted")
    started.attributes["attempt"] = 2
    cmp = compare_histories(real, changed)
    assert cmp.same_types and not cmp.same
    (diff,) = cmp.differences
    assert diff.kind == "attributes" and diff.fields == ("attempt",)
    assert diff.left is not None and diff.left.event_id == started.event_id
    assert "attempt 3 vs 2" in str(diff)
    assert any(line.startswith("~") for line in str(cmp).splitlines())


def test_one_side_missing_events() -> None:
    real = load("transfer")
    cmp = compare_histories(real, real[:20])
    assert not cmp.same_types
    assert [d.kind for d in cmp.differences] == ["only_left"] * 3
    assert [d.row for d in cmp.differences] == [21, 22, 23]
    reverse = compare_histories(real[:20], real)
    assert {d.kind for d in reverse.differences} == {"only_right"}
    assert str(reverse).splitlines()[-4].startswith(">")


def test_noise_is_not_a_difference() -> None:
    """Run ids, times, identities and stack traces never match between runs; ignore them."""
    real = load("non_retryable_failure")
    other = copy.deepcopy(real)
    for event in other:
        event.time += 5.0
        event.attributes.pop("identity", None)
        failure = event.attributes.get("failure")
        if failure and failure.get("cause"):
            failure["cause"]["stackTrace"] = "elsewhere"
    assert compare_histories(real, other).same


def test_an_absent_input_means_no_arguments() -> None:
    """Temporal omits an empty ``input``; loading reads it as ``[]``: the same meaning."""
    real = load("retry_then_success")
    raw = real.events[0].raw or {}
    assert "input" not in raw["workflowExecutionStartedEventAttributes"]
    assert real.events[0].attributes["input"] == []
    cmp = compare_histories(simulate(wf.RetryThenSuccess, id="r"), real)
    assert cmp.same, str(cmp)


def test_a_different_failure_is_a_difference() -> None:
    real = load("non_retryable_failure")
    other = copy.deepcopy(real)
    other.events[-1].attributes["failure"]["cause"]["type"] = "Other"
    (diff,) = compare_histories(real, other).differences
    assert diff.fields == ("failure",) and diff.row == len(real)


def test_compact_hides_workflow_tasks() -> None:
    real = load("transfer")
    cmp = compare_histories(real, real, compact=True)
    assert len(cmp.rows) == len(real.event_types(compact=True)) == 11
    assert "WorkflowTaskStarted" not in str(cmp)
    full = compare_histories(real, real)
    assert "WorkflowTaskStarted" in str(full)


def test_html_highlights_the_differing_rows() -> None:
    cmp = compare_histories(simulate(wf.Transfer, 100, id="x"), load("saga_refund"),
                            labels=("<sim>", "real"))
    page = cmp._repr_html_()
    assert page.startswith('<table class="durasim-compare"')
    assert page.count("<tr") == len(cmp.rows) + 1
    assert page.count('class="durasim-diff ') == len(cmp.differences)
    assert "durasim-diff-type" in page and "background:#ffd8d8" in page
    assert "&lt;sim&gt;" in page and "<sim>" not in page  # labels are escaped
    same = compare_histories(load("transfer"), load("transfer"))._repr_html_()
    assert "durasim-diff" not in same and "background" not in same


def test_accepts_paths_runs_and_restricted_keys() -> None:
    run = durasim.execute(wf.Transfer, 100, id="transfer", activities=ACTIVITIES)
    assert compare_histories(run, RECORDED / "transfer.json").same
    assert compare_histories(str(RECORDED / "transfer.json"), load("transfer")).same
    cmp = compare_histories(simulate(wf.Transfer, 100, id="x"), load("saga_refund"),
                            keys=("activityType",))
    assert all(d.fields in ((), ("activityType",)) for d in cmp.differences)
    assert "failure" in KEY_ATTRIBUTES


def test_rejects_what_is_not_a_history() -> None:
    with pytest.raises(TypeError, match="Histories, runs or Temporal JSON"):
        compare_histories(42, load("transfer"))
    with pytest.raises(durasim.errors.HistoryFormatError):
        compare_histories("{not json", load("transfer"))
