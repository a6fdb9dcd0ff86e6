"""The talk's decks: built by ``durasim.slides.build``, complete, and shown by a real browser.

Both decks are built once per test session into a temporary folder (the figures, the
bundled reveal.js and nbconvert's slides, executed). The structural tests read the deck
notebooks and the built HTML; the browser test serves the build on 127.0.0.1 and renders
the Spanish deck's first slide and its recovery slide in Debian's chromium.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from durasim.slides import (
    SECTIONS,
    BuildResult,
    build,
    deck_sections,
    image_references,
    main,
)
from tests.conftest import REPO

SLIDES = REPO / "slides"
LANGUAGES = ("es", "en")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(tmp_path_factory.mktemp("slides-build"), slides_dir=SLIDES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_deck_has_a_slide_per_talk_section_in_order(language: str) -> None:
    deck = nbformat.read(SLIDES / f"{language}.ipynb", as_version=4)
    assert deck_sections(deck) == list(range(1, SECTIONS + 1))
    for cell in deck.cells:
        if "section" in cell.metadata.get("durasim", {}):
            assert cell.metadata["slideshow"]["slide_type"] == "slide", cell.source[:40]
            number = cell.metadata["durasim"]["section"]
            assert cell.source.lstrip().startswith(f"## {number} ·"), cell.source[:40]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_image_a_deck_references_is_built(built: BuildResult, language: str) -> None:
    deck = SLIDES / f"{language}.ipynb"
    references = image_references(deck)
    assert len(references) >= 6
    assert all(ref.startswith(f"figures/{language}/") for ref in references)
    for ref in references:
        path = built.out / ref
        assert path.is_file(), f"{deck.name} shows {ref}, which the build did not write"
        assert path.read_bytes().startswith(PNG)
    html = (built.out / f"{language}.slides.html").read_text(encoding="utf-8")
    shown = re.findall(r'<img[^>]*src="([^"]+)"', html)
    assert sorted(set(shown)) == sorted(set(references))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_built_deck_has_every_section_and_the_demo_output(built: BuildResult,
                                                               language: str) -> None:
    html = (built.out / f"{language}.slides.html").read_text(encoding="utf-8")
    for number in range(1, SECTIONS + 1):
        assert f"{number} · " in html, f"section {number} is missing from the built deck"
    # the demo slide ran the simulator: its printed comparison is in the page
    assert re.search(r"event_driven\s+lost", html)
    assert re.search(r"durable\s+completed", html)


def test_bundled_decks_load_nothing_from_the_network(built: BuildResult) -> None:
    if not built.offline:
        pytest.skip("npm was not available, so reveal.js could not be bundled")
    for deck in built.decks:
        html = deck.html.read_text(encoding="utf-8")
        scripts = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', html)
        remote = [s for s in scripts if s.startswith(("http:", "https:", "//"))]
        assert remote == [], f"{deck.html.name} still loads {remote}"
        for ref in re.findall(r'"(vendor/[^"]+\.js)"', html):
            assert (built.out / ref).is_file(), ref


def test_the_build_command_refuses_a_folder_without_decks(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    status = main(["build", "--slides", str(tmp_path), "--out", str(tmp_path / "build")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1 and re.search(r"/e[ns]\.ipynb does not exist", err[0]), err
    assert not (tmp_path / "build").exists(), "nothing is built from a folder without decks"


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


#: Where a selector's slide is, as reveal.js's (horizontal, vertical) indices.
_INDICES = """(selector) => {
  const el = document.querySelector(selector);
  if (!el) return null;
  const slide = el.closest('section');
  const top = [...document.querySelectorAll('.reveal .slides > section')];
  const h = top.findIndex(t => t === slide || t.contains(slide));
  const v = top[h] === slide ? 0 : [...top[h].querySelectorAll(':scope > section')].indexOf(slide);
  return [h, v];
}"""


@pytest.mark.browser
def test_spanish_deck_renders_first_and_recovery_slides(built: BuildResult, served: str,
                                                        tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium "
                    "(make test installs it with apt-get)")
    if not built.offline:
        pytest.skip("reveal.js could not be bundled (no npm), and the CDN is not reachable")
    sync_api = pytest.importorskip("playwright.sync_api")
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("requestfailed", lambda request: errors.append(f"failed {request.url}"))
            page.goto(f"{served}/es.slides.html")
            page.wait_for_selector(".reveal.ready", timeout=20_000)
            page.wait_for_timeout(400)  # the slide transition
            first = tmp_path / "es-first.png"
            page.screenshot(path=str(first))
            title = page.inner_text(".reveal .slides section.present")
            assert "ejecución durable" in title.casefold()  # the theme upper-cases headings

            where = page.evaluate(_INDICES, 'img[src$="step5_recovery.png"]')
            assert where is not None, "the Spanish deck has no recovery slide"
            page.evaluate(f"location.hash = '#/{where[0]}/{where[1]}'")
            page.wait_for_function(
                "document.querySelector('section.present img[src$=\"step5_recovery.png\"]')",
                timeout=10_000)
            page.wait_for_timeout(600)
            recovery = tmp_path / "es-recovery.png"
            page.screenshot(path=str(recovery))
            image = page.evaluate("""() => {
                const img = document.querySelector(
                    'section.present img[src$="step5_recovery.png"]');
                const box = img.getBoundingClientRect();
                return {loaded: img.complete && img.naturalWidth > 0, width: box.width,
                        visible: box.top >= 0 && box.bottom <= window.innerHeight};
            }""")
            heading = page.inner_text(".reveal .slides section.present h2")
        finally:
            browser.close()
    assert image["loaded"], "the recovery figure did not load"
    assert image["visible"] and image["width"] > 600, image
    assert "9" in heading and "event sourcing" in heading.lower()
    assert errors == []
    for shot in (first, recovery):
        assert shot.read_bytes().startswith(PNG) and shot.stat().st_size > 20_000
