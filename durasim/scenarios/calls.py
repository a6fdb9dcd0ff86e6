"""How a scenario's activities reach the bank: one call to one service operation.

The scenarios' workflows are plain workflow code and their activities plain activities;
what an activity needs from the outside world (the service that owns the database) it
asks for through :func:`call`, and the architecture running it decides what that means:
the durable architecture sends the request over the simulated network from the worker
to the service node, where a crash can hit it before or after its commit.
"""

from __future__ import annotations

from typing import Any, Protocol

from durasim.engine.activity import activity_resource

BANK = "bank"
"""The name under which a worker lends activities their connection to the services."""


class Bank(Protocol):
    """What :func:`call` needs from its host: run ``op`` on ``service`` for ``ref``."""

    async def call(self, service: str, op: str, ref: str, args: dict[str, Any]) -> Any:
        """Ask ``service`` to run ``op`` with ``args``, filed under business ``ref``."""


async def call(service: str, op: str, ref: str, **args: Any) -> Any:
    """Inside an activity: ask ``service`` to run operation ``op`` for business ``ref``.

    Example (an activity of the transfer)::

        @durasim.activity
        async def deposit(account: str, amount: int, ref: str) -> dict:
            return await call("bank_b", "deposit", ref, account=account, amount=amount)
    """
    bank: Bank = activity_resource(BANK)
    return await bank.call(service, op, ref, args)
