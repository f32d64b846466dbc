"""The readers fuzzed. Random bytes, truncated and mutated exports, wrong encodings and random CSV
grids end in a clean read or the one ExportError naming the file — never another exception, never a hang.
Budget: FUZZ_EXAMPLES examples per property (`make fuzz` sets 2000)."""

from __future__ import annotations

import codecs
import csv
import io

import polars as pl
import pytest
from helpers import read_sample_rows
from hostile import FUZZ, bounded, sample_csv_bytes, sample_sav, sample_xlsx
from hypothesis import assume, given
from hypothesis import strategies as st

from pipeline.ingest.readers import READERS, ROW, Export, ExportError, read_export

pytestmark = pytest.mark.fuzz

SAMPLE = sample_csv_bytes()
HEADERS, ROWS = read_sample_rows()


def read_or_error(path, seconds: float = 20) -> Export | ExportError:
    """read_export's result, or the ExportError it raised (which must name the file)."""
    with bounded(seconds):
        try:
            export = read_export(path)
        except ExportError as exc:
            assert str(exc).startswith(f"{path}: "), str(exc)
            return exc
    check_shape(export)
    return export


def check_shape(export: Export) -> None:
    """What every reader promises: c0..cN as text, source_row increasing from 1, no all-blank row."""
    names = [f"c{i}" for i in range(len(export.headers))]
    assert export.frame.columns == names + [ROW]
    schema = export.frame.schema
    assert all(schema[n] == pl.Utf8 for n in names)
    rows = export.frame[ROW].to_list()
    assert rows == sorted(set(rows)) and (not rows or rows[0] >= 1)
    if names and export.n_rows:
        assert export.frame.select(pl.any_horizontal(pl.col(n).is_not_null() for n in names).all()).item()


def expected_cells(row: list[str]) -> tuple:
    return tuple(None if not c.strip() else c for c in row)


@FUZZ
@given(data=st.binary(max_size=4096), suffix=st.sampled_from(sorted(READERS)))
def test_random_bytes_read_or_fail_with_the_file_named(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("bytes") / ("export" + suffix)
    path.write_bytes(data)
    read_or_error(path)


@FUZZ
@given(cut=st.floats(0, 1, exclude_max=True), kind=st.sampled_from(["csv", "xlsx", "sav"]))
def test_truncated_exports_read_what_is_there_or_fail_cleanly(tmp_path_factory, cut, kind):
    folder = tmp_path_factory.mktemp("cut")
    whole = folder / f"whole.{kind}"
    if kind == "csv":
        whole.write_bytes(SAMPLE)
    elif kind == "xlsx":
        sample_xlsx(whole)
    else:
        sample_sav(whole)
    data = whole.read_bytes()
    path = folder / f"export.{kind}"
    path.write_bytes(data[: int(cut * len(data))])
    result = read_or_error(path)
    if kind == "csv" and isinstance(result, Export) and SAMPLE.index(b"\n") < int(cut * len(data)):
        # every complete row is the row of the file; only the last one may be cut short
        assert result.headers == HEADERS
        got = result.frame.drop(ROW).rows()
        assert len(got) <= len(ROWS)
        assert got[:-1] == [expected_cells(r) for r in ROWS[: len(got) - 1]]


@FUZZ
@given(
    edits=st.lists(
        st.tuples(
            st.floats(0, 1, exclude_max=True),
            st.sampled_from(["flip", "insert", "delete"]),
            st.binary(min_size=1, max_size=8),
        ),
        min_size=1,
        max_size=12,
    ),
    suffix=st.sampled_from([".csv", ".xlsx", ".sav"]),
)
def test_mutated_exports_read_or_fail_cleanly(tmp_path_factory, edits, suffix):
    folder = tmp_path_factory.mktemp("mutated")
    whole = folder / ("whole" + suffix)
    if suffix == ".csv":
        whole.write_bytes(SAMPLE)
    elif suffix == ".xlsx":
        sample_xlsx(whole)
    else:
        sample_sav(whole)
    data = bytearray(whole.read_bytes())
    for where, how, blob in edits:
        i = int(where * len(data))
        if how == "flip":
            data[i : i + len(blob)] = bytes(b ^ 0xFF for b in data[i : i + len(blob)])
        elif how == "insert":
            data[i:i] = blob
        else:
            del data[i : i + len(blob)]
    path = folder / ("export" + suffix)
    path.write_bytes(bytes(data))
    read_or_error(path)


SUPPORTED = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf-16": "utf-16",
    "cp1252": "windows-1252",
    "latin-1": "windows-1252",
    "utf-16-le": "utf-16-le",
}
OTHERS = [
    "utf-16-be",
    "utf-32",
    "utf-32-le",
    "mac_roman",
    "cp850",
    "koi8-r",
    "shift_jis",
    "gb18030",
    "iso8859-7",
    "utf-7",
    "cp037",
]


@FUZZ
@given(codec=st.sampled_from(sorted(SUPPORTED) + OTHERS), delimiter=st.sampled_from([";", ",", "\t"]))
def test_exports_in_any_encoding_read_exactly_or_fail_cleanly(tmp_path_factory, codec, delimiter):
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter).writerows([HEADERS] + ROWS)
    path = tmp_path_factory.mktemp("enc") / "export.csv"
    path.write_bytes(buf.getvalue().encode(codec, errors="replace"))
    result = read_or_error(path)
    if codec in SUPPORTED:
        assert isinstance(result, Export), result
        assert (result.encoding, result.delimiter) == (SUPPORTED[codec], delimiter)
        assert result.headers == HEADERS
        assert result.frame.drop(ROW).rows() == [expected_cells(r) for r in ROWS]
    elif isinstance(result, ExportError):
        assert (
            "save the export as UTF-8 CSV" in str(result)
            or "export the file again" in str(result)
            or "no header row" in str(result)
        ), str(result)


CELL = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="\x00", exclude_categories=("Cs",)), max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            '"',
            '""',
            "a\r\nb",
            "a\nb",
            "\r",
            "x;y",
            "x,y",
            "x\ty",
            "'",
            "=1+1",
            "\ufeffbom",
            "I svært høy grad",
            "Vet ikke",
            "  padded  ",
        ]
    ),
)


def _grid(draw, cell, width, header_cell):
    headers = [draw(header_cell) for _ in range(width)]
    assume(any(h.strip().strip("\ufeff") for h in headers))
    assume(not headers[0].strip().lower().startswith("sep="))
    rows = draw(st.lists(st.lists(cell, min_size=width, max_size=width), max_size=12))
    return headers, rows


# With lineterminator "\n" the csv module leaves a lone "\r" in a cell unquoted, which every CSV reader
# (the csv module's own too) takes as a line break: such grids are not CSV, so "\r" only comes with "\r\n".
def _cells(terminator: str, others: str = ""):
    banned = others + ("\r" if terminator == "\n" else "")
    return CELL.filter(lambda c: not any(d in c for d in banned)) if banned else CELL


@st.composite
def grids_with_sep_line(draw):
    width = draw(st.integers(2, 7))
    terminator = draw(st.sampled_from(["\r\n", "\n"]))
    cell = _cells(terminator)
    headers, rows = _grid(draw, cell, width, cell)
    return headers, rows, draw(st.sampled_from([";", ",", "\t"])), terminator


@st.composite
def grids_to_sniff(draw):
    delimiter = draw(st.sampled_from([";", ",", "\t"]))
    terminator = draw(st.sampled_from(["\r\n", "\n"]))
    cell = _cells(terminator, "".join(d for d in ";,\t" if d != delimiter))
    width = draw(st.integers(2, 7))
    headers, rows = _grid(draw, cell, width, cell)
    return headers, rows, delimiter, terminator


def _expected_frame(rows: list[list[str]], width: int) -> list[tuple]:
    out = []
    for n, row in enumerate(rows, start=1):
        blank = pl.Series(row, dtype=pl.Utf8).str.strip_chars().eq("").to_list()
        cells = tuple(None if b else c for c, b in zip(row, blank))
        if any(c is not None for c in cells):
            out.append(cells + (n,))
    return out


def _round_trip(tmp_path_factory, headers, rows, delimiter, terminator, sep_line: bool, bom: bool) -> None:
    buf = io.StringIO(newline="")
    if sep_line:
        buf.write(f"sep={delimiter}{terminator}")
    csv.writer(buf, delimiter=delimiter, lineterminator=terminator).writerows([headers] + rows)
    path = tmp_path_factory.mktemp("grid") / "export.csv"
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + buf.getvalue().encode("utf-8"))
    result = read_or_error(path)
    assert isinstance(result, Export), f"{result}\n{path.read_bytes()!r}"
    assert result.delimiter == delimiter
    expected_headers = [h.strip().strip("\ufeff") for h in headers]
    expected = _expected_frame(rows, len(headers))
    # a trailing column without header and without data (a delimiter ending every line) is not read
    while expected_headers and not expected_headers[-1] and all(r[len(expected_headers) - 1] is None for r in expected):
        expected_headers.pop()
        expected = [r[: len(expected_headers)] + r[-1:] for r in expected]
    assert result.headers == expected_headers
    assert result.frame.rows() == expected


@FUZZ
@given(grid=grids_with_sep_line(), bom=st.booleans())
def test_any_csv_grid_with_a_sep_line_reads_back_cell_for_cell(tmp_path_factory, grid, bom):
    _round_trip(tmp_path_factory, *grid, sep_line=True, bom=bom)


@FUZZ
@given(grid=grids_to_sniff(), bom=st.booleans())
def test_any_csv_grid_reads_back_cell_for_cell_with_the_delimiter_sniffed(tmp_path_factory, grid, bom):
    headers, rows, delimiter, terminator = grid
    assume(not headers[0].lstrip("\ufeff").strip().lower().startswith("sep="))
    _round_trip(tmp_path_factory, headers, rows, delimiter, terminator, sep_line=False, bom=bom)


# Named cases ---------------------------------------------------------------------------------------
def test_ten_thousand_columns_in_every_format(tmp_path):
    import pyreadstat
    import xlsxwriter

    headers = [f"kolonne {i}" for i in range(10_000)]
    row = [f"svar {i}" for i in range(10_000)]
    (tmp_path / "wide.csv").write_text(";".join(headers) + "\n" + ";".join(row) + "\n", encoding="utf-8")
    workbook = xlsxwriter.Workbook(str(tmp_path / "wide.xlsx"))
    sheet = workbook.add_worksheet("Svar")
    for c in range(10_000):
        sheet.write_string(0, c, headers[c])
        sheet.write_string(1, c, row[c])
    workbook.close()
    names = [f"v{i}" for i in range(10_000)]
    pyreadstat.write_sav(
        pl.DataFrame([[v] for v in row], schema=names, orient="col"),
        str(tmp_path / "wide.sav"),
        column_labels=dict(zip(names, headers)),
    )
    for name, expected_headers in (("wide.csv", headers), ("wide.xlsx", headers), ("wide.sav", names)):
        export = read_or_error(tmp_path / name, seconds=60)
        assert isinstance(export, Export), export
        assert export.headers == expected_headers
        assert export.frame.drop(ROW).rows() == [tuple(row)]
        assert export.frame[ROW].to_list() == [1]


def test_a_giant_quoted_field_is_read_whole(tmp_path):
    giant = 'lang tekst; med «semikolon», "sitat" og\r\nlinjeskift ' * 400_000  # 20 MB in one cell
    path = tmp_path / "export.csv"
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=";").writerows([["Respondent", "Kommentar"], ["R1", giant], ["R2", "kort"]])
    path.write_text(buf.getvalue(), encoding="utf-8")
    export = read_or_error(path, seconds=60)
    assert export.frame.rows() == [("R1", giant, 1), ("R2", "kort", 2)]


def test_a_row_wider_than_the_header_is_named_even_with_a_giant_field(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"Respondent;Kommentar\nR1;kort\nR2;" + b"A" * 300_000 + b";ekstra\n")
    error = read_or_error(path)
    assert str(error) == (
        f"{path}: line 3 is not readable CSV (field larger than field limit (131072)); check the "
        "quoting there or export the file again"
    )
    path.write_bytes(b"Respondent;Kommentar\nR1;kort\nR2;lang;ekstra\n")
    assert str(read_or_error(path)) == (
        f"{path}: data row 2 has 3 fields but the header has 2 (semicolon-separated); "
        "check the delimiter or the quoting of that row"
    )


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "the file is empty; export the survey again"),
        (b" \r\n\r\n\t", "the file is empty; export the survey again"),
        (
            b"\x00" * 64,
            "line 1 holds a NUL byte (0x00): this is not a text export (a binary file, or text in UTF-32 or "
            "UTF-16 without byte order mark); save the export as UTF-8 CSV",
        ),
        (
            "Respondent;Kommentar\nR1;ok\n".encode("utf-32"),
            "line 1 holds a NUL byte (0x00): this is not a text export (a binary file, or text in UTF-32 or UTF-16 "
            "without byte order mark); save the export as UTF-8 CSV",
        ),
        (
            b"Respondent;Kommentar\nR1;ok\nR2;to\x00tre\n",
            "line 3 holds a NUL byte (0x00): this is not a text export (a binary file, or text in UTF-32 or UTF-16 "
            "without byte order mark); save the export as UTF-8 CSV",
        ),
        (b"\n\nRespondent;Kommentar\n", "the first line is empty; the export needs its header row on line 1"),
        (b"sep=;\n", "no header row; export the survey again with column headings"),
        (
            b'sep="\na"b\n1"2\n',
            "line 1 'sep=\"' names a delimiter that cannot separate columns; use sep=; or sep=, (or remove the line)",
        ),
        (
            b"sep=|\na|b\n1|2|3\n",
            "data row 1 has 3 fields but the header has 2 ('|'-separated); check the delimiter "
            "or the quoting of that row",
        ),
        (
            b"Respondent;Kommentar\n\x81\x8d\x8f;x\n",
            "line 2 holds byte 0x81, which is neither UTF-8 nor Windows-1252 text; save the export as UTF-8 CSV",
        ),
        (
            "Respondent;Kommentar\nR1;blåbær og rødgrøt\nR2;æ".encode()[:-1],
            "the file ends in the middle of a character (UTF-8): it was cut short, e.g. copied before the export had "
            "finished; copy or export it again",
        ),
        (
            "Respondent;Kommentar\nR1;blåbær\n".encode() + "R2;grønn\n".encode("cp1252"),
            "line 3 holds byte 0xf8, which is not UTF-8, while the rest of the file is UTF-8 (1 such byte(s)): the "
            "file is damaged or mixes encodings; export it again as UTF-8 CSV",
        ),
    ],
    ids=[
        "empty",
        "blank",
        "nul-bytes",
        "utf-32",
        "nul-in-a-cell",
        "blank-first-line",
        "sep-line-only",
        "sep-quote",
        "sep-pipe-too-wide",
        "not-cp1252",
        "utf8-cut-short",
        "utf8-with-a-cp1252-line",
    ],
)
def test_broken_text_exports_fail_with_one_clear_message(tmp_path, data, message):
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    assert str(read_or_error(path)) == f"{path}: {message}"


def test_classic_mac_line_endings_are_line_breaks(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"Respondent;Kommentar\rR1;en\rR2;to\r")
    export = read_or_error(path)
    assert export.headers == ["Respondent", "Kommentar"]
    assert export.frame.rows() == [("R1", "en", 1), ("R2", "to", 2)]


def test_empty_and_header_only_workbooks_and_spss_files(tmp_path):
    import pyreadstat
    import xlsxwriter

    empty_xlsx = tmp_path / "empty.xlsx"
    workbook = xlsxwriter.Workbook(str(empty_xlsx))
    workbook.add_worksheet("Svar")
    workbook.close()
    assert str(read_or_error(empty_xlsx)) == (
        f"{empty_xlsx}: sheet 'Svar' is empty; the export needs a header row and respondent rows"
    )
    zero = tmp_path / "zero.xlsx"
    zero.write_bytes(b"")
    assert str(read_or_error(zero)).startswith(f"{zero}: not a readable workbook (")
    zero_sav = tmp_path / "zero.sav"
    zero_sav.write_bytes(b"")
    assert str(read_or_error(zero_sav)).startswith(f"{zero_sav}: not a readable SPSS file (")
    header_only = tmp_path / "header.sav"
    pyreadstat.write_sav(pl.DataFrame({"P1": pl.Series([], dtype=pl.Float64)}), str(header_only))
    export = read_or_error(header_only)
    assert (export.headers, export.n_rows) == (["P1"], 0)
