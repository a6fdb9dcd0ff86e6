"""The one error Temporal SDK code meets when it uses something durasim does not simulate.

durasim models the parts of Temporal a course about durable execution needs (activities,
timers, children, signals, queries, updates, cancellation, versioning...). SDK code that
reaches for anything else (Nexus, external workflow handles, memos, search attributes)
gets :class:`UnsupportedFeatureError`, naming the call, never an ``AttributeError`` from
the SDK's insides or a silently different history.
"""

from __future__ import annotations

from durasim.errors import DurasimError

__all__ = ["UnsupportedFeatureError", "unsupported"]


class UnsupportedFeatureError(DurasimError):
    """Temporal SDK code used a feature durasim does not simulate; the message names it."""


def unsupported(call: str, hint: str = "") -> UnsupportedFeatureError:
    """The error for ``call`` (``"workflow.upsert_memo()"``), with what to do instead."""
    advice = hint or ("run this workflow on a real Temporal server with "
                      "durasim.bridges.temporal.run_on_temporal")
    return UnsupportedFeatureError(f"{call} is not simulated by durasim: {advice}")
