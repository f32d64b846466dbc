"""pipeline.reports.document.excel: the sample's workbook read back with openpyxl: a sheet explaining every column,
then one sheet per table of the document, numbers stored as numbers (percentages as fractions with a percent format),
header rows frozen; in the public profile the hidden counts are ":" and not in the workbook."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from document_helpers import file_of
from helpers import query
from reports_helpers import COUNTS_2024

from pipeline.codebook import load_codebook
from pipeline.settings import PROJECT_ROOT

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
LABELS = {c.key: c.label["da"] for c in CODEBOOK.scales["degree"].categories}


def workbook(documents):
    return openpyxl.load_workbook(io.BytesIO(file_of(documents, "xlsx")))


def sheet_rows(sheet, header_row: int = 4) -> list[dict]:
    header = [c.value for c in sheet[header_row]]
    return [
        dict(zip(header, (c.value for c in row)))
        for row in sheet.iter_rows(min_row=header_row + 1)
        if row[0].value is not None and any(c.value is not None for c in row[1:])
    ]


@pytest.fixture(scope="module")
def internal(sample_documents):
    return sample_documents["internal"], workbook(sample_documents["internal"])


def test_one_sheet_per_table_after_the_explanation(internal):
    documents, book = internal
    tables = documents.document.tables
    assert book.sheetnames == ["Om tabellerne", *(f"Tabel {t.number}" for t in tables)]
    for t in tables:
        assert book[f"Tabel {t.number}"]["A1"].value == f"Tabel {t.number}: {t.caption}"


def test_numbers_are_numbers_with_formats(internal):
    _, book = internal
    sheet = book["Tabel 3"]  # the personal level
    rows = {r["Række"]: r for r in sheet_rows(sheet)}
    p1 = rows["P1"]
    assert p1["n"] == 10 and isinstance(p1["n"], int)
    for key, count in zip(LABELS, COUNTS_2024["P1"]):
        assert p1[f"{LABELS[key]}: antal"] == count
        assert p1[f"{LABELS[key]}: %"] == pytest.approx(count / 10)
    assert p1["Andel (95 % KI)"] == pytest.approx(0.9)
    assert p1["Andel (95 % KI): nedre grænse"] == pytest.approx(0.5958, abs=1e-4)
    assert p1["Gennemsnit"] == pytest.approx(4.4)
    formats = {c.value: sheet.cell(5, c.column).number_format for c in sheet[4]}
    assert formats["n"] == "#,##0" and formats["I meget høj grad: %"] == "0%" and formats["Gennemsnit"] == "0.0"
    assert sheet.freeze_panes == "C5"
    numeric_text = [
        c.coordinate
        for r in sheet.iter_rows(min_row=5)
        for c in r
        if isinstance(c.value, str) and re.fullmatch(r"[\d.,% ]+", c.value)
    ]
    assert numeric_text == []


def test_the_explanation_sheet_names_every_column_and_its_source(internal):
    documents, book = internal
    about = book["Om tabellerne"]
    rows = [tuple(c.value for c in r[:3]) for r in about.iter_rows()]
    assert ("Tabel 3", "I meget høj grad: %", "Procent, gemt som brøk (0,5 = 50 %)") in rows
    assert ("Tabel 3", "n", "Antal (heltal)") in rows
    sources = [r for r in rows if r[1] == "Mart: kolonner" and r[0] == "Tabel 3"]
    assert sources and sources[0][2].startswith(
        "item_indicators: wave, item, n, n_missing, n_quarantined, headline_pct"
    )
    for t in documents.document.tables:
        assert any(r[0] == f"Tabel {t.number}" for r in rows)


def test_the_public_workbook_has_no_hidden_count(sample_documents, sample_build):
    book = workbook(sample_documents["public"])
    hidden = query(
        sample_build,
        "select item, category from item_disclosure where wave = '2024' and hidden and level = 'institutional'",
    ).rows()
    assert ("I1", "very_high") in hidden and ("I1", "low") in hidden
    i1 = {r["Række"]: r for r in sheet_rows(book["Tabel 4"])}["I1"]
    for _, category in hidden:
        assert i1[f"{LABELS[category]}: antal"] == ":" and i1[f"{LABELS[category]}: %"] == ":"
    # every count of I1 (1 / 3 / 4 / 2 / 0 / 0) is hidden, the headline 1 + 3 is not: a shown share stays a number
    assert i1["Andel (95 % KI)"] == 0.4 and i1["Gennemsnit"] == ":"
