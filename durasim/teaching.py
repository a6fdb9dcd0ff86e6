"""The 90-minute class: what happens when, which slides, which notebooks, what runs live.

The plan is data, so the teacher's guide (``docs/teaching.md``, ``docs/teaching.es.md``)
and the decks cannot drift apart: the talk's blocks name the sections of the talk they
cover, their slide numbers are computed from the deck, and the tests check that the
minutes in the slides' speaker notes add up to each block's minutes and the blocks to the
class. ``python -m durasim.slides plan --lang es`` prints the table the guides include.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from durasim.slides.deck import Slide, deck_slides, default_slides_dir

CLASS_MINUTES = 90


@dataclass(frozen=True)
class Block:
    """One part of the class."""

    minutes: float
    what: tuple[str, str]
    """What happens, (English, Spanish)."""
    sections: tuple[int, ...] = ()
    """The talk's sections shown (empty: no slides)."""
    notebooks: tuple[str, ...] = ()
    live: tuple[str, str] = ("", "")
    """What the teacher runs live, (English, Spanish)."""


PLAN: tuple[Block, ...] = (
    Block(10, ("Set-up: students clone, `make lab` (or `make lab LANG=es`) and open 00; the "
               "teacher starts `make present`",
               "Preparación: los estudiantes clonan, `make lab` (o `make lab LANG=es`) y abren "
               "el 00; el docente arranca `make present`"),
          notebooks=("00_start_here",),
          live=("00: the comparison cell, on the projector, while people arrive",
                "00: la celda de la comparación, en el proyector, mientras llega la gente")),
    Block(22, ("Talk, part 1: title, the solar system, complexity, monolith, transactions, "
               "events and their costs",
               "Charla, parte 1: título, el sistema solar, complejidad, monolito, transacciones, "
               "eventos y sus costos"),
          sections=(0, 1, 2, 3, 4, 5, 6),
          live=("the prediction slide (the same crash at step 5): the room predicts, then "
                "the right arrow reveals",
                "el slide de predicción (la misma caída en el paso 5): la sala predice y la "
                "flecha derecha revela")),
    Block(13, ("Lab: the monolith and the event-driven system, in pairs",
               "Laboratorio: el monolito y el sistema basado en eventos, en parejas"),
          notebooks=("02_monolith_transactions", "03_event_driven"),
          live=("each notebook's predict cells: students pick, then press Reveal",
                "las celdas de predicción de cada cuaderno: eligen y después Revelar")),
    Block(23, ("Talk, part 2: durable execution, its six characteristics, event sourcing, "
               "the live demo and temporal.io",
               "Charla, parte 2: ejecución durable, sus seis características, event sourcing, "
               "la demo en vivo y temporal.io"),
          sections=(7, 8, 9, 10),
          live=("the demo slide's CrashLab cell, run in the JupyterLab tab `make present` "
                "prints; in a terminal, `durasim demo --lang es --pause`",
                "la celda de CrashLab del slide de demo, en la pestaña de JupyterLab que "
                "imprime `make present`; en una terminal, `durasim demo --lang es --pause`")),
    Block(17, ("Lab: durable execution and the event history, in pairs",
               "Laboratorio: ejecución durable y el historial de eventos, en parejas"),
          notebooks=("04_durable_execution", "05_event_history_and_replay"),
          live=("05: the ReplayStepper cell, stepping to the deposit",
                "05: la celda del ReplayStepper, avanzando hasta el depósito")),
    Block(5, ("Recap: the notebooks' three questions; 09 (exercises) as homework",
              "Cierre: las tres preguntas de los cuadernos; el 09 (ejercicios) de tarea"),
          notebooks=("09_exercises",)),
)
"""The class, in order; the minutes add up to :data:`CLASS_MINUTES`."""


def _clock(minute: float) -> str:
    return f"{int(minute) // 60}:{int(minute) % 60:02d}"


def _slide_range(slides: list[Slide], sections: tuple[int, ...]) -> str:
    numbers = [s.number for s in slides if s.section in sections]
    return f"{min(numbers)}–{max(numbers)}" if numbers else "—"


def block_slides(block: Block, deck: Any) -> list[Slide]:
    """The slides of ``deck`` (a path or notebook) that ``block`` shows."""
    return [s for s in deck_slides(deck) if s.section in block.sections]


def plan_table(language: str = "en", slides_dir: str | Path | None = None) -> str:
    """The plan as a Markdown table in ``language``, slide numbers read from its deck."""
    folder = Path(slides_dir) if slides_dir is not None else default_slides_dir()
    slides = deck_slides(folder / f"{language}.ipynb")
    spanish = language == "es"
    head = (("Hora", "Min", "Qué", "Slides", "Cuadernos", "En vivo") if spanish else
            ("Time", "Min", "What", "Slides", "Notebooks", "Live"))
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    start = 0.0
    for block in PLAN:
        notebooks = ", ".join(f"`{n}`" for n in block.notebooks) or "—"
        cells = (_clock(start), f"{block.minutes:g}", block.what[spanish],
                 _slide_range(slides, block.sections), notebooks, block.live[spanish] or "—")
        rows.append("| " + " | ".join(cells) + " |")
        start += block.minutes
    return "\n".join(rows)
