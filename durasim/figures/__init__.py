"""The talk's figures, every one drawn by durasim, for a projector, in English or Spanish.

The slides must not carry hand-made pictures that drift away from what the simulator
does. The figures here are the *projector variants* (big type on a fixed board, see
:mod:`durasim.figures.board`), not the notebooks' pictures shrunk: the sky of the
introduction, the systems of sections 2-7, the six characteristics from real engine runs
and the step-5 crash story from the simulator's runs. ``durasim figures --out DIR`` writes
them all (PNG, and an animated GIF for the solar system) with a ``figures.json``
manifest saying, for each file, its size in pixels, the smallest text it draws (em size
in pixels, measured while drawing), every string on it and any string cut off: what the
deck tests read to hold each slide to the 18-pixel rule and the Spanish deck to Spanish.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from durasim.errors import DurasimError
from durasim.figures import board, sky, story, systems, traits
from durasim.i18n import LANGUAGES, get_language, set_language
from durasim.viz import style

__all__ = ["ANIMATIONS", "FIGURES", "MANIFEST", "draw", "write_figures"]

DPI = board.DPI
MANIFEST = "figures.json"
"""The manifest ``write_figures`` writes beside the pictures."""

FIGURES: dict[str, Callable[[], Figure]] = {
    "sky": sky.sky,
    "complexity": systems.complexity,
    "monolith_transaction": systems.monolith_transaction,
    "transactionality": systems.transactionality,
    "event_driven": systems.event_driven,
    "scattered_logic": systems.scattered_logic,
    "step5_outcomes": story.step5_outcomes,
    "durable_execution": systems.durable_execution,
    "trait_state": traits.persistent_state,
    "trait_duration": traits.unlimited_duration,
    "trait_calls": traits.long_calls,
    "trait_retry": traits.retries,
    "trait_async": traits.asynchronous,
    "trait_timers": traits.durable_timers,
    "step5_recovery": story.step5_recovery,
    "event_history": story.event_history,
}
"""Figure name -> the function drawing it, in the order the talk shows them."""

ANIMATIONS: dict[str, tuple[Callable[[Figure, float], None], Callable[[], Iterator[float]]]] = {
    "sky_animation": (sky.draw_sky, sky.sky_frames),
}
"""Animation name -> (draw one frame at an instant, the instants), written as GIF."""

FPS = 12


@contextmanager
def _language(language: str) -> Iterator[None]:
    """Draw in ``language``, then give the caller back the language it had."""
    before = get_language()
    set_language(language)
    try:
        yield
    finally:
        set_language(before)


def _check(name: str | None, language: str) -> None:
    if name is not None and name not in FIGURES and name not in ANIMATIONS:
        raise ValueError(f"unknown figure {name!r}; figures: "
                         f"{', '.join([*FIGURES, *ANIMATIONS])}")
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; languages: {', '.join(LANGUAGES)}")


def draw(name: str, language: str = "en") -> Figure:
    """Draw figure ``name`` (an animation: its last frame) with labels in ``language``.

    Raises:
        ValueError: an unknown figure or language (the message lists the valid ones).
    """
    _check(name, language)
    with _language(language), style.styled():
        if name in ANIMATIONS:
            frame, instants = ANIMATIONS[name]
            figure, _ = board.canvas()
            frame(figure, list(instants())[-1])
            return figure
        return FIGURES[name]()


def _folder(out: str | os.PathLike[str]) -> Path:
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise DurasimError(f"--out {str(out)!r} is a file, not a folder; give a folder path")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DurasimError(f"cannot create folder {str(out)!r}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK):
        raise DurasimError(f"cannot write into folder {str(out)!r}: permission denied")
    return folder


def _describe(figure: Figure, path: Path) -> dict[str, Any]:
    width, height = (round(v * DPI) for v in figure.get_size_inches())
    texts = board.drawn_texts(figure, DPI)
    return {"file": path.name, "width": width, "height": height,
            "smallest_text_px": round(min((t.px for t in texts), default=0.0), 2),
            "texts": sorted({t.text for t in texts}),
            "cut_off": sorted({t.text for t in texts if not t.inside})}


def _animate(name: str, path: Path) -> Figure:
    from matplotlib.animation import FuncAnimation, PillowWriter

    frame, instants = ANIMATIONS[name]
    figure, _ = board.canvas()
    moments = list(instants())
    def draw_frame(moment: float) -> list[Any]:
        frame(figure, moment)
        return []  # the frame redraws the whole figure: no blitting

    animation = FuncAnimation(figure, draw_frame, frames=moments, repeat=False,
                              cache_frame_data=False)
    animation.save(str(path), writer=PillowWriter(fps=FPS), dpi=DPI)
    frame(figure, moments[-1])
    return figure


def write_figures(out: str | os.PathLike[str], language: str = "en",
                  names: Iterable[str] | None = None, dpi: int = DPI) -> list[Path]:
    """Write the figures as ``<out>/<name>.png`` (animations as ``.gif``) and the manifest.

    Returns the paths of the pictures written, in the talk's order.

    Raises:
        DurasimError: ``out`` exists and is not a folder, or cannot be created or written.
        ValueError: an unknown figure name or language.
    """
    chosen = list(names) if names is not None else [*FIGURES, *ANIMATIONS]
    for name in chosen:
        _check(name, language)
    folder = _folder(out)
    manifest_path = folder / MANIFEST
    manifest: dict[str, Any] = {}
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    written = []
    with _language(language), style.styled():
        for name in chosen:
            if name in ANIMATIONS:
                path = folder / f"{name}.gif"
                figure = _animate(name, path)
            else:
                path = folder / f"{name}.png"
                figure = FIGURES[name]()
                figure.savefig(path, dpi=dpi, facecolor="white")
            manifest[name] = _describe(figure, path)
            written.append(path)
    manifest_path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True),
                             encoding="utf-8")
    return written
