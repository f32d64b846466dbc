"""pipeline.reports.document.pdf: the sample's PDF read back with pdfplumber (text and every glyph's box): each figure
of the newest wave with the marts' numbers, numbered 1…N in order; each table's rows with their numbers; every glyph
inside the page's text block (header and footer in the margins); no page ending on a heading; A4; the title page."""

from __future__ import annotations

import io
import re

import pdfplumber
import pytest
from document_helpers import clean, file_of, pdf_pages
from helpers import query
from reports_helpers import COUNTS_2024

from pipeline.codebook import load_codebook
from pipeline.reports.document.layout import MARGIN_BOTTOM_MM, MARGIN_TOP_MM, MARGIN_X_MM, MM
from pipeline.reports.document.model import Table
from pipeline.settings import PROJECT_ROOT

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
FIGURED = [i for i in CODEBOOK.closed_items() if i.figure is not None]


@pytest.fixture(scope="module")
def pdf(sample_documents):
    return file_of(sample_documents["internal"], "pdf")


@pytest.fixture(scope="module")
def pages(pdf):
    return pdf_pages(pdf)


def captions(pdf: bytes) -> list[tuple[int, str, int]]:
    """(number, the caption's first line, page index) of every "Figur N: …" caption: at the text block's left
    edge (a chart's own title, inside the picture, is not)."""
    out = []
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for index, page in enumerate(doc.pages):
            words = page.extract_words()
            for i, word in enumerate(words[:-1]):
                following = words[i + 1]
                if (
                    word["text"] == "Figur"
                    and abs(word["x0"] - MARGIN_X_MM * MM) < 1
                    and re.fullmatch(r"\d+:", following["text"])
                ):
                    line = " ".join(w["text"] for w in words if abs(w["top"] - word["top"]) < 1)
                    out.append((int(following["text"][:-1]), line.split(": ", 1)[1], index))
    return out


def test_every_figure_of_the_newest_wave_with_its_numbers_in_order(pdf, pages):
    captions_found = captions(pdf)
    assert [n for n, _, _ in captions_found] == list(range(1, len(FIGURED) + 1))
    for item, (n, question, page) in zip(FIGURED, captions_found):
        assert clean(item.question["da"]).startswith(question.strip()), (n, question)
        # the chart on the caption's page: every category as "pct % (count)", n and the wave
        counts = COUNTS_2024[item.code]
        base = sum(counts)
        text = pages[page]
        for count in counts:
            assert f"{round(100 * count / base)} % ({count})" in text, (item.code, count)
        assert "Runde 2024 · n = 10" in text


def test_every_table_row_with_its_numbers(sample_documents, pages):
    doc = sample_documents["internal"].document
    lines = [line for text in pages for line in text.splitlines()]
    checked = 0
    for block in doc.blocks:
        if not isinstance(block, Table):
            continue
        assert any(line.startswith(f"Tabel {block.number}: {block.caption}") for line in lines), block.caption
        numbers = [i for i, c in enumerate(block.grid.columns) if not c.text]
        for row in block.grid.rows:
            if not numbers:
                continue
            shown = " ".join(row.cells[i] for i in numbers if row.cells[i])
            start = row.stub or ""
            assert any(line.startswith(start) and line.endswith(shown) for line in lines), (block.caption, row)
            checked += 1
    assert checked >= 18 + 4 + 1  # every item of every level table, the overview, the response


def test_the_level_table_holds_the_marts_numbers(pages, sample_build):
    row = query(
        sample_build,
        "select n, headline_pct, ci_low, ci_high, mean_score from item_indicators where wave = '2024' and item = 'P3'",
    ).row(0, named=True)
    counts = COUNTS_2024["P3"]
    cells = " ".join(f"{c} ({round(100 * c / row['n'])} %)" for c in counts)
    expected = (
        f"{row['n']} {cells} {round(row['headline_pct'])} % ({round(row['ci_low'])}–{round(row['ci_high'])}) "
        f"{row['mean_score']:.1f}".replace(".", ",")
    )
    assert expected == "10 0 (0 %) 3 (30 %) 6 (60 %) 1 (10 %) 0 (0 %) 0 (0 %) 30 % (11–60) 3,2"
    assert any(line.startswith("P3 ") and line.endswith(expected) for text in pages for line in text.splitlines())


def test_title_page_contents_and_page_numbers(pages):
    title = clean(pages[0])
    for text in (
        "RAPPORT",
        "Samskabelse – de langsigtede effekter af kompetenceudvikling",
        "Runde 2024: Oppfølgingsundersøkelse 2024 (rekonstruksjon), gennemført 2024-05-13",
        "Dato: 2024-05-13",
        "Innlandet fylkesbibliotek",
        "Intern udgave",
        "Data i runde 2024 er en rekonstruktion",
    ):
        assert text in title
    assert "Side" not in title  # no page number on the title page
    assert "Indhold" in pages[1] and f"Side 1 af {len(pages) - 1}" in pages[1]
    assert f"Side {len(pages) - 1} af {len(pages) - 1}" in pages[-1]
    contents = clean(pages[1])
    for heading in (
        "1 Sammenfatning",
        "3 Metode",
        "3.2 Celler i karantæne",
        "4 Personligt niveau",
        "7 Lokal og kommunal synlighed",
        "8 Diskussion",
        "Bilag A: Spørgeskemaet",
        "Bilag B: Kilder til tabeller og figurer",
    ):
        assert heading in contents


def test_method_chapter(pages):
    text = clean(" ".join(pages))
    for sentence in (
        "Runde 2024: 10 af 12 inviterede svarede (83 %).",
        "Ingen celler blev sat i karantæne",
        "Andelen er dem, der svarede »I meget høj grad« eller »I høj grad« eller »Ja«",
        "Wilsons 95 % konfidensinterval",
        "(5 = I meget høj grad, 4 = I høj grad, 3 = I nogen grad, 2 = I lav grad, 1 = Slet ikke)",
        "18 af 18 spørgsmål i runde 2024 har færre end 30 svar",
    ):
        assert sentence in text


def test_every_glyph_inside_the_text_block(pdf):
    tolerance = 0.5
    outside = []
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for number, page in enumerate(doc.pages, start=1):
            assert (round(page.width), round(page.height)) == (595, 842)  # A4
            left, right = MARGIN_X_MM * MM, page.width - MARGIN_X_MM * MM
            top, bottom = MARGIN_TOP_MM * MM, page.height - MARGIN_BOTTOM_MM * MM
            for ch in page.chars:
                if ch["text"].isspace():
                    continue
                in_margin = ch["bottom"] <= top or ch["top"] >= bottom  # the running head or the page number
                if (
                    ch["x0"] < left - tolerance
                    or ch["x1"] > right + tolerance
                    or (not in_margin and (ch["top"] < top - tolerance or ch["bottom"] > bottom + tolerance))
                    or ch["top"] < 0
                    or ch["bottom"] > page.height
                ):
                    outside.append((number, ch["text"], round(ch["x0"], 1), round(ch["top"], 1)))
    assert outside == []


def test_the_one_typeface(pdf):
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        fonts = {ch["fontname"].split("+")[-1] for page in doc.pages for ch in page.chars}
    assert fonts == {"SourceSansPro-Regular", "SourceSansPro-Bold", "SourceSansPro-It"}


def test_no_page_ends_on_a_heading(pdf):
    last_lines = []
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages[2:]:
            bottom = page.height - MARGIN_BOTTOM_MM * MM
            body = [
                c
                for c in page.chars
                if c["bottom"] < bottom and not c["text"].isspace() and c["top"] > MARGIN_TOP_MM * MM
            ]
            low = max(body, key=lambda c: c["bottom"])
            line = [c for c in body if abs(c["top"] - low["top"]) < 2]
            last_lines.append(
                (
                    "".join(c["text"] for c in line),
                    max(c["size"] for c in line),
                    all("Bold" in c["fontname"] for c in line),
                )
            )
    assert [text for text, size, bold in last_lines if bold and size >= 11] == []
