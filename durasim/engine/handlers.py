"""Messages into a running workflow: signals, queries and updates, and their handlers.

The three ways the outside world talks to a workflow differ in what they leave behind,
and that difference is the lesson: a *signal* is an event in the history (fire and
forget); a *query* reads the workflow's state and writes nothing (so its handler must not
change anything: it runs read-only, and any ctx call that would is refused); an *update*
is a request with an answer, checked first by an optional validator (a refusal writes
nothing), then accepted and completed as two events.
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from durasim.engine.tasks import Future
from durasim.errors import DurasimError

if TYPE_CHECKING:
    from durasim.engine.runtime import WorkflowInstance

KINDS = ("signal", "query", "update")


class HandlerError(DurasimError):
    """A query or update the workflow has no handler for, or a handler misused."""


class ReadOnlyError(DurasimError):
    """A query handler or an update validator tried to change the workflow."""


class Handlers:
    """The handlers a workflow registered, and the signals waiting for someone to read them."""

    def __init__(self, instance: WorkflowInstance) -> None:
        self._instance = instance
        self._by_kind: dict[str, dict[str, Callable[..., Any]]] = {k: {} for k in KINDS}
        self.validators: dict[str, Callable[..., Any] | None] = {}
        self._signals: dict[str, deque[list[Any]]] = {}
        self._signal_waiters: dict[str, deque[Future]] = {}

    def register(self, kind: str, fn: Callable[..., Any] | None, name: str | None,
                 validator: Callable[..., Any] | None = None) -> Any:
        """``ctx.signal``/``ctx.query``/``ctx.update``: as a call or as a decorator."""
        def add(handler: Callable[..., Any]) -> Callable[..., Any]:
            if not callable(handler):
                raise TypeError(f"a {kind} handler must be a function, got {handler!r}")
            if kind == "query" and inspect.iscoroutinefunction(handler):
                raise HandlerError(f"query handler {handler.__name__!r} must be a plain "
                                   "function (def, not async def): a query only reads state")
            key = name or handler.__name__
            self._by_kind[kind][key] = handler
            if kind == "update":
                self.validators[key] = validator
            if kind == "signal":
                for args in self._signals.pop(key, deque()):  # arrived before the handler
                    self._call_signal_handler(handler, args)
            return handler

        return add(fn) if fn is not None else add

    def names(self, kind: str) -> list[str]:
        """The names handled for ``kind``."""
        return sorted(self._by_kind[kind])

    # -- signals --------------------------------------------------------------------------
    def deliver_signal(self, name: str, args: list[Any]) -> None:
        """A WorkflowExecutionSignaled event: to its handler, a waiter, or the buffer."""
        handler = self._by_kind["signal"].get(name)
        if handler is not None:
            self._call_signal_handler(handler, args)
            return
        waiters = self._signal_waiters.get(name)
        if waiters:
            waiters.popleft().resolve(args)
        else:
            self._signals.setdefault(name, deque()).append(args)

    def _call_signal_handler(self, handler: Callable[..., Any], args: list[Any]) -> None:
        result = handler(*args)
        if inspect.iscoroutine(result):
            self._instance.start_task(result)

    def next_signal(self, name: str) -> Future:
        """A future with the next signal ``name``'s arguments (at once if one is buffered)."""
        future = Future()
        buffered = self._signals.get(name)
        if buffered:
            future.resolve(buffered.popleft())
        else:
            self._signal_waiters.setdefault(name, deque()).append(future)
        return future

    # -- queries --------------------------------------------------------------------------
    def query(self, name: str, args: list[Any]) -> Any:
        """Answer a query from the workflow's current state, changing nothing."""
        handler = self._by_kind["query"].get(name)
        if handler is None:
            known = ", ".join(self.names("query")) or "none"
            raise HandlerError(f"workflow {self._instance.workflow_id!r} has no query "
                               f"{name!r}; its queries: {known}")
        with self._instance.read_only(f"query handler {name!r}"):
            return handler(*args)

    # -- updates --------------------------------------------------------------------------
    def validate_update(self, name: str, args: list[Any]) -> None:
        """Refuse an update before anything is written: unknown, or its validator raised.

        Raises:
            HandlerError: the workflow has no such update handler.
            Exception: whatever the validator raised (the update is rejected with it).
        """
        self.require_update(name)
        validator = self.validators.get(name)
        if validator is not None:
            with self._instance.read_only(f"update validator {name!r}"):
                validator(*args)

    def require_update(self, name: str) -> None:
        """Raises HandlerError when the code registered no update handler ``name``."""
        if name not in self._by_kind["update"]:
            known = ", ".join(self.names("update")) or "none"
            raise HandlerError(f"workflow {self._instance.workflow_id!r} has no update "
                               f"{name!r}; its updates: {known}")

    def update_handler(self, name: str) -> Callable[..., Any]:
        """The handler of an accepted update."""
        return self._by_kind["update"][name]
