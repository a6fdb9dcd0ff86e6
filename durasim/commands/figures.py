"""``durasim figures --out DIR``: write the talk's figures as PNG (and GIF) files.

The slides reference these files, so every picture in the talk is drawn by the simulator
itself and cannot drift from what it does; ``figures.json`` beside them records each
one's size and smallest text. A bad ``--out`` (a file, a folder that cannot
be created or written) is a user's mistake: one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
from typing import Any

from durasim.i18n import LANGUAGES

HELP = "write the talk's projector figures (the sky, the systems, the crash story) as PNG/GIF"


FIGURE_NAMES = ("sky", "complexity", "monolith_transaction", "transactionality",
                "event_driven", "scattered_logic", "step5_outcomes", "durable_execution",
                "trait_state", "trait_duration", "trait_calls", "trait_retry", "trait_async",
                "trait_timers", "step5_recovery", "event_history", "sky_animation")
"""The figures' names in the talk's order (animations last), here so that
``durasim --help`` need not import matplotlib."""


def register(subparsers: Any) -> None:
    """Add ``durasim figures``."""
    parser = subparsers.add_parser("figures", help=HELP, description=HELP)
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="the folder to write into (created if missing)")
    parser.add_argument("--lang", default="en", choices=LANGUAGES,
                        help="the labels' language (default: en)")
    parser.add_argument("--only", nargs="+", choices=FIGURE_NAMES, metavar="NAME",
                        help=f"only these figures (of: {', '.join(FIGURE_NAMES)})")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Write the figures; print one line per file."""
    import matplotlib

    matplotlib.use("Agg")  # files only: never open a window, work without a display
    from durasim.figures import write_figures

    for path in write_figures(args.out, language=args.lang, names=args.only):
        print(path)
    return 0
