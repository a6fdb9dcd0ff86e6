"""The Temporal SDK suite (tests/fixtures/sdk/) as durasim runs it: one case per recording.

Each module there is a program written for a real Temporal worker; its ``main`` starts
the workflow and plays the client's part (a query, a signal, an update, a cancel). A
:class:`SdkCase` says how durasim plays the same part (``durasim.execute``'s options) and
how to read what ``main`` returned off the durasim run, so the tests can hold the
simulator to ``results.json`` and to the recorded histories.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import durasim
from durasim import History
from durasim.engine import Cancel, Query, Signal, Update
from tests.conftest import FIXTURES

SDK = FIXTURES / "sdk"
RECORDED = SDK / "recorded"
RESULTS: dict[str, dict[str, Any]] = json.loads((RECORDED / "results.json").read_text())


def module(name: str) -> ModuleType:
    return importlib.import_module(f"tests.fixtures.sdk.{name}")


def _result(run: durasim.engine.WorkflowRun) -> Any:
    return run.result


def _failed(run: durasim.engine.WorkflowRun) -> str:
    """``main`` catches WorkflowFailureError and prints its cause, an ApplicationError."""
    from temporalio.exceptions import ApplicationError

    failure = run.failure or {}
    cause = ApplicationError(failure.get("message", ""), type=failure.get("type"))
    return f"workflow failed: {cause}"


@dataclass(frozen=True)
class SdkCase:
    """How durasim plays one recording: the client's part, and what ``main`` returned.

    Attributes:
        name: the recording (a key of results.json).
        options: more ``durasim.execute`` options (requests, faults) playing ``main``'s part.
        returned: reads what ``main`` returned off the durasim run.
        crash_bug: an engine bug a crash plan of this case runs into ("" when none).
        activity_queues: task queues its activities are sent to, besides the workflow's
            (on a real server a worker must serve each).
        race: a race a live run on a real server can lose ("" when none): durasim
            models the common outcome, the one recorded.
    """

    name: str
    options: Callable[[], dict[str, Any]] = field(default=dict)
    returned: Callable[[durasim.engine.WorkflowRun], Any] = _result
    crash_bug: str = ""
    activity_queues: tuple[str, ...] = ()
    race: str = ""

    @property
    def entry(self) -> dict[str, Any]:
        return RESULTS[self.name]

    @property
    def module(self) -> ModuleType:
        return module(self.entry["module"])

    @property
    def workflow(self) -> type:
        """The module's workflow class of the recorded type, unchanged."""
        wanted = self.entry["workflow_type"]
        for value in vars(self.module).values():
            defn = getattr(value, "__temporal_workflow_definition", None)
            if isinstance(value, type) and defn is not None and defn.name == wanted:
                return value
        raise LookupError(f"{self.entry['module']}.py has no workflow {wanted!r}")

    @property
    def activities(self) -> list[Any]:
        """The module's activities, as its own Worker is given them."""
        return [v for v in vars(self.module).values()
                if getattr(v, "__temporal_activity_definition", None) is not None]

    def recorded(self) -> list[History]:
        """The recorded histories: the workflow's runs, then its children's."""
        return [History.from_temporal_json(RECORDED / f) for f in self.entry["histories"]]

    def args(self) -> list[Any]:
        """The workflow's input as ``main`` passed it (typed values, e.g. a dataclass)."""
        from durasim.bridges.temporal.sdk_convert import from_json

        defn = getattr(self.workflow, "__temporal_workflow_definition")  # (mangled in a class)
        started = self.recorded()[0][0].attributes
        return from_json(list(started.get("input", [])), defn.arg_types)

    def run(self, **extra: Any) -> durasim.engine.WorkflowRun:
        """The workflow in durasim, as ``main`` ran it on the dev server."""
        options = {**self.options(), **extra}
        return durasim.execute(self.workflow, *self.args(), id=self.entry["workflow_id"],
                               activities=self.activities, **options)


def _cancel_at_one_second() -> dict[str, Any]:
    return {"requests": [Cancel(at=1.0)]}


def _signal_with_start() -> dict[str, Any]:
    return {"requests": [Signal("approve", "manager", with_start=True),
                         Signal("close", at=1.0)]}


def _updates() -> dict[str, Any]:
    return {"requests": [Update("deposit", -5, at=1.0), Update("deposit", 100, at=1.0)]}


def _queries() -> dict[str, Any]:
    return {"requests": [Query("status", at=0.0), Query("status", at=10.0)]}


def _query_answers(run: durasim.engine.WorkflowRun) -> list[Any]:
    first, after = run.answers
    return [first.value, run.result, after.value]


def _update_answers(run: durasim.engine.WorkflowRun) -> list[Any]:
    rejected, accepted = run.answers  # a refusal reads "rejected: <the validator's error>"
    return [rejected.error, accepted.value, run.result]


def _kill_activity_worker() -> dict[str, Any]:
    # the last heartbeat the server holds is chunk 4 (after 4 x 0.5 s): kill in between
    return {"faults": durasim.Crash(node="activity_worker", at_time=2.2),
            "activity_worker": True}


CASES = [
    SdkCase("hello_activity"),
    SdkCase("retrying_activity"),
    SdkCase("child_workflow"),
    SdkCase("continue_as_new"),
    SdkCase("raising_workflow", returned=_failed),
    SdkCase("parallel_activities",
            race="the real worker runs both activities at once; now and then the second "
                 "finishes first, and both completions are written in that order"),
    SdkCase("patched"),
    SdkCase("deprecate_patch"),
    SdkCase("query", _queries, _query_answers),
    SdkCase("signal_with_start", _signal_with_start),
    SdkCase("update", _updates, _update_answers),
    SdkCase("cancellation", _cancel_at_one_second,
            lambda run: "workflow ended: Workflow cancelled" if run.status == "canceled"
            else run.status),
    SdkCase("local_activity"),
    SdkCase("heartbeat", activity_queues=("heartbeat-activity-task-queue",)),
    SdkCase("long_sleep"),
    SdkCase("heartbeat_worker_killed", _kill_activity_worker),
]
BY_NAME = {case.name: case for case in CASES}
