"""A transfer above a limit waits for a human's approval, days later.

It teaches "asynchronous communication" and "API calls of unlimited duration": the process
stops at step 3 until a signal arrives (``params["approve_after_days"]`` of virtual time
later, with ``params["approved"]`` as the answer), and must not forget it is waiting when
something crashes meanwhile. :func:`Approval` is the process as workflow code; its
activities are the transfer's, plus the request to the approver.
"""

from __future__ import annotations

from typing import Any

from durasim.engine.context import WorkflowContext
from durasim.engine.definitions import activity, workflow
from durasim.engine.failures import ActivityError
from durasim.engine.retry import RetryPolicy
from durasim.scenarios.base import Scenario, Step
from durasim.scenarios.calls import call
from durasim.scenarios.transfer import deposit, notify, refusal, validate, withdraw

_NO_WAITING = ("waiting days for a person's answer needs state that survives crashes while "
               "nothing runs; run it on the durable architecture.")


@activity
async def request_approval(approver: str, amount: int, ref: str) -> Any:
    """Step 2: ask the approver (the amount is over the limit)."""
    return await call("notifications", "notify", ref, to=approver, amount=amount)


@workflow
async def Approval(ctx: WorkflowContext, src: str, dst: str, amount: int, approver: str,
                   ref: str = "t2", max_attempts: int = 0) -> dict[str, Any]:
    """Ask for approval, wait (days) for the answer, then move the money or do nothing."""
    retry = RetryPolicy(maximum_attempts=max_attempts)
    try:
        await ctx.activity(validate, src, dst, amount, ref, retry=retry)
        await ctx.activity(request_approval, approver, amount, ref, retry=retry)
        (approved,) = await ctx.wait_signal("approve")  # step 3: days may pass here
        if not approved:
            return {"status": "rejected", "step": "wait_for_approval"}
        await ctx.activity(withdraw, src, amount, ref, retry=retry)
        await ctx.activity(deposit, dst, amount, ref, retry=retry)
        await ctx.activity(notify, dst, amount, ref, retry=retry)
    except ActivityError as refused:
        return refusal(refused)
    return {"status": "completed"}


APPROVAL = Scenario(
    name="approval",
    title="Transfer with human approval (waits days for a signal)",
    description="A transfer above the limit asks a manager and waits for the answer before "
                "moving any money.",
    noun="transfer",
    key="t2",
    steps=(
        Step(1, "validate", "validation", "Check the request makes sense.",
             args={"src": "$src", "dst": "$dst", "amount": "$amount"}, effect=False),
        Step(2, "request_approval", "notifications", "Ask the approver (the amount is over "
             "the limit).", op="notify", args={"to": "$approver", "amount": "$amount"}),
        Step(3, "wait_for_approval", "human", "Wait for the approver's signal (days).",
             kind="signal", args={"signal": "approve"}, effect=False),
        Step(4, "withdraw", "bank_a", "Take the amount out of alice's account.",
             args={"account": "$src", "amount": "$amount"}),
        Step(5, "deposit", "bank_b", "Put the amount into bob's account.",
             args={"account": "$dst", "amount": "$amount"}),
        Step(6, "notify", "notifications", "Tell bob the money arrived.",
             args={"to": "$dst", "amount": "$amount"}),
    ),
    accounts={"alice": 5000, "bob": 50},
    homes={"alice": "bank_a", "bob": "bank_b"},
    params={"src": "alice", "dst": "bob", "amount": 2000, "limit": 1000,
            "approver": "manager", "approve_after_days": 3, "approved": True},
    unsupported={"monolith": _NO_WAITING, "event_driven": _NO_WAITING},
    workflow=Approval,
    inputs=("src", "dst", "amount", "approver"),
)
