"""Signals, queries and updates sent to a Temporal SDK workflow running in durasim.

The SDK keeps its handlers in the runtime (``@workflow.signal`` methods, and any set at run
time with ``workflow.set_signal_handler``); durasim's engine delivers the messages. This
mixin of :class:`~durasim.bridges.temporal.sdk_runtime.DurasimRuntime` connects the two:
it registers a durasim handler for each name, decodes the recorded arguments into the SDK
handler's parameter types, and runs the handler as the SDK would: a signal handler as a
task of the workflow, a query handler read-only on the current state, an update's
validator read-only and then its handler as a task whose result answers the caller.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

import temporalio.workflow

from durasim.bridges.temporal.sdk_convert import from_json, to_durasim_error, to_json
from durasim.bridges.temporal.sdk_errors import unsupported
from durasim.bridges.temporal.sdk_loop import running
from durasim.engine.failures import CancelledError
from durasim.engine.tasks import Future

if TYPE_CHECKING:
    from durasim.bridges.temporal.sdk_workflow import SdkWorkflowRun

__all__ = ["Messages"]

_log = logging.getLogger("durasim.sdk")

_Definition = Any  # temporalio.workflow._SignalDefinition | _QueryDefinition | _UpdateDefinition


class Messages:
    """The handler part of the SDK's abstract runtime (see the module doc)."""

    run: SdkWorkflowRun
    check_writable: Callable[[str], None]

    def __init__(self) -> None:
        super().__init__()
        self._signals: dict[str | None, _Definition] = {}
        self._queries: dict[str | None, _Definition] = {}
        self._updates: dict[str | None, _Definition] = {}
        self._registered: set[tuple[str, str]] = set()
        self._buffered: dict[str, list[list[Any]]] = {}
        self._updating: set[asyncio.Task[Any]] = set()
        self._answering = 0
        """Updates whose handler finished but whose answer the engine has not taken yet."""
        self._answered: Future | None = None

    def install(self, defn: temporalio.workflow._Definition) -> None:
        """The class's own handlers, at the start of the run."""
        for name, signal in defn.signals.items():
            self._set("signal", name, signal)
        for name, query in defn.queries.items():
            self._set("query", name, query)
        for name, update in defn.updates.items():
            self._set("update", name, update)

    # -- the SDK's interface ------------------------------------------------------------------
    def workflow_get_signal_handler(self, name: str | None) -> Callable[..., Any] | None:
        return self._bound(self._signals.get(name))

    def workflow_get_query_handler(self, name: str | None) -> Callable[..., Any] | None:
        return self._bound(self._queries.get(name))

    def workflow_get_update_handler(self, name: str | None) -> Callable[..., Any] | None:
        return self._bound(self._updates.get(name))

    def workflow_get_update_validator(self, name: str | None) -> Callable[..., Any] | None:
        found = self._updates.get(name)
        if found is None or found.validator is None:
            return None
        return found.bind_validator(self.run.instance) if found.is_method else found.validator

    def workflow_set_signal_handler(self, name: str | None,
                                    handler: Callable[..., Any] | None) -> None:
        self.check_writable("set signal handler")
        self._set("signal", name, handler and temporalio.workflow._SignalDefinition(
            name=name, fn=handler, is_method=False))

    def workflow_set_query_handler(self, name: str | None,
                                   handler: Callable[..., Any] | None) -> None:
        self.check_writable("set query handler")
        self._set("query", name, handler and temporalio.workflow._QueryDefinition(
            name=name, fn=handler, is_method=False))

    def workflow_set_update_handler(self, name: str | None, handler: Callable[..., Any] | None,
                                    validator: Callable[..., Any] | None) -> None:
        self.check_writable("set update handler")
        definition = handler and temporalio.workflow._UpdateDefinition(
            name=name, fn=handler, is_method=False)
        if definition and validator is not None:
            definition.set_validator(validator)
        self._set("update", name, definition)

    def workflow_all_handlers_finished(self) -> bool:
        return not self._updating and all(task is self.run.main or task.done()
                                          for task in self.run.top_level_tasks())

    # -- registering -----------------------------------------------------------------------
    def _bound(self, definition: _Definition | None) -> Callable[..., Any] | None:
        if definition is None:
            return None
        fn: Callable[..., Any] = (definition.bind_fn(self.run.instance) if definition.is_method
                                  else definition.fn)
        return fn

    def _set(self, kind: str, name: str | None, definition: _Definition | None) -> None:
        table = {"signal": self._signals, "query": self._queries, "update": self._updates}[kind]
        if name is None:
            raise unsupported(f"a dynamic {kind} handler (@workflow.{kind}(dynamic=True))",
                              f"give each {kind} handler its name")
        if definition is None:
            table.pop(name, None)
            return
        table[name] = definition
        if (kind, name) not in self._registered:
            self._registered.add((kind, name))
            port = self.run.port
            if kind == "signal":
                port.watch_signal(name, partial(self._on_signal, name))
            elif kind == "query":
                port.handle_queries(name, partial(self._answer_query, name))
            else:
                port.handle_updates(name, partial(self._run_update, name),
                                    partial(self._validate_update, name))
        if kind == "signal":
            for recorded in self._buffered.pop(name, []):
                self._on_signal(name, recorded)

    # -- signals ------------------------------------------------------------------------------
    def _on_signal(self, name: str, recorded: list[Any]) -> None:
        """A signal arrived (history order): its handler runs as a top-level task."""
        definition = self._signals.get(name)
        if definition is None:  # no handler (any more): kept for one set later, as the SDK
            self._buffered.setdefault(name, []).append(recorded)
            return
        handler = self._bound(definition)
        assert handler is not None

        def start() -> None:
            try:
                args = from_json(recorded, definition.arg_types)
            except Exception:  # as the SDK does: a signal it cannot decode is dropped
                _log.warning("workflow %s dropped signal %r: its input %r does not fit the "
                             "handler's parameters", self.run.defn.name, name, recorded)
                return
            self.run.start_top_level(_call(handler, args), f"signal {name}")

        self.run.deliver(start, inbound=True)

    # -- queries ------------------------------------------------------------------------------
    def _answer_query(self, name: str, *recorded: Any) -> Any:
        """Run the query handler on the current state, read-only; its result as JSON."""
        definition = self._queries[name]
        handler = self._bound(definition)
        assert handler is not None
        with self._read_only(f"query {name!r}"):
            result = handler(*from_json(recorded, definition.arg_types))
            if inspect.iscoroutine(result):
                result.close()
                raise unsupported(f"async def query handler {name!r}",
                                  "queries are plain functions that read state")
        return to_json([result])[0]

    # -- updates ------------------------------------------------------------------------------
    def _validate_update(self, name: str, *recorded: Any) -> None:
        """The validator, read-only: raising refuses the update (nothing is written)."""
        definition = self._updates[name]
        validator = self.workflow_get_update_validator(name)
        if validator is not None:
            with self._read_only(f"update validator {name!r}"):
                validator(*from_json(recorded, definition.arg_types))

    async def _run_update(self, name: str, *recorded: Any) -> Any:
        """The accepted update's handler, as a task of the workflow; its result as JSON."""
        definition = self._updates[name]
        handler = self._bound(definition)
        assert handler is not None
        answer = Future()

        def start() -> None:
            task = self.run.loop.create_task(
                _call(handler, from_json(recorded, definition.arg_types)),
                name=f"{self.run.defn.name}.update {name}")
            self._updating.add(task)
            task.add_done_callback(partial(self._update_done, answer))

        self.run.deliver(start, inbound=True)
        try:
            return await answer
        finally:  # the engine records the answer as soon as this returns
            self._answering -= 1
            if not self._answering and self._answered is not None:
                self._answered.resolve()

    def _update_done(self, answer: Future, task: asyncio.Task[Any]) -> None:
        self._updating.discard(task)
        self._answering += 1
        if task.cancelled():
            answer.resolve(error=CancelledError("the update was cancelled"))
        elif task.exception() is not None:
            error = task.exception()
            assert error is not None
            answer.resolve(error=to_durasim_error(error))
        else:
            try:
                answer.resolve(to_json([task.result()])[0])
            except Exception as error:  # the result cannot be encoded
                answer.resolve(error=error)

    def updates_answered(self) -> Future | None:
        """A future resolved once every finished update's answer is recorded (None when
        none is waiting): the workflow must not complete before its updates do."""
        if not self._answering:
            return None
        self._answered = Future()
        return self._answered

    @contextmanager
    def _read_only(self, who: str) -> Iterator[None]:
        run = self.run
        run.read_only = who
        try:
            with running(run.loop):
                yield
        finally:
            run.read_only = None


async def _call(fn: Callable[..., Any], args: Sequence[Any]) -> Any:
    result = fn(*args)
    if inspect.isawaitable(result):
        result = await result
    return result
