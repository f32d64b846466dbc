"""Readers take the file as the tool wrote it — encodings, delimiters, quoting, workbooks, SPSS."""

from __future__ import annotations

import codecs
import csv
import io

import polars as pl
import pyreadstat
import pytest
import xlsxwriter

from pipeline.ingest.readers import ExportError, read_export

HEADERS = ["Respondent", "Kompetansen, erfaringen og «samskaping»", "Kommentar"]
ROWS = [
    ["R1", "I svært høy grad", 'Han sa "hei", og gikk'],
    ["R2", "Vet ikke", "linje 1\r\nlinje 2"],
    ["R3", "Ikke i det hele tatt", "Språkkafé – æøå ÆØÅ"],
]


def _csv(delimiter: str, rows=None, **kw) -> str:
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter, **kw).writerows([HEADERS] + (rows or ROWS))
    return buf.getvalue()


def _expected(export) -> None:
    assert export.headers == HEADERS
    assert export.frame.columns == ["c0", "c1", "c2", "source_row"]
    assert export.frame.rows() == [tuple(r) + (i,) for i, r in enumerate(ROWS, start=1)]


@pytest.mark.parametrize(
    "name, encoding, bom, delimiter, found",
    [
        ("utf8.csv", "utf-8", b"", ";", "utf-8"),
        ("utf8bom.csv", "utf-8", codecs.BOM_UTF8, ";", "utf-8-sig"),
        ("utf16le.txt", "utf-16-le", codecs.BOM_UTF16_LE, "\t", "utf-16"),
        ("utf16be.tsv", "utf-16-be", codecs.BOM_UTF16_BE, "\t", "utf-16"),
        ("cp1252.csv", "cp1252", b"", ",", "windows-1252"),
        ("cp1252semi.csv", "cp1252", b"", ";", "windows-1252"),
    ],
)
def test_encodings_and_delimiters_are_sniffed(tmp_path, name, encoding, bom, delimiter, found):
    path = tmp_path / name
    path.write_bytes(bom + _csv(delimiter).encode(encoding))
    export = read_export(path)
    assert (export.format, export.encoding, export.delimiter) == ("csv", found, delimiter)
    _expected(export)


def test_quoted_everything_crlf_and_trailing_blank_lines(tmp_path):
    path = tmp_path / "export.csv"
    text = _csv(";", quoting=csv.QUOTE_ALL) + "\r\n\r\n;;\r\n"
    path.write_bytes(text.encode("utf-8"))
    export = read_export(path)
    _expected(export)
    assert export.n_rows == 3


def test_a_blank_row_in_the_middle_is_left_out_and_rows_keep_their_numbers(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("a;b\n1;x\n\n;\n4;y\n", encoding="utf-8")
    export = read_export(path)
    assert export.frame.rows() == [("1", "x", 1), ("4", "y", 4)]


def test_semicolon_wins_when_question_texts_hold_commas(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("Id;Hvor enig, egentlig, er du?;Kommentar, fritt\n1;Ja;a, b, c\n2;Nei;\n", encoding="utf-8")
    export = read_export(path)
    assert export.delimiter == ";"
    assert export.headers == ["Id", "Hvor enig, egentlig, er du?", "Kommentar, fritt"]
    assert export.frame.rows() == [("1", "Ja", "a, b, c", 1), ("2", "Nei", None, 2)]


def test_excel_sep_line_and_whitespace_cells(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("sep=;\n a ;b\n1;   \n", encoding="utf-8")
    export = read_export(path)
    assert export.headers == ["a", "b"]
    assert export.frame.rows() == [("1", None, 1)]


def test_a_row_with_more_fields_than_the_header_is_refused(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("a;b\n1;2\n3;4;5\n", encoding="utf-8")
    with pytest.raises(ExportError) as err:
        read_export(path)
    assert str(err.value) == (
        f"{path}: data row 2 has 3 fields but the header has 2 (semicolon-separated); "
        "check the delimiter or the quoting of that row"
    )


def test_empty_trailing_fields_are_accepted(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("a;b\n1;2;;\n3;4\n", encoding="utf-8")
    assert read_export(path).frame.rows() == [("1", "2", 1), ("3", "4", 2)]


def test_bytes_that_are_no_text_are_named(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes("a;b\n1;ø\n".encode() + b"2;\x81\n")
    with pytest.raises(ExportError) as err:
        read_export(path)
    assert str(err.value) == (
        f"{path}: line 3 holds byte 0x81, which is neither UTF-8 nor Windows-1252 text; save the export as UTF-8 CSV"
    )


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("export.csv", b"  \n\n", "the file is empty; export the survey again"),
        ("export.csv", b"\na;b\n1;2\n", "the first line is empty; the export needs its header row on line 1"),
        (
            "export.pdf",
            b"%PDF",
            "files ending in '.pdf' are not supported; export as .csv, .ods, .sav, .tsv, .txt, .xls, .xlsb, .xlsm, "
            ".xlsx, .zsav",
        ),
    ],
)
def test_unreadable_files_get_one_clear_message(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ExportError) as err:
        read_export(path)
    assert str(err.value) == f"{path}: {message}"


def test_a_broken_workbook_or_spss_file_is_named(tmp_path):
    xlsx = tmp_path / "export.xlsx"
    xlsx.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ExportError) as err:
        read_export(xlsx)
    assert str(err.value).startswith(f"{xlsx}: not a readable workbook (")
    assert str(err.value).endswith(
        "): the file is damaged or not a spreadsheet; open it in Excel or LibreOffice and save it again as .xlsx"
    )
    sav = tmp_path / "export.sav"
    sav.write_bytes(b"$FL2 truncated")
    with pytest.raises(ExportError) as err:
        read_export(sav)
    assert str(err.value).startswith(f"{sav}: not a readable SPSS file (")


def _workbook(path, sheets: dict[str, list[list[object]]]) -> None:
    wb = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if v is not None:
                    ws.write(r, c, v)
    wb.close()


def test_xlsx_first_sheet_named_sheet_numbers_as_text(tmp_path):
    path = tmp_path / "export.xlsx"
    _workbook(
        path,
        {
            "Info": [["Om undersøkelsen"], ["Eksportert 2024-05-23"]],
            "Svar": [["ID", "Kode", "Tekst"], [1, 2, "I høy grad"], [2, 2.5, None], [None, None, None], [3, 6, "x"]],
        },
    )
    first = read_export(path)
    assert (first.sheet, first.sheets, first.headers) == ("Info", ("Info", "Svar"), ["Om undersøkelsen"])
    export = read_export(path, sheet="Svar")
    assert export.headers == ["ID", "Kode", "Tekst"]
    assert export.frame.rows() == [("1", "2", "I høy grad", 1), ("2", "2.5", None, 2), ("3", "6", "x", 4)]
    with pytest.raises(ExportError) as err:
        read_export(path, sheet="Data")
    assert str(err.value) == (
        f"{path}: no sheet named 'Data'; the sheets are 'Info', 'Svar'. Correct `sheet:` in wave.yaml"
    )


def test_xlsx_dataset_sheet_is_the_default_for_surveyxact_workbooks(tmp_path):
    path = tmp_path / "export.xlsx"
    _workbook(
        path,
        {
            "Structure": [["Variable", "Label"]],
            "Dataset": [["respondentid", "s_1"], [7, 1]],
            "Labels": [["s_1", 1, "Ja"]],
        },
    )
    export = read_export(path)
    assert (export.sheet, export.headers, export.frame.rows()) == ("Dataset", ["respondentid", "s_1"], [("7", "1", 1)])


def test_sav_codes_value_labels_and_variable_labels(tmp_path):
    path = tmp_path / "export.sav"
    frame = pl.DataFrame(
        {"id": ["R1", "R2", "R3"], "q1": [1.0, None, 7.0], "q2": [1.5, 2.0, 3.0], "kommentar": ["hei", "", "æøå"]}
    )
    pyreadstat.write_sav(
        frame,
        str(path),
        column_labels={"q1": "Spørsmål én", "kommentar": "Kommentar"},
        variable_value_labels={"q1": {1.0: "I svært høy grad ", 2.0: "I høy grad"}},
    )
    export = read_export(path)
    assert export.format == "sav"
    assert export.headers == ["id", "q1", "q2", "kommentar"]
    assert export.frame.rows() == [("R1", "1", "1.5", "hei", 1), ("R2", None, "2", None, 2), ("R3", "7", "3", "æøå", 3)]
    assert export.value_labels == {1: {"1": "I svært høy grad", "2": "I høy grad"}}
    assert export.variable_labels == {1: "Spørsmål én", 3: "Kommentar"}
