"""Checks for the numbers users type: durations, times and counts, refused at the door.

A NaN that reaches the event heap compares false with everything and silently stops
later events from ever running; an infinite delay keeps a run alive for ever. So every
public entry point that takes a time passes it through here first and gets a sentence
back that names the argument, instead of a wrong simulation later.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from typing import Any, cast

_INF = math.inf


def check_seconds(name: str, value: Any, *, positive: bool = False,
                  allow_infinite: bool = False) -> float:
    """Return ``value`` as float seconds, or raise with a sentence naming ``name``.

    Args:
        name: the argument's name, as the user wrote it ("at", "start_to_close").
        value: what they passed.
        positive: refuse 0 as well as negative numbers.
        allow_infinite: accept ``math.inf`` ("never").

    Raises:
        TypeError: not a number (bools are not numbers here).
        ValueError: NaN, negative (or zero when ``positive``), or infinite.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}")
    seconds = float(value)
    if math.isnan(seconds):
        raise ValueError(f"{name} must be a number of seconds, got NaN")
    if math.isinf(seconds) and not (allow_infinite and seconds > 0):
        raise ValueError(f"{name} must be a finite number of seconds, got {value!r}")
    if seconds < 0 or (positive and seconds == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{name} must be {bound} seconds, got {value!r}")
    return seconds


def check_count(name: str, value: Any, *, minimum: int = 0) -> int:
    """Return ``value`` as an int >= ``minimum``, or raise with a sentence naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_seed(value: Any) -> int:
    """A simulation seed: a whole number (the same seed gives the same run)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"seed must be a whole number, got {value!r}")
    return value


# -- the kernel's heap: every time that goes on it is checked here first --------------

def finite_at_least(value: Any, low: float) -> bool:
    """True for a number of seconds the heap can hold: a real number in ``[low, inf)``."""
    if value.__class__ is not float and (
            isinstance(value, bool) or not isinstance(value, numbers.Real)):
        return False
    try:
        return low <= float(value) < _INF  # False for NaN
    except OverflowError:  # an int beyond every float
        return False


def time_error(where: str, value: Any, now: float, *, absolute: bool = False) -> Exception:
    """Why ``value`` (a delay, or an absolute time) cannot go on the heap, in one sentence.

    Checked at the door because the heap cannot complain later: NaN compares false with
    everything and silently stalls every event behind it, and infinity never comes."""
    shown = reprlib.repr(value)  # an error names a value; it does not print 400 digits
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return TypeError(f"{where} must be a number of seconds, got {shown}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond every float
        number = math.inf if cast(int, value) > 0 else -math.inf
    if math.isnan(number):
        return ValueError(f"{where} must be a number of seconds, got NaN")
    if math.isinf(number):
        return ValueError(f"{where} must be finite, got {shown}: that moment never comes "
                          "(to wait forever, await an event nobody triggers)")
    if not absolute and math.isinf(now + number):
        return ValueError(f"{where} of {shown} from now={now:g} lands beyond the largest "
                          "time a float can hold")
    if absolute:
        return ValueError(f"{where}: cannot schedule in the past ({shown} < now {now:g})")
    return ValueError(f"{where} cannot be negative (that is in the past), got {shown}")
