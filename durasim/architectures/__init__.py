"""The architectures durasim compares, by name, all behind one interface.

``get_architecture("monolith")`` returns a ready :class:`~durasim.architectures.base.Architecture`.
Modules are imported on first use, so the durable engine is only loaded when asked for.
"""

from __future__ import annotations

import importlib

from durasim.architectures.base import Architecture, Run, World
from durasim.architectures.state import RunState
from durasim.errors import ScenarioError

ARCHITECTURES: dict[str, str] = {
    "monolith": "durasim.architectures.monolith:Monolith",
    "event_driven": "durasim.architectures.event_driven:EventDriven",
    "durable": "durasim.architectures.durable:Durable",
}
"""Architecture name -> ``module:class`` implementing it, in the talk's order."""

_LOADED: dict[str, Architecture] = {}


def get_architecture(name: str | Architecture) -> Architecture:
    """The architecture called ``name`` (an Architecture instance is returned as it is).

    Raises:
        ScenarioError: unknown name (the message lists the valid ones).
    """
    if isinstance(name, Architecture):
        return name
    if not isinstance(name, str) or name not in ARCHITECTURES:
        raise ScenarioError(f"unknown architecture {name!r}; valid architectures: "
                            f"{', '.join(ARCHITECTURES)}")
    if name not in _LOADED:
        module_name, _, class_name = ARCHITECTURES[name].partition(":")
        _LOADED[name] = getattr(importlib.import_module(module_name), class_name)()
    return _LOADED[name]


__all__ = ["ARCHITECTURES", "Architecture", "Run", "RunState", "World", "get_architecture"]
