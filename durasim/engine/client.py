"""The client: what the outside world sends a workflow, and when.

Five kinds of request, each a small frozen record with the virtual time it is sent at:
:class:`Signal` (fire and forget: an event in the history), :class:`Query` (a read of the
workflow's state: nothing written), :class:`Update` (a request with an answer: accepted or
refused), :class:`Cancel` (please stop: the workflow sees a cancellation at its next
``await``) and :class:`Terminate` (stop now: no code of the workflow runs any more).
Cancel and Terminate can name another workflow than the one started, a child. The client
node retries each request until the server acknowledges it, so a crashed server or a lost
message delays a request but does not lose it; the server drops the duplicates the
retries make. A signal, cancellation or termination that finds no running workflow is
refused, as Temporal's server refuses it: the client keeps a :class:`RequestRefused`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from durasim.errors import DurasimError
from durasim.network import Message
from durasim.node import Node
from durasim.validation import check_seconds

if TYPE_CHECKING:
    from durasim.core import Simulation
    from durasim.network import Network

CLIENT_RETRY = 1.0
"""Seconds between the client's attempts to deliver a request the server has not
acknowledged."""


def _when(what: str, at: Any) -> float:
    if isinstance(at, int | float) and not isinstance(at, bool) and at < 0:
        raise ValueError(f"a {what} cannot be sent before time 0 (at={at})")
    return check_seconds(f"{what.capitalize()}(at=)", at)


def _name(what: str, name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise ValueError(f"a {what} needs a name, got {name!r}")
    return name


def _target(what: str, workflow_id: Any) -> str | None:
    if workflow_id is not None and (not isinstance(workflow_id, str) or not workflow_id):
        raise ValueError(f"a {what} names a workflow by its id (a string), "
                         f"got workflow_id={workflow_id!r}")
    return workflow_id


@dataclass(frozen=True)
class Signal:
    """A signal the client sends to the workflow at virtual time ``at``.

    With ``with_start=True`` it is sent with the start request (Temporal's
    signal-with-start): written right after WorkflowExecutionStarted, before the first
    workflow task, so the workflow's first code already sees it. ``workflow_id`` names
    another workflow to signal, e.g. a child.

    Example:
        >>> Signal("approve", "maria", at=3 * 24 * 3600)  # three days in
        Signal(name='approve', args=('maria',), at=259200.0, with_start=False, workflow_id=None)
    """

    name: str
    args: tuple[Any, ...] = ()
    at: float = 0.0
    with_start: bool = False
    workflow_id: str | None = None

    def __init__(self, name: str, *args: Any, at: float = 0.0, with_start: bool = False,
                 workflow_id: str | None = None) -> None:
        object.__setattr__(self, "name", _name("signal", name))
        object.__setattr__(self, "args", tuple(args))
        object.__setattr__(self, "at", _when("signal", at))
        if with_start and self.at:
            raise ValueError("a signal sent with the start goes at time 0: drop at=")
        if with_start and workflow_id is not None:
            raise ValueError("a signal sent with the start goes to the workflow started: "
                             "drop workflow_id=")
        object.__setattr__(self, "with_start", bool(with_start))
        object.__setattr__(self, "workflow_id", _target("signal", workflow_id))


@dataclass(frozen=True)
class Query:
    """Ask the workflow's query handler ``name`` at virtual time ``at`` (writes nothing).

    The answer is in ``run.answers``.
    """

    name: str
    args: tuple[Any, ...] = ()
    at: float = 0.0

    def __init__(self, name: str, *args: Any, at: float = 0.0) -> None:
        object.__setattr__(self, "name", _name("query", name))
        object.__setattr__(self, "args", tuple(args))
        object.__setattr__(self, "at", _when("query", at))


@dataclass(frozen=True)
class Update:
    """Send update ``name`` at virtual time ``at``; its answer (or refusal) is in
    ``run.answers``."""

    name: str
    args: tuple[Any, ...] = ()
    at: float = 0.0

    def __init__(self, name: str, *args: Any, at: float = 0.0) -> None:
        object.__setattr__(self, "name", _name("update", name))
        object.__setattr__(self, "args", tuple(args))
        object.__setattr__(self, "at", _when("update", at))


@dataclass(frozen=True)
class Cancel:
    """Ask the workflow to stop at virtual time ``at``: it sees a cancellation at its next
    ``await`` and may still clean up before it ends as canceled.

    ``workflow_id`` names another workflow to cancel, e.g. a child (its parent, awaiting
    it, then sees a ChildWorkflowError caused by a CancelledError).
    """

    at: float = 0.0
    workflow_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", _when("cancel request", self.at))
        object.__setattr__(self, "workflow_id", _target("cancel request", self.workflow_id))


@dataclass(frozen=True)
class Terminate:
    """End the workflow at virtual time ``at`` from outside, with ``reason``: no code of
    it runs any more, not even a clean-up (its history ends with
    WorkflowExecutionTerminated).

    ``workflow_id`` names another workflow to terminate, e.g. a child (its parent,
    awaiting it, then sees a ChildWorkflowError caused by a TerminatedError).
    """

    reason: str = ""
    at: float = 0.0
    workflow_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.reason, str):
            raise ValueError(f"a termination's reason is a string, got {self.reason!r}")
        object.__setattr__(self, "at", _when("termination", self.at))
        object.__setattr__(self, "workflow_id", _target("termination", self.workflow_id))


Request = Signal | Query | Update | Cancel | Terminate
_KINDS = {Signal: "Signal", Query: "Query", Update: "Update", Cancel: "Cancel",
          Terminate: "Terminate"}


@dataclass
class Answer:
    """What a query or an update came back with: a ``value``, or an ``error`` sentence."""

    request: Request
    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the request was answered without error."""
        return self.error is None


class RequestRefused(DurasimError):
    """The server refused a signal, cancellation or termination: the workflow it names
    does not exist (yet), or has closed. Temporal's client raises ``RPCError``
    (``NOT_FOUND``) there; durasim keeps the refusal in ``run.refused``.

    Attributes:
        request: the refused request.
        workflow_id: the workflow it named.
        status, reason: what Temporal's server answers (``"NOT_FOUND"``, and "workflow
            not found for ID: ..." or "workflow execution already completed").
    """

    def __init__(self, request: Request, workflow_id: str, status: str, reason: str
                 ) -> None:
        self.request, self.workflow_id = request, workflow_id
        self.status, self.reason = status, reason
        what = f"Signal {request.name!r}" if isinstance(request, Signal) else _KINDS[
            type(request)]
        advice = ("send it before the workflow closes" if "completed" in reason else
                  "check workflow_id (a child exists once its parent started it)")
        super().__init__(f"{what} for workflow {workflow_id!r} at {request.at:g} s was "
                         f"refused ({status}: {reason}): {advice}")


@dataclass
class Client:
    """The client node: starts workflows and sends requests until acknowledged."""

    sim: Simulation
    net: Network
    node: Node
    answers: dict[int, Answer] = field(default_factory=dict)
    refused: list[RequestRefused] = field(default_factory=list)
    """Requests the server refused, in the order the refusals came."""
    _acknowledged: set[Any] = field(default_factory=set)
    _sent: dict[int, tuple[Request, str]] = field(default_factory=dict)
    _seq: int = 0

    def __post_init__(self) -> None:
        self.node.spawn(self._inbox(), "inbox")

    async def _inbox(self) -> None:
        while True:
            message: Message = await self.node.inbox.get()
            if message.kind == "Answer":
                seq, value, error = message.payload
                answer = self.answers.get(seq)
                if answer is not None:
                    answer.value, answer.error = value, error
                self._acknowledged.add(("Answer", seq))
            elif message.kind == "Refused":
                kind, seq, status, reason = message.payload
                if (f"{kind}Accepted", seq) not in self._acknowledged:  # not a duplicate
                    self._acknowledged.add((f"{kind}Accepted", seq))
                    self.refused.append(RequestRefused(*self._sent[seq], status, reason))
            else:
                self._acknowledged.add((message.kind, message.payload))

    async def _until_acknowledged(self, kind: str, payload: Any, ack: tuple[str, Any]) -> None:
        while ack not in self._acknowledged:
            self.net.send(self.node.name, "server", kind, payload)
            await self.sim.timeout(CLIENT_RETRY)

    def start(self, workflow_id: str, workflow_type: str, args: Sequence[Any],
              requests: Sequence[Request] = ()) -> None:
        """Start the workflow (with any signal-with-start) and schedule the requests."""
        first = [r for r in requests if isinstance(r, Signal) and r.with_start]
        payload = {"workflow_id": workflow_id, "workflow_type": workflow_type,
                   "args": list(args),
                   "signals": [{"name": s.name, "args": list(s.args)} for s in first]}
        self.node.spawn(self._until_acknowledged("StartWorkflow", payload,
                                                 ("StartAccepted", workflow_id)), "start")
        for request in requests:
            if request in first:
                continue
            self._seq += 1
            if isinstance(request, Query | Update):
                self.answers[self._seq] = Answer(request)
            self.sim.schedule(request.at, partial(self._send, workflow_id, request,
                                                  self._seq), kind="request")

    def _send(self, workflow_id: str, request: Request, seq: int) -> None:
        if not self.node.up:
            return
        kind = _KINDS[type(request)]
        target = getattr(request, "workflow_id", None) or workflow_id
        self._sent[seq] = (request, target)
        body = {"workflow_id": target,
                "seq": seq, "request_id": f"client-{seq}",
                "name": getattr(request, "name", ""), "args": list(getattr(request, "args", ())),
                "reason": getattr(request, "reason", "")}
        ack = ("Answer", seq) if kind in ("Query", "Update") else (f"{kind}Accepted", seq)
        self.node.spawn(self._until_acknowledged(kind, body, ack), kind.lower())
