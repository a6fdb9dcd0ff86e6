"""Build the talk's reveal.js decks: ``python -m durasim.slides build``.

The decks (``slides/es.ipynb``, ``slides/en.ipynb``) are notebooks whose cells carry
``slideshow.slide_type`` metadata, and whose pictures are all drawn by durasim. Building
them is three steps, in this order, into ``slides/build/`` (git-ignored):

1. ``durasim figures --out slides/build/figures/<lang> --lang <lang>`` for each deck, so
   every image a deck references exists and matches the simulator's current behaviour;
2. the reveal.js, require.js and jQuery files the decks load, copied into
   ``slides/build/vendor/`` from the npm registry's packages (fetched once with ``npm pack``
   into a cache), so the decks work in a classroom without internet; when npm is not
   available the decks fall back to the CDNs nbconvert uses, and say so;
3. ``jupyter nbconvert --to slides --execute`` on each deck (the demo slide runs the
   simulator), with the figures referenced by paths relative to the built HTML.

Each deck cell that opens a section of the talk carries ``{"durasim": {"section": N}}``
in its metadata; :func:`deck_sections` reads them, which is how the tests check that every
deck has a slide for each of the ten sections, in order.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from durasim.errors import DurasimError
from durasim.i18n import LANGUAGES

__all__ = ["BuildResult", "Deck", "build", "deck_sections", "default_slides_dir",
           "image_references", "main"]

SECTIONS = 10
"""The talk has ten sections (see the design's outline)."""

VENDOR: dict[str, tuple[str, dict[str, str]]] = {
    # npm package@version: files to copy (path in the package -> path under vendor/)
    "reveal.js": ("4.0.2", {"dist/reveal.js": "reveal.js/dist/reveal.js",
                            "dist/reveal.css": "reveal.js/dist/reveal.css",
                            "dist/theme/white.css": "reveal.js/dist/theme/white.css",
                            "dist/theme/fonts": "reveal.js/dist/theme/fonts",
                            "plugin/notes/notes.js": "reveal.js/plugin/notes/notes.js"}),
    "requirejs": ("2.3.6", {"require.js": "require.js"}),
    "jquery": ("3.5.1", {"dist/jquery.min.js": "jquery.min.js"}),
}
"""The browser-side files a deck needs, pinned to the versions nbconvert's template uses."""

_TEMPLATE = """{%- extends 'reveal/index.html.j2' -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
<script>
// The decks have no formulas: instead of loading MathJax from a CDN, give the template's
// slide-change hook the two calls it makes, so the decks also work without a network.
window.MathJax = {Hub: {getAllJax: function () { return []; }, Rerender: function () {}}};
</script>
{%- endblock html_head_js_mathjax -%}
{%- block html_head_css -%}
<style>
.reveal img { max-height: 460px; max-width: 100%; object-fit: contain; }
.reveal .jp-RenderedHTMLCommon table { font-size: 15px; }
.reveal blockquote { font-style: italic; }
.reveal .durasim-compare p { font-size: 18px; }
</style>
{%- endblock html_head_css -%}
"""

_IMAGE = re.compile(r"""!\[[^\]]*\]\(\s*<?([^)\s>]+)>?[^)]*\)|<img[^>]*\ssrc=["']([^"']+)["']""")


@dataclass(frozen=True)
class Deck:
    """One built deck: its language, source notebook and HTML file."""

    language: str
    source: Path
    html: Path


@dataclass
class BuildResult:
    """What :func:`build` produced."""

    out: Path
    decks: list[Deck] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    offline: bool = False

    def __str__(self) -> str:
        where = "bundled (works offline)" if self.offline else "from CDNs (needs a network)"
        lines = [f"built {len(self.decks)} deck(s) into {self.out} (reveal.js {where})"]
        lines += [f"  {deck.html}" for deck in self.decks]
        return "\n".join(lines)


def default_slides_dir() -> Path:
    """The repository's ``slides/`` folder (next to the package in a source checkout)."""
    return Path(__file__).resolve().parents[1] / "slides"


def deck_sections(notebook: Any) -> list[int]:
    """The talk sections a deck opens, in order (from each cell's ``durasim.section``)."""
    nb = _read(notebook)
    return [int(cell.metadata["durasim"]["section"]) for cell in nb.cells
            if "section" in cell.metadata.get("durasim", {})]


def image_references(notebook: Any) -> list[str]:
    """Every image path a deck's markdown references (``![](...)`` and ``<img src=...>``)."""
    nb = _read(notebook)
    found: list[str] = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found += [a or b for a, b in _IMAGE.findall(cell.source)]
    return found


def _read(notebook: Any) -> Any:
    import nbformat

    if isinstance(notebook, str | os.PathLike):
        return nbformat.read(os.fspath(notebook), as_version=4)
    return notebook


# ------------------------------------------------------------------------------ vendor

def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "durasim" / "npm"


def _fetch(package: str, version: str, cache: Path) -> Path | None:
    """The npm tarball of ``package@version``, fetched once with ``npm pack`` into the cache."""
    tarball = cache / f"{package}-{version}.tgz"
    if tarball.is_file():
        return tarball
    npm = shutil.which("npm")
    if npm is None:
        return None
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        try:
            done = subprocess.run([npm, "pack", f"{package}@{version}", "--silent",
                                   "--pack-destination", tmp],
                                  capture_output=True, text=True, timeout=180, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        packed = list(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or len(packed) != 1:
            return None
        packed[0].replace(tarball)
    return tarball


def vendor_assets(out: Path) -> bool:
    """Put reveal.js, require.js and jQuery under ``out/vendor``; False when impossible."""
    vendor = out / "vendor"
    wanted = [vendor / target for _, files in VENDOR.values() for target in files.values()]
    if all(path.exists() for path in wanted):
        return True
    cache = _cache_dir()
    for package, (version, files) in VENDOR.items():
        tarball = _fetch(package, version, cache)
        if tarball is None:
            return False
        with tarfile.open(tarball) as archive, tempfile.TemporaryDirectory() as tmp:
            archive.extractall(tmp, filter="data")  # refuses links and paths outside tmp
            root = Path(tmp) / "package"
            for source, target in files.items():
                origin, destination = root / source, vendor / target
                destination.parent.mkdir(parents=True, exist_ok=True)
                if origin.is_dir():
                    shutil.copytree(origin, destination, dirs_exist_ok=True)
                elif origin.is_file():
                    shutil.copyfile(origin, destination)
                else:
                    return False
    return True


# ------------------------------------------------------------------------------- build

def _exporter(offline: bool) -> Any:
    import jinja2
    from nbconvert import SlidesExporter

    exporter = SlidesExporter(extra_loaders=[jinja2.DictLoader({"durasim.j2": _TEMPLATE})],
                              template_file="durasim.j2")
    exporter.reveal_theme = "white"  # its fonts ship with reveal.js: no font CDN needed
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    if offline:
        exporter.reveal_url_prefix = "vendor/reveal.js"
        exporter.require_js_url = "vendor/require.js"
        exporter.jquery_url = "vendor/jquery.min.js"
    return exporter


def build(out: str | os.PathLike[str] | None = None, *,
          slides_dir: str | os.PathLike[str] | None = None,
          languages: Sequence[str] = LANGUAGES, timeout: int = 120,
          offline: bool = True) -> BuildResult:
    """Build the decks: figures, browser assets, then nbconvert's slides, executed.

    Args:
        out: the build folder (default ``slides/build``).
        slides_dir: where the decks ``<lang>.ipynb`` are (default the repository's).
        languages: which decks to build.
        timeout: seconds a deck's cell may run.
        offline: bundle reveal.js and friends so the decks need no network.

    Raises:
        DurasimError: a deck is missing, or a cell of a deck fails.
    """
    import nbformat
    from nbconvert.preprocessors import CellExecutionError, ExecutePreprocessor

    from durasim.figures import write_figures

    source = Path(slides_dir) if slides_dir is not None else default_slides_dir()
    target = Path(out) if out is not None else source / "build"
    for language in languages:
        if language not in LANGUAGES:
            raise DurasimError(f"no deck language {language!r}; languages: "
                               f"{', '.join(LANGUAGES)}")
        if not (source / f"{language}.ipynb").is_file():
            raise DurasimError(f"the deck {source / f'{language}.ipynb'} does not exist; "
                               "give --slides the folder that holds es.ipynb and en.ipynb")
    target.mkdir(parents=True, exist_ok=True)
    result = BuildResult(target)
    for language in languages:
        result.figures += write_figures(target / "figures" / language, language=language)
    result.offline = offline and vendor_assets(target)
    exporter = _exporter(result.offline)
    for language in languages:
        deck = source / f"{language}.ipynb"
        nb = nbformat.read(deck, as_version=4)
        executor = ExecutePreprocessor(timeout=timeout, kernel_name="python3")
        try:
            executor.preprocess(nb, {"metadata": {"path": str(target)}})
        except CellExecutionError as exc:
            first = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
            raise DurasimError(f"a cell of {deck.name} failed: {first}") from None
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": language}})
        html = target / f"{language}.slides.html"
        html.write_text(body, encoding="utf-8")
        result.decks.append(Deck(language, deck, html))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m durasim.slides build [--out DIR] [--slides DIR] [--lang es en]``."""
    parser = argparse.ArgumentParser(prog="python -m durasim.slides",
                                     description="Build the talk's reveal.js decks.")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("build", help="figures + decks into slides/build/")
    command.add_argument("--out", help="build folder (default: slides/build)")
    command.add_argument("--slides", help="folder with es.ipynb and en.ipynb")
    command.add_argument("--lang", nargs="+", choices=LANGUAGES, default=list(LANGUAGES))
    command.add_argument("--cdn", action="store_true",
                         help="load reveal.js from CDNs instead of bundling it")
    args = parser.parse_args(argv)
    try:
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


if __name__ == "__main__":
    sys.exit(main())
