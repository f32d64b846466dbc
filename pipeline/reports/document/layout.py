"""The page and the table columns of the PDF and the Word document, measured with the one typeface
(pipeline.reports.fonts: Source Sans Pro's advance widths, read with fontTools), so that both formats give every
table the same column widths: number columns as wide as their widest cell (never wrapped, never cut), text columns
(questions, labels) the rest of the text block, wrapped; a table whose number columns leave too little room is set
smaller.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from fontTools.ttLib import TTFont

from pipeline.reports.document.cells import Grid
from pipeline.reports.fonts import FONT_FILES

MM = 72 / 25.4  # points per millimetre
# A4 with the margins of both documents
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210.0, 297.0
MARGIN_X_MM, MARGIN_TOP_MM, MARGIN_BOTTOM_MM = 22.0, 25.0, 25.0
TEXT_WIDTH_PT = (PAGE_WIDTH_MM - 2 * MARGIN_X_MM) * MM
CELL_INSET_PT = 3.0  # left and right padding of a table cell
TABLE_SIZES = (8.5, 8.0, 7.5, 7.0, 6.5)  # font sizes tried, largest first
MIN_TEXT_SHARE = 0.3  # text columns keep at least this share of the width before a smaller size is tried
SLACK = 1.04  # kerning and rounding: a measured number is never wrapped


@functools.cache
def _advances(style: str) -> tuple[dict[int, int], int, int]:
    font = TTFont(FONT_FILES[style])
    cmap = font.getBestCmap()
    hmtx = font["hmtx"].metrics
    widths = {code: hmtx[glyph][0] for code, glyph in cmap.items()}
    units = font["head"].unitsPerEm
    return widths, units, hmtx[".notdef"][0]


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width of one line of text in points at `size`."""
    return _text_units(text, bold) * size / _advances("bold" if bold else "regular")[1]


@functools.lru_cache(maxsize=2**16)
def _text_units(text: str, bold: bool) -> int:
    """The advance widths of a text's characters, summed (font units): a table is laid out at several sizes, for the
    PDF and for Word, and its cells repeat ("12 (50 %)")."""
    widths, _, missing = _advances("bold" if bold else "regular")
    return sum(widths.get(ord(ch), missing) for ch in text)


def longest_word(text: str, size: float, bold: bool = False) -> float:
    return max((text_width(word, size, bold) for word in text.split()), default=0.0)


@dataclass(frozen=True)
class TableLayout:
    """Column widths in points (the stub first, when there is one) and the font size of a table."""

    widths: tuple[float, ...]
    size: float


def _fit(grid: Grid, size: float, width: float) -> tuple[float, ...] | None:
    """Column widths at `size`, or None when the number columns leave the text columns too little."""
    columns = ([("", True, [r.stub or "" for r in grid.rows])] if grid.has_stub else []) + [
        (c.label, c.text, [r.cells[i] for r in grid.rows]) for i, c in enumerate(grid.columns)
    ]
    pad = 2 * CELL_INSET_PT
    fixed: dict[int, float] = {}
    natural: dict[int, float] = {}
    minimum: dict[int, float] = {}
    for i, (label, is_text, cells) in enumerate(columns):
        head = longest_word(label, size, bold=True)
        widest = max((text_width(c, size) for c in cells), default=0.0)
        if is_text:
            natural[i] = max(widest, head) * SLACK + pad
            minimum[i] = max(head, max((longest_word(c, size) for c in cells), default=0.0)) * SLACK + pad
        else:
            fixed[i] = max(widest, head) * SLACK + pad
    left = width - sum(fixed.values())
    if natural and left < max(MIN_TEXT_SHARE * width, sum(minimum.values())):
        return None
    if not natural and left < 0:
        return None
    # text columns: each at least its longest word; what is left over shared in proportion to how much more each
    # would need to stand on one line (so a short label is not wrapped to give a long question more room)
    if natural:
        need = sum(natural.values())
        if need <= left:  # the table spans the text block: the spare room in proportion to the columns' widths
            fixed.update({i: w * left / need for i, w in natural.items()})
        else:
            extra = left - sum(minimum.values())
            want = {i: natural[i] - minimum[i] for i in natural}
            total = sum(want.values()) or 1.0
            fixed.update({i: minimum[i] + extra * want[i] / total for i in natural})
    elif left > 0:
        fixed[len(columns) - 1] += left  # numbers only: the last column takes the rest of the text block
    return tuple(round(fixed[i] - 0.005, 2) for i in range(len(columns)))


def table_layout(grid: Grid, width: float = TEXT_WIDTH_PT) -> TableLayout:
    """The widths and font size of a table in a text block `width` points wide: the largest of TABLE_SIZES at
    which the number columns fit whole and the text columns keep room (the smallest size otherwise)."""
    for size in TABLE_SIZES:
        widths = _fit(grid, size, width)
        if widths is not None:
            return TableLayout(widths, size)
    size = TABLE_SIZES[-1]
    columns = len(grid.columns) + grid.has_stub
    return TableLayout(tuple(round(width / columns - 0.005, 2) for _ in range(columns)), size)
