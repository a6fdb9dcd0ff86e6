"""Faults as data: a FaultPlan is a list of frozen dataclasses.

Because a plan is plain data it can be written to JSON, typed by a student in a widget,
generated and shrunk by hypothesis, and replayed: the same plan and seed always produce the
same run. Validation happens when a fault is built, so a bad plan fails loudly with a
:class:`~durasim.errors.FaultPlanError` that names the fault and the field.
"""

from __future__ import annotations

import json
import math
import reprlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from durasim.errors import FaultPlanError

When = Literal["before_effect", "after_effect"]
WHENS: tuple[str, ...] = ("before_effect", "after_effect")


def _short_repr(self: Any) -> str:
    """``Crash(at_step=5, when='after_effect')``: only the fields that differ from defaults,
    so plans read like the code that made them."""
    shown = [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
             if getattr(self, f.name) != f.default]
    return f"{type(self).__name__}({', '.join(shown)})"


def _fail(fault: object, field: str, problem: str) -> FaultPlanError:
    return FaultPlanError(f"{type(fault).__name__}.{field}: {problem}")


def _check_time(fault: object, field: str, value: object, *, allow_none: bool = True,
                allow_inf: bool = False, instead: str = "") -> None:
    """A number of seconds >= 0, infinite only where that has a meaning (``instead`` says
    what to write when it has none). Never NaN: it compares false with everything and
    would silently stall the simulation's event heap."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(fault, field, f"must be a number of seconds, got {reprlib.repr(value)}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond every float: no clock can reach it
        raise _fail(fault, field, f"must fit in a float, got {reprlib.repr(value)}") from None
    if math.isnan(number):
        raise _fail(fault, field, "must be a number of seconds, got NaN")
    if number < 0:
        raise _fail(fault, field, f"must be >= 0 seconds, got {reprlib.repr(value)}")
    if math.isinf(number) and not allow_inf:
        raise _fail(fault, field, "must be finite, got inf" + (f"; {instead}" if instead else ""))


def _check_name(fault: object, field: str, value: object, *, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, str) or not value:
        raise _fail(fault, field, f"must be a non-empty string, got {reprlib.repr(value)}")


def _check_count(fault: object, field: str, value: object, *, minimum: int = 1,
                 maximum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(fault, field, f"must be an integer >= {minimum}, got {reprlib.repr(value)}")
    if maximum is not None and value > maximum:
        raise _fail(fault, field, f"must be at most {maximum:,}, got {value:,}")


MAX_COPIES = 100_000
"""The most extra copies one DuplicateMessage may deliver: each copy is a message the
receiver handles, so a larger number only makes a run that never ends in practice."""


@dataclass(frozen=True, repr=False)
class Crash:
    """Crash a node: it loses its memory; it comes back ``restart_after`` seconds later.

    Exactly one trigger: ``at_step`` (a business step of the scenario, by number or name),
    ``after_events`` (after the workflow history has that many events) or ``at_time``.
    ``node=None`` means "the node executing that step". ``when`` says whether the crash
    comes before the step's effect commits or after it, before its completion is recorded
    or acknowledged. ``restart_after=None`` means the node never comes back. ``ref``
    narrows an ``at_step`` crash to one business process (``"t00042"``) when one system
    runs many of them (a bank's day); None means whichever reaches the step first.
    """

    node: str | None = None
    at_step: int | str | None = None
    after_events: int | None = None
    at_time: float | None = None
    when: When = "before_effect"
    restart_after: float | None = 1.0
    ref: str | None = None

    def __post_init__(self) -> None:
        _check_name(self, "node", self.node)
        triggers = [n for n in ("at_step", "after_events", "at_time")
                    if getattr(self, n) is not None]
        if len(triggers) != 1:
            got = " and ".join(triggers) if triggers else "none"
            raise _fail(self, "at_step", f"give exactly one trigger of at_step, after_events, "
                        f"at_time (got {got})")
        if self.at_step is not None:
            if isinstance(self.at_step, bool) or not isinstance(self.at_step, int | str):
                raise _fail(self, "at_step",
                            f"must be a step number or name, got {reprlib.repr(self.at_step)}")
            if isinstance(self.at_step, int) and self.at_step < 1:
                raise _fail(self, "at_step", f"steps are numbered from 1, got {self.at_step}")
            if isinstance(self.at_step, str) and not self.at_step:
                raise _fail(self, "at_step", "must not be empty")
        if self.after_events is not None:
            _check_count(self, "after_events", self.after_events)
        _check_time(self, "at_time", self.at_time, instead="leave out a crash that never happens")
        if self.when not in WHENS:
            raise _fail(self, "when",
                        f"must be 'before_effect' or 'after_effect', got {reprlib.repr(self.when)}")
        _check_time(self, "restart_after", self.restart_after,
                    instead="None means the node never comes back")
        _check_name(self, "ref", self.ref)
        if self.ref is not None and self.at_step is None:
            raise _fail(self, "ref", "only a crash at a step belongs to one business "
                        "process; give at_step too (or drop ref)")


@dataclass(frozen=True, repr=False)
class _MessageFault:
    """Matches the ``nth`` message (from 1) whose kind, sender, receiver and step fit.

    ``message`` is the message's kind ("deposit", "ActivityTask", ...); None matches any.
    """

    message: str | None = None
    src: str | None = None
    dst: str | None = None
    step: int | str | None = None
    nth: int = 1

    def __post_init__(self) -> None:
        for name in ("message", "src", "dst"):
            _check_name(self, name, getattr(self, name))
        if self.step is not None and (isinstance(self.step, bool)
                                      or not isinstance(self.step, int | str)):
            raise _fail(self, "step",
                        f"must be a step number or name, got {reprlib.repr(self.step)}")
        _check_count(self, "nth", self.nth)

    def matches(self, kind: str, src: str, dst: str, step: int | str | None) -> bool:
        """True when a message with these properties fits this fault's filters."""
        return ((self.message is None or self.message == kind)
                and (self.src is None or self.src == src)
                and (self.dst is None or self.dst == dst)
                and (self.step is None or self.step == step))


@dataclass(frozen=True, repr=False)
class DropMessage(_MessageFault):
    """Lose one message on the wire."""


@dataclass(frozen=True, repr=False)
class DuplicateMessage(_MessageFault):
    """Deliver one message ``copies`` extra times (a retrying sender, a broker redelivery)."""

    copies: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_count(self, "copies", self.copies, maximum=MAX_COPIES)


@dataclass(frozen=True, repr=False)
class DelayMessage(_MessageFault):
    """Hold one message back for ``by`` extra seconds (it may overtake, or be overtaken)."""

    by: float = 10.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_time(self, "by", self.by, allow_none=False,
                    instead="a message that never arrives is a DropMessage")


@dataclass(frozen=True, repr=False)
class Partition:
    """Between ``start`` and ``end``, messages between ``nodes`` and the rest are lost."""

    nodes: tuple[str, ...] = ()
    start: float = 0.0
    end: float = math.inf

    def __post_init__(self) -> None:
        if isinstance(self.nodes, str) or not isinstance(self.nodes, tuple | list):
            raise _fail(self, "nodes",
                        f"must be a list of node names, got {reprlib.repr(self.nodes)}")
        object.__setattr__(self, "nodes", tuple(self.nodes))
        if not self.nodes:
            raise _fail(self, "nodes", "must name at least one node")
        for node in self.nodes:
            _check_name(self, "nodes", node, allow_none=False)
        _check_time(self, "start", self.start, allow_none=False)
        _check_time(self, "end", self.end, allow_none=False, allow_inf=True)  # inf: never heals
        if self.end <= self.start:
            raise _fail(self, "end", f"must be after start ({self.start}), got {self.end}")

    def cuts(self, src: str, dst: str, time: float) -> bool:
        """True when a message from ``src`` to ``dst`` sent at ``time`` crosses the cut."""
        return self.start <= time < self.end and ((src in self.nodes) != (dst in self.nodes))


@dataclass(frozen=True, repr=False)
class FailActivity:
    """The first ``attempts`` attempts of activity ``name`` fail with a retryable error."""

    name: str = ""
    attempts: int = 1

    def __post_init__(self) -> None:
        _check_name(self, "name", self.name, allow_none=False)
        _check_count(self, "attempts", self.attempts)


for _cls in (Crash, DropMessage, DuplicateMessage, DelayMessage, Partition, FailActivity):
    _cls.__repr__ = _short_repr  # type: ignore[method-assign]

Fault = Crash | DropMessage | DuplicateMessage | DelayMessage | Partition | FailActivity
FAULT_KINDS: dict[str, type] = {
    cls.__name__: cls
    for cls in (Crash, DropMessage, DuplicateMessage, DelayMessage, Partition, FailActivity)
}


@dataclass(frozen=True, repr=False)
class FaultPlan:
    """An ordered, immutable list of faults to inject into one run.

    Example:
        >>> plan = FaultPlan([Crash(at_step=5), DropMessage(message="deposit")])
        >>> FaultPlan.from_json(plan.to_json()) == plan
        True
    """

    faults: tuple[Fault, ...] = ()

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        if isinstance(faults, str | bytes) or not isinstance(faults, Iterable):
            raise FaultPlanError(f"FaultPlan takes a list of faults, got {reprlib.repr(faults)}")
        items = tuple(faults)
        for index, fault in enumerate(items):
            if type(fault) not in FAULT_KINDS.values():
                raise FaultPlanError(
                    f"fault #{index + 1}: {fault!r} is not a fault; use one of "
                    f"{', '.join(FAULT_KINDS)}")
        object.__setattr__(self, "faults", items)

    def __iter__(self) -> Iterator[Fault]:
        return iter(self.faults)

    def __len__(self) -> int:
        return len(self.faults)

    def __bool__(self) -> bool:
        return bool(self.faults)

    def of(self, *kinds: type) -> list[Any]:
        """The faults of the given classes, in plan order."""
        return [f for f in self.faults if isinstance(f, kinds)]

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``{"faults": [{"kind": "Crash", ...}, ...]}``."""
        return {"faults": [{"kind": type(f).__name__, **_plain(asdict(f))} for f in self.faults]}

    def to_json(self, indent: int | None = 2) -> str:
        """The plan as JSON text (what ``durasim simulate --faults`` reads)."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: object) -> FaultPlan:
        """Build a plan from :meth:`to_dict` data, validating every field."""
        if isinstance(data, list):
            data = {"faults": data}
        if not isinstance(data, dict) or not isinstance(data.get("faults"), list):
            raise FaultPlanError('a fault plan is {"faults": [...]} or a list of faults')
        return cls(_fault_from_dict(i, item) for i, item in enumerate(data["faults"]))

    @classmethod
    def from_json(cls, text: str) -> FaultPlan:
        """Parse JSON text written by :meth:`to_json` (or by hand)."""
        try:
            data = json.loads(text)
        except (ValueError, TypeError, RecursionError) as exc:  # RecursionError: [[[[...
            raise FaultPlanError(f"fault plan is not valid JSON: {exc}") from None
        return cls.from_dict(data)

    def __repr__(self) -> str:
        return "FaultPlan([" + ", ".join(map(repr, self.faults)) + "])"

    __str__ = __repr__


_WRITTEN_WHEN_SET = frozenset({"ref"})
"""Fields newer than saved plans: left out of the JSON while unset, so old plans' text
stays what it was."""


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in data.items()
            if v is not None or k not in _WRITTEN_WHEN_SET}


def _fault_from_dict(index: int, item: object) -> Fault:
    where = f"fault #{index + 1}"
    if not isinstance(item, dict):
        raise FaultPlanError(f"{where}: must be an object with a 'kind', got {reprlib.repr(item)}")
    kind = item.get("kind")
    cls = FAULT_KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise FaultPlanError(f"{where}.kind: unknown kind {reprlib.repr(kind)}; valid kinds: "
                             f"{', '.join(FAULT_KINDS)}")
    names = {f.name for f in fields(cls)}
    unknown = sorted(str(k) for k in item if k != "kind" and k not in names)
    if unknown:
        raise FaultPlanError(f"{where} ({kind}).{unknown[0]}: unknown field; valid fields: "
                             f"{', '.join(sorted(names))}")
    args = {k: v for k, v in item.items() if k != "kind"}
    if cls is Partition and isinstance(args.get("nodes"), list):
        args["nodes"] = tuple(args["nodes"])
    try:
        fault: Fault = cls(**args)
    except FaultPlanError as exc:
        raise FaultPlanError(f"{where}: {exc}") from None
    except TypeError as exc:  # defensive: a field of a shape dataclasses rejects
        raise FaultPlanError(f"{where} ({kind}): {exc}") from None
    return fault


def as_plan(faults: FaultPlan | Iterable[Fault] | Fault | None) -> FaultPlan:
    """Accept what users naturally pass (None, one fault, a list, a plan) as a FaultPlan."""
    if faults is None:
        return FaultPlan()
    if isinstance(faults, FaultPlan):
        return faults
    if type(faults) in FAULT_KINDS.values():
        return FaultPlan([faults])  # type: ignore[list-item]
    return FaultPlan(faults)  # type: ignore[arg-type]
