"""The talk's bank transfer as a durasim workflow, on an in-memory bank that counts effects.

``BANK`` stands for the outside world: its balances and effect counts are what an
at-least-once activity can change twice. Tests reset it with :func:`reset`.
"""

from __future__ import annotations

from typing import Any

import durasim
from durasim import ApplicationError, activity, activity_info, workflow


class Bank:
    """Balances plus a record of every effect, with optional idempotency keys."""

    def __init__(self) -> None:
        self.balances = {"alice": 100, "bob": 50}
        self.effects: list[tuple[str, str, int]] = []
        self.seen_keys: dict[str, Any] = {}
        self.idempotent = False

    def apply(self, op: str, account: str, amount: int) -> int:
        key = activity_info().idempotency_key
        if self.idempotent and key in self.seen_keys:
            result: int = self.seen_keys[key]
            return result
        if op == "withdraw":
            if self.balances[account] < amount:
                raise ApplicationError("insufficient funds", "InsufficientFunds",
                                       non_retryable=True)
            self.balances[account] -= amount
        else:
            self.balances[account] += amount
        self.effects.append((op, account, amount))
        self.seen_keys[key] = self.balances[account]
        return self.balances[account]


BANK = Bank()


def reset(idempotent: bool = False) -> Bank:
    """A fresh bank (alice 100, bob 50)."""
    global BANK
    BANK = Bank()
    BANK.idempotent = idempotent
    return BANK


@activity
def validate(source: str, target: str, amount: int) -> bool:
    if amount <= 0 or source == target:
        raise ApplicationError("invalid transfer", "Invalid", non_retryable=True)
    return True


@activity
def fraud_check(source: str, amount: int) -> str:
    return "clear"


@activity
def withdraw(account: str, amount: int) -> int:
    return BANK.apply("withdraw", account, amount)


@activity
def record_ledger(source: str, target: str, amount: int) -> str:
    return f"{source}->{target}:{amount}"


@activity
def deposit(account: str, amount: int) -> int:
    return BANK.apply("deposit", account, amount)


@activity
def notify(account: str) -> str:
    return f"notified {account}"


@workflow
async def BankTransfer(ctx: durasim.engine.WorkflowContext, source: str, target: str,
                       amount: int) -> str:
    """1 validate, 2 fraud check, 3 withdraw, 4 ledger, 5 deposit, 6 notify."""
    await ctx.activity(validate, source, target, amount)
    await ctx.activity(fraud_check, source, amount)
    await ctx.activity(withdraw, source, amount)
    await ctx.activity(record_ledger, source, target, amount)
    await ctx.activity(deposit, target, amount)
    await ctx.activity(notify, target)
    return "done"
