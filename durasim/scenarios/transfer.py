"""The talk's bank transfer: six named steps from alice's account to bob's.

This is the scenario every architecture runs and the one the talk's argument rests on:
step 3 takes money out of one service's database and step 5 puts it into another's, so a
crash between them is exactly the failure a local transaction cannot cover once the two
accounts live in different services.
"""

from __future__ import annotations

from durasim.scenarios.base import Scenario, Step

_TRANSFER = {"src": "$src", "dst": "$dst", "amount": "$amount"}

TRANSFER = Scenario(
    name="transfer",
    title="Bank transfer (the talk's example)",
    description="Move money from alice to bob in six steps; a crash at step 5 (the deposit) "
                "is the talk's case.",
    noun="transfer",
    key="t1",
    steps=(
        Step(1, "validate", "validation", "Check the request makes sense (positive amount, "
             "two different accounts).", args=_TRANSFER, effect=False),
        Step(2, "fraud_check", "fraud", "Refuse amounts above the fraud limit.",
             args={"account": "$src", "amount": "$amount", "limit": "$fraud_limit"},
             effect=False),
        Step(3, "withdraw", "bank_a", "Take the amount out of alice's account.",
             args={"account": "$src", "amount": "$amount"}),
        Step(4, "record_ledger", "ledger", "Write the transfer into the bank's ledger.",
             args=_TRANSFER),
        Step(5, "deposit", "bank_b", "Put the amount into bob's account.",
             args={"account": "$dst", "amount": "$amount"}),
        Step(6, "notify", "notifications", "Tell bob the money arrived.",
             args={"to": "$dst", "amount": "$amount"}),
    ),
    accounts={"alice": 100, "bob": 50},
    homes={"alice": "bank_a", "bob": "bank_b"},
    params={"src": "alice", "dst": "bob", "amount": 25, "fraud_limit": 1000},
)
