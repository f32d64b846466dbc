"""Report tables as numbers, formatted by great-tables.

A `ReportTable` is what a table of the reports says, independent of where it is shown: a frame of numbers (one row
per table row: the stub, the row group, the values), the columns as shown (label, number format, values merged into
one cell, e.g. "5 (50 %)"), and the notes. Cells a value cannot fill say why in a text column of the frame,
`<column>__missing`: ":" (hidden by the public profile's disclosure decision), "ikke spurt", … ; a null without one
reads "–". `to_gt` turns it into a great-tables GT (fmt_* with the language's locale, sub_missing, cols_merge), so
the numbers stay numbers up to the page; the document (PDF, Word, Excel) formats the same frames with the same
formats (`format_values`: great-tables' own cell formatter, as `vals.fmt_number` applies it).
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import great_tables._locale
import polars as pl
from great_tables import GT


def _parse_great_tables_data_once() -> None:
    """great-tables (1.1) parses its locale tables (CSV files in the package) again on every fmt_* call with a
    locale: 910 parses, 3.9 s of a 12 s build of the sample. Keep each parsed table for the process (the rows are
    read, never changed, by great-tables; each call gets its own list)."""
    read = great_tables._locale.read_csv
    if getattr(read, "parsed_once", False):
        return
    parsed: dict[str, list] = {}

    def read_csv(fname):
        key = str(fname)
        if key not in parsed:
            parsed[key] = read(fname)
        return list(parsed[key])

    read_csv.parsed_once = True
    great_tables._locale.read_csv = read_csv


_parse_great_tables_data_once()


def _column_writes(body: pl.DataFrame, writes: dict[str, dict[int, object]]) -> pl.DataFrame:
    """`body` with the cells of `writes` (column → row → value) replaced: one new column each, where great-tables
    sets a polars cell at a time (`df[row, column] = value`: a Series built and scattered per cell, ~50 µs)."""
    if not writes:
        return body
    columns = []
    for name, rows in writes.items():
        values = body.get_column(name).to_list()
        for row, value in rows.items():
            values[row] = value
        columns.append(pl.Series(name, values, dtype=body.schema[name]))
    return body.with_columns(columns)


def _flat_column(data: pl.DataFrame, name: str) -> list | None:
    """A column's values as great-tables' `_get_cell` reads them, or None for a nested type (read per cell)."""
    column = data.get_column(name)
    return None if column.dtype.is_nested() else column.to_list()


def _write_cells_per_column() -> None:
    """great-tables (1.1) formats, substitutes, escapes and merges a polars table one cell at a time, each write a
    polars Series of one value scattered into the body (its own TODO says so): ~60 % of rendering a page of 1,800
    rows. The same three loops, with the writes collected and made once per column. Other frame types keep
    great-tables' own loops; `great_tables_as_released()` restores them (the tests compare both)."""
    from great_tables import _cols_merge, _gt_data, gt
    from great_tables._tbl_data import _get_cell, is_na
    from great_tables._text import _process_text

    if getattr(_gt_data.Body.render_formats, "per_column", False):
        return
    released_render_formats = _gt_data.Body.render_formats
    released_migrate = gt._migrate_unformatted_to_output
    released_merge = _cols_merge._apply_single_col_merge

    def render_formats(self, data_tbl, formats, context):
        if not isinstance(self.body, pl.DataFrame) or not isinstance(data_tbl, pl.DataFrame):
            return released_render_formats(self, data_tbl, formats, context)
        formatted_cells: set[tuple[str, int]] = set()
        writes: dict[str, dict[int, object]] = {}
        source: dict[str, list | None] = {}
        for fmt in formats:
            eval_func = getattr(fmt.func, context, fmt.func.default)
            if eval_func is None:  # pragma: no cover
                raise Exception("Internal Error")
            for col, row in fmt.cells.resolve():
                if col not in source:
                    source[col] = _flat_column(data_tbl, col)
                values = source[col]
                result = eval_func(values[row] if values is not None else _get_cell(data_tbl, row, col))
                if isinstance(result, _gt_data.FormatterSkipElement):
                    continue
                formatted_cells.add((col, row))
                writes.setdefault(col, {})[row] = result
        self.body = _column_writes(self.body, writes)
        return formatted_cells

    def migrate_unformatted_to_output(data, data_tbl, formatted_cells, context):
        body = data._body.body
        if not isinstance(body, pl.DataFrame) or not isinstance(data_tbl, pl.DataFrame):
            return released_migrate(data=data, data_tbl=data_tbl, formatted_cells=formatted_cells, context=context)
        writes: dict[str, dict[int, object]] = {}
        for col in data_tbl.columns:
            values = _flat_column(data_tbl, col)
            for row in range(data_tbl.height):
                if (col, row) in formatted_cells:
                    continue
                value = values[row] if values is not None else _get_cell(data_tbl, row, col)
                if value is None or is_na(data_tbl, value):
                    continue
                writes.setdefault(col, {})[row] = _process_text(str(value), context=context)
        data._body.body = _column_writes(body, writes)
        return data

    def apply_single_col_merge(col_merge, body, tbl_data):
        if not isinstance(body.body, pl.DataFrame) or col_merge.type != "merge":
            return released_merge(col_merge=col_merge, body=body, tbl_data=tbl_data)
        col_merge.validate_pattern()
        target = col_merge.vars[0]
        writes: dict[int, object] = {}
        for row in col_merge.rows:  # a row's merge reads only its own row: the writes can wait
            values = [_cols_merge._get_display_value(body, tbl_data, row, name) for name in col_merge.vars]
            writes[row] = col_merge.merge(*values)
        body.body = _column_writes(body.body, {target: writes})
        return body

    render_formats.per_column = True
    _REPLACED.extend(
        [
            (_gt_data.Body, "render_formats", released_render_formats, render_formats),
            (gt, "_migrate_unformatted_to_output", released_migrate, migrate_unformatted_to_output),
            (_cols_merge, "_apply_single_col_merge", released_merge, apply_single_col_merge),
        ]
    )
    for owner, name, _, ours in _REPLACED:
        setattr(owner, name, ours)


_REPLACED: list[tuple[object, str, object, object]] = []  # (module or class, attribute, great-tables', ours)
_write_cells_per_column()


@contextlib.contextmanager
def great_tables_as_released():
    """great-tables' own cell-at-a-time loops for the duration (a test compares their HTML with ours)."""
    for owner, name, released, _ in _REPLACED:
        setattr(owner, name, released)
    try:
        yield
    finally:
        for owner, name, _, ours in _REPLACED:
            setattr(owner, name, ours)


# great-tables locales of the report languages
LOCALES = {"nb": "nb", "da": "da", "en": "en"}
NOT_APPLICABLE = "–"
MISSING_SUFFIX = "__missing"

# Number formats: great-tables fmt_number/fmt_integer arguments (locale added per language).
FORMATS: dict[str, dict[str, object]] = {
    "integer": {"decimals": 0},  # a count: 12 345 (nb), 12.345 (da), 12,345 (en)
    "percent": {"decimals": 0, "pattern": "{x} %"},  # a percentage 0–100: 50 %
    "number0": {"decimals": 0},  # a percentage without its sign (an interval bound): 50
    "decimal1": {"decimals": 1},  # a mean score: 3,5
    "signed0": {"decimals": 0, "force_sign": True},  # a change in percentage points: +12, −3, 0
    "signed1": {"decimals": 1, "force_sign": True},  # a change of a mean: +0,3
}


@dataclass(frozen=True)
class Column:
    """A column as shown: the frame column of its (first) value, its label and number format, and the frame
    columns merged into the same cell (`merge`: (column, format) pairs; `pattern` places them, {0} being this
    column, a << >> section dropped when its value is null, as great-tables' cols_merge)."""

    key: str
    label: str
    number: str = "text"  # text | html (the frame holds an index into ReportTable.html) | a key of FORMATS
    merge: tuple[tuple[str, str], ...] = ()
    pattern: str | None = None
    align: str | None = "right"
    spanner: str | None = None
    nowrap: bool = False

    @property
    def value_columns(self) -> tuple[str, ...]:
        return (self.key, *(c for c, _ in self.merge))


@dataclass(frozen=True)
class ReportTable:
    """One table of the reports (see the module docstring)."""

    id: str
    title: str
    subtitle: str | None
    frame: pl.DataFrame
    columns: tuple[Column, ...]
    stub: str | None = None
    group: str | None = None
    notes: tuple[str, ...] = ()
    html: tuple[str, ...] = ()  # HTML fragments the `html` columns point to (inline SVG bars)
    font_size: str | None = None
    row_padding: str | None = None
    widths: tuple[tuple[str, str], ...] = ()

    def missing_text(self, column: str) -> list[str | None]:
        """Per row, the text of a null in `column` (None: the value is there)."""
        values = self.frame.get_column(column).to_list()
        name = column + MISSING_SUFFIX
        why = self.frame.get_column(name).to_list() if name in self.frame.columns else [None] * len(values)
        return [None if v is not None else (NOT_APPLICABLE if w is None else w) for v, w in zip(values, why)]


def missing_column(column: str, texts: Sequence[str | None]) -> pl.Series:
    """The `<column>__missing` series of a frame: per row the text shown instead of a null value."""
    return pl.Series(column + MISSING_SUFFIX, list(texts), dtype=pl.Utf8)


def _optional(pattern: str | None, index: int) -> bool:
    """Whether value {index} stands in a << >> section of a cols_merge pattern."""
    return pattern is not None and re.search(r"<<[^>]*\{" + str(index) + r"\}[^<]*>>", pattern) is not None


def _row_indices(texts: list[str | None]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        if text is not None:
            out.setdefault(text, []).append(i)
    return out


def to_gt(table: ReportTable, lang: str) -> GT:
    """The table as a great-tables GT in the language's locale."""
    locale = LOCALES[lang]
    shown = [c for col in table.columns for c in col.value_columns]
    keep = [c for c in (table.group, table.stub) if c] + shown
    frame = table.frame.select(keep)
    gt = GT(frame, rowname_col=table.stub, groupname_col=table.group, id=table.id)
    gt = gt.tab_header(title=table.title, subtitle=table.subtitle)
    labels = {col.key: col.label for col in table.columns}
    gt = gt.cols_label(**labels)
    for col in table.columns:
        for name, number in ((col.key, col.number), *col.merge):
            if number in FORMATS:
                gt = gt.fmt_number(name, locale=locale, **FORMATS[number])
            elif number == "html":
                fragments = table.html
                gt = gt.fmt(lambda i, fragments=fragments: fragments[int(i)], columns=name)
        key_present = table.frame.get_column(col.key).is_not_null().to_list()
        for i, name in enumerate(col.value_columns):
            if i and _optional(col.pattern, i):
                continue  # a << >> section: dropped with its value, never filled in
            texts = table.missing_text(name)
            if i:  # a merged value is filled in only beside a first value (else the cell is the first's text)
                texts = [t if present else None for t, present in zip(texts, key_present)]
            for text, rows in sorted(_row_indices(texts).items()):
                gt = gt.sub_missing(columns=name, rows=rows, missing_text=text)
    spanners: dict[str, list[str]] = {}
    for col in table.columns:
        if col.spanner:
            spanners.setdefault(col.spanner, []).append(col.key)
    for label, keys in spanners.items():
        gt = gt.tab_spanner(label=label, columns=keys)
    right = [c.key for c in table.columns if c.align == "right"]
    left = [c.key for c in table.columns if c.align == "left"]
    if right:
        gt = gt.cols_align("right", columns=right)
    if left:
        gt = gt.cols_align("left", columns=left)
    for col in table.columns:
        if col.merge:
            # merged where any value is there; a row without any shows the first value's missing text alone
            values = table.frame.select(col.value_columns)
            rows = [i for i, row in enumerate(values.iter_rows()) if any(v is not None for v in row)]
            if rows:
                gt = gt.cols_merge([col.key, *(c for c, _ in col.merge)], rows=rows, pattern=col.pattern)
            else:
                gt = gt.cols_hide([c for c, _ in col.merge])
    nowrap = [c.key for c in table.columns if c.nowrap]
    if nowrap:
        gt = gt.opt_css(nowrap_css(table.id, nowrap))
    if table.widths:
        gt = gt.cols_width(dict(table.widths))
    options = {k: v for k, v in (("table_font_size", table.font_size), ("data_row_padding", table.row_padding)) if v}
    if options:
        gt = gt.tab_options(**options)
    for note in table.notes:
        gt = gt.tab_source_note(note)
    return gt


def nowrap_css(table_id: str, columns: list[str]) -> str:
    """One CSS rule keeping the body cells of `columns` on one line. (tab_style() on every cell did the same
    with an inline style per cell, but great-tables matches every cell against every style: cells² work.)"""
    selectors = ", ".join(f'#{table_id} td[headers~="{table_id}-{c}"]' for c in columns)
    return f"{selectors} {{ white-space: nowrap; }}"


@functools.cache
def number_formatter(number: str, lang: str) -> Callable[[float | int], str]:
    """The function great-tables formats one cell of a `fmt_number` column with (locale marks resolved, html
    context), taken from a one-cell GT: what `vals.fmt_number` applies to each value, without building a table per
    call (~2 ms a call; a document over 100 waves made 4,000 calls, 8 s)."""
    gt = GT(pl.DataFrame({"x": [0.0]})).fmt_number("x", locale=LOCALES[lang], **FORMATS[number])
    return gt._formats[-1].func.html


# (number format, language, value) → its text, formatted once per process.
_FORMATTED: dict[tuple[str, str, float | int], str] = {}


def format_values(values: Sequence[float | int | None], number: str, lang: str) -> list[str | None]:
    """Values formatted as to_gt formats a column of this number format (None stays None)."""
    if number not in FORMATS:
        return [None if v is None else str(v) for v in values]
    out: list[str | None] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        key = (number, lang, v)
        text = _FORMATTED.get(key)
        if text is None:
            text = _FORMATTED[key] = number_formatter(number, lang)(v)
        out.append(text)
    return out


def table_frame(records: list[dict[str, object]], columns: Sequence[Column], text: Sequence[str]) -> pl.DataFrame:
    """The frame of a ReportTable from its rows (dicts; a value left out is null): `text` names the text columns
    beyond the shown ones (stub, row group), every shown value column is typed by its format (integer: Int64, other
    numbers: Float64, text and html: Utf8) and gets its `<column>__missing` texts."""
    schema: dict[str, pl.DataType] = {name: pl.Utf8 for name in text}
    for col in columns:
        for name, number in ((col.key, col.number), *col.merge):
            schema[name] = pl.Int64 if number == "integer" else (pl.Float64 if number in FORMATS else pl.Utf8)
        schema[col.key + MISSING_SUFFIX] = pl.Utf8
    return pl.DataFrame({name: [r.get(name) for r in records] for name in schema}, schema=schema)
