"""``durasim demo``: the talk's crash story in a terminal, for a projector.

The same crash on the monolith, the event-driven system and the durable engine (the
story :mod:`durasim.talk` defines), told in English or Spanish with ``rich``: colour on a
terminal, plain text in a pipe, never wider than 80 columns. ``--pause`` waits for Enter
before each architecture, so the speaker sets the pace.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from durasim.errors import DurasimError
from durasim.faults import WHENS
from durasim.i18n import LANGUAGES

if TYPE_CHECKING:
    from durasim.architectures.base import Run

WIDTH = 80
"""A projected terminal is read from the back of the room: never wider than this."""


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
    parser.add_argument("--lang", default="en", choices=LANGUAGES,
                        help="the language of the room (default: en)")
    parser.add_argument("--pause", action="store_true",
                        help="wait for Enter before each architecture")
    parser.add_argument("--out", default="durasim-demo", type=Path,
                        help="folder for the pictures (default: ./durasim-demo)")
    parser.add_argument("--no-pictures", action="store_true", help="skip the PNG files")
    parser.set_defaults(run=main)


def _console() -> Any:
    from rich.console import Console

    columns = shutil.get_terminal_size((WIDTH, 24)).columns
    return Console(width=min(WIDTH, columns), highlight=False, soft_wrap=False)


def main(args: argparse.Namespace) -> int:
    """Tell the story on each architecture: a timeline, the checks, why; save pictures."""
    from rich.table import Table

    from durasim.i18n import outcome, set_language, t
    from durasim.narrate import timeline_rows, verdict_parts
    from durasim.scenarios import get_scenario
    from durasim.talk import story_runs

    set_language(args.lang)
    step: int | str = int(args.crash_at_step) if args.crash_at_step.isdigit() else (
        args.crash_at_step)
    scenario = get_scenario(args.scenario)
    chosen = scenario.step(step)
    if not args.no_pictures:
        _make_folder(args.out)  # before the runs: a bad --out is said at once
    started = time.perf_counter()
    runs = story_runs(step, when=args.when, seed=args.seed, scenario=scenario)
    console = _console()
    console.print(f"[bold]{t('demo_title', title=scenario.name)}[/bold]")
    console.print(t("demo_story", step=f"{chosen.number} ({chosen.name})",
                    moment=t(f"moment_{args.when}")))
    summary = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in (t("architecture"), t("outcome"), t("balances")):
        summary.add_column(column)
    for name, one in runs.items():
        style = "green" if one.checks.ok else "red"
        balances = ", ".join(f"{k} {v}" for k, v in one.balances.items())
        summary.add_row(name, f"[{style}]{outcome(one.outcome)}[/{style}]", balances)
    console.print(summary)
    for name, one in runs.items():
        if args.pause:
            console.print(f"[dim]{t('demo_next')} ({name})…[/dim]", end="")
            console.file.flush()
            sys.stdin.readline()  # an empty stdin (a pipe at its end) just goes on
            console.print()
        _tell(console, name, one, timeline_rows, verdict_parts, outcome, t)
    if not args.no_pictures:
        written = _pictures(runs, args.out)
        console.print(f"\n{t('demo_pictures')}: " + ", ".join(str(p) for p in written))
    console.print(f"[dim]({t('demo_time', s=time.perf_counter() - started)})[/dim]")
    return 0


def _tell(console: Any, name: str, one: Run, timeline_rows: Any, verdict_parts: Any,
          outcome: Any, t: Any) -> None:
    from rich.table import Table

    style = "green" if one.checks.ok else "red"
    console.rule(f"[bold]{name}[/bold]: [{style}]{outcome(one.outcome)}[/{style}]")
    rows = Table(show_header=False, box=None, pad_edge=False)
    rows.add_column(justify="right", style="dim", no_wrap=True)
    rows.add_column(no_wrap=True)
    rows.add_column()
    for when, node, what in timeline_rows(one):
        text = f"[bold red]{what}[/bold red]" if what == t("tl_crash") else what
        rows.add_row("" if when is None else f"{when:.3f} s", node, text)
    console.print(rows)
    head, checks, why = verdict_parts(one)
    console.print(f"→ {head}")
    for ok, sentence in checks:
        console.print(f"  [green]✓[/green] {sentence}" if ok else f"  [red]✗[/red] {sentence}")
    console.print(f"  [italic]{t('why')}: {why}.[/italic]")


def _make_folder(folder: Path) -> None:
    """Create ``--out``, or say in one line why it cannot be (a file, no such place...)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or error
        raise DurasimError(f"--out {str(folder)!r}: cannot make this folder: {reason}") from None


def _pictures(runs: Mapping[str, Run], folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from durasim.viz import timeline

    written = []
    for name, one in runs.items():
        figure = timeline(one)
        path = folder / f"timeline_{name}.png"
        try:
            figure.savefig(path, dpi=110, bbox_inches="tight")
        except OSError as error:  # a full disk, a folder made read-only meanwhile...
            raise DurasimError(f"cannot write {path}: {error.strerror or error}") from None
        finally:
            plt.close(figure)
        written.append(path)
    return written
