"""Build the HTML decks for sharing and present the live ones with JupyterLab and RISE."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from durasim.errors import DurasimError
from durasim.i18n import LANGUAGES
from durasim.slides.deck import HEIGHT, LIVE, WIDTH, default_slides_dir, fill_author, read_author
from durasim.slides.vendor import vendor_assets

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
.reveal img { max-height: 560px; max-width: 100%; object-fit: contain; }
.reveal .jp-RenderedHTMLCommon table { font-size: 15px; }
.reveal blockquote { font-style: italic; }
.reveal .durasim-compare p { font-size: 18px; }
</style>
{%- endblock html_head_css -%}
"""

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


def _exporter(offline: bool) -> Any:
    import jinja2
    from nbconvert import SlidesExporter

    exporter = SlidesExporter(extra_loaders=[jinja2.DictLoader({"durasim.j2": _TEMPLATE})],
                              template_file="durasim.j2")
    exporter.reveal_theme = "white"  # its fonts ship with reveal.js: no font CDN needed
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.reveal_width, exporter.reveal_height = str(WIDTH), str(HEIGHT)
    exporter.reveal_transition = "none"  # a projector shows the slide at once, and so can a test
    if offline:
        exporter.reveal_url_prefix = "vendor/reveal.js"
        exporter.require_js_url = "vendor/require.js"
        exporter.jquery_url = "vendor/jquery.min.js"
    return exporter


def _folders(out: str | os.PathLike[str] | None, slides_dir: str | os.PathLike[str] | None,
             languages: Sequence[str]) -> tuple[Path, Path]:
    source = Path(slides_dir) if slides_dir is not None else default_slides_dir()
    target = Path(out) if out is not None else source / "build"
    for language in languages:
        if language not in LANGUAGES:
            raise DurasimError(f"no deck language {language!r}; languages: "
                               f"{', '.join(LANGUAGES)}")
        if not (source / f"{language}.ipynb").is_file():
            raise DurasimError(f"the deck {source / f'{language}.ipynb'} does not exist; "
                               "give --slides the folder that holds es.ipynb and en.ipynb")
    return source, target


def prepare(out: str | os.PathLike[str] | None = None, *,
            slides_dir: str | os.PathLike[str] | None = None,
            languages: Sequence[str] = LANGUAGES) -> BuildResult:
    """Write the figures and the decks, author filled in, into ``out``: what is presented.

    Raises:
        DurasimError: a deck or ``talk.toml`` is missing or wrong.
    """
    import nbformat

    from durasim.figures import write_figures

    source, target = _folders(out, slides_dir, languages)
    author = read_author(source)
    target.mkdir(parents=True, exist_ok=True)
    result = BuildResult(target)
    for language in languages:
        result.figures += write_figures(target / "figures" / language, language=language)
        deck = fill_author(source / f"{language}.ipynb", author)
        nbformat.write(deck, target / f"{language}.ipynb")
    return result


def build(out: str | os.PathLike[str] | None = None, *,
          slides_dir: str | os.PathLike[str] | None = None,
          languages: Sequence[str] = LANGUAGES, timeout: int = 120,
          offline: bool = True) -> BuildResult:
    """Build the HTML decks: :func:`prepare`, browser assets, nbconvert's slides, executed.

    Args:
        out: the build folder (default ``slides/build``).
        slides_dir: where the decks ``<lang>.ipynb`` and ``talk.toml`` are (default the
            repository's).
        languages: which decks to build.
        timeout: seconds a deck's cell may run.
        offline: bundle reveal.js and friends so the decks need no network.

    Raises:
        DurasimError: a deck is missing, or a cell of a deck fails.
    """
    import nbformat
    from nbconvert.preprocessors import CellExecutionError, ExecutePreprocessor

    result = prepare(out, slides_dir=slides_dir, languages=languages)
    target = result.out
    result.offline = offline and vendor_assets(target)
    exporter = _exporter(result.offline)
    for language in languages:
        prepared = target / f"{language}.ipynb"
        nb = nbformat.read(prepared, as_version=4)
        try:
            # the demo's cells only make sense live: they run when the deck is presented
            ExecutePreprocessor(timeout=timeout, kernel_name="python3",
                                skip_cells_with_tag=LIVE).preprocess(
                nb, {"metadata": {"path": str(target)}})
        except CellExecutionError as exc:
            first = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
            raise DurasimError(f"a cell of {language}.ipynb failed: {first}") from None
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": language}})
        html = target / f"{language}.slides.html"
        html.write_text(body, encoding="utf-8")
        result.decks.append(Deck(language, prepared, html))
    return result


def present(language: str = "es", *, port: int = 8890, out: str | os.PathLike[str] | None = None,
            slides_dir: str | os.PathLike[str] | None = None) -> int:
    """Prepare the decks, then serve them with JupyterLab and RISE until Ctrl-C.

    JupyterLab listens on 127.0.0.1 only, with a fresh token; the first line printed is
    the address of the deck in RISE. Returns JupyterLab's exit status.
    """
    result = prepare(out, slides_dir=slides_dir, languages=[language])
    token = secrets.token_hex(24)
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
               "--ServerApp.port_retries=0", f"--ServerApp.root_dir={result.out}",
               f"--IdentityProvider.token={token}"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")  # containers and CI machines often run as root
    print(f"RISE: http://127.0.0.1:{port}/rise/{language}.ipynb?token={token}", flush=True)
    print(f"JupyterLab: http://127.0.0.1:{port}/lab/tree/{language}.ipynb?token={token}",
          flush=True)
    lab = subprocess.Popen(command)
    try:
        return lab.wait()
    except KeyboardInterrupt:  # Ctrl-C reaches JupyterLab too; let it stop cleanly
        return lab.wait()
