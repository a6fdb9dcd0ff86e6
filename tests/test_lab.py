"""``make lab`` serves the notebooks on loopback, with token authentication on."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
@pytest.mark.parametrize("language, goals", [(None, "Learning goals"),
                                             ("es", "Objetivos de aprendizaje")])
def test_make_lab_serves_the_notebooks_behind_a_token(language: str | None, goals: str) -> None:
    """``make lab`` opens the English notebooks; ``make lab LANG=es`` the Spanish ones."""
    port = free_port()
    chosen = [f"LANG={language}"] if language else []
    lab = subprocess.Popen(["make", "--no-print-directory", "lab", f"PORT={port}", *chosen],
                           cwd=REPO,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           start_new_session=True, env={**os.environ, "BROWSER": "true"})
    try:
        url = None
        deadline = time.monotonic() + 60
        assert lab.stdout is not None
        while url is None and time.monotonic() < deadline:
            line = lab.stdout.readline()
            if not line:
                break
            found = re.search(rf"(http://127\.0\.0\.1:{port}/lab\?token=\w+)", line)
            url = found.group(1) if found else None
        assert url is not None, "make lab never printed its URL"
        token = url.split("token=")[1]
        api = f"http://127.0.0.1:{port}/api/contents"
        names: set[str] = set()
        while not names and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{api}?token={token}", timeout=10) as response:
                    names = {item["name"] for item in json.load(response)["content"]}
            except urllib.error.URLError:
                time.sleep(0.2)  # printed its URL a moment before it listens
        assert "00_start_here.ipynb" in names
        with urllib.request.urlopen(f"{api}/00_start_here.ipynb?token={token}",
                                    timeout=10) as response:
            first = "".join(json.load(response)["content"]["cells"][0]["source"])
        assert goals in first, f"make lab {' '.join(chosen)} opened the wrong language"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(api, timeout=10)
        assert refused.value.code == 403
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)


@pytest.mark.slow
def test_make_present_serves_the_deck_in_rise_behind_a_token(tmp_path: Path) -> None:
    port = free_port()
    present = subprocess.Popen(
        ["make", "--no-print-directory", "present", f"PORT={port}", "LANG=es"], cwd=REPO,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        env={**os.environ, "BROWSER": "true"})
    try:
        url = None
        deadline = time.monotonic() + 600  # the figures are drawn first
        assert present.stdout is not None
        while url is None and time.monotonic() < deadline:
            line = present.stdout.readline()
            if not line:
                break
            found = re.search(rf"RISE: (http://127\.0\.0\.1:{port}/rise/es\.ipynb\?token=\w+)",
                              line)
            url = found.group(1) if found else None
        assert url is not None, "make present never printed the deck's RISE address"
        page = ""
        while not page and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    page = response.read().decode("utf-8", "replace")
            except urllib.error.URLError:
                time.sleep(0.3)  # printed before JupyterLab listens
        assert "rise" in page.lower()
        token = url.split("token=")[1]
        api = f"http://127.0.0.1:{port}/api/contents/es.ipynb?token={token}"
        with urllib.request.urlopen(api, timeout=10) as response:
            deck = json.load(response)["content"]
        sources = [cell["source"] for cell in deck["cells"]]
        assert any("CrashLab(" in source for source in sources), "the live demo cell"
        assert not any("{{name}}" in source for source in sources), "the author slide"
        assert deck["metadata"]["rise"]["width"] == 1280
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents", timeout=10)
        assert refused.value.code == 403
    finally:
        os.killpg(present.pid, signal.SIGTERM)
        present.wait(timeout=30)
