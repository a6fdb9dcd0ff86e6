"""Request and response over the simulated network, between a caller and a service.

* request: ``net.send(caller, service, kind=op, payload={"op", "args", "step", "name",
  "ref", "key"}, step=step, headers={"request_id": n})``;
* reply: ``kind="reply"``, ``payload={"ok", "result", "error", "retryable", "deduped"}``,
  ``headers={"in_reply_to": n}``, sent back to the caller;
* :func:`call_service` does both and returns ``result``, or raises
  :class:`~durasim.architectures.operations.ServiceError` (``retryable`` False for business
  refusals, True for injected ``FailActivity`` failures) or :class:`ServiceTimeout` when
  no reply arrives in time. Replies never reach the caller's ordinary inbox loop:
  :class:`ReplyMailbox` routes them to the waiting call.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from durasim.architectures.operations import ServiceError
from durasim.core import Event
from durasim.network import Message, Network
from durasim.node import Mailbox, Node


class ServiceTimeout(Exception):
    """No reply came within the timeout: the caller cannot know whether the work happened."""


class ReplyMailbox(Mailbox):
    """An inbox that hands replies to the call waiting for them, and the rest to the node.

    A node's own loop reads its inbox for work; a call it makes meanwhile must not steal
    that work, nor may the loop swallow the call's reply. Replies carry the header
    ``in_reply_to``; those whose call is still waiting wake it, the others (late or
    duplicated replies) are dropped. A crash clears both, as it clears all memory.
    """

    def __init__(self, sim: Any) -> None:
        super().__init__(sim)
        self.waiting: dict[int, Event] = {}
        self._ids = itertools.count(1)

    def new_call(self) -> tuple[int, Event]:
        """A fresh request id and the event its reply will succeed."""
        request_id = next(self._ids)
        event = self.sim.event("reply")
        self.waiting[request_id] = event
        return request_id, event

    def put(self, item: Any) -> None:
        """Route replies to their call; queue everything else as usual."""
        headers = getattr(item, "headers", None)
        if headers and "in_reply_to" in headers:
            event = self.waiting.pop(headers["in_reply_to"], None)
            if event is not None and not event.triggered:
                event.succeed(item)
            return
        super().put(item)

    def clear(self) -> None:
        """Forget queued work and waiting calls (a crash)."""
        super().clear()
        self.waiting.clear()


def enable_replies(node: Node) -> ReplyMailbox:
    """Give ``node`` a :class:`ReplyMailbox` (once), keeping what its inbox already holds."""
    box = node.inbox
    if isinstance(box, ReplyMailbox):
        return box
    new = ReplyMailbox(node.sim)
    new.items, new._getters = box.items, box._getters
    node.inbox = new
    return new


async def request(net: Network, src: Node, dst: str, kind: str, payload: Any, *,
                  step: int | str | None, timeout: float) -> Message:
    """Send a request and wait for its reply message.

    Raises:
        ServiceTimeout: no reply within ``timeout`` seconds (the request or the reply was
            lost, or the other side crashed: the caller cannot tell which).
    """
    box = enable_replies(src)
    request_id, done = box.new_call()
    net.send(src.name, dst, kind, payload, step=step, headers={"request_id": request_id})

    def expire() -> None:
        if not done.triggered:
            box.waiting.pop(request_id, None)
            done.fail(ServiceTimeout(f"no reply from {dst} to {kind!r} within {timeout:g} s"))

    net.sim.schedule(timeout, expire, kind="reply_timeout")
    reply: Message = await done
    return reply


def reply(net: Network, node: Node, to: Message, payload: Any, kind: str = "reply") -> None:
    """Answer request ``to`` (a message sent by :func:`request`)."""
    net.send(node.name, to.src, kind, payload, step=to.step,
             headers={"in_reply_to": to.headers.get("request_id")})


async def call_service(net: Network, src_node: Node, service_name: str, op: str,
                       args: Mapping[str, Any], *, step: int, key: str | None = None,
                       timeout: float = 5.0, ref: str | None = None, name: str | None = None
                       ) -> Any:
    """Ask a service to run ``op`` and wait for the answer (one attempt, no retry).

    Args:
        net: the network (its message faults apply to the request and the reply).
        src_node: the caller; replies are routed back to this call.
        service_name: the service node.
        op: an operation of :data:`OPS`.
        args: its arguments.
        step: the business step number (what ``Crash(at_step=...)`` matches).
        key: an idempotency key; a repeated key returns the first result, no new effect.
        timeout: seconds to wait for the reply.
        ref: the business reference the effect is filed under (default: the scenario's key;
            payroll passes ``payroll-1/dave``, a subscription ``sub1/month-3``).
        name: the step name (default: the scenario's name for ``step``).

    Returns:
        The operation's result.

    Raises:
        ServiceError: the service refused (``retryable`` False) or failed transiently
            (``retryable`` True).
        ServiceTimeout: no reply in time; the effect may or may not have happened.
    """
    payload = {"op": op, "args": dict(args), "step": step, "name": name, "ref": ref, "key": key}
    message = await request(net, src_node, service_name, op, payload, step=step,
                            timeout=timeout)
    answer = message.payload
    if not answer["ok"]:
        raise ServiceError(op, answer["error"], retryable=answer["retryable"])
    return answer["result"]
