"""Payroll: a parent process pays each employee through a child process.

It teaches child workflows: the parent fans out one child per employee (reference
``payroll-1/dave``), each child moves money from the company to one employee, and the
checks count each employee's payment separately. Steps 3-5 run once per employee, so their
arguments depend on the employee: in :func:`PayEmployee` they are the child's input.
"""

from __future__ import annotations

from typing import Any

from durasim.engine.context import WorkflowContext
from durasim.engine.definitions import activity, workflow
from durasim.engine.failures import ActivityError, ChildWorkflowError
from durasim.engine.retry import RetryPolicy
from durasim.scenarios.base import Scenario, Step
from durasim.scenarios.calls import call
from durasim.scenarios.transfer import deposit, notify, refusal, withdraw

_NO_CHILDREN = ("paying employees through child workflows needs a parent that waits for its "
                "children across crashes; run it on the durable architecture.")


@activity
async def compute_payroll(employees: dict[str, int], ref: str) -> Any:
    """Step 1: list who gets paid how much (payroll)."""
    return await call("payroll", "compute_payroll", ref, employees=employees)


@workflow
async def PayEmployee(ctx: WorkflowContext, company: str, employee: str, amount: int,
                      ref: str, max_attempts: int = 0) -> dict[str, Any]:
    """One employee's salary: steps 3-5 of the payroll, as a child workflow."""
    retry = RetryPolicy(maximum_attempts=max_attempts)
    try:
        await ctx.activity(withdraw, company, amount, ref, retry=retry)
        await ctx.activity(deposit, employee, amount, ref, retry=retry)
        await ctx.activity(notify, employee, amount, ref, retry=retry)
    except ActivityError as refused:
        return refusal(refused)
    return {"status": "completed"}


@workflow
async def Payroll(ctx: WorkflowContext, company: str, employees: dict[str, int],
                  ref: str = "payroll-1", max_attempts: int = 0) -> dict[str, Any]:
    """Compute the payroll, then pay every employee through a child workflow (step 2)."""
    retry = RetryPolicy(maximum_attempts=max_attempts)
    try:
        await ctx.activity(compute_payroll, employees, ref, retry=retry)
    except ActivityError as refused:
        return refusal(refused)
    try:
        results = await ctx.gather(*(
            ctx.child(PayEmployee, company, name, amount, f"{ref}/{name}", max_attempts,
                      id=f"{ref}/{name}")
            for name, amount in employees.items()))
    except ChildWorkflowError as error:
        return {"status": "failed", "step": "pay_employee", "reason": str(error.cause)}
    failed = [r for r in results if r.get("status") != "completed"]
    return failed[0] if failed else {"status": "completed", "paid": len(results)}


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
    workflow=Payroll,
    inputs=("company", "employees"),
)
