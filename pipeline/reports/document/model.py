"""The report as a document, independent of its format: a title page and a sequence of blocks (headings, paragraphs,
lists, quotations, figures, tables), numbered once here so that the PDF, the Word document and the Excel workbook say
the same ("Figur 3", "Tabel 2"). Built by pipeline.reports.document.build, rendered by pdf.py, word.py and excel.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pipeline.reports.document.cells import Grid
from pipeline.reports.tables import ReportTable


@dataclass(frozen=True)
class Run:
    """A stretch of text with one style (Markdown emphasis of the analyst's prose)."""

    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False


@dataclass(frozen=True)
class Heading:
    """level 1 opens a chapter (a new page), 2 and 3 are sections; appendix: numbered A, B, … instead of 1, 2, …"""

    text: str
    level: int
    appendix: bool = False


@dataclass(frozen=True)
class Paragraph:
    """style: body, lead (the level's description under its heading) or note (small print)."""

    runs: tuple[Run, ...]
    style: str = "body"


@dataclass(frozen=True)
class BulletList:
    items: tuple[tuple[Run, ...], ...]
    ordered: bool = False


@dataclass(frozen=True)
class Quote:
    """A quotation: an open answer as written, or a Markdown block quote."""

    runs: tuple[Run, ...]


@dataclass(frozen=True)
class Source:
    """Where a table or figure comes from: the marts and their columns (the appendix lists them)."""

    marts: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Figure:
    """A chart: numbered continuously through the document; the SVG (PDF) and PNG (Word) files of figures.py."""

    number: int
    key: str  # the chart's path under reports/figures/ without the extension, e.g. 2024/item-P1
    caption: str
    alt: str
    svg: bytes
    png: bytes
    source: Source


@dataclass(frozen=True)
class Table:
    """A table of the reports (ReportTable, the numbers) with its cells as text (Grid), numbered continuously."""

    number: int
    table: ReportTable
    grid: Grid
    source: Source

    @property
    def caption(self) -> str:
        return self.table.title


Block = Heading | Paragraph | BulletList | Quote | Figure | Table


@dataclass(frozen=True)
class Document:
    """Everything the three formats show. `date` is the newest wave's fielded date (None: no wave is dated), never
    the clock: the same marts and prose give the same bytes."""

    lang: str
    profile: str
    slug: str
    title: str
    subtitle: str
    kicker: str
    publisher: str
    date: dt.date | None
    title_lines: tuple[str, ...]
    title_notes: tuple[str, ...]
    running: str  # the running head's right side: the newest wave
    words: dict[str, str]
    blocks: tuple[Block, ...] = field(default_factory=tuple)

    @property
    def figures(self) -> list[Figure]:
        return [b for b in self.blocks if isinstance(b, Figure)]

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    @property
    def stamp(self) -> dt.datetime:
        """The documents' created/modified time: the date at midnight (1980-01-01, the zip epoch, when undated)."""
        day = self.date or dt.date(1980, 1, 1)
        return dt.datetime(day.year, day.month, day.day)


def heading_numbers(blocks: tuple[Block, ...], appendix_word: str) -> list[str | None]:
    """Per block the number of its heading as the PDF shows it ("2", "2.1", "2.1.1"; an appendix "Bilag A:"), None
    for blocks that are no heading: Word has no numbering of its own here, so both formats number alike."""
    counts = [0, 0, 0]
    appendices = 0
    out: list[str | None] = []
    for block in blocks:
        if not isinstance(block, Heading):
            out.append(None)
            continue
        if block.appendix and block.level == 1:
            appendices += 1
            counts = [0, 0, 0]
            out.append(f"{appendix_word} {chr(ord('A') + appendices - 1)}:")
            continue
        counts[block.level - 1] += 1
        counts[block.level :] = [0] * (3 - block.level)
        out.append(".".join(str(c) for c in counts[: block.level]))
    return out
