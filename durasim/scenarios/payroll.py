"""Payroll: a parent process pays each employee through a child process.

It teaches child workflows: the parent fans out one child per employee (reference
``payroll-1/dave``), each child moves money from the company to one employee, and the
checks count each employee's payment separately. Steps 3-5 run once per employee, so their
arguments depend on the employee: ``args`` here only name the company's account; the
architecture adds ``account``/``to`` and ``amount`` from ``params["employees"]``.
"""

from __future__ import annotations

from durasim.scenarios.base import Scenario, Step

_NO_CHILDREN = ("paying employees through child workflows needs a parent that waits for its "
                "children across crashes; run it on the durable architecture.")

PAYROLL = Scenario(
    name="payroll",
    title="Payroll (a parent pays each employee through a child workflow)",
    description="acme pays dave, erin and frank; one child workflow per employee.",
    noun="payment",
    key="payroll-1",
    steps=(
        Step(1, "compute_payroll", "payroll", "List who gets paid how much.",
             args={"employees": "$employees"}, effect=False),
        Step(2, "pay_employee", "workflow", "Start one child workflow per employee.",
             kind="child", effect=False),
        Step(3, "withdraw", "bank_a", "Take the salary out of the company's account.",
             args={"account": "$company"}),
        Step(4, "deposit", "bank_b", "Put the salary into the employee's account."),
        Step(5, "notify", "notifications", "Send the payslip."),
    ),
    accounts={"acme": 1000, "dave": 0, "erin": 0, "frank": 0},
    homes={"acme": "bank_a", "dave": "bank_b", "erin": "bank_b", "frank": "bank_b"},
    params={"company": "acme", "employees": {"dave": 300, "erin": 250, "frank": 200}},
    unsupported={"monolith": _NO_CHILDREN, "event_driven": _NO_CHILDREN},
)
