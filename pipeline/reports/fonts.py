"""The one typeface of every chart and document: Source Sans Pro, from the PyPI package font-source-sans-pro (pinned
in uv.lock), so that a chart's layout, its PNG and the PDF are the same on every machine (the operating system's
fonts are never used to render). Pages name it first and fall back to the reader's sans-serif."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from functools import cache
from pathlib import Path

import font_source_sans_pro

FONT_FAMILY = "Source Sans Pro"
CSS_FONT_STACK = "'Source Sans Pro', 'Source Sans 3', -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
FONT_DIR = Path(font_source_sans_pro.__file__).parent / "files"
FONT_FILES = {
    "regular": FONT_DIR / "SourceSansPro-Regular.ttf",
    "bold": FONT_DIR / "SourceSansPro-Bold.ttf",
    "italic": FONT_DIR / "SourceSansPro-It.ttf",
    "semibold": FONT_DIR / "SourceSansPro-Semibold.ttf",
}


def font_paths() -> list[Path]:
    """The font files, for renderers that take a list of files (typst takes folders: font_dir)."""
    return sorted(FONT_FILES.values())


@cache
def font_dir() -> Path:
    """A folder holding exactly the font files (symlinks), for typst's font_paths: typst reads folders only (a file
    named there is skipped without a word, and typst falls back to its own serif), and the package's folder holds
    every weight twice (OTF and TTF), of which typst could pick either. One folder per set of font paths under the
    system's temporary folder, made once (atomically: a process that finds another's folder uses it)."""
    files = font_paths()
    digest = hashlib.sha256("\0".join(str(p) for p in files).encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"samskabelse-fonts-{digest}"
    if not all((folder / p.name).resolve() == p.resolve() for p in files):
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        for path in files:
            (tmp / path.name).symlink_to(path)
        try:
            tmp.rename(folder)
        except OSError:  # made by another process meanwhile (or a broken one is in the way: replace it)
            if not all((folder / p.name).resolve() == p.resolve() for p in files):
                shutil.rmtree(folder, ignore_errors=True)
                tmp.rename(folder)
            else:
                shutil.rmtree(tmp)
    return folder
