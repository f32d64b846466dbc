"""Readers: one export file → its header row and data rows, every cell as text (blank = null).

The rest of the pipeline never sees the file format: a reader returns an `Export` whose frame has one
text column per export column (named c0, c1, … so duplicate headers survive) plus `source_row`, the
number of the record under the header row (1 = first row under the header). Completely blank rows are
dropped (they carry no answer); the row numbers of the other rows stay those of the file.

| ending            | reader                                                                    |
|-------------------|---------------------------------------------------------------------------|
| .csv .tsv .txt    | encoding sniffed (UTF-8 with/without BOM, UTF-16 with BOM, Windows-1252), |
|                   | delimiter sniffed (`,` `;` tab, or an Excel `sep=` line), read by polars   |
| .xlsx .xlsm .xls  | fastexcel (calamine; also .xlsb and LibreOffice .ods): the sheet named in |
|                   | wave.yaml `sheet:`, else a sheet called                                   |
|                   | "Dataset" (SurveyXact), else the first sheet                              |
| .sav .zsav        | pyreadstat: codes as text, value labels, variable labels and the declared |
|                   | user-missing codes kept (missing_values)                                  |

Numbers are written as text without a trailing ".0" (1.0 → "1"), so the same id or code reads the same
from a CSV, a workbook or an SPSS file.

Hostile or broken files end in one `ExportError` naming the file (and the line, where there is one) and
what to do — never another exception: empty files, NUL bytes (binary data, UTF-32), bytes that are
neither UTF-8 nor Windows-1252, rows wider than the header, unreadable workbooks and SPSS files. Classic
Mac line endings (CR only) are read as line breaks. Files larger than `max_bytes` (default
MAX_EXPORT_BYTES; for a workbook the unpacked sheets, for SPSS rows × row width) are refused before they
are read: reading takes about 20 times the file size in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline.ingest.unpacked import is_zip_export, measure

ROW = "source_row"
SAMPLE_BYTES = 1 << 16
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
# Largest export read (bytes). Reading takes about 20 times the file size in memory (measured: a 100 MB
# CSV of 290 000 respondents peaks at 2.1 GB); a survey export is rarely above a few MB.
MAX_EXPORT_BYTES = 256 * 1024 * 1024


class ExportError(ValueError):
    """The export cannot be read; the message names the file and what to do."""


def shorten(text: str, limit: int = 200) -> str:
    """repr() of a value for a message, cut to about limit characters (the data itself is never cut)."""
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + f"… ({len(text)} characters)"


def delimiter_name(delimiter: str) -> str:
    return DELIMITER_NAMES.get(delimiter, repr(delimiter))


def size_text(n: int) -> str:
    """2147483648 → "2.0 GiB (2147483648 bytes)"."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor:
            return f"{n / factor:.1f} {unit} ({n} bytes)"
    return f"{n} bytes"


def too_large(path: Path, what: str, size: int, limit: int) -> ExportError:
    return ExportError(
        f"{path}: {what} is {size_text(size)}, more than the limit of {size_text(limit)} "
        "(PIPELINE_MAX_EXPORT_BYTES); it was not read. Export only the survey's responses, or raise the limit "
        "if the machine has about 20 times that size in free memory"
    )


def check_size(path: Path, limit: int) -> None:
    """Refuse a file before reading it when it (or what it unpacks to) is larger than limit bytes."""
    size = path.stat().st_size
    if size > limit:
        raise too_large(path, "the file", size, limit)
    if is_zip_export(path):  # measured by unpacking it (pipeline.ingest.unpacked), never by what it declares
        try:
            unpacked = measure(path, limit)
        except Exception:  # a broken zip raises many kinds of error: the workbook reader explains what is wrong
            return
        if unpacked.over_limit:
            raise ExportError(
                f"{path}: the workbook unpacks to more than the limit of {size_text(limit)} "
                "(PIPELINE_MAX_EXPORT_BYTES; measured by unpacking it, not by the sizes it declares); it was not "
                "read. Export only the survey's responses, or raise the limit if the machine has about 20 times "
                "that size in free memory"
            )
        if unpacked.lying_member is not None:
            raise ExportError(
                f"{path}: the workbook's part {shorten(unpacked.lying_member, 80)} unpacks to another size than it "
                "declares (a damaged or crafted file); it was not read. Save the workbook again from the survey tool "
                "or a spreadsheet program"
            )


@dataclass(frozen=True)
class Export:
    path: Path
    headers: list[str]
    frame: pl.DataFrame  # c0..cN (Utf8, null = blank) + source_row (Int64); one row per data row, file order
    format: str  # csv, xlsx or sav
    encoding: str | None = None  # csv: the encoding found
    delimiter: str | None = None  # csv: the delimiter found
    sheet: str | None = None  # xlsx: the sheet read
    sheets: tuple[str, ...] = ()  # xlsx: every sheet of the workbook
    value_labels: dict[int, dict[str, str]] = field(default_factory=dict)  # column index → code → label
    variable_labels: dict[int, str] = field(default_factory=dict)  # column index → variable label (SPSS)
    # column index → the codes (as text) the file declares user-missing (SPSS "DK", "NA", …): unanswered
    # unless wave.yaml `values:` maps them to a category
    missing_values: dict[int, frozenset[str]] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return self.frame.height

    @property
    def names(self) -> list[str]:
        return [f"c{i}" for i in range(len(self.headers))]

    def row_values(self, i: int) -> list[str]:
        """The cells of the i-th data row (0-based) as text, blank as ""."""
        row = self.frame.row(i, named=True)
        return ["" if row[n] is None else row[n] for n in self.names]


# Text --------------------------------------------------------------------------------------------
def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _check_utf8(body: bytes) -> None:
    """Raise UnicodeDecodeError (with the offset in body) unless body is UTF-8; chunked, keeps no text."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    step = 1 << 24
    for start in range(0, len(body), step):
        try:
            decoder.decode(body[start : start + step], final=start + step >= len(body))
        except UnicodeDecodeError as exc:
            raise UnicodeDecodeError(exc.encoding, body, start + exc.start, start + exc.end, exc.reason) from None


# A well-formed multi-byte UTF-8 sequence (RFC 3629): common in UTF-8 text, rare by accident in Windows-1252.
UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


def _damaged_utf8(body: bytes, exc: UnicodeDecodeError, path: Path) -> ExportError | None:
    """The error for UTF-8 text with a few broken bytes (cut short, or a line pasted from elsewhere), or None
    when the bytes are rather Windows-1252 (more bytes break UTF-8 than form UTF-8 characters). Reading such
    a file as Windows-1252 would turn every æøå of it into mojibake."""
    valid = sum(1 for _ in UTF8_SEQUENCE.finditer(body))
    if not valid:
        return None
    invalid = body.decode("utf-8", errors="replace").count("\ufffd") - body.count(b"\xef\xbf\xbd")
    if valid <= invalid:
        return None
    if exc.end == len(body) and exc.reason == "unexpected end of data":
        return ExportError(
            f"{path}: the file ends in the middle of a character (UTF-8): it was cut short, e.g. "
            "copied before the export had finished; copy or export it again"
        )
    return ExportError(
        f"{path}: line {_line_of(body, exc.start)} holds byte 0x{body[exc.start]:02x}, which is not UTF-8, while "
        f"the rest of the file is UTF-8 ({invalid} such byte(s)): the file is damaged or mixes encodings; export "
        "it again as UTF-8 CSV"
    )


def to_utf8(raw: bytes, path: Path) -> tuple[bytes, str]:
    """Bytes of a text export → (UTF-8 bytes without BOM, encoding found). BOMs decide first; then UTF-8
    (passed on as is); then Windows-1252 — unless the bytes are UTF-8 with a few broken ones (ExportError)."""
    if raw.startswith(codecs.BOM_UTF8):
        encoding, body = "utf-8-sig", raw[len(codecs.BOM_UTF8) :]
    elif raw.startswith(codecs.BOM_UTF16_LE) or raw.startswith(codecs.BOM_UTF16_BE):
        encoding, body = "utf-16", raw
    elif len(raw) >= 4 and raw[1] == 0 and raw[3] == 0 and raw[0] != 0:
        encoding, body = "utf-16-le", raw  # UTF-16 without BOM (rare): every second byte is NUL
    elif len(raw) >= 4 and raw[0] == 0 and raw[2] == 0 and raw[1] != 0:
        encoding, body = "utf-16-be", raw
    else:
        encoding, body = "utf-8", raw
    if encoding.startswith("utf-16"):
        try:
            return body.decode(encoding).lstrip("\ufeff").encode("utf-8"), encoding
        except UnicodeDecodeError as exc:
            raise ExportError(
                f"{path}: starts like UTF-16 text but byte {exc.start} cannot be decoded; export the file again "
                "as UTF-8 CSV"
            ) from None
    try:
        _check_utf8(body)
        return body, encoding
    except UnicodeDecodeError as exc:
        damaged = _damaged_utf8(body, exc, path)
        if damaged is not None:
            raise damaged from None
    try:
        return body.decode("cp1252").encode("utf-8"), "windows-1252"
    except UnicodeDecodeError as exc:
        raise ExportError(
            f"{path}: line {_line_of(body, exc.start)} holds byte 0x{body[exc.start]:02x}, which is neither UTF-8 "
            "nor Windows-1252 text; save the export as UTF-8 CSV"
        ) from None


# A NUL byte that is a whole cell, quoted or not (SurveyMonkey writes "\0" as a placeholder under its metadata
# columns in the second header row): delimiter or line start before it, delimiter or line end after it.
NUL_CELL = re.compile(rb'(?:(?<=^)|(?<=[,;\t\n]))("?)\x00\1(?=[,;\t\r\n]|$)', re.MULTILINE)


def blank_nul_cells(data: bytes) -> bytes:
    """Cells that are a single NUL byte → empty cells, when every NUL of the file is such a cell (SurveyMonkey's
    placeholders); anything else (binary data, UTF-16 without BOM) is left for check_text to refuse."""
    total = data.count(b"\x00")
    if not total or len(NUL_CELL.findall(data)) != total:
        return data
    return NUL_CELL.sub(b"", data)


def check_text(data: bytes, path: Path) -> None:
    """UTF-8 text of an export must not hold NUL bytes: they mean a binary file or UTF-32 text."""
    at = data.find(b"\x00")
    if at >= 0:
        raise ExportError(
            f"{path}: line {_line_of(data, at)} holds a NUL byte (0x00): this is not a text export (a binary file, "
            "or text in UTF-32 or UTF-16 without byte order mark); save the export as UTF-8 CSV"
        )


def decode(raw: bytes, path: Path) -> tuple[str, str]:
    """Bytes of a text export → (text, encoding found)."""
    data, encoding = to_utf8(raw, path)
    return data.decode("utf-8"), encoding


def _records(sample: str, delimiter: str, limit: int = 50) -> list[list[str]]:
    """The first complete records of a text sample (the last, maybe cut, line is left out)."""
    cut = sample.rfind("\n")
    body = sample[:cut] if cut > 0 and len(sample) >= SAMPLE_BYTES else sample
    out = []
    try:
        for row in csv.reader(io.StringIO(body), delimiter=delimiter):
            if row and any(c.strip() for c in row):
                out.append(row)
            if len(out) >= limit:
                break
    except csv.Error:
        return out
    return out


def sniff_delimiter(sample: str, path: Path) -> str:
    """The delimiter that splits the header into most fields while the rows keep the header's width."""
    first = sample.split("\n", 1)[0].strip("\r\ufeff")
    if not first.strip():
        raise ExportError(f"{path}: the first line is empty; the export needs its header row on line 1")
    best, best_score = ",", (-1.0, 0)
    for d in DELIMITERS:
        rows = _records(sample, d)
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        fits = sum(1 for r in rows[1:] if len(r) == width or (len(r) > width and not any(c.strip() for c in r[width:])))
        score = (fits / max(len(rows) - 1, 1), width)
        if score > best_score:
            best, best_score = d, score
    return best


BLANK = r"^\s*$"  # empty or whitespace only (Unicode White_Space, as str.strip_chars() strips)


def _blank_to_null(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Blank cells → null; only columns that hold a blank cell are rewritten."""
    if not names or frame.height == 0:
        return frame
    has_blank = frame.select(pl.col(n).str.contains(BLANK).any() for n in names).row(0)
    blank = [n for n, b in zip(names, has_blank) if b]
    if not blank:
        return frame
    return frame.with_columns(
        pl.when(pl.col(n).str.contains(BLANK)).then(None).otherwise(pl.col(n)).alias(n) for n in blank
    )


def _finish(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Blank cells → null; number the data rows; drop completely blank rows (they hold nothing)."""
    frame = _blank_to_null(frame, names).with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    if names:
        kept = frame.select(pl.any_horizontal(pl.col(n).is_not_null() for n in names)).to_series()
        if not kept.all():
            frame = frame.filter(kept)
    # One chunk per column: polars reads in ~150 chunks, and every later expression over several columns would copy
    # them into one again (about the size of the export each time).
    return frame.select(*names, ROW).rechunk()


def _rows_python(text: str, delimiter: str, path: Path) -> list[list[str]]:
    """The slow, exact path: every record by the csv module (used to explain polars' refusals)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        return [row for row in reader]
    except csv.Error as exc:
        raise ExportError(
            f"{path}: line {reader.line_num} is not readable CSV ({exc}); check the quoting "
            "there or export the file again"
        ) from None


def _frame_from_rows(rows: list[list[str]], width: int, path: Path, delimiter: str) -> pl.DataFrame:
    names = [f"c{i}" for i in range(width)]
    for i, row in enumerate(rows, start=1):
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            raise ExportError(
                f"{path}: data row {i} has {len(row)} fields but the header has {width} "
                f"({delimiter_name(delimiter)}-separated); check the delimiter or the quoting of that row"
            )
    columns = {name: [(row[j] if j < len(row) else None) for row in rows] for j, name in enumerate(names)}
    return pl.DataFrame(columns, schema={n: pl.Utf8 for n in names})


def _parse_unfinished(data: bytes, path: Path, delimiter: str | None = None) -> tuple[list[str], pl.DataFrame, str]:
    """parse_delimited() before _finish(): the frame's cells as read (blank cells not yet null)."""
    data = blank_nul_cells(data)
    check_text(data, path)
    if b"\n" not in data and b"\r" in data:  # classic Mac line endings (Excel "CSV (Macintosh)")
        data = data.replace(b"\r", b"\n")
    cut = data.find(b"\n")
    first = data if cut < 0 else data[:cut]
    hint = first.strip(b" \r").lower()
    if hint.startswith(b"sep=") and len(hint) == 5:  # Excel's "sep=;" hint line
        delimiter, data = chr(hint[4]), (b"" if cut < 0 else data[cut + 1 :])
        if not (32 < ord(delimiter) < 127 or delimiter == "\t") or delimiter.isalnum() or delimiter in "\"'":
            raise ExportError(
                f"{path}: line 1 {first.strip().decode('latin-1')!r} names a delimiter that cannot "
                "separate columns; use sep=; or sep=, (or remove the line)"
            )
    sample = data[:SAMPLE_BYTES].decode("utf-8", errors="ignore")
    delimiter = delimiter or sniff_delimiter(sample, path)
    try:
        raw = pl.read_csv(
            data, has_header=False, separator=delimiter, quote_char='"', infer_schema=False, raise_if_empty=False
        )
        rows = None
    except pl.exceptions.PolarsError:
        raw, rows = None, _rows_python(data.decode("utf-8"), delimiter, path)
    if rows is not None:
        while rows and not any(c.strip() for c in rows[0]):
            rows.pop(0)
        if not rows:
            raise ExportError(f"{path}: no header row")
        headers = rows[0]
        frame = _frame_from_rows(rows[1:], len(headers), path, delimiter)
    else:
        # Blank rows above the header (a sheet saved with an empty first row) are not the header.
        top = 0
        while top < min(raw.height, 20) and all(v is None or not v.strip() for v in raw.row(top)):
            top += 1
        if raw.height == top or raw.width == 0:
            raise ExportError(f"{path}: no header row; export the survey again with column headings")
        headers = ["" if h is None else h for h in raw.row(top)]
        frame = raw.slice(top + 1).rename({old: f"c{i}" for i, old in enumerate(raw.columns)})
    return [h.strip().strip("\ufeff") for h in headers], frame, delimiter


def parse_delimited(data: bytes, path: Path, delimiter: str | None = None) -> tuple[list[str], pl.DataFrame, str]:
    """UTF-8 delimited text → (header cells, frame c0..cN + source_row, delimiter). polars reads the file;
    the csv module only explains what polars refuses (rows wider than the header)."""
    headers, frame, delimiter = _parse_unfinished(data, path, delimiter)
    return headers, _finish(frame, [f"c{i}" for i in range(len(headers))]), delimiter


def parse_text(text: str, path: Path, delimiter: str | None = None) -> tuple[list[str], pl.DataFrame, str]:
    """Delimited text → (header cells, frame c0..cN + source_row, delimiter)."""
    return parse_delimited(text.lstrip("\ufeff").encode("utf-8"), path, delimiter)


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise ExportError(f"{path}: not a file; copy the export there")
    raw = path.read_bytes()
    if not raw.strip():
        raise ExportError(f"{path}: the file is empty; export the survey again")
    return raw


def read_text(path: Path) -> tuple[str, str]:
    return decode(_read_bytes(path), path)


def read_csv(path: Path, sheet: str | None = None) -> Export:
    data, encoding = to_utf8(_read_bytes(path), path)
    headers, frame, delimiter = _parse_unfinished(data, path)
    del data  # the file's bytes: not needed while the cells are finished
    frame = _finish(frame, [f"c{i}" for i in range(len(headers))])
    # A trailing column without header or data is a delimiter at the end of every line (legacy Qualtrics).
    while headers and not headers[-1] and frame.get_column(f"c{len(headers) - 1}").null_count() == frame.height:
        frame = frame.drop(f"c{len(headers) - 1}")
        headers = headers[:-1]
    return Export(path=path, headers=headers, frame=frame, format="csv", encoding=encoding, delimiter=delimiter)


def read_table_rows(path: Path) -> list[list[str]]:
    """Every row of a small delimited side file (e.g. a SurveyXact labels table), cells stripped."""
    check_size(path, MAX_EXPORT_BYTES)
    text, _ = read_text(path)
    text = text.lstrip("\ufeff")
    delimiter = sniff_delimiter(text[:SAMPLE_BYTES], path)
    return [[c.strip() for c in row] for row in _rows_python(text, delimiter, path) if any(c.strip() for c in row)]


# Excel -------------------------------------------------------------------------------------------
def first_line(exc: BaseException) -> str:
    """A library's error message as one line (calamine adds "Context:" lines, pyreadstat and YAML a trace)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _excel_reader(path: Path):
    import fastexcel

    try:
        return fastexcel.read_excel(str(path))
    except fastexcel.FastExcelError as exc:
        raise ExportError(
            f"{path}: not a readable workbook ({first_line(exc)}): the file is damaged or not a spreadsheet; open it "
            "in Excel or LibreOffice and save it again as .xlsx"
        ) from None


def _sheet_frame(reader, path: Path, sheet: str) -> pl.DataFrame:
    import fastexcel

    try:
        return reader.load_sheet(sheet, header_row=None, dtypes="string").to_polars()
    except fastexcel.FastExcelError as exc:
        raise ExportError(
            f"{path}: sheet {sheet!r} cannot be read ({first_line(exc)}); save the workbook again as .xlsx"
        ) from None


def default_sheet(sheets: list[str]) -> str:
    """The sheet read when wave.yaml names none: SurveyXact's "Dataset" if present, else the first."""
    for name in sheets:
        if name.strip().casefold() == "dataset":
            return name
    return sheets[0]


def read_xlsx(path: Path, sheet: str | None = None) -> Export:
    reader = _excel_reader(path)
    sheets = list(reader.sheet_names)
    if not sheets:
        raise ExportError(f"{path}: the workbook has no sheets")
    if sheet is None:
        sheet = default_sheet(sheets)
    elif sheet not in sheets:
        raise ExportError(
            f"{path}: no sheet named {sheet!r}; the sheets are {', '.join(map(repr, sheets))}. "
            "Correct `sheet:` in wave.yaml"
        )
    raw = _sheet_frame(reader, path, sheet)
    if raw.height == 0 or raw.width == 0:
        raise ExportError(f"{path}: sheet {sheet!r} is empty; the export needs a header row and respondent rows")
    headers = ["" if h is None else str(h).strip() for h in raw.row(0)]
    frame = raw.slice(1).rename({old: f"c{i}" for i, old in enumerate(raw.columns)})
    # Trailing columns without a header and without data are formatting, not columns.
    while headers and not headers[-1] and frame[f"c{len(headers) - 1}"].drop_nulls().str.strip_chars().eq("").all():
        frame = frame.drop(f"c{len(headers) - 1}")
        headers.pop()
    names = [f"c{i}" for i in range(len(headers))]
    return Export(
        path=path,
        headers=headers,
        frame=_finish(frame.select(names), names),
        format="xlsx",
        sheet=sheet,
        sheets=tuple(sheets),
    )


def read_sheet_rows(path: Path, sheet: str) -> list[list[str]]:
    """Every non-blank row of one sheet as text, cells stripped (for SurveyXact's Labels/Structure sheets)."""
    raw = _sheet_frame(_excel_reader(path), path, sheet)
    out = []
    for row in raw.iter_rows():
        cells = ["" if v is None else str(v).strip() for v in row]
        if any(cells):
            out.append(cells)
    return out


# SPSS --------------------------------------------------------------------------------------------
def number_text(value: object) -> str | None:
    """1.0 → "1", 2.5 → "2.5", NaN/None → None."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _text_column(series: pl.Series) -> pl.Series:
    if series.dtype == pl.Utf8:
        return series
    if series.dtype.is_float():
        ints = series.fill_nan(None)
        integral = (ints.is_null() | (ints == ints.round(0))).all()
        if integral and (ints.drop_nulls().abs() < 2**53).all():
            return ints.cast(pl.Int64).cast(pl.Utf8)
        return pl.Series(series.name, [number_text(v) for v in ints.to_list()], dtype=pl.Utf8)
    return series.cast(pl.Utf8)


def check_sav_size(path: Path, limit: int) -> None:
    """A compressed SPSS file (.zsav) may unpack to far more than its size: rows × row width must fit."""
    import pyreadstat

    try:
        _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError):
        return  # read_sav explains
    width = sum(max(int(w or 8), 8) for w in (getattr(meta, "variable_storage_width", None) or {}).values())
    unpacked = (meta.number_rows or 0) * max(width, 8 * (meta.number_columns or 0))
    if unpacked > limit:
        raise too_large(path, "the SPSS data unpacked", unpacked, limit)


def read_sav(path: Path, sheet: str | None = None) -> Export:
    import pyreadstat

    try:
        data, meta = pyreadstat.read_sav(
            str(path), output_format="polars", apply_value_formats=False, user_missing=True
        )
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        raise ExportError(f"{path}: not a readable SPSS file ({first_line(exc)}); export the .sav again") from None
    headers = list(meta.column_names)
    names = [f"c{i}" for i in range(len(headers))]
    columns = [_text_column(data[h]).alias(n) for h, n in zip(headers, names)]
    frame = pl.DataFrame(columns) if headers else pl.DataFrame()
    value_labels = {}
    for i, h in enumerate(headers):
        labels = meta.variable_value_labels.get(h)
        if labels:
            value_labels[i] = {number_text(k): str(v).strip() for k, v in labels.items()}
    variable_labels = {i: lab.strip() for i, lab in enumerate(meta.column_labels or []) if lab and lab.strip()}
    missing = {}
    for i, h in enumerate(headers):
        declared = _declared_missing(
            data[h], (meta.missing_ranges or {}).get(h), (meta.missing_user_values or {}).get(h)
        )
        if declared:
            missing[i] = declared
    return Export(
        path=path,
        headers=[h.strip() for h in headers],
        frame=_finish(frame, names),
        format="sav",
        value_labels=value_labels,
        variable_labels=variable_labels,
        missing_values=missing,
    )


def _declared_missing(column: pl.Series, ranges: list | None, values: list | None) -> frozenset[str]:
    """The values of a column that the SPSS file declares user-missing (discrete values or lo–hi ranges), as
    the text the reader writes for them."""
    if not ranges and not values:
        return frozenset()
    out = set()
    for v in column.drop_nulls().unique().to_list():
        hit = any(v == x for x in (values or []))
        for r in ranges or []:
            lo, hi = (r.get("lo"), r.get("hi")) if isinstance(r, dict) else (r, r)
            try:
                hit = hit or (lo is not None and hi is not None and lo <= v <= hi)
            except TypeError:
                continue
        if hit:
            text = number_text(v) if isinstance(v, float) else str(v)
            if text is not None:
                out.add(text.strip())
    return frozenset(out)


READERS = {
    ".csv": read_csv,
    ".txt": read_csv,
    ".tsv": read_csv,
    ".xlsx": read_xlsx,
    ".xlsm": read_xlsx,
    ".xls": read_xlsx,  # Excel 97–2003, read by the same reader (calamine)
    ".xlsb": read_xlsx,
    ".ods": read_xlsx,  # LibreOffice / OpenDocument
    ".sav": read_sav,
    ".zsav": read_sav,
}


def read_export(path: Path, sheet: str | None = None, max_bytes: int = MAX_EXPORT_BYTES) -> Export:
    """Read any supported export by its file ending (sheet: the workbook sheet, xlsx only). Files larger than
    max_bytes (unpacked, for workbooks and SPSS) are refused before reading."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise ExportError(
            f"{path}: files ending in {path.suffix!r} are not supported; export as {', '.join(sorted(READERS))}"
        )
    try:
        check_size(path, max_bytes)
        if reader is read_sav:
            check_sav_size(path, max_bytes)
        return reader(path, sheet)
    except ExportError:
        raise
    except (OSError, csv.Error, pl.exceptions.PolarsError, UnicodeError, ValueError, OverflowError) as exc:
        raise ExportError(
            f"{path}: could not be read ({first_line(exc)}); check that it is a complete export"
        ) from None
