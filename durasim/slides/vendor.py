"""The browser files an HTML deck loads, bundled so a classroom needs no internet.

reveal.js, require.js and jQuery come from the npm registry's packages, fetched once with
``npm pack`` into a cache (``~/.cache/durasim/npm``) and copied beside the decks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

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
