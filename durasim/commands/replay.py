"""``durasim replay FILE.json --workflow module:function``: check code against a history.

Temporal's ``Replayer`` is how a team learns, before deploying, that changed workflow code
would break executions already running: it replays their saved histories against the new
code. This is the same check from the shell: the module is imported by its import path (the
current directory first, so a student's ``workflows.py`` is found), the function must be an
``@durasim.workflow``, and nothing given on the command line is ever evaluated.

Exit status: 0 when the history replays cleanly, 1 with the ``[TMPRL1100]`` line when the
code would do something else than the history recorded, 2 on bad input.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from typing import Any

from durasim.engine.definitions import workflow_definition
from durasim.engine.history import History
from durasim.engine.replayer import Replayer
from durasim.errors import DurasimError, NondeterminismError, ReplayTaskError

HELP = "replay a Temporal JSON history against a durasim workflow (exit 1 if it diverges)"

_SPEC = re.compile(r"(?P<module>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)"
                   r":(?P<attr>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")


def register(subparsers: Any) -> None:
    """Add ``durasim replay``."""
    parser = subparsers.add_parser("replay", help=HELP, description=HELP)
    parser.add_argument("file", metavar="FILE.json", help="the history to replay")
    parser.add_argument("--workflow", required=True, metavar="MODULE:FUNCTION",
                        help="the @durasim.workflow to check, e.g. workflows:Transfer "
                             "(imported from the current directory or the installed packages)")
    parser.set_defaults(run=run)


def load_workflow(spec: str) -> Any:
    """Import ``module:function`` and return the workflow function (never evaluated).

    Raises:
        DurasimError: the spec is malformed, the module cannot be imported, it has no such
            attribute, or the attribute is not an ``@durasim.workflow``.
    """
    match = _SPEC.fullmatch(spec)
    if match is None:
        raise DurasimError(f"--workflow {spec!r} is not MODULE:FUNCTION "
                           "(for example workflows:Transfer or my.pkg.flows:Transfer)")
    module_name, attr = match["module"], match["attr"]
    here = os.getcwd()
    if here not in sys.path:
        sys.path.insert(0, here)
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise DurasimError(f"cannot import module {module_name!r}: {exc} (run from the folder "
                           "that contains it, or install it)") from None
    except Exception as exc:  # the user's module crashed while importing
        raise DurasimError(f"importing module {module_name!r} failed: "
                           f"{type(exc).__name__}: {exc}") from None
    except SystemExit as exc:  # else `durasim replay` would exit 0: "replayed fine" in CI
        raise DurasimError(f"importing module {module_name!r} called sys.exit({exc.code!r}); "
                           "a workflow module must not exit when imported") from None
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise DurasimError(f"module {module_name!r} has no {attr!r}") from None
    try:
        workflow_definition(target)
    except TypeError as exc:
        raise DurasimError(f"{spec}: {exc}") from None
    return target


def run(args: argparse.Namespace) -> int:
    """Replay; print one line saying how it went."""
    history = History.from_temporal_json(args.file)
    workflow = load_workflow(args.workflow)
    try:
        result = Replayer(workflows=[workflow]).replay(history)
    except (NondeterminismError, ReplayTaskError) as exc:
        print(f"durasim: replay failed: {exc}", file=sys.stderr)
        return 1
    print(f"replay ok: {len(history)} events, {len(result.commands)} commands matched")
    return 0
