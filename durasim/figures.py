"""The talk's figures, every one drawn by durasim, in English or Spanish.

The slides must not carry hand-made pictures that drift away from what the simulator
does: the complexity picture, the recovery timeline and the outcome chart are drawn from
durasim itself (:mod:`durasim.viz` and real runs), and the conceptual diagrams (a
monolith's transaction, where ACID stops, the event-driven plumbing, the durable engine)
are drawn here with matplotlib, in the same colours the timelines use, so a worker is the
same purple and a crash the same red on every slide. ``durasim figures --out DIR`` writes
them all as PNG; :func:`write_figures` is the same from Python.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch, Rectangle

from durasim.errors import DurasimError
from durasim.faults import Crash
from durasim.i18n import LANGUAGES, get_language, set_language
from durasim.viz import style

__all__ = ["FIGURES", "draw", "write_figures"]

DPI = 110
"""Slides are shown on projectors: 110 dpi keeps lines sharp at full width."""

_TEXT: dict[str, tuple[str, str]] = {
    # monolith transaction
    "mono_title": ("A monolith: one process, one database, one transaction",
                   "Un monolito: un proceso, una base de datos, una transacción"),
    "mono_ok": ("no crash", "sin caída"),
    "mono_crash": ("crash at step 5", "caída en el paso 5"),
    "commit": ("COMMIT: all six steps", "COMMIT: los seis pasos"),
    "rollback": ("ROLLBACK: nothing happened", "ROLLBACK: no pasó nada"),
    "all_or_nothing": ("All or nothing: the database never shows a half-done transfer.",
                       "Todo o nada: la base de datos nunca muestra una transferencia a medias."),
    "lost_reply": ("(and if the app dies after COMMIT, before replying, the caller cannot "
                   "tell it happened)",
                   "(y si la app muere tras el COMMIT, antes de responder, quien llamó no sabe "
                   "si ocurrió)"),
    # transactionality
    "acid_title": ("ACID stops at the service boundary",
                   "ACID se detiene en la frontera del servicio"),
    "acid": ("ACID inside", "ACID dentro"),
    "acid_letters": ("Atomicity · Consistency · Isolation · Durability",
                     "Atomicidad · Consistencia · Aislamiento · Durabilidad"),
    "withdraw_ok": ("3 withdraw: committed", "3 retirar: confirmado"),
    "deposit_crash": ("5 deposit: crashed", "5 depositar: caída"),
    "network": ("network", "red"),
    "no_tx": ("No transaction spans both databases: alice was debited, bob never credited.",
              "Ninguna transacción abarca las dos bases de datos: a alice se le cobró, "
              "bob nunca recibió."),
    # event-driven
    "ed_title": ("Event-driven: producers, a channel, consumers",
                 "Dirigida por eventos: productores, un canal, consumidores"),
    "producers": ("producers", "productores"),
    "channel": ("channel (broker, persistent queues)", "canal (broker, colas persistentes)"),
    "consumers": ("consumers", "consumidores"),
    "publish": ("publish", "publicar"),
    "deliver": ("deliver, ack", "entregar, ack"),
    "ed_caption": ("Asynchronous and distributed: each service knows only its event; the "
                   "transfer exists nowhere, and each service writes its own log.",
                   "Asíncrono y distribuido: cada servicio solo conoce su evento; la "
                   "transferencia no está en ninguna parte, y cada servicio escribe su log."),
    "log": ("log", "log"),
    # durable execution
    "de_title": ("Durable execution: the history remembers, not the process",
                 "Ejecución durable: recuerda el historial, no el proceso"),
    "worker": ("worker\nruns the workflow code", "worker\nejecuta el código del workflow"),
    "server": ("server\nkeeps the event history", "servidor\nguarda el historial de eventos"),
    "services": ("services (activities)", "servicios (actividades)"),
    "commands": ("commands", "comandos"),
    "tasks": ("tasks +\nhistory", "tareas +\nhistorial"),
    "activities": ("activities: at least once", "actividades: al menos una vez"),
    "crash_replay": ("crash → restart → replay the history", "caída → reinicio → re-ejecutar el "
                     "historial"),
    "de_caption": ("The code reads like the business process; the engine records each step's "
                   "result and brings a crashed execution back where it was.",
                   "El código se lee como el proceso de negocio; el motor graba el resultado "
                   "de cada paso y devuelve la ejecución caída a donde estaba."),
    # outcomes
    "out_title": ("The same crash at step 5 (the deposit), three architectures",
                  "La misma caída en el paso 5 (el depósito), tres arquitecturas"),
    "total": ("total", "total"),
    "before": ("before", "antes"),
    # history
    "hist_title": ("The event history of the transfer that crashed at step 5",
                   "El historial de eventos de la transferencia que cayó en el paso 5"),
    "hist_crash": ("the worker crashed here, during step 5: it forgot everything",
                   "aquí cayó el worker, durante el paso 5: lo olvidó todo"),
    "hist_replay": ("shaded: the events 1–{n} the new worker replayed to rebuild the workflow; "
                    "the code re-ran, no activity ran again",
                    "sombreado: los eventos 1–{n} que el nuevo worker re-ejecutó para "
                    "reconstruir el workflow; el código volvió a correr, ninguna actividad se "
                    "repitió"),
    "recovery_title": ("Step 5 fails; the event history brings the transfer back",
                       "Falla el paso 5; el historial de eventos recupera la transferencia"),
    "arch_monolith": ("monolith", "monolito"),
    "arch_event_driven": ("event-driven", "dirigida por eventos"),
    "arch_durable": ("durable execution", "ejecución durable"),
}

_STEPS = (("validate", "validar"), ("fraud_check", "fraude"), ("withdraw", "retirar"),
          ("record_ledger", "libro mayor"), ("deposit", "depositar"), ("notify", "notificar"))
_SERVICES = ("validation", "fraud", "bank_a", "ledger", "bank_b", "notifications")


def _t(key: str, **values: object) -> str:
    english, spanish = _TEXT[key]
    text = spanish if get_language() == "es" else english
    return text.format(**values) if values else text


def _step(i: int) -> str:
    english, spanish = _STEPS[i - 1]
    return f"{i} {spanish if get_language() == 'es' else english}"


@contextmanager
def _language(language: str) -> Iterator[None]:
    """Draw in ``language``, then give the caller back the language it had."""
    before = get_language()
    set_language(language)
    try:
        yield
    finally:
        set_language(before)


# --------------------------------------------------------------------- drawing helpers

def _canvas(width: float = 10.0, height: float = 5.6) -> tuple[Figure, Axes]:
    """A 16:9 figure whose axes are a 100 x 56 drawing board without ticks."""
    figure = style.new_figure(width, height)
    ax = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 56)
    ax.set_axis_off()
    return figure, ax


def _title(ax: Axes, text: str) -> None:
    ax.text(3, 52.5, text, fontsize=15, fontweight="bold", va="center", color="#24292f")


def _caption(ax: Axes, text: str, y: float = 3.5) -> None:
    ax.text(50, y, textwrap.fill(text, 100), fontsize=10.5, ha="center", va="center",
            color="#24292f", linespacing=1.35)


def _box(ax: Axes, x: float, y: float, w: float, h: float, text: str, colour: str, *,
         fill: float = 0.12, size: float = 10.0, bold: bool = False, dashed: bool = False,
         text_colour: str | None = None, va: str = "center") -> None:
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.3,rounding_size=1.2",
                                facecolor=to_rgba(colour, fill), edgecolor=colour,
                                linewidth=1.6, linestyle="--" if dashed else "-", zorder=2))
    ty = y + h / 2 if va == "center" else y + h - 1.6
    ax.text(x + w / 2, ty, text, ha="center", va=va, fontsize=size, zorder=3,
            fontweight="bold" if bold else "normal", color=text_colour or "#24292f")


def _database(ax: Axes, x: float, y: float, w: float, h: float, text: str) -> None:
    """A cylinder: the universal picture of "this survives a crash"."""
    colour = style.KIND_COLOURS["database"]
    rim = h * 0.22
    ax.add_patch(Rectangle((x, y + rim / 2), w, h - rim, facecolor="#f6f0e8",
                           edgecolor="none", zorder=2))
    ax.add_patch(Ellipse((x + w / 2, y + rim / 2), w, rim, facecolor="#f6f0e8",
                         edgecolor=colour, linewidth=1.4, zorder=2))
    ax.add_patch(Ellipse((x + w / 2, y + h - rim / 2), w, rim, facecolor="#efe4d6",
                         edgecolor=colour, linewidth=1.4, zorder=3))
    ax.plot([x, x], [y + rim / 2, y + h - rim / 2], color=colour, linewidth=1.4, zorder=3)
    ax.plot([x + w, x + w], [y + rim / 2, y + h - rim / 2], color=colour, linewidth=1.4,
            zorder=3)
    ax.text(x + w / 2, y + h * 0.42, text, ha="center", va="center", fontsize=9, zorder=4,
            color=colour)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], colour: str, *,
           text: str = "", dashed: bool = False, width: float = 1.6, rad: float = 0.0,
           size: float = 8.5) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14,
                                 color=colour, linewidth=width, zorder=4,
                                 linestyle="--" if dashed else "-",
                                 connectionstyle=f"arc3,rad={rad}"))
    if text:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 1.3, text, ha="center",
                va="bottom", fontsize=size, color=colour, zorder=5)


def _crash(ax: Axes, x: float, y: float, size: float = 260) -> None:
    ax.scatter([x], [y], marker="X", s=size, color=style.CRASH, zorder=6,
               edgecolors="white", linewidths=1.2)


# ------------------------------------------------------------------------- the figures

def complexity() -> Figure:
    """Section 2: a monolith vs six microservices, and the interactions growing."""
    from durasim.viz import complexity_figure

    return complexity_figure(6)


def monolith_transaction() -> Figure:
    """Section 3: the transfer as one local transaction, committed or rolled back whole."""
    figure, ax = _canvas()
    _title(ax, _t("mono_title"))
    app, effect, crash = style.KIND_COLOURS["app"], style.EFFECT, style.CRASH
    for row, (label, crashed) in enumerate(((_t("mono_ok"), False),
                                            (_t("mono_crash"), True))):
        y = 39 - row * 15
        ax.text(14, y + 6.6, label, fontsize=11, fontweight="bold",
                color=crash if crashed else effect, va="center")
        ax.text(4, y + 1.2, "BEGIN", fontsize=10, family="DejaVu Sans Mono", va="center",
                color=app)
        _box(ax, 14, y - 2.5, 64, 7.5, "", app, fill=0.04, dashed=True)
        for i in range(1, 7):
            x = 15.5 + (i - 1) * 10.4
            done = not crashed or i < 5
            colour = app if done else "#8c959f"
            _box(ax, x, y - 1.2, 8.6, 4.8, _step(i), colour, fill=0.18 if done else 0.0,
                 size=7.6)
            if crashed and i == 5:
                _crash(ax, x + 8.2, y + 3.6)
        outcome = _t("rollback") if crashed else _t("commit")
        colour = style.ROLLBACK if crashed else effect
        _arrow(ax, (79, y + 1.2), (84, y + 1.2), colour)
        ax.text(85, y + 1.2, outcome.replace(": ", ":\n"), fontsize=9.5, va="center",
                color=colour, fontweight="bold")
    _database(ax, 36, 8.5, 28, 9, "SQLite: alice, bob")
    _caption(ax, _t("all_or_nothing"), y=5.0)
    ax.text(50, 2.0, _t("lost_reply"), ha="center", fontsize=8.5, color="#57606a",
            style="italic")
    return figure


def transactionality() -> Figure:
    """Section 4: each service's database is ACID; the transfer across them is not."""
    figure, ax = _canvas()
    _title(ax, _t("acid_title"))
    service = style.KIND_COLOURS["service"]
    for x, name, text, ok in ((6, "bank_a", _t("withdraw_ok"), True),
                              (60, "bank_b", _t("deposit_crash"), False)):
        _box(ax, x, 11, 34, 34, "", service, fill=0.05, dashed=True)
        ax.text(x + 17, 42, f"{name} — {_t('acid')}", ha="center", fontsize=11,
                fontweight="bold", color=service)
        ax.text(x + 17, 38.3, _t("acid_letters"),
                ha="center", fontsize=7.5, color="#57606a")
        _box(ax, x + 4, 27, 26, 7, text, style.EFFECT if ok else style.CRASH,
             fill=0.15, size=10, bold=True)
        _database(ax, x + 9, 13.5, 16, 9, name)
        if not ok:
            _crash(ax, x + 30, 34, size=320)
    _arrow(ax, (41, 30.5), (63, 30.5), style.MESSAGE, text=_t("network"), dashed=True,
           width=2.0, size=10)
    ax.text(51.5, 24.5, "?", fontsize=34, ha="center", va="center", color=style.CRASH,
            fontweight="bold")
    _caption(ax, _t("no_tx"), y=5.0)
    return figure


def event_driven() -> Figure:
    """Section 5: producers publish to a broker's persistent queues; consumers take them."""
    figure, ax = _canvas()
    _title(ax, _t("ed_title"))
    service, broker = style.KIND_COLOURS["service"], style.KIND_COLOURS["broker"]
    producers = ("client", *_SERVICES[:5])
    ax.text(12, 47, _t("producers"), ha="center", fontsize=11, fontweight="bold",
            color="#24292f")
    ax.text(50, 47, _t("channel"), ha="center", fontsize=11, fontweight="bold", color=broker)
    ax.text(88, 47, _t("consumers"), ha="center", fontsize=11, fontweight="bold",
            color="#24292f")
    _box(ax, 33, 8.5, 34, 36, "", broker, fill=0.06)
    for i, name in enumerate(producers):
        y = 40 - i * 5.9
        colour = style.node_colour(name)
        _box(ax, 4, y, 16, 3.8, name, colour, size=9)
        queue = _STEPS[i][0]
        ax.add_patch(Rectangle((37, y - 0.1), 26, 4.0, facecolor="white", edgecolor=broker,
                               linewidth=1.2, zorder=3))
        for k in range(3):
            ax.add_patch(Rectangle((37.6 + k * 2.2, y + 0.5), 1.6, 3.0, facecolor=broker,
                                   alpha=0.35 + 0.2 * k, edgecolor="none", zorder=4))
        ax.text(45.5, y + 1.9, queue, fontsize=8.5, va="center", color=broker, zorder=5)
        _arrow(ax, (20.8, y + 1.9), (36.6, y + 1.9), service if name != "client" else
               style.KIND_COLOURS["client"], width=1.2)
        consumer = _SERVICES[i]
        _box(ax, 80, y, 16, 3.8, consumer, style.node_colour(consumer), size=9)
        _arrow(ax, (63.4, y + 1.9), (79.2, y + 1.9), broker, width=1.2)
        ax.text(97.6, y + 1.9, "▤", fontsize=10, va="center", color="#57606a")
    ax.text(28.5, 43.3, _t("publish"), fontsize=8.5, ha="center", color=service)
    ax.text(71.5, 43.3, _t("deliver"), fontsize=8.5, ha="center", color=broker)
    ax.text(97.6, 43.3, _t("log"), fontsize=8, ha="center", color="#57606a")
    _caption(ax, _t("ed_caption"), y=4.0)
    return figure


def durable_execution() -> Figure:
    """Section 7: the server keeps the history, the worker runs code and activities."""
    figure, ax = _canvas()
    _title(ax, _t("de_title"))
    worker, server = style.KIND_COLOURS["worker"], style.KIND_COLOURS["server"]
    service = style.KIND_COLOURS["service"]
    _box(ax, 3, 11, 29, 35, "", server, fill=0.07)
    ax.text(17.5, 42.5, _t("server"), ha="center", fontsize=10, fontweight="bold",
            color=server, linespacing=1.3)
    events = (("WorkflowExecutionStarted", ""), ("ActivityTaskScheduled", "validate"),
              ("ActivityTaskCompleted", ""), ("…", ""), ("ActivityTaskScheduled", "deposit"),
              ("ActivityTaskCompleted", ""), ("ActivityTaskScheduled", "notify"),
              ("ActivityTaskCompleted", ""), ("WorkflowExecutionCompleted", ""))
    for i, (event, detail) in enumerate(events):
        ax.text(5, 38 - i * 2.3, event, fontsize=7.6, family="DejaVu Sans Mono",
                color=server)
        if detail:
            ax.text(30.5, 38 - i * 2.3, detail, fontsize=7.4, family="DejaVu Sans Mono",
                    color="#57606a", ha="right")
    _database(ax, 11.5, 12.3, 12, 5.2, "history")
    _box(ax, 40, 11, 32, 35, "", worker, fill=0.07)
    ax.text(56, 42.5, _t("worker"), ha="center", fontsize=10, fontweight="bold",
            color=worker, linespacing=1.3)
    lines = ("@workflow", "async def Transfer(ctx, t):", "  await ctx.activity(validate, t)",
             "  await ctx.activity(fraud_check, t)", "  await ctx.activity(withdraw, t)",
             "  await ctx.activity(record_ledger, t)", "  await ctx.activity(deposit, t)",
             "  await ctx.activity(notify, t)")
    for i, line in enumerate(lines):
        y = 37.5 - i * 2.75
        if "deposit" in line:
            ax.add_patch(Rectangle((40.6, y - 0.9), 30.8, 2.6, facecolor=style.DOWN,
                                   edgecolor="none", zorder=2))
            _crash(ax, 70.5, y + 0.4, size=170)
        ax.text(41.6, y, line, fontsize=7.8, family="DejaVu Sans Mono", color="#24292f",
                va="bottom", zorder=3)
    ax.text(56, 14.0, _t("crash_replay"), ha="center", fontsize=8.6, color=style.CRASH,
            fontweight="bold")
    _arrow(ax, (32.6, 33), (39.4, 33), server, text=_t("tasks"), size=7.2)
    _arrow(ax, (39.4, 25), (32.6, 25), worker, text=_t("commands"), size=7.2)
    ax.text(86, 47.5, _t("activities"), ha="center", fontsize=8.5, color=worker)
    for i, name in enumerate(_SERVICES):
        y = 40 - i * 5.4
        _box(ax, 78, y, 18, 3.6, name, service, size=8.8)
        _arrow(ax, (72.6, 28.5), (77.4, y + 1.8), worker, width=0.9)
    _caption(ax, _t("de_caption"), y=5.0)
    return figure


def _recovery_run() -> object:
    from durasim.api import run

    return run("transfer", "durable", faults=[Crash(node="worker", at_step=5)])


def step5_recovery() -> Figure:
    """Section 9: the durable run with the worker crashing at step 5, and its replay.

    The picture starts a little before step 3 (the withdrawal): steps 1 and 2 change no
    money, and leaving them out keeps the crash, the retry and the replay big enough to
    read on a projector.
    """
    from durasim.viz import timeline

    run: Any = _recovery_run()
    withdraw = min(e.time for e in run.trace.filter(kind="step", semantic=True)
                   if e.fields.get("name") == "withdraw")
    return timeline(run, window=(max(0.0, withdraw - 0.005), None),
                    title=_t("recovery_title"))


def step5_outcomes() -> Figure:
    """Sections 6-9 in one chart: balances after the same step-5 crash on each architecture."""
    from durasim.api import compare

    comparison = compare("transfer", [Crash(at_step=5)])
    figure = style.new_figure(10.0, 5.2)
    with style.styled():
        axes = figure.subplots(1, 3, sharey=True)
        figure.subplots_adjust(left=0.07, right=0.98, top=0.78, bottom=0.12, wspace=0.12)
        before = comparison.scenario.accounts
        for ax, (name, one) in zip(axes, comparison.runs.items(), strict=False):
            accounts = list(before)
            after = [one.balances.get(a, 0) for a in accounts]
            ax.bar([0, 1], [before[a] for a in accounts], width=0.6, color="#eaeef2",
                   edgecolor="#8c959f", label=_t("before"))
            colour = style.EFFECT if one.checks.ok else style.CRASH
            ax.bar([0, 1], after, width=0.36, color=colour)
            for x, value in enumerate(after):
                ax.text(x, value + 2, str(value), ha="center", fontsize=10, fontweight="bold")
            ax.set_xticks([0, 1], accounts)
            total = sum(after)
            ax.set_title(f"{_t('arch_' + name)}\n{one.outcome} · {_t('total')} {total}",
                         color=colour, fontsize=11)
            ax.set_ylim(0, 130)
        axes[0].legend(frameon=False, loc="upper right", fontsize=8)
        figure.suptitle(_t("out_title"), x=0.02, ha="left", fontsize=14, fontweight="bold")
    return figure


def event_history() -> Figure:
    """Section 9: the compact event history of the recovered transfer, crash and replay."""
    run = _recovery_run()
    history = run.history  # type: ignore[attr-defined]
    trace = run.trace  # type: ignore[attr-defined]
    crash_at = next(e.time for e in trace if e.kind == "crash")
    replayed = max((int(e.fields.get("events", 0)) for e in trace if e.kind == "replay"),
                   default=0)
    events = [e for e in history if not e.event_type.is_workflow_task]
    figure, ax = _canvas(10.0, 6.4)
    ax.set_ylim(0, 64)
    ax.text(3, 61, _t("hist_title"), fontsize=14, fontweight="bold", va="center")
    y = 57.5
    server = style.KIND_COLOURS["server"]
    crash_drawn = False
    for event in events:
        if not crash_drawn and event.time > crash_at:
            ax.axhline(y + 1.0, xmin=0.03, xmax=0.97, color=style.CRASH, linewidth=1.6)
            _crash(ax, 4.5, y + 1.0, size=140)
            ax.text(96, y + 1.0, _t("hist_crash"), fontsize=8.5, color=style.CRASH,
                    va="center", ha="right", zorder=6,
                    bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": style.CRASH})
            crash_drawn = True
            y -= 1.2
        old = event.event_id <= replayed
        if old:
            ax.add_patch(Rectangle((3, y - 1.0), 94, 2.5, facecolor=style.REPLAY, alpha=0.35,
                                   edgecolor="none"))
        summary = event.summary()
        summary = summary if len(summary) <= 58 else summary[:57] + "…"
        ax.text(4, y, f"{event.event_id:>3}", fontsize=8.5, family="DejaVu Sans Mono",
                color="#57606a", va="center")
        ax.text(9, y, f"{style.format_time(event.time):>8}", fontsize=8.5,
                family="DejaVu Sans Mono", color="#57606a", va="center")
        ax.text(20, y, event.event_type.value, fontsize=8.8, color=server, va="center")
        ax.text(50, y, summary, fontsize=8.3, family="DejaVu Sans Mono", va="center")
        y -= 2.55
    ax.add_patch(Rectangle((3, 1.6), 3, 2.0, facecolor=style.REPLAY, alpha=0.35))
    ax.text(7, 2.6, textwrap.fill(_t("hist_replay", n=replayed), 115), fontsize=9,
            va="center",
            color="#8250df")
    return figure


FIGURES: dict[str, Callable[[], Figure]] = {
    "complexity": complexity,
    "monolith_transaction": monolith_transaction,
    "transactionality": transactionality,
    "event_driven": event_driven,
    "durable_execution": durable_execution,
    "step5_recovery": step5_recovery,
    "step5_outcomes": step5_outcomes,
    "event_history": event_history,
}
"""Figure name -> the function drawing it, in the order the talk shows them."""


def draw(name: str, language: str = "en") -> Figure:
    """Draw figure ``name`` with labels in ``language``.

    Raises:
        ValueError: an unknown figure or language (the message lists the valid ones).
    """
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; figures: {', '.join(FIGURES)}")
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; languages: {', '.join(LANGUAGES)}")
    with _language(language), style.styled():
        return FIGURES[name]()


def write_figures(out: str | os.PathLike[str], language: str = "en",
                  names: Iterable[str] | None = None, dpi: int = DPI) -> list[Path]:
    """Write the figures as ``<out>/<name>.png``; returns the paths written.

    Raises:
        DurasimError: ``out`` exists and is not a folder, or cannot be created or written.
        ValueError: an unknown figure name or language.
    """
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise DurasimError(f"--out {str(out)!r} is a file, not a folder; give a folder path")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DurasimError(f"cannot create folder {str(out)!r}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK):
        raise DurasimError(f"cannot write into folder {str(out)!r}: permission denied")
    chosen = list(names) if names is not None else list(FIGURES)
    for name in chosen:
        if name not in FIGURES:
            raise ValueError(f"unknown figure {name!r}; figures: {', '.join(FIGURES)}")
    written = []
    for name in chosen:
        figure = draw(name, language)
        path = folder / f"{name}.png"
        with style.styled():
            figure.savefig(path, dpi=dpi, facecolor="white", bbox_inches="tight",
                           pad_inches=0.15)
        written.append(path)
    return written
