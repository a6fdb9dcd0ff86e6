"""A deck's structure: its slides, sections, speaker notes, minutes, images and author.

The decks are notebooks. A cell of ``slide_type`` "slide" opens a slide (there are no
vertical sub-slides, so the right arrow reaches everything); the fragments, code and the
"notes" cell after it belong to it. The notes start with the minutes the slide takes
(``⏱ 2 min``), which is how the class plan is checked against the decks.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from durasim.errors import DurasimError

SECTIONS = tuple(range(11))
"""The talk's sections, in order: 0 title and author, 1 introduction ... 10 demo and
platform (see the design's outline)."""
WIDTH, HEIGHT = 1280, 720
"""The decks are laid out for a 1280 x 720 projector, in reveal.js and in RISE."""
AUTHOR_FIELDS = ("name", "affiliation", "event", "date")
"""What ``slides/talk.toml``'s ``[author]`` table gives the author slide."""
LIVE = "live"
"""The tag of cells that run only when the deck is presented (the demo)."""
_MINUTES = re.compile(r"⏱\s*(\d+(?:[.,]\d+)?)\s*min")

_IMAGE = re.compile(r"""!\[[^\]]*\]\(\s*<?([^)\s>]+)>?[^)]*\)|<img[^>]*\ssrc=["']([^"']+)["']""")


def default_slides_dir() -> Path:
    """The repository's ``slides/`` folder (next to the package in a source checkout)."""
    return Path(__file__).resolve().parents[2] / "slides"


@dataclass(frozen=True)
class Slide:
    """One slide of a deck: its number (1-based, as reveal.js counts), section and notes."""

    number: int
    section: int
    title: str
    minutes: float | None
    notes: str
    images: tuple[str, ...]
    live: bool
    """True when a cell of the slide is tagged ``live`` (runs only when presented)."""


def deck_slides(notebook: Any) -> list[Slide]:
    """The slides of a deck, in order, with their sections, notes, minutes and images.

    A "slide" cell opens a slide; fragments, code and the notes cell that follow belong
    to it. Minutes are read from the notes (``⏱ 2 min``; ``2,5`` or ``2.5``).
    """
    nb = _read(notebook)
    slides: list[dict[str, Any]] = []
    for cell in nb.cells:
        kind = cell.metadata.get("slideshow", {}).get("slide_type", "-")
        if kind == "slide" or not slides:
            first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            slides.append({"section": cell.metadata.get("durasim", {}).get("section", -1),
                           "title": first.lstrip("# ").strip(), "notes": "", "images": [],
                           "live": False})
        current = slides[-1]
        if kind == "notes":
            current["notes"] += cell.source
        elif cell.cell_type == "markdown":
            current["images"] += [a or b for a, b in _IMAGE.findall(cell.source)]
        if LIVE in cell.metadata.get("tags", []):
            current["live"] = True
    result = []
    for number, found in enumerate(slides, start=1):
        minutes = _MINUTES.search(found["notes"])
        result.append(Slide(number, int(found["section"]), found["title"],
                            float(minutes.group(1).replace(",", ".")) if minutes else None,
                            found["notes"], tuple(found["images"]), found["live"]))
    return result


def read_author(slides_dir: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """The ``[author]`` table of ``talk.toml``: what the author slide shows.

    Raises:
        DurasimError: the file is missing or is not TOML, or a field is missing.
    """
    folder = Path(slides_dir) if slides_dir is not None else default_slides_dir()
    path = folder / "talk.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DurasimError(f"{path} does not exist; copy the one in the repository's slides/ "
                           "and put your name in it") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DurasimError(f"cannot read {path}: {exc}") from None
    author = data.get("author", {})
    missing = [key for key in AUTHOR_FIELDS if not str(author.get(key, "")).strip()]
    if missing:
        raise DurasimError(f"{path}: the [author] table needs {', '.join(missing)}")
    return {key: str(author[key]) for key in AUTHOR_FIELDS}


def fill_author(notebook: Any, author: dict[str, str]) -> Any:
    """The deck with ``{{name}}``, ``{{affiliation}}``... replaced from ``author``."""
    nb = _read(notebook)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "{{" in cell.source:
            for key, value in author.items():
                cell.source = cell.source.replace("{{" + key + "}}", value)
    return nb


def image_references(notebook: Any) -> list[str]:
    """Every image path a deck's markdown references (``![](...)`` and ``<img src=...>``)."""
    return [image for slide in deck_slides(notebook) for image in slide.images]


def _read(notebook: Any) -> Any:
    import nbformat

    if isinstance(notebook, str | os.PathLike):
        return nbformat.read(os.fspath(notebook), as_version=4)
    return notebook
