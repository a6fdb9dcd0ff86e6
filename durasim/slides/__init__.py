"""The talk's decks: build them for sharing, present them live, read their structure.

The decks (``slides/es.ipynb``, ``slides/en.ipynb``) are notebooks, one slide per cell of
``slide_type`` "slide" (no vertical sub-slides: the right arrow reaches everything), each
followed by its speaker notes (a "notes" cell that starts with the minutes the slide
takes), and whose pictures are all drawn by durasim. Slide cells carry
``{"durasim": {"section": N}}``, the section of the talk they belong to (0 title and
author ... 10 demo and platform), which :func:`deck_slides` reads.

``python -m durasim.slides build`` (``make slides``) writes, into ``slides/build/``:

1. the projector figures, ``durasim figures`` per language, with their manifest;
2. each deck with its author slide filled in from ``slides/talk.toml`` (what
   ``present`` opens);
3. the reveal.js, require.js and jQuery files the HTML decks load, from the npm
   registry's packages (fetched once with ``npm pack`` into a cache), so they work in a
   classroom without internet; without npm the decks fall back to CDNs, and say so;
4. ``<lang>.slides.html``: nbconvert's reveal.js slides at 1280 x 720, executed, except
   the cells tagged ``live`` (the demo), which only run when the deck is presented.

``python -m durasim.slides present --lang es`` (``make present``) prepares the same
folder and serves it with JupyterLab and RISE on 127.0.0.1, token on, so the demo slide
runs CrashLab live.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from durasim.errors import DurasimError
from durasim.i18n import LANGUAGES
from durasim.slides.build import BuildResult, Deck, build, prepare, present
from durasim.slides.deck import (
    AUTHOR_FIELDS,
    HEIGHT,
    LIVE,
    SECTIONS,
    WIDTH,
    Slide,
    deck_slides,
    default_slides_dir,
    fill_author,
    image_references,
    read_author,
)

__all__ = ["AUTHOR_FIELDS", "HEIGHT", "LIVE", "SECTIONS", "WIDTH", "BuildResult", "Deck",
           "Slide", "build", "deck_slides", "default_slides_dir", "fill_author",
           "image_references", "main", "prepare", "present", "read_author"]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m durasim.slides build|present|plan ...`` (see ``--help``)."""
    parser = argparse.ArgumentParser(prog="python -m durasim.slides",
                                     description="Build or present the talk's decks.")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("build", help="figures + HTML decks into slides/build/")
    command.add_argument("--out", help="build folder (default: slides/build)")
    command.add_argument("--slides", help="folder with es.ipynb, en.ipynb and talk.toml")
    command.add_argument("--lang", nargs="+", choices=LANGUAGES, default=list(LANGUAGES))
    command.add_argument("--cdn", action="store_true",
                         help="load reveal.js from CDNs instead of bundling it")
    live = commands.add_parser("present", help="serve a deck live with JupyterLab + RISE")
    live.add_argument("--lang", choices=LANGUAGES, default="es")
    live.add_argument("--port", type=int, default=8890)
    live.add_argument("--out", help="build folder (default: slides/build)")
    live.add_argument("--slides", help="folder with es.ipynb, en.ipynb and talk.toml")
    plan = commands.add_parser("plan", help="print the 90-minute class plan as a table")
    plan.add_argument("--lang", choices=LANGUAGES, default="en")
    args = parser.parse_args(argv)
    try:
        if args.command == "present":
            return present(args.lang, port=args.port, out=args.out, slides_dir=args.slides)
        if args.command == "plan":
            from durasim.teaching import plan_table

            print(plan_table(args.lang))
            return 0
        result = build(args.out, slides_dir=args.slides, languages=args.lang,
                       offline=not args.cdn)
    except DurasimError as exc:
        print(f"durasim slides: {exc}", file=sys.stderr)
        return 2
    print(result)
    if not result.offline and not args.cdn:
        print("note: npm was not available, so the decks load reveal.js from CDNs "
              "(they need a network to show)", file=sys.stderr)
    return 0
