"""The business processes durasim runs, by name.

Support by architecture (the durable engine runs all of them):

==============  ========  ============  =======
scenario        monolith  event_driven  durable
==============  ========  ============  =======
transfer        yes       yes           yes
order_saga      yes       yes           yes
subscription    no        no            yes
approval        no        no            yes
payroll         no        no            yes
==============  ========  ============  =======

An unsupported combination raises :class:`~durasim.errors.ScenarioError` with the
scenario's sentence saying why (they need durable timers, signals or child workflows).
"""

from __future__ import annotations

from durasim.errors import ScenarioError
from durasim.scenarios.approval import APPROVAL
from durasim.scenarios.base import STEP_KINDS, Scenario, Step
from durasim.scenarios.order_saga import ORDER_SAGA
from durasim.scenarios.payroll import PAYROLL
from durasim.scenarios.subscription import SUBSCRIPTION
from durasim.scenarios.transfer import TRANSFER

SCENARIOS: dict[str, Scenario] = {
    s.name: s for s in (TRANSFER, ORDER_SAGA, SUBSCRIPTION, APPROVAL, PAYROLL)
}
"""Every scenario by name, the talk's transfer first."""


def get_scenario(name: str | Scenario) -> Scenario:
    """The scenario called ``name`` (a Scenario is returned as it is).

    Raises:
        ScenarioError: unknown name; the message lists the valid ones.
    """
    if isinstance(name, Scenario):
        return name
    if isinstance(name, str) and name in SCENARIOS:
        return SCENARIOS[name]
    raise ScenarioError(f"unknown scenario {name!r}; valid scenarios: {', '.join(SCENARIOS)}")


__all__ = ["SCENARIOS", "STEP_KINDS", "Scenario", "Step", "get_scenario"]
