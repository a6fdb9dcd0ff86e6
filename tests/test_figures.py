"""``durasim figures --out DIR``: the slides' pictures, all drawn by durasim.

The command is started as a user starts it (a subprocess), so what is checked is what the
slides build gets: real PNG files, one per figure, in both languages, and one line with
status 2 for a bad ``--out``, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from durasim.figures import FIGURES, draw
from durasim.i18n import get_language
from tests.conftest import REPO

PNG = b"\x89PNG\r\n\x1a\n"
#: The six pictures the issue asks for, by the names the slides use.
REQUIRED = ("complexity", "monolith_transaction", "transactionality", "event_driven",
            "durable_execution", "step5_recovery")


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
    assert len(written) >= 6
    assert {p.stem for p in written} >= set(REQUIRED)
    for path in written:
        data = path.read_bytes()
        assert data.startswith(PNG), path
        assert len(data) > 10_000, f"{path.name} is suspiciously small ({len(data)} bytes)"
    assert result.stdout.splitlines() == [str(out / f"{name}.png") for name in FIGURES]


def test_labels_follow_the_language(tmp_path: Path) -> None:
    english = tmp_path / "en.png"
    spanish = tmp_path / "es.png"
    draw("transactionality", "en").savefig(english)
    draw("transactionality", "es").savefig(spanish)
    assert english.read_bytes() != spanish.read_bytes()
    assert get_language() == "en", "drawing in Spanish must not switch the caller's language"


def test_recovery_figure_shows_the_crash_and_the_replay() -> None:
    figure = draw("step5_recovery")
    texts = " ".join(t.get_text() for ax in figure.axes for t in ax.texts)
    assert "5 deposit" in texts
    assert "replay" in texts


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
    with pytest.raises(ValueError, match="figures: complexity"):
        draw("nope")
    with pytest.raises(ValueError, match="languages: en, es"):
        draw("complexity", "fr")


def test_the_command_lists_every_figure_without_importing_them() -> None:
    from durasim.commands.figures import FIGURE_NAMES
    from durasim.figures import FIGURES

    assert tuple(FIGURES) == FIGURE_NAMES
