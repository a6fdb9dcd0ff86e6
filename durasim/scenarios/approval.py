"""A transfer above a limit waits for a human's approval, days later.

It teaches "asynchronous communication" and "API calls of unlimited duration": the process
stops at step 3 until a signal arrives (``params["approve_after_days"]`` of virtual time
later, with ``params["approved"]`` as the answer), and must not forget it is waiting when
something crashes meanwhile.
"""

from __future__ import annotations

from durasim.scenarios.base import Scenario, Step

_NO_WAITING = ("waiting days for a person's answer needs state that survives crashes while "
               "nothing runs; run it on the durable architecture.")

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
)
