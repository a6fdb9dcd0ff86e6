"""``durasim figures --out DIR``: the slides' pictures, all drawn by durasim, for a projector.

The command is started as a user starts it (a subprocess), so what is checked is what the
slides build gets: real PNG files (and the solar system's GIF), one per figure, in both
languages, a manifest that measures each one's smallest text, and one line with status 2
for a bad ``--out``, never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from durasim.figures import ANIMATIONS, FIGURES, MANIFEST, draw
from durasim.figures.board import drawn_texts, smallest_text_px
from durasim.figures.words import keys, say
from durasim.i18n import get_language, outcome, outcomes, set_language
from tests.conftest import REPO

PNG = b"\x89PNG\r\n\x1a\n"
GIF = b"GIF8"
#: The pictures the talk needs, by the names the slides use.
REQUIRED = ("sky", "complexity", "monolith_transaction", "transactionality", "event_driven",
            "scattered_logic", "durable_execution", "trait_state", "trait_duration",
            "trait_calls", "trait_retry", "trait_async", "trait_timers", "step5_recovery",
            "event_history", "step5_outcomes")


def durasim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "durasim", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=120,
                          env={**os.environ, "MPLBACKEND": "Agg"})


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_command_writes_every_figure_as_png(tmp_path: Path, language: str) -> None:
    out = tmp_path / "figures" / language
    result = durasim("figures", "--out", str(out), "--lang", language)
    assert result.returncode == 0, result.stderr
    written = sorted(out.glob("*.png"))
    assert {p.stem for p in written} == set(REQUIRED)
    for path in written:
        data = path.read_bytes()
        assert data.startswith(PNG), path
        assert len(data) > 10_000, f"{path.name} is suspiciously small ({len(data)} bytes)"
    assert result.stdout.splitlines() == [
        *(str(out / f"{name}.png") for name in FIGURES),
        *(str(out / f"{name}.gif") for name in ANIMATIONS)]
    with Image.open(out / "sky_animation.gif") as animation:
        assert (out / "sky_animation.gif").read_bytes().startswith(GIF)
        assert animation.n_frames >= 24, "the solar system is animated"
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest) == {*FIGURES, *ANIMATIONS}
    for name, figure in manifest.items():
        assert figure["smallest_text_px"] >= 20, (name, figure["smallest_text_px"])
        assert figure["cut_off"] == [], (name, figure["cut_off"])


def test_labels_follow_the_language(tmp_path: Path) -> None:
    english = tmp_path / "en.png"
    spanish = tmp_path / "es.png"
    draw("transactionality", "en").savefig(english)
    draw("transactionality", "es").savefig(spanish)
    assert english.read_bytes() != spanish.read_bytes()
    assert get_language() == "en", "drawing in Spanish must not switch the caller's language"


def test_recovery_figure_tells_the_talks_story_from_the_run() -> None:
    texts = " | ".join(t.text for t in drawn_texts(draw("step5_recovery")))
    assert "crash" in texts and "5 credit B" in texts and "replays 35 events" in texts
    # the two waits students ask about, measured from the run and named
    assert "10.0 s\nstart-to-close timeout" in texts.replace(" | ", "\n") or \
        "start-to-close timeout" in texts
    assert "sticky queue timeout" in texts


def test_the_six_characteristics_read_their_numbers_from_runs() -> None:
    retry = " | ".join(t.text for t in drawn_texts(draw("trait_retry")))
    assert "attempt 1 failed" in retry and "attempt 4: done" in retry
    assert "wait 1.00 s" in retry and "wait 4.00 s" in retry
    timers = " | ".join(t.text for t in drawn_texts(draw("trait_timers")))
    assert "crashed on day 12" in timers and "fired on day 30" in timers
    state = " | ".join(t.text for t in drawn_texts(draw("trait_state")))
    assert "pays only eva" in state and "paid ana" in state


def test_the_measure_finds_small_and_cut_off_text() -> None:
    figure = draw("complexity")
    assert smallest_text_px(figure) >= 20
    figure.axes[0].text(-5, 10, "off the board", fontsize=8)
    texts = drawn_texts(figure)
    assert min(t.px for t in texts) == pytest.approx(8 * 100 / 72)
    assert [t.text for t in texts if not t.inside] == ["off the board"]


def test_every_figure_word_and_outcome_speaks_both_languages() -> None:
    for key in keys():
        set_language("es")
        spanish = say(key, n=1, who="x", d=1, crash=1, limit=1, s="1 s", waits="1 s",
                      days=1, charges=1, fired=1, t="1 s")
        set_language("en")
        english = say(key, n=1, who="x", d=1, crash=1, limit=1, s="1 s", waits="1 s",
                      days=1, charges=1, fired=1, t="1 s")
        assert spanish and english, key
    set_language("es")
    try:
        assert outcome("rolled back") == "revertida" and outcome("completed") == "completada"
        assert all(outcome(word) != word for word in outcomes())
    finally:
        set_language("en")


def test_a_file_as_out_exits_2_with_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    result = durasim("figures", "--out", str(blocker))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is a file, not a folder" in lines[0]
    assert "Traceback" not in result.stderr


def test_an_uncreatable_out_exits_2_with_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = durasim("figures", "--out", str(blocker / "below"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("durasim: cannot create folder")


def test_missing_out_and_unknown_figure_are_usage_errors(tmp_path: Path) -> None:
    for args in (("figures",), ("figures", "--out", str(tmp_path), "--only", "nope")):
        result = durasim(*args)
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_draw_refuses_unknown_names_and_languages() -> None:
    with pytest.raises(ValueError, match="figures: sky, complexity"):
        draw("nope")
    with pytest.raises(ValueError, match="languages: en, es"):
        draw("complexity", "fr")


def test_the_command_lists_every_figure_without_importing_them() -> None:
    from durasim.commands.figures import FIGURE_NAMES

    assert (*FIGURES, *ANIMATIONS) == FIGURE_NAMES
