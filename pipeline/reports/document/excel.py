"""The document's tables as an Excel workbook (xlsxwriter): a first sheet explaining every sheet's columns, then one
sheet per table of the document ("Tabel 3"), from the same ReportTable frames as the PDF and Word tables.

Numbers are numbers: counts as integers, percentages as fractions with a percent format (0.5 → 50 %), means and
changes with decimal and signed formats; every value a column merges on the pages ("5 (50 %)", "90 % (60–98)") is a
column of its own. A value that is not in the frame (hidden by the public profile, or not there) is the pages' text
for it (":", "–"): the public profile's hidden numbers are not in the workbook. Header rows frozen, each table an
Excel table (filter buttons), A4 print setup with the header repeated.

Byte-identical: xlsxwriter dates every zip entry 1980-01-01 and takes the core properties' dates from
set_properties (the document's date, never the clock).
"""

from __future__ import annotations

import io
import re

import xlsxwriter

from pipeline.reports.document.model import Document, Table
from pipeline.reports.tables import Column, ReportTable

# number format of the pages → (Excel number format, divide by 100 first)
EXCEL_FORMATS = {
    "integer": ("#,##0", False),
    "percent": ("0%", True),
    "number0": ("0%", True),
    "decimal1": ("0.0", False),
    "signed0": ("+0;-0;0", False),
    "signed1": ("+0.0;-0.0;0.0", False),
}
MEANING = {
    "text": "fmt_text",
    "integer": "fmt_integer",
    "percent": "fmt_percent",
    "number0": "fmt_percent",
    "decimal1": "fmt_decimal",
    "signed0": "fmt_signed",
    "signed1": "fmt_signed",
}


def value_labels(col: Column, words: dict[str, str]) -> list[str]:
    """The header of each value a shown column holds: its label alone when it holds one; else, where the label
    names the parts as the pattern joins them ("Op / uændret / ned"), each part; else the label with what each
    value is (count, %, lower and upper bound)."""
    names = col.value_columns
    if len(names) == 1:
        return [col.label]
    for sep in (" / ", " → "):
        if col.pattern and sep in col.pattern and len(col.label.split(sep)) == len(names):
            return [part.strip() for part in col.label.split(sep)]
    numbers = (col.number, *(n for _, n in col.merge))
    lows = [n.endswith("_low") for n in names[1:]]
    highs = [n.endswith("_high") for n in names[1:]]
    out = []
    for i, number in enumerate(numbers):
        if i == 0:
            if any(lows):  # a value with its interval
                out.append(col.label)
            elif any(highs):  # a range: this value is its lower end
                out.append(f"{col.label}: {words['ci_low']}")
            elif number == "integer":
                out.append(f"{col.label}: {words['count']}")
            else:
                out.append(col.label)
        elif lows[i - 1]:
            out.append(f"{col.label}: {words['ci_low']}")
        elif highs[i - 1]:
            out.append(f"{col.label}: {words['ci_high']}")
        elif number == "integer":
            out.append(f"{col.label}: {words['count']}")
        else:
            out.append(f"{col.label}: %")
    return out


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        label = label or "–"
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def sheet_columns(table: ReportTable, words: dict[str, str]) -> list[tuple[str, str, str]]:
    """(header, frame column, number format) of every column of a table's sheet, row labels first."""
    out: list[tuple[str, str, str]] = []
    if table.group:
        out.append((words["group"], table.group, "text"))
    if table.stub:
        out.append((words["row"], table.stub, "text"))
    for col in table.columns:
        if col.number == "html":
            continue
        labels = value_labels(col, words)
        numbers = (col.number, *(n for _, n in col.merge))
        out += [(label, name, number) for label, name, number in zip(labels, col.value_columns, numbers)]
    headers = _unique([h for h, _, _ in out])
    return [(h, name, number) for h, (_, name, number) in zip(headers, out)]


def cell_values(table: ReportTable, name: str, number: str, key: str | None) -> list[object]:
    """A frame column as cell values: numbers (percentages as fractions), or the text shown for a missing value
    (its own missing text, else that of the column it is merged into)."""
    values = table.frame.get_column(name).to_list()
    own = table.missing_text(name)
    keyed = table.missing_text(key) if key and key != name else [None] * len(values)
    scale = EXCEL_FORMATS.get(number, ("", False))[1]
    out: list[object] = []
    for value, missing, key_missing in zip(values, own, keyed):
        if value is None:
            has_own = (name + "__missing") in table.frame.columns
            out.append(missing if has_own or key_missing is None else key_missing)
        elif number in EXCEL_FORMATS:
            out.append(value / 100 if scale else value)
        else:
            out.append(str(value))
    return out


def sheet_name(block: Table, words: dict[str, str]) -> str:
    return re.sub(r"[\[\]:*?/\\]", "", f"{words['table']} {block.number}")[:31]


def xlsx_bytes(d: Document) -> bytes:
    """The workbook of the document's tables."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    )
    book.set_properties(
        {"title": d.title, "author": d.publisher, "created": d.stamp, "company": "", "comments": d.words["about_text"]}
    )
    head = book.add_format({"bold": True, "text_wrap": True, "valign": "bottom", "bottom": 1, "bg_color": "#E8EDF2"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    title = book.add_format({"bold": True, "font_size": 13})
    small = book.add_format({"font_size": 9, "font_color": "#5A5A5A"})
    formats = {
        number: book.add_format({"num_format": fmt, "valign": "top"}) for number, (fmt, _) in EXCEL_FORMATS.items()
    }
    words = d.words
    about = book.add_worksheet(words["about"][:31])
    about.write(0, 0, d.title, title)
    about.write(1, 0, words["about_text"])
    for i, note in enumerate(d.title_notes, start=2):
        about.write(i, 0, note)
    first = len(d.title_notes) + 3
    about.write_row(first, 0, [words["sheet"], words["column"], words["meaning"]], head)
    row = first + 1
    for block in d.tables:
        name = sheet_name(block, words)
        for header, _, number in sheet_columns(block.table, words):
            about.write_row(row, 0, [name, header, words[MEANING.get(number, "fmt_text")]], wrap)
            row += 1
        sources = "; ".join(f"{mart}: {', '.join(cols)}" for mart, cols in block.source.marts)
        if sources:
            about.write_row(row, 0, [name, words["sources"], sources], wrap)
            row += 1
    about.set_column(0, 0, 12)
    about.set_column(1, 1, 32)
    about.set_column(2, 2, 90)
    about.freeze_panes(first + 1, 0)
    about.set_paper(9)
    about.fit_to_pages(1, 0)

    for block in d.tables:
        table = block.table
        sheet = book.add_worksheet(sheet_name(block, words))
        sheet.write(0, 0, f"{words['table']} {block.number}: {table.title}", title)
        if table.subtitle:
            sheet.write(1, 0, table.subtitle)
        columns = sheet_columns(table, words)
        keys = {name: col.key for col in table.columns for name in col.value_columns}
        data = [cell_values(table, name, number, keys.get(name)) for _, name, number in columns]
        rows = [list(r) for r in zip(*data)] if data else []
        top = 3
        spec = {
            "name": f"Tabel{block.number}",
            "style": "Table Style Light 1",
            "columns": [
                {"header": h, "header_format": head, "format": formats.get(number, wrap)} for h, _, number in columns
            ],
        }
        if rows:
            spec["data"] = rows
        sheet.add_table(top, 0, top + max(len(rows), 1), len(columns) - 1, spec)
        sheet.set_row(top, 45)
        text_cols = [i for i, (_, name, number) in enumerate(columns) if number == "text"]
        for i, (_, name, _) in enumerate(columns):
            sheet.set_column(i, i, 45 if i in text_cols and name not in (table.group, table.stub) else 12)
        for r, values in enumerate(rows, start=top + 1):  # wrapped text: a height per row (no reader re-fits)
            longest = max((len(str(values[i])) for i in text_cols), default=0)
            sheet.set_row(r, 15 * max(1, -(-longest // 50)))
        sheet.freeze_panes(top + 1, sum(1 for n in (table.group, table.stub) if n))
        for i, note in enumerate(table.notes, start=top + max(len(rows), 1) + 2):
            sheet.write(i, 0, note, small)
        sheet.set_paper(9)
        sheet.set_landscape()
        sheet.fit_to_pages(1, 0)
        sheet.repeat_rows(top)
    book.close()
    return buffer.getvalue()
