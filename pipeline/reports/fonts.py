"""The one typeface of every chart and document: Source Sans Pro, from the PyPI package font-source-sans-pro (pinned
in uv.lock), so that a chart's layout, its PNG and the PDF are the same on every machine (the operating system's
fonts are never used to render). Pages name it first and fall back to the reader's sans-serif."""

from __future__ import annotations

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
    """The font files, for renderers that take a list (typst's font_paths)."""
    return sorted(FONT_FILES.values())
