"""A ReportTable (pipeline.reports.tables) as the text of its cells, for the PDF and the Word document: the same
frame, formatted with the same formats (format_values, great-tables' vals in the language's locale), merged with the
same patterns and with the same missing texts as to_gt gives the pages, so every number reads exactly as on the pages
(tests/reports/test_document_cells.py compares every cell with the pages' HTML).

Columns of number format `html` (the pages' inline SVG bars) are left out: the documents show the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.reports.tables import FORMATS, Column, ReportTable, _optional, format_values

MISSING_TOKEN = "\0missing\0"


@dataclass(frozen=True)
class GridColumn:
    """A column as the documents show it: its label, whether it holds text (wraps, left-aligned) or numbers
    (right-aligned, never wrapped) and the spanner label above it (None: none)."""

    key: str
    label: str
    text: bool
    spanner: str | None = None


@dataclass(frozen=True)
class GridRow:
    """A body row: its row group (None: the table has none), the stub and one text per column."""

    group: str | None
    stub: str | None
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Grid:
    """The text of a table: the columns after the stub, the rows in the frame's order, the notes."""

    id: str
    title: str
    subtitle: str | None
    has_stub: bool
    columns: tuple[GridColumn, ...]
    rows: tuple[GridRow, ...]
    notes: tuple[str, ...]


def _texts(table: ReportTable, name: str, number: str, lang: str) -> list[str | None]:
    values = table.frame.get_column(name).to_list()
    if number in FORMATS:
        return format_values(values, number, lang)
    return [None if v is None else str(v) for v in values]


def apply_pattern(pattern: str | None, texts: list[str | None]) -> str:
    """great-tables' cols_merge: {i} replaced by the i-th text; a << >> section holding a missing text (None) is
    dropped; a missing text elsewhere reads "NA" (as in great-tables; the tables never leave one there)."""
    pattern = pattern or " ".join(f"{{{i}}}" for i in range(len(texts)))
    out = pattern
    for i, text in enumerate(texts):
        out = out.replace(f"{{{i}}}", MISSING_TOKEN if text is None else text)
    while "<<" in out and ">>" in out:
        start = out.rfind("<<")
        end = out.find(">>", start)
        if end < 0:
            break
        section = out[start + 2 : end]
        out = out[:start] + ("" if MISSING_TOKEN in section else section) + out[end + 2 :]
    return out.replace(MISSING_TOKEN, "NA")


def column_texts(table: ReportTable, col: Column, lang: str) -> list[str]:
    """Per row the text of one shown column, as to_gt shows it (see the module docstring)."""
    names = col.value_columns
    numbers = (col.number, *(number for _, number in col.merge))
    formatted = [_texts(table, name, number, lang) for name, number in zip(names, numbers)]
    key_missing = table.missing_text(col.key)
    if not col.merge:
        return [text if text is not None else missing for text, missing in zip(formatted[0], key_missing)]
    present = [table.frame.get_column(name).is_not_null().to_list() for name in names]
    missing = [key_missing, *(table.missing_text(name) for name in names[1:])]
    out = []
    for row in range(table.frame.height):
        if not any(p[row] for p in present):
            out.append(key_missing[row])
            continue
        texts: list[str | None] = []
        for i in range(len(names)):
            if formatted[i][row] is not None:
                texts.append(formatted[i][row])
            elif i == 0:
                texts.append(missing[0][row])
            elif _optional(col.pattern, i) or not present[0][row]:
                texts.append(None)  # not filled in by to_gt: a << >> section is dropped with it
            else:
                texts.append(missing[i][row])
        out.append(apply_pattern(col.pattern, texts))
    return out


def is_text_column(col: Column) -> bool:
    """A column of words (wrapped, left-aligned) rather than numbers."""
    return col.number == "text"


def grid(table: ReportTable, lang: str) -> Grid:
    """The table's cells as text (html columns left out), rows in the frame's order."""
    shown = [col for col in table.columns if col.number != "html"]
    columns = tuple(GridColumn(col.key, col.label, is_text_column(col), col.spanner) for col in shown)
    per_column = [column_texts(table, col, lang) for col in shown]
    groups = table.frame.get_column(table.group).to_list() if table.group else [None] * table.frame.height
    stubs = table.frame.get_column(table.stub).to_list() if table.stub else [None] * table.frame.height
    rows = tuple(
        GridRow(group, stub, tuple(texts[i] for texts in per_column))
        for i, (group, stub) in enumerate(zip(groups, stubs))
    )
    return Grid(table.id, table.title, table.subtitle, table.stub is not None, columns, rows, table.notes)
