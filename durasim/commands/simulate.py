"""``durasim simulate``: one scenario on one architecture, as text or JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from durasim.errors import FaultPlanError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``durasim simulate``."""
    parser = subparsers.add_parser(
        "simulate", help="run one scenario on one architecture",
        description="Run a scenario on an architecture under a fault plan (JSON) and print "
                    "the outcome, the final state and the checks.")
    parser.add_argument("scenario", help="transfer, order_saga, subscription, approval, payroll")
    parser.add_argument("--architecture", "-a", default="durable",
                        help="monolith, event_driven or durable (default: durable)")
    parser.add_argument("--faults", type=Path, metavar="PLAN.json",
                        help='a fault plan: {"faults": [{"kind": "Crash", "at_step": 5}]}')
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--option", "-o", action="append", default=[], metavar="NAME=VALUE",
                        help="an architecture option, e.g. -o outbox=true (repeatable)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=main)


def _options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise FaultPlanError(f"--option takes NAME=VALUE, got {pair!r}")
        lowered = text.strip().lower()
        if lowered in ("true", "false"):
            options[name] = lowered == "true"
        else:
            try:
                options[name] = int(text)
            except ValueError:
                try:
                    options[name] = float(text)
                except ValueError:
                    raise FaultPlanError(f"--option {name}: {text!r} is not true/false or a "
                                         "number") from None
    return options


MAX_PLAN_BYTES = 1 << 20
"""A fault plan is a few lines; reading stops here (``--faults /dev/zero`` must not hang)."""


def _read_plan(path: Path) -> str:
    """The text of a fault-plan file, or a FaultPlanError saying why it is not one."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_PLAN_BYTES + 1)
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or error
        raise FaultPlanError(f"cannot read {path}: {reason}") from None
    if len(data) > MAX_PLAN_BYTES:
        raise FaultPlanError(f"{path}: larger than {MAX_PLAN_BYTES >> 20} MiB, so not a "
                             "fault plan")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FaultPlanError(f"{path}: not UTF-8 text (byte {error.start}); a fault plan "
                             "is JSON") from None


def main(args: argparse.Namespace) -> int:
    """Run and print."""
    from durasim.api import run
    from durasim.faults import FaultPlan

    plan = FaultPlan() if args.faults is None else FaultPlan.from_json(_read_plan(args.faults))
    try:
        result = run(args.scenario, args.architecture, plan, seed=args.seed,
                     **_options(args.option))
    except TypeError as error:  # a wrong option type: the user's mistake, one line
        raise FaultPlanError(str(error)) from None
    if not args.json:
        print(result)
        return 0
    data: dict[str, Any] = {
        "scenario": result.scenario.name, "architecture": result.architecture,
        "seed": result.seed, "faults": plan.to_dict()["faults"], "outcome": result.outcome,
        "explanation": result.explanation,
        "state": {key: value for key, value in result.state.to_dict().items()
                  if key in ("balances", "pending", "queues")},
        "checks": [{"name": c.name, "ok": c.ok, "sentence": c.sentence} for c in result.checks],
    }
    if result.history is not None:
        data["history"] = result.history.event_types()
    print(json.dumps(data, indent=2, default=str))
    return 0
