"""Serve a notebook with Voilà on 127.0.0.1 for one test, and always stop it.

The server binds to the loopback interface on a free port and keeps token
authentication on (Voilà turns it off unless given a token, so the test gives it one).
It runs in its own process group so stopping it also stops the kernel it started.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE / "crashlab.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def requirements() -> str | None:
    """Why a browser test cannot run here, or None."""
    if not CHROMIUM.exists():
        return (f"{CHROMIUM} is missing: install Debian's chromium (make chromium, or "
                "apt-get install chromium); browsers are never downloaded")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install 'durasim[dev]')"
    if voila_command() is None:
        return "voila is not installed (pip install 'durasim[lab]')"
    return None


_WATCH = """(selector) => {
  window.__durasimLast = performance.now();
  const root = document.querySelector(selector);
  new MutationObserver(() => { window.__durasimLast = performance.now(); })
    .observe(root, {subtree: true, childList: true, attributes: true, characterData: true});
}"""


def watch_mutations(page: Any, selector: str) -> None:
    """Record, in the page, when anything under ``selector`` last changed."""
    page.evaluate(_WATCH, selector)


def click_at(page: Any, locator: Any) -> float:
    """Click ``locator``; the page's clock (ms) just before the click."""
    started: float = page.evaluate("performance.now()")
    locator.click()
    return started


def settled_after(page: Any, started: float, *, quiet_ms: float = 400.0,
                  timeout_ms: float = 60_000.0) -> float:
    """Milliseconds from ``started`` until the watched output last changed, once it has
    changed and then stayed still for ``quiet_ms`` (so the last change is the end)."""
    page.wait_for_function(
        "([started, quiet]) => window.__durasimLast > started && "
        "performance.now() - window.__durasimLast > quiet",
        arg=[started, quiet_ms], timeout=timeout_ms, polling=50)
    last: float = page.evaluate("window.__durasimLast")
    return last - started


def free_port() -> int:
    """A TCP port nobody listens on right now, on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def voila_command() -> list[str] | None:
    """How to start Voilà with the test's own Python, or None when it is not installed."""
    script = Path(sys.executable).with_name("voila")
    if script.exists():
        return [str(script)]
    found = shutil.which("voila")
    return [found] if found else None


@contextmanager
def serve(notebook: Path = NOTEBOOK, *, timeout: float = 90.0,
          log: Path | None = None) -> Iterator[str]:
    """Start Voilà on ``notebook``; yield its URL (with the token); stop it on exit.

    Raises:
        RuntimeError: Voilà is missing, or did not answer within ``timeout`` seconds
            (the message ends with the tail of its log).
    """
    command = voila_command()
    if command is None:
        raise RuntimeError("voila is not installed (pip install 'durasim[lab]')")
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["MPLBACKEND"] = "Agg"
    env.pop("JUPYTER_TOKEN", None)
    out = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [*command, str(notebook), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
         f"--Voila.token={token}", "--VoilaConfiguration.show_tracebacks=True"],
        cwd=notebook.parent, env=env, stdout=out, stderr=subprocess.STDOUT,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}/?token={token}"
    try:
        _wait_until_up(url, process, timeout, log)
        yield url
    finally:
        _stop(process)
        if log is not None and not isinstance(out, int):
            out.close()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float,
                   log: Path | None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"voila exited with code {process.returncode}{_tail(log)}")
        try:
            with urllib.request.urlopen(url.replace("/?", "/api/status?"), timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers: up (the status API may want a different path)
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"voila did not answer on {url.split('?')[0]} within {timeout:.0f} s"
                       f"{_tail(log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop Voilà and its kernel (its whole process group): politely, then firmly."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(log: Path | None) -> str:
    if log is None or not log.exists():
        return ""
    lines = log.read_text(errors="replace").splitlines()[-15:]
    return ":\n" + "\n".join(lines)
