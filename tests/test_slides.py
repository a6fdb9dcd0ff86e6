"""The talk's decks: every section in order, notes and minutes on every slide, the class plan
they add up to, the author from talk.toml, and decks a room can read.

Both decks are built once per module into a temporary folder (figures, bundled reveal.js,
nbconvert's slides, executed). The browser tests serve the build on 127.0.0.1 and walk
each deck in Debian's chromium at 1280 x 720 with the right arrow only, measuring every
figure as it is shown.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from durasim.figures import MANIFEST
from durasim.i18n import outcomes
from durasim.slides import (
    SECTIONS,
    BuildResult,
    build,
    deck_slides,
    image_references,
    main,
    read_author,
)
from durasim.teaching import CLASS_MINUTES, PLAN, block_slides, plan_table
from tests.conftest import REPO

SLIDES = REPO / "slides"
LANGUAGES = ("es", "en")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
PNG = b"\x89PNG\r\n\x1a\n"
MIN_TEXT_PX = 18.0
"""No text on a slide smaller than this, shown at 1280 x 720."""
ENGLISH_LABELS = (*outcomes(), "history", "retry", "retries", "attempt", "poll", "replay",
                  "replayed", "replays", "crash", "crashed", "restart", "before", "after",
                  "money", "step", "waiting", "timer", "done", "paid", "charge", "services",
                  "server", "network", "events", "producers", "consumers")
"""The engine's and figures' English words that must not reach the Spanish deck."""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(tmp_path_factory.mktemp("slides-build"), slides_dir=SLIDES)


# ------------------------------------------------------------------- the decks' structure

@pytest.mark.parametrize("language", LANGUAGES)
def test_each_deck_tells_every_section_of_the_talk_in_order(language: str) -> None:
    sections = [s.section for s in deck_slides(SLIDES / f"{language}.ipynb")]
    assert sections == sorted(sections), "sections out of order"
    assert sorted(set(sections)) == list(SECTIONS), "a section of the talk has no slide"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_vertical_subslides(language: str) -> None:
    deck = nbformat.read(SLIDES / f"{language}.ipynb", as_version=4)
    kinds = {c.metadata.get("slideshow", {}).get("slide_type", "-") for c in deck.cells}
    assert kinds <= {"slide", "fragment", "notes", "-"}, kinds


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_slide_has_notes_with_its_minutes(language: str) -> None:
    for slide in deck_slides(SLIDES / f"{language}.ipynb"):
        assert slide.minutes is not None and slide.minutes > 0, (slide.number, slide.title)
        assert len(slide.notes) > 80, f"slide {slide.number} has hardly any notes"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_minutes_add_up_to_the_class_plan(language: str) -> None:
    assert sum(block.minutes for block in PLAN) == CLASS_MINUTES
    deck = SLIDES / f"{language}.ipynb"
    shown = set()
    for block in PLAN:
        slides = block_slides(block, deck)
        shown |= {s.number for s in slides}
        if block.sections:
            assert sum(s.minutes or 0 for s in slides) == block.minutes, block.what[0]
    assert shown == {s.number for s in deck_slides(deck)}, "a slide is in no block"


def test_the_two_decks_are_the_same_talk() -> None:
    es, en = (deck_slides(SLIDES / f"{lang}.ipynb") for lang in LANGUAGES)
    assert [(s.section, s.minutes, s.live) for s in es] == \
        [(s.section, s.minutes, s.live) for s in en]
    assert [[i.replace("/es/", "/") for i in s.images] for s in es] == \
        [[i.replace("/en/", "/") for i in s.images] for s in en]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_teachers_guide_has_the_plan_of_its_deck(language: str) -> None:
    guide = REPO / "docs" / ("teaching.es.md" if language == "es" else "teaching.md")
    assert plan_table(language) in guide.read_text(encoding="utf-8"), (
        f"{guide.name} is out of date: paste `python -m durasim.slides plan --lang {language}`")


# ---------------------------------------------------------------------------- the build

@pytest.mark.parametrize("language", LANGUAGES)
def test_every_image_a_deck_references_is_built(built: BuildResult, language: str) -> None:
    references = image_references(SLIDES / f"{language}.ipynb")
    assert len(references) >= 15
    assert all(ref.startswith(f"figures/{language}/") for ref in references)
    for ref in references:
        path = built.out / ref
        assert path.is_file(), f"{language}.ipynb shows {ref}, which the build did not write"
    html = (built.out / f"{language}.slides.html").read_text(encoding="utf-8")
    shown = re.findall(r'<img[^>]*src="([^"]+)"', html)
    assert sorted(set(shown)) == sorted(set(references))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_built_deck_has_every_slide_with_its_notes(built: BuildResult,
                                                       language: str) -> None:
    html = (built.out / f"{language}.slides.html").read_text(encoding="utf-8")
    slides = deck_slides(SLIDES / f"{language}.ipynb")
    assert html.count('<aside class="notes">') >= len(slides)
    assert read_author(SLIDES)["name"] in html and "{{name}}" not in html
    assert 'width: 1280' in html.replace('"', "") or "width: 1280" in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_figure_is_drawn_for_a_projector(built: BuildResult, language: str) -> None:
    manifest = json.loads((built.out / "figures" / language / MANIFEST).read_text("utf-8"))
    for name, figure in manifest.items():
        assert figure["smallest_text_px"] >= MIN_TEXT_PX, (name, figure["smallest_text_px"])
        assert figure["cut_off"] == [], f"{name} cuts off {figure['cut_off']}"


class _VisibleText(HTMLParser):
    """The text a reader sees, without code (code names stay as they are)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("code", "pre", "script", "style"):
            self._code += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("code", "pre", "script", "style"):
            self._code -= 1

    def handle_data(self, data: str) -> None:
        if not self._code:
            self.parts.append(data)


def _english(text: str) -> list[str]:
    return sorted({w for w in ENGLISH_LABELS
                   if re.search(rf"(?<![\w_]){re.escape(w)}(?![\w_])", text, re.IGNORECASE)})


def test_the_spanish_deck_speaks_spanish(built: BuildResult) -> None:
    manifest = json.loads((built.out / "figures" / "es" / MANIFEST).read_text("utf-8"))
    for name, figure in manifest.items():
        code = name in ("scattered_logic", "durable_execution", "event_history")
        texts = [t for t in figure["texts"] if not (code and ("(" in t or "_" in t))]
        assert _english(" ".join(texts)) == [], f"English on the Spanish figure {name}"
    parser = _VisibleText()
    parser.feed((built.out / "es.slides.html").read_text(encoding="utf-8"))
    body = re.sub(r"https?://\S+", "", " ".join(parser.parts))
    body = re.sub(r"\b\w+\.(?:ipynb|md|toml)\b", "", body)
    assert _english(body) == []
    english = json.loads((built.out / "figures" / "en" / MANIFEST).read_text("utf-8"))
    assert _english(" ".join(english["step5_recovery"]["texts"])), "the list finds nothing"


def test_a_bad_talk_toml_is_one_line(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    for deck in LANGUAGES:
        shutil.copy(SLIDES / f"{deck}.ipynb", tmp_path)
    (tmp_path / "talk.toml").write_text('[author]\nname = "Ada"\n', encoding="utf-8")
    status = main(["build", "--slides", str(tmp_path), "--out", str(tmp_path / "b")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and "needs affiliation, event, date" in err[0], err


def test_the_build_command_refuses_a_folder_without_decks(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    status = main(["build", "--slides", str(tmp_path), "--out", str(tmp_path / "build")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1 and re.search(r"/e[ns]\.ipynb does not exist", err[0]), err
    assert not (tmp_path / "build").exists(), "nothing is built from a folder without decks"


def test_bundled_decks_load_nothing_from_the_network(built: BuildResult) -> None:
    if not built.offline:
        pytest.skip("npm was not available, so reveal.js could not be bundled")
    for deck in built.decks:
        html = deck.html.read_text(encoding="utf-8")
        scripts = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', html)
        remote = [s for s in scripts if s.startswith(("http:", "https:", "//"))]
        assert remote == [], f"{deck.html.name} still loads {remote}"


# ------------------------------------------------------------------------- the browser

@pytest.fixture
def served(built: BuildResult) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Keep the test output clean."""

    handler = functools.partial(Quiet, directory=str(built.out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


_SHOWN = """() => {
  const top = [...document.querySelectorAll('.reveal .slides > section')];
  const slide = document.querySelector('.reveal .slides > section.present');
  const nested = slide.querySelectorAll(':scope > section').length;
  const images = [...slide.querySelectorAll('img')].map(img => {
    const box = img.getBoundingClientRect();
    return {src: img.getAttribute('src'), loaded: img.complete && img.naturalWidth > 0,
            scale: box.width / img.naturalWidth, top: box.top, bottom: box.bottom,
            left: box.left, right: box.right};
  });
  const hidden = slide.querySelectorAll('.fragment:not(.visible)').length;
  const h = top.indexOf(slide);
  return {h, v: nested, notes: slide.querySelectorAll('aside.notes').length,
          images, last: h === top.length - 1 && hidden === 0};
}"""


@pytest.mark.browser
@pytest.mark.parametrize("language", LANGUAGES)
def test_arrow_right_walks_every_slide_and_every_figure_is_legible(
        built: BuildResult, served: str, language: str) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium "
                    "(make test installs it with apt-get)")
    if not built.offline:
        pytest.skip("reveal.js could not be bundled (no npm), and the CDN is not reachable")
    sync_api = pytest.importorskip("playwright.sync_api")
    manifest = json.loads((built.out / "figures" / language / MANIFEST).read_text("utf-8"))
    smallest = {figure["file"]: figure["smallest_text_px"] for figure in manifest.values()}
    slides = deck_slides(SLIDES / f"{language}.ipynb")
    errors: list[str] = []
    seen: dict[int, dict[str, object]] = {}
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("requestfailed", lambda request: errors.append(f"failed {request.url}"))
            page.goto(f"{served}/{language}.slides.html")
            page.wait_for_selector(".reveal.ready", timeout=30_000)
            for _ in range(len(slides) * 4):
                page.wait_for_timeout(150)
                shown = page.evaluate(_SHOWN)
                if shown["images"] and not all(i["loaded"] for i in shown["images"]):
                    page.wait_for_timeout(800)
                    shown = page.evaluate(_SHOWN)
                seen[shown["h"]] = shown
                assert shown["v"] <= 1, "vertical sub-slides (more than one section in a stack)"
                if shown["last"]:
                    break
                page.keyboard.press("ArrowRight")
        finally:
            browser.close()
    assert sorted(seen) == list(range(len(slides))), "the right arrow missed a slide"
    for index, shown in seen.items():
        assert shown["notes"] == 1, f"slide {index + 1} has no speaker notes"
        for image in shown["images"]:  # type: ignore[attr-defined]
            name = image["src"].rsplit("/", 1)[-1]
            assert image["loaded"], f"{name} did not load"
            assert image["top"] >= 0 and image["bottom"] <= 720 and image["right"] <= 1280, (
                f"{name} does not fit the slide: {image}")
            px = smallest[name] * image["scale"]
            assert px >= MIN_TEXT_PX, f"{name}: smallest text {px:.1f} px on slide {index + 1}"
    assert errors == []
