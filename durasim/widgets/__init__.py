"""Notebook front ends: CrashLab, ReplayStepper, Compare and Predict (ipywidgets).

Widgets only build new runs (or re-run one deterministically) and redraw; they never
reach into a simulation. Every callback shows its errors as one line in the widget.
"""

from __future__ import annotations

from durasim.widgets.compare import Compare
from durasim.widgets.crashlab import CrashLab
from durasim.widgets.predict import Predict
from durasim.widgets.replay import ReplayStepper

__all__ = ["Compare", "CrashLab", "Predict", "ReplayStepper"]
