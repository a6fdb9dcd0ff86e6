"""The talk's one crash story, defined once for the figures, the demo and the notebooks.

The bank transfer runs; the process running step 5 (the deposit) crashes before the
deposit commits, and restarts a second later. "The process running the step" is the
application on the monolith, the bank_b service (which consumes the deposit event) on the
event-driven system, and the worker (which runs the workflow and its activities) on the
durable engine, whose event history then brings the transfer back. Everything that tells
this story asks here, so it is told the same way everywhere.
"""

from __future__ import annotations

from typing import Any

from durasim.architectures import ARCHITECTURES
from durasim.faults import Crash, When
from durasim.scenarios import get_scenario

STEP = 5
"""The step the talk crashes: the deposit into bob's account."""


def runner(architecture: str, step: int | str = STEP, scenario: Any = "transfer") -> str:
    """The node that runs ``step`` on ``architecture``: what the story crashes."""
    if architecture == "monolith":
        return "app"
    if architecture == "durable":
        return "worker"
    return get_scenario(scenario).step(step).service


def story_crash(architecture: str, step: int | str = STEP, *, when: When = "before_effect",
                scenario: Any = "transfer") -> Crash:
    """The story's crash on ``architecture``: its runner dies at ``step``."""
    return Crash(node=runner(architecture, step, scenario), at_step=step, when=when)


def story_runs(step: int | str = STEP, *, when: When = "before_effect", seed: int = 0,
               scenario: Any = "transfer", **options: Any) -> dict[str, Any]:
    """The story on every architecture: architecture -> Run (options go where they apply)."""
    from durasim.api import run
    from durasim.architectures import get_architecture

    runs = {}
    for architecture in ARCHITECTURES:
        accepted = get_architecture(architecture).options
        mine = {k: v for k, v in options.items() if k in accepted}
        runs[architecture] = run(scenario, architecture,
                                 [story_crash(architecture, step, when=when, scenario=scenario)],
                                 seed=seed, **mine)
    return runs
