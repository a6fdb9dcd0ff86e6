"""What every durasim widget shares: callbacks that explain errors, and small renderers.

A traceback in a classroom notebook ends the lesson, so every button and control of a
durasim widget goes through :func:`safe`, which turns a student's mistake (a
:class:`~durasim.errors.DurasimError`) into one line in the widget's own output area and
leaves the widget working. A bug in durasim is not a student's mistake: it is shown on the
same line and raised, so it is never mistaken for the lesson.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from typing import Any, TypeVar

import ipywidgets as widgets

from durasim.errors import DurasimError, ModelError
from durasim.i18n import check_sentence, get_language, outcome, t

F = TypeVar("F", bound=Callable[..., Any])

ERROR_CLASS = "durasim-error"
"""The CSS class of the one-line error (tests and the browser look for it)."""


def safe(method: F) -> F:
    """Run a widget callback; show a user's error as one line in ``self.output`` instead.

    A :class:`~durasim.errors.ModelError` or any other exception is a bug: it is shown on
    that line too, then raised (ipywidgets prints its traceback), never swallowed.
    The method's owner must have an ``output`` (an ipywidgets.HTML).
    """

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            self.output.value = ""
            return method(self, *args, **kwargs)
        except Exception as exc:
            show_error(self.output, exc)
            if isinstance(exc, ModelError) or not isinstance(exc, DurasimError):
                raise
            return None

    return wrapper  # type: ignore[return-value]


def show_error(output: widgets.HTML, exc: BaseException) -> None:
    """Write ``exc`` as one line: its type and first line of message."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    output.value = (f"<div class='{ERROR_CLASS}' style='color:#cf222e'>"
                    f"{html.escape(t('error'))}: {html.escape(message)} "
                    f"<span style='color:#57606a'>({type(exc).__name__})</span></div>")


def show_status(output: widgets.HTML, text: str) -> None:
    """Write a neutral one-line status in the output area."""
    output.value = f"<div class='durasim-status' style='color:#0969da'>{html.escape(text)}</div>"


def checks_html(run: Any) -> str:
    """The run's outcome and its checks, one line each, ✓ green and ✗ red."""
    colour = "#1a7f37" if run.checks.ok else "#cf222e"
    explained = getattr(run, "explanation", "") if get_language() == "en" else ""
    lines = [f"<div><b>{html.escape(t('outcome'))}:</b> <b style='color:{colour}'>"
             f"{html.escape(outcome(str(run.outcome)))}</b>"
             + (f" — {html.escape(explained)}" if explained else "") + "</div>"]
    for check in run.checks:
        mark, tint = ("✓", "#1a7f37") if check.ok else ("✗", "#cf222e")
        lines.append(f"<div class='durasim-check' data-ok='{str(check.ok).lower()}'>"
                     f"<span style='color:{tint}'>{mark}</span> "
                     f"{html.escape(check_sentence(check, run))}</div>")
    return "<div class='durasim-checks'>" + "".join(lines) + "</div>"


def button(label: str, *, style: str = "", icon: str = "") -> widgets.Button:
    """A button with durasim's look (``style``: "", "primary", "danger", "success")."""
    return widgets.Button(description=label, button_style=style, icon=icon,
                          layout=widgets.Layout(width="auto"))


def image() -> widgets.Image:
    """An empty PNG image widget (pictures are replaced in place, never re-created)."""
    return widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
