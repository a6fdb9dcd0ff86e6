"""Pictures of runs: timelines, the system's graph, histories, balances, animations.

Every function takes a finished run and returns a matplotlib Figure (or HTML for the
history), so the same pictures serve notebooks, widgets, slides and tests. Pictures only
read: drawing a run never changes it.
"""

from __future__ import annotations

from durasim.viz.animation import animate, save_gif, to_jshtml
from durasim.viz.balances import balances
from durasim.viz.graph import architecture_graph, complexity_figure
from durasim.viz.history import history_view, replayed_events
from durasim.viz.style import to_png
from durasim.viz.timeline import timeline

__all__ = [
    "animate",
    "architecture_graph",
    "balances",
    "complexity_figure",
    "history_view",
    "replayed_events",
    "save_gif",
    "timeline",
    "to_jshtml",
    "to_png",
]
