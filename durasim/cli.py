"""The ``durasim`` command.

Bad input never shows a traceback: the command prints one line saying what to do and exits
with status 2. Subcommands are added by the modules that own them.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from durasim import __version__, commands
from durasim.errors import DurasimError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """argparse's errors, as one line and status 2 (its default is a usage dump)."""
        self.exit(2, f"durasim: {message} (try: durasim --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = _Parser(prog="durasim", description="Teach durable execution by simulation.")
    parser.add_argument("--version", action="version", version=f"durasim {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       parser_class=_Parser)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args.run(args) or 0)
    except DurasimError as exc:
        print(f"durasim: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
