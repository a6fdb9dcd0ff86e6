"""Two features of a workflow instance that change *when* commands appear: local
activities and updates.

A local activity runs on the worker inside the workflow task and its outcome becomes a
``MarkerRecorded`` command, so on replay the recorded marker answers it instead. An update
arrives with a workflow task; its validator may refuse it (nothing is written), else
``WorkflowExecutionUpdateAccepted`` starts its handler and
``WorkflowExecutionUpdateCompleted`` carries its answer; on replay the accepted updates
are read off the history and delivered again, without their validators.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from durasim.engine import commands as C
from durasim.engine.failures import ActivityError, application_error, fails_workflow, failure_of
from durasim.engine.handlers import HandlerError
from durasim.engine.history import EventType, HistoryEvent
from durasim.engine.tasks import Future
from durasim.errors import NondeterminismError

if TYPE_CHECKING:
    from durasim.engine.runtime import WorkflowInstance

E = EventType
LOCAL_ACTIVITY_MARKER = "core_local_activity"
"""The marker name Temporal's SDKs record a local activity's result under."""


@dataclass(frozen=True)
class UpdateRequest:
    """An update the server hands the workflow with a workflow task."""

    update_id: str
    name: str
    args: tuple[Any, ...]


@dataclass
class LocalRequest:
    """A local activity the code is waiting on: the worker runs it within the task."""

    seq: int
    definition: Any
    args: tuple[Any, ...]
    retry: Any
    start_to_close: float
    future: Future
    scheduled_at: float


class LocalActivities:
    """The local activities of one workflow instance."""

    def __init__(self, instance: WorkflowInstance) -> None:
        self._instance = instance
        self.pending: list[LocalRequest] = []
        """Waiting to be run by the worker before the task completes."""
        self._replayed: list[tuple[Future, str, int, dict[str, Any]]] = []
        """Replayed ones waiting to be answered by their recorded markers."""

    def start(self, definition: Any, args: tuple[Any, ...], retry: Any,
              start_to_close: float) -> Future:
        """A local activity: read back from its marker on replay, else run by the worker."""
        instance = self._instance
        seq = instance.next_id("activity")
        future = Future()
        for event in instance.recorded_ahead() if instance.replaying else ():
            details = event.attributes.get("details") or {}
            data = details.get("data") or {}
            if (event.attributes.get("markerName") == LOCAL_ACTIVITY_MARKER
                    and isinstance(data, dict) and data.get("seq") == seq):
                self._replayed.append((future, definition.name, seq, details))
                return future
        self.pending.append(LocalRequest(seq, definition, args, retry, start_to_close,
                                         future, instance.now))
        return future

    def settle_replayed(self) -> bool:
        """Answer the replayed local activities from their markers, all at once, when the
        code can move no further: where the worker ran them when the task was new, so
        their markers come in the recorded order among the task's other commands (a
        parallel branch's activity scheduled before a local activity's marker, say).

        Returns:
            True when there were any (the code may move on).
        """
        replayed, self._replayed = self._replayed, []
        for future, name, seq, details in replayed:
            self._instance.issue(C.LocalActivityMarker(LOCAL_ACTIVITY_MARKER, details))
            _settle(future, name, seq, details)
        return bool(replayed)

    def finish(self, request: LocalRequest, *, result: Any = None,
               failure: dict[str, Any] | None = None, attempt: int = 1,
               now: float = 0.0) -> None:
        """The worker ran a local activity: record its marker and hand over its outcome."""
        self.pending.remove(request)
        data = {"seq": request.seq, "attempt": attempt, "activity_id": str(request.seq),
                "activity_type": request.definition.name, "complete_time": now,
                "backoff": None, "original_schedule_time": request.scheduled_at,
                "activation_index": 1}
        details: dict[str, Any] = {"data": data}
        if failure is None:
            details["result"] = result
        else:
            details["failure"] = failure
        self._instance.issue(C.LocalActivityMarker(LOCAL_ACTIVITY_MARKER, details))
        _settle(request.future, request.definition.name, request.seq, details)


def _settle(future: Future, name: str, seq: int, details: dict[str, Any]) -> None:
    failure = details.get("failure")
    if failure is None:
        future.resolve(details.get("result"))
        return
    cause = application_error(failure)
    future.resolve(error=ActivityError(
        f"local activity {name} failed: {cause.message}", activity=name,
        activity_id=str(seq), cause=cause,
        retry_state="RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED"))


class Updates:
    """The updates of one workflow instance."""

    def __init__(self, instance: WorkflowInstance) -> None:
        self._instance = instance
        self.rejections: list[tuple[str, BaseException]] = []
        """Updates refused in the current task (nothing is written for them)."""

    def deliver(self, updates: Sequence[UpdateRequest]) -> None:
        """New updates with this task: validate each; accept it or reject it."""
        self.rejections = []
        for update in updates:
            try:
                self._instance.handlers.validate_update(update.name, list(update.args))
            except Exception as refused:
                self.rejections.append((update.update_id, refused))
                continue
            self._accept(update)

    def replay(self, recorded: Sequence[HistoryEvent]) -> None:
        """Updates a recorded task accepted, delivered again (validators do not rerun)."""
        self.rejections = []
        for event in recorded:
            if event.event_type is E.WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                request = event.attributes.get("acceptedRequest") or {}
                given = request.get("input") or {}
                name = str(given.get("name", ""))
                try:
                    self._instance.handlers.require_update(name)
                except HandlerError as missing:  # (validators do not rerun on replay)
                    raise NondeterminismError(
                        f"[TMPRL1100] history event {event.event_id} accepted update "
                        f"{name!r}, but {missing}", workflow_id=self._instance.workflow_id,
                        event_id=event.event_id, recorded=f"update {name!r}",
                        issued="no handler") from None
                self._accept(UpdateRequest(str(C.update_id_of(event)), name,
                                           tuple(given.get("args") or ())))

    def _accept(self, update: UpdateRequest) -> None:
        instance = self._instance
        instance.issue(C.AcceptUpdate(update.update_id, update.name, update.args))
        handler = instance.handlers.update_handler(update.name)
        instance.start_task(self._run(update, handler))

    async def _run(self, update: UpdateRequest, handler: Callable[..., Any]) -> None:
        instance = self._instance
        try:
            result = handler(*update.args)
            if isinstance(result, Coroutine):
                result = await result
        except Exception as error:
            if not fails_workflow(error):  # a bug in the handler: as in workflow code
                instance.fail_task(error)
                return
            instance.issue(C.CompleteUpdate(update.update_id, failure=failure_of(error)))
            return
        instance.issue(C.CompleteUpdate(update.update_id, result))
