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


def test_body_rows_are_the_xml_python_docx_s_cell_api_writes():
    """word.body_rows_xml writes a table's body at once; python-docx's cell-by-cell API (what it replaced) gives the
    same XML, for row groups, an empty cell, white space at the ends, tabs, line breaks and XML's own characters."""
    from docx import Document as new_document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import parse_xml
    from docx.shared import Pt
    from lxml import etree

    from pipeline.reports.document.word import _border, _row_props, body_rows_xml

    widths, right, size = [40.5, 120.0, 33.3], [False, False, True], 7.5

    def xml_of(tr) -> bytes:  # without the namespace declarations a document's element carries
        return re.sub(rb' xmlns:\w+="[^"]*"', b"", etree.tostring(tr))

    rows = [
        ("Runde 2025", ["P1", "Jeg & «vi» <samskaper>", "12 (50 %)"]),
        ("Runde 2025", ["P2", "", "–"]),
        ("Runde 2024", [" ledende mellomrom", "tab\there", "linje\nto\r\ntre"]),
        (None, ["P4", "trailing ", ":"]),
    ]

    def by_cell_api():
        doc = new_document()
        table = doc.add_table(rows=0, cols=3)
        for col, w in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths):
            col.set(qn("w:w"), str(round(w * 20)))
        group, last = None, None
        for row_group, texts in rows:
            if row_group is not None and row_group != group:
                group = row_group
                row = table.add_row()
                _row_props(row)
                p = row.cells[0].merge(row.cells[-1]).paragraphs[0]
                p.paragraph_format.space_after = Pt(0)
                p.paragraph_format.keep_with_next = True
                run = p.add_run(group)
                run.bold = True
                run.font.size = Pt(size)
            row = table.add_row()
            _row_props(row)
            for i, (cell, text) in enumerate(zip(row.cells, texts)):
                cell.width = Pt(widths[i])
                p = cell.paragraphs[0]
                p.paragraph_format.space_after = Pt(0)
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT if right[i] else WD_ALIGN_PARAGRAPH.LEFT
                run = p.add_run(text)
                run.font.size = Pt(size)
                run.bold = None
            last = row
        for cell in last.cells:
            _border(cell, bottom=8)
        return [xml_of(tr) for tr in table._tbl.findall(qn("w:tr"))]

    grid_width = sum(round(w * 20) for w in widths)
    at_once = [xml_of(tr) for tr in parse_xml(body_rows_xml(rows, widths, right, size, grid_width))]
    assert len(at_once) == 6  # two group headings and four rows
    assert at_once == by_cell_api()
    assert b"Jeg &amp; &#171;vi&#187; &lt;samskaper&gt;" in at_once[1]
    assert b'<w:t xml:space="preserve"> ledende mellomrom</w:t>' in at_once[4]
    assert b"<w:t>linje</w:t><w:br/><w:t>to</w:t><w:br/><w:br/><w:t>tre</w:t>" in at_once[4]
