"""Histories written by hand, a few events at a time, for the engine's unit tests.

The tests of ``tests/engine`` feed the engine's parts (the runtime, the worker, the
server's recovery) histories small enough to read in the test itself, instead of going
through ``durasim.execute``. :class:`HistoryBuilder` numbers the events and fills in the
ids that link them (``scheduledEventId``, ``startedEventId``), as Temporal's server does.
"""

from __future__ import annotations

from typing import Any

from durasim.engine.history import EventType, HistoryEvent, make_failure

E = EventType


class HistoryBuilder:
    """A history under construction: ``WorkflowExecutionStarted`` first, then what you add.

    Args:
        *input: the workflow's input, as WorkflowExecutionStarted records it.
        workflow_type: the workflow's name.
    """

    def __init__(self, *input: Any, workflow_type: str = "Pay") -> None:
        self.events: list[HistoryEvent] = []
        self.time = 0.0
        self.add(E.WORKFLOW_EXECUTION_STARTED, workflowType=workflow_type,
                 input=list(input), taskQueue="durasim", attempt=1)

    def add(self, event_type: EventType, **attributes: Any) -> int:
        """Append one event at the current time; returns its id."""
        event = HistoryEvent(len(self.events) + 1, event_type, self.time, attributes)
        self.events.append(event)
        return event.event_id

    def at(self, seconds: float) -> HistoryBuilder:
        """Later events happen at ``seconds`` after the start."""
        self.time = seconds
        return self

    def task(self, *, completed: bool = True) -> int:
        """A workflow task: Scheduled, Started and (unless it is the one in flight)
        Completed. Returns the id of its last event."""
        scheduled = self.add(E.WORKFLOW_TASK_SCHEDULED, taskQueue="durasim",
                             startToCloseTimeout=10.0, attempt=1)
        started = self.add(E.WORKFLOW_TASK_STARTED, scheduledEventId=scheduled)
        if not completed:
            return started
        return self.add(E.WORKFLOW_TASK_COMPLETED, scheduledEventId=scheduled,
                        startedEventId=started)

    def activity(self, activity_type: str, *input: Any) -> int:
        """ActivityTaskScheduled for ``activity_type(*input)``; returns its id."""
        return self.add(E.ACTIVITY_TASK_SCHEDULED, activityId=str(len(self.events)),
                        activityType=activity_type, input=list(input), taskQueue="durasim",
                        startToCloseTimeout=10.0, scheduleToCloseTimeout=0.0)

    def activity_completed(self, scheduled: int, result: Any) -> int:
        """Started and Completed for the activity scheduled by event ``scheduled``."""
        started = self.add(E.ACTIVITY_TASK_STARTED, scheduledEventId=scheduled, attempt=1)
        return self.add(E.ACTIVITY_TASK_COMPLETED, scheduledEventId=scheduled,
                        startedEventId=started, result=result)

    def activity_failed(self, scheduled: int, message: str, error_type: str) -> int:
        """Started and Failed (for good: non-retryable) for the activity ``scheduled``."""
        started = self.add(E.ACTIVITY_TASK_STARTED, scheduledEventId=scheduled, attempt=1)
        return self.add(E.ACTIVITY_TASK_FAILED, scheduledEventId=scheduled,
                        startedEventId=started,
                        failure=make_failure(message, error_type, non_retryable=True),
                        retryState="RETRY_STATE_NON_RETRYABLE_FAILURE")

    def timer(self, timer_id: str, seconds: float) -> int:
        """TimerStarted; returns its id."""
        return self.add(E.TIMER_STARTED, timerId=timer_id, startToFireTimeout=seconds)

    def timer_fired(self, timer_id: str, started: int) -> int:
        """TimerFired for the timer started by event ``started``."""
        return self.add(E.TIMER_FIRED, timerId=timer_id, startedEventId=started)

    def completed(self, result: Any) -> int:
        """WorkflowExecutionCompleted with ``result``."""
        return self.add(E.WORKFLOW_EXECUTION_COMPLETED, result=result)
