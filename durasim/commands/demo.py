"""``durasim demo``: the talk's case in a terminal, three architectures side by side."""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from durasim.faults import WHENS, Crash

if TYPE_CHECKING:
    from durasim.architectures.base import Run


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``durasim demo``."""
    parser = subparsers.add_parser(
        "demo", help="crash the bank transfer at step 5 on all three architectures",
        description="Run one scenario on the monolith, the event-driven system and the "
                    "durable engine under the same crash, and explain what each one did.")
    parser.add_argument("--scenario", default="transfer", help="scenario (default: transfer)")
    parser.add_argument("--crash-at-step", default="5", metavar="STEP",
                        help="step number or name to crash at (default: 5, the deposit)")
    parser.add_argument("--when", default="before_effect", choices=WHENS,
                        help="crash before the step's effect commits or just after it")
    parser.add_argument("--seed", type=int, default=0, help="simulation seed (default: 0)")
    parser.add_argument("--out", default="durasim-demo", type=Path,
                        help="folder for the pictures (default: ./durasim-demo)")
    parser.add_argument("--no-pictures", action="store_true", help="skip the PNG files")
    parser.set_defaults(run=main)


def main(args: argparse.Namespace) -> int:
    """Print the comparison, a timeline and a verdict per architecture; save pictures."""
    from durasim.api import compare
    from durasim.narrate import text_timeline, verdict

    step: int | str = int(args.crash_at_step) if args.crash_at_step.isdigit() else (
        args.crash_at_step)
    started = time.perf_counter()
    fault = Crash(at_step=step, when=args.when)
    comparison = compare(args.scenario, [fault], seed=args.seed)
    scenario = comparison.scenario
    chosen = scenario.step(step)
    print(f"durasim demo: {scenario.title}")
    moment = ("before its effect commits" if args.when == "before_effect"
              else "right after its effect commits")
    print(f"The same crash on three architectures: the node executing step {chosen.label} "
          f"crashes {moment}, and restarts 1 s later.\n")
    print(comparison)
    for name, one in comparison.runs.items():
        print(f"\n== {name}: {one.outcome}")
        print("\n".join(text_timeline(one)))
        print(f"  -> {verdict(one)}")
    for name, why in comparison.skipped.items():
        print(f"\n== {name}: not run ({why})")
    if not args.no_pictures:
        written = _pictures(comparison.runs, args.out)
        print(f"\nPictures: {', '.join(str(p) for p in written)}")
    print(f"\n(simulated in {time.perf_counter() - started:.2f} s of real time)")
    return 0


def _pictures(runs: Mapping[str, Run], folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from durasim.viz import timeline

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, one in runs.items():
        figure = timeline(one)
        path = folder / f"timeline_{name}.png"
        figure.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(figure)
        written.append(path)
    return written
