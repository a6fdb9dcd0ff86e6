"""``@workflow`` and ``@activity``: definitions, kept apart from running them.

As in Temporal's SDK, a decorator only validates a function and attaches a frozen
definition to it; running it is the worker's business, and nothing is registered
globally. A worker learns which activities and child workflows it can run from what it is
given: the workflow itself, ``activities=[...]``, and the definitions the workflow's code
refers to (:func:`referenced_definitions`).

Code written for another SDK can stand wherever durasim takes a workflow or an activity:
a bridge registers a *definition adapter* (:func:`register_definition_adapter`) that
gives the durasim definition of such an object (a Temporal ``@workflow.defn`` class, an
``@activity.defn`` function), and the lookups below ask it when the durasim attribute
is missing.
"""

from __future__ import annotations

import inspect
import linecache
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import CodeType, FunctionType
from typing import Any, TypeVar

from durasim.validation import check_seconds

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class WorkflowDefinition:
    """What ``@workflow`` attaches: a name and the ``async def (ctx, *args)`` to run.

    ``origin`` is the code the definition was made from when that is not ``fn`` itself
    (a Temporal SDK workflow class run by a bridge): what students read and step through.
    ``encode`` turns the arguments a caller passes into the JSON values the history
    records (an SDK class's dataclasses go through the SDK's payload converter).
    """

    name: str
    fn: Callable[..., Any]
    origin: Any = None
    encode: Callable[[Sequence[Any]], list[Any]] | None = None

    def recorded_input(self, args: Sequence[Any]) -> list[Any]:
        """The input as WorkflowExecutionStarted records it."""
        return self.encode(args) if self.encode is not None else list(args)

    @property
    def source(self) -> tuple[list[str], int]:
        """Source lines and first line number (for the replay stepper)."""
        code = self.origin if self.origin is not None else self.fn
        try:
            return inspect.getsourcelines(code)
        except (OSError, TypeError):
            if not isinstance(code, type):
                raise
            return _class_source(code)


@dataclass(frozen=True)
class ActivityDefinition:
    """What ``@activity`` attaches: a name, the function, and whether it is async.

    ``duration`` is how many seconds of virtual time one call takes (an API call of
    unlimited duration is just a large number here).
    """

    name: str
    fn: Callable[..., Any]
    is_async: bool
    duration: float = 0.0


def _attach(fn: Any, attr: str, definition: object) -> None:
    try:
        setattr(fn, attr, definition)
    except (AttributeError, TypeError):
        raise TypeError(f"cannot attach a definition to {fn!r}") from None


def workflow(fn: F | None = None, *, name: str | None = None) -> Any:
    """Mark ``async def Name(ctx, *args)`` as a workflow. Usable bare or with ``name=``."""

    def decorate(f: F) -> F:
        if not inspect.iscoroutinefunction(f):
            raise TypeError(f"@workflow needs an 'async def' taking ctx first; "
                            f"{getattr(f, '__name__', f)!r} is not a coroutine function")
        if not inspect.signature(f).parameters:
            raise TypeError(f"workflow {f.__name__!r} must take the WorkflowContext as its "
                            f"first parameter: async def {f.__name__}(ctx, ...)")
        _attach(f, "__durasim_workflow__", WorkflowDefinition(name or f.__name__, f))
        return f

    return decorate(fn) if fn is not None else decorate


def activity(fn: F | None = None, *, name: str | None = None, duration: float = 0.0) -> Any:
    """Mark a plain function (sync or async) as an activity.

    Args:
        name: the activity type recorded in histories (default: the function's name).
        duration: seconds of virtual time one call takes.
    """
    duration = check_seconds("duration", duration)

    def decorate(f: F) -> F:
        if not callable(f):
            raise TypeError(f"@activity needs a function, got {f!r}")
        definition = ActivityDefinition(name or f.__name__, f,
                                        inspect.iscoroutinefunction(f), duration)
        _attach(f, "__durasim_activity__", definition)
        return f

    return decorate(fn) if fn is not None else decorate


DefinitionAdapter = Callable[[Any], "WorkflowDefinition | ActivityDefinition | None"]
_ADAPTERS: list[DefinitionAdapter] = []


def register_definition_adapter(adapter: DefinitionAdapter) -> None:
    """Let objects of another SDK stand where durasim takes a workflow or an activity.

    ``adapter(obj)`` returns the durasim definition for ``obj``, or None for objects it
    does not know. Registering the same adapter twice has no effect.
    """
    if adapter not in _ADAPTERS:
        _ADAPTERS.append(adapter)


def _adapted(obj: Any) -> WorkflowDefinition | ActivityDefinition | None:
    for adapter in _ADAPTERS:
        definition = adapter(obj)
        if definition is not None:
            return definition
    return None


def workflow_definition(fn: Any) -> WorkflowDefinition:
    """The definition attached by ``@workflow``, or a TypeError that says what to do."""
    definition = getattr(fn, "__durasim_workflow__", None)
    if definition is None:
        definition = _adapted(fn)
    if not isinstance(definition, WorkflowDefinition):
        raise TypeError(f"{getattr(fn, '__name__', fn)!r} is not a workflow: decorate it "
                        "with @durasim.workflow")
    return definition


def activity_definition(fn: Any) -> ActivityDefinition:
    """The definition attached by ``@activity``, or a TypeError that says what to do."""
    definition = getattr(fn, "__durasim_activity__", None)
    if definition is None:
        definition = _adapted(fn)
    if not isinstance(definition, ActivityDefinition):
        raise TypeError(f"{getattr(fn, '__name__', fn)!r} is not an activity: decorate it "
                        "with @durasim.activity")
    return definition


def referenced_definitions(fn: Callable[..., Any]
                           ) -> tuple[dict[str, WorkflowDefinition],
                                      dict[str, ActivityDefinition]]:
    """The workflows and activities ``fn``'s code refers to by name, followed through the
    plain functions it calls: what a worker deployed with this workflow can run.

    A worker that just restarted may be handed an activity task before it has replayed
    the workflow that scheduled it, so it must know the workflow's activities up front,
    as a Temporal worker is given them at start-up.
    """
    workflows: dict[str, WorkflowDefinition] = {}
    activities: dict[str, ActivityDefinition] = {}
    seen: set[int] = set()
    pending: list[Any] = [fn]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, type):
            pending.extend(_methods(current))
            continue
        for value in _referenced_values(current):
            found = (getattr(value, "__durasim_workflow__", None)
                     or getattr(value, "__durasim_activity__", None) or _adapted(value))
            if isinstance(found, WorkflowDefinition):
                workflows.setdefault(found.name, found)
                pending.append(found.origin if found.origin is not None else found.fn)
            elif isinstance(found, ActivityDefinition):
                activities.setdefault(found.name, found)
            elif isinstance(value, FunctionType):
                pending.append(value)
    return workflows, activities


def _class_source(cls: type) -> tuple[list[str], int]:
    """A class's source found through its methods: Python 3.11 cannot find the source of
    a class defined in a notebook cell, but it can find its functions'."""
    spans = [inspect.getsourcelines(method) for method in _methods(cls)]
    if not spans:
        raise OSError(f"the source of {cls.__name__} is not available")
    filename = inspect.getsourcefile(next(_methods(cls))) or ""
    every = linecache.getlines(filename)
    first = min(start for _, start in spans)
    last = max(start + len(lines) - 1 for lines, start in spans)
    header = f"class {cls.__name__}"
    while first > 1 and not every[first - 1].lstrip().startswith(header):
        first -= 1
    while first > 1 and every[first - 2].lstrip().startswith("@"):
        first -= 1  # the class's decorators (@workflow.defn) belong to it
    return every[first - 1:last], first


def _methods(cls: type) -> Iterator[FunctionType]:
    """The functions a class defines (an SDK workflow's code is its methods)."""
    for member in vars(cls).values():
        member = getattr(member, "__func__", member)  # static and class methods
        if isinstance(member, FunctionType):
            yield member


def _referenced_values(fn: Any) -> Iterator[Any]:
    """Globals and closure values a function's code (and its nested code) names."""
    code = getattr(fn, "__code__", None)
    if not isinstance(code, CodeType):
        return
    namespace = getattr(fn, "__globals__", {})
    for name in _names(code):
        if name in namespace:
            yield namespace[name]
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            yield cell.cell_contents
        except ValueError:  # an empty cell: the variable is not bound yet
            continue


def _names(code: CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _names(const)
