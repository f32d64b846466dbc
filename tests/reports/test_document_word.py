"""pipeline.reports.document.word: the sample's Word document read back with python-docx: Word's heading styles and a
contents field, every table as a Word table with the PDF's cell texts (header row repeated, rows never split), every
figure's PNG with its SVG and alt text stating the numbers, captions as SEQ fields numbered 1…N, fixed dates."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from document_helpers import file_of
from docx import Document
from docx.oxml.ns import qn
from reports_helpers import COUNTS_2024

from pipeline.codebook import load_codebook
from pipeline.reports.document.model import Figure, Heading, Table
from pipeline.settings import PROJECT_ROOT

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")


@pytest.fixture(scope="module")
def sample(sample_documents):
    documents = sample_documents["internal"]
    return documents.document, Document(io.BytesIO(file_of(documents, "docx")))


def instructions(paragraph) -> str:
    return " ".join(t.text for t in paragraph._p.iter(qn("w:instrText")))


def test_headings_use_word_s_heading_styles(sample):
    model, docx = sample
    headings = [(p.style.name, p.text) for p in docx.paragraphs if p.style.name.startswith("Heading")]
    expected = [b for b in model.blocks if isinstance(b, Heading)]
    assert [style for style, _ in headings] == [f"Heading {b.level}" for b in expected]
    assert [text for _, text in headings][:5] == [
        "1 Sammenfatning",
        "2 Indledning",
        "3 Metode",
        "3.1 Besvarelser og svarprocent",
        "3.2 Celler i karantæne",
    ]
    assert ("Heading 1", "4 Personligt niveau") in headings
    assert ("Heading 1", "Bilag A: Spørgeskemaet") in headings
    assert docx.styles["Heading 1"].paragraph_format.keep_with_next


def test_contents_field_updated_on_opening(sample):
    _, docx = sample
    assert any('TOC \\o "1-3" \\h \\z \\u' in instructions(p) for p in docx.paragraphs)
    assert docx.settings.element.find(qn("w:updateFields")).get(qn("w:val")) == "true"


def test_figures_with_png_svg_alt_text_and_seq_captions(sample):
    model, docx = sample
    figures = [b for b in model.blocks if isinstance(b, Figure)]
    captions = [p for p in docx.paragraphs if p.style.name == "Caption" and "SEQ Figure" in instructions(p)]
    assert [p.text for p in captions] == [f"Figur {f.number}: {f.caption}" for f in figures]
    assert [int(re.match(r"Figur (\d+):", p.text).group(1)) for p in captions] == list(range(1, 18))
    shapes = docx.inline_shapes
    assert len(shapes) == 17
    xml = docx.element.xml
    assert xml.count("asvg:svgBlip") == 17
    for shape, figure in zip(shapes, figures):
        doc_pr = shape._inline.docPr
        assert doc_pr.get("title") == figure.caption
        counts = COUNTS_2024[figure.key.rsplit("-", 1)[1]]
        alt = doc_pr.get("descr")
        assert alt.startswith(figure.caption + ", runde 2024, n = 10: ")
        for count in counts:
            assert f"{round(10 * count)} % ({count})" in alt
        assert shape.width == round(shape.width)  # a whole number of EMU: the text width


def test_tables_are_word_tables_with_the_pdf_s_cells(sample):
    model, docx = sample
    tables = [b for b in model.blocks if isinstance(b, Table)]
    assert len(docx.tables) == len(tables)
    for word, block in zip(docx.tables, tables):
        g = block.grid
        rows = [[c.text for c in r.cells] for r in word.rows]
        assert rows[0] == ([""] if g.has_stub else []) + [c.label for c in g.columns]
        body = [r for r in rows[1:] if len(set(r)) > 1]  # a group's heading spans the row (merged cells)
        assert body == [([r.stub or ""] if g.has_stub else []) + list(r.cells) for r in g.rows]
        first = word.rows[0]._tr.trPr
        assert first.find(qn("w:tblHeader")) is not None
        assert all(r._tr.trPr.find(qn("w:cantSplit")) is not None for r in word.rows)
    captions = [p.text for p in docx.paragraphs if p.style.name == "Caption" and "SEQ Table" in instructions(p)]
    assert captions == [f"Tabel {t.number}: {t.caption}" for t in tables]
    level = docx.tables[2]
    assert [c.text for c in level.rows[2].cells] == [
        "P1",
        CODEBOOK.items["P1"].question["da"],
        "10",
        "5 (50 %)",
        "4 (40 %)",
        "1 (10 %)",
        "0 (0 %)",
        "0 (0 %)",
        "0 (0 %)",
        "90 % (60–98)",
        "4,4",
    ]


def test_properties_from_the_data_not_the_clock(sample):
    _, docx = sample
    props = docx.core_properties
    assert props.created == props.modified == dt.datetime(2024, 5, 13, tzinfo=dt.UTC)
    assert props.revision == 1 and props.language == "da-DK"
    assert props.title == "Samskabelse – de langsigtede effekter af kompetenceudvikling"
