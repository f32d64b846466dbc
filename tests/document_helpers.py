"""Helpers of the document tests: render the documents from a build's published marts (as `make report` does) and read
them back (pdfplumber, python-docx, openpyxl)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pdfplumber

from pipeline.codebook import load_codebook
from pipeline.reports.data import ReportData
from pipeline.reports.document.documents import Documents, chart_files, read_published, render_documents
from pipeline.reports.document.placeholders import Placeholders
from pipeline.reports.figures import FigureCache
from pipeline.settings import PROJECT_ROOT, Settings

PROSE = PROJECT_ROOT / "report"


def render(settings: Settings, lang: str, profile: str, cache: Path, prose_dir: Path = PROSE) -> Documents:
    """The documents of a build in `lang` and `profile` from its published marts (charts drawn into `cache`)."""
    codebook = load_codebook(settings.codebook_file)
    marts = read_published(settings)
    figures = chart_files(codebook, lang, marts, FigureCache(cache), profile, settings.min_cell)
    return render_documents(
        codebook,
        lang,
        marts,
        figures,
        prose_dir,
        profile=profile,
        min_cell=settings.min_cell,
        min_group=settings.min_group,
    )


def placeholders(settings: Settings, lang: str = "da", profile: str = "internal", figures=None) -> Placeholders:
    """Placeholders over a build's published marts (figure numbers: P1 → 1, V6 → 17 unless given)."""
    codebook = load_codebook(settings.codebook_file)
    marts = read_published(settings)
    data = ReportData.from_marts(codebook, lang, marts, profile, settings.min_cell, settings.min_group)
    return Placeholders(data, marts["wave_change"], figures or {"P1": 1, "V6": 17})


def file_of(documents: Documents, fmt: str) -> bytes:
    return next(blob for name, blob in documents.files.items() if name.endswith("." + fmt))


def clean(text: str) -> str:
    """Extracted text as one comparable string: soft hyphens, word joiners and no-break spaces normalised, words
    hyphenated at a line end joined again, whitespace collapsed."""
    text = text.replace("\u00ad", "").replace("\u2060", "").replace("\u00a0", " ")
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)
    return re.sub(r"\s+", " ", text)


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of every page (pdfplumber), lines kept."""
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return [(page.extract_text() or "").replace("\u00a0", " ").replace("\u2060", "") for page in doc.pages]


# Two waves of the same people (wave.yaml panel_id: an e-mail column) with a background variable (role) and one bad
# cell: every table the document can hold (change since the previous wave, paired change, by group, quarantine).
# (e-mail, role, P1, V4) per respondent.
PANEL_2025 = [
    ("p1@bib.no", "Leder", "very_high", "yes"),
    ("p2@bib.no", "Medarbeider", "high", "no"),
    ("p3@bib.no", "Medarbeider", "some", "yes"),
    ("p4@bib.no", "Medarbeider", "low", "no"),
    ("p5@bib.no", "Leder", "high", "yes"),
    ("p6@bib.no", "Medarbeider", "not_at_all", "no"),
    ("p7@bib.no", "Medarbeider", "very_high", "yes"),
    ("p8@bib.no", "Medarbeider", "high", "no"),
]
PANEL_2026 = [
    ("p1@bib.no", "Leder", "high", "yes"),
    ("p2@bib.no", "Medarbeider", "very_high", "yes"),
    ("p3@bib.no", "Medarbeider", "high", "no"),
    ("p4@bib.no", "Medarbeider", "low", "yes"),
    ("p5@bib.no", "Leder", "dont_know", "yes"),
    ("p6@bib.no", "Medarbeider", "very_high", "yes"),
    ("p9@bib.no", "Medarbeider", "high", "yes"),
    ("p10@bib.no", "Leder", None, "no"),  # P1: a bad cell
    ("p11@bib.no", "Medarbeider", "some", "no"),
    ("p12@bib.no", "Medarbeider", "high", "yes"),
]
BAD_CELL = "kanskje"


def write_panel_group_waves(raw_dir: Path) -> None:
    from helpers import read_sample_rows, write_csv_wave
    from waves_helpers import item_column, label

    headers, _ = read_sample_rows()
    headers = headers + ["E-post", "Rolle"]
    p1, v4 = item_column(headers, "P1"), item_column(headers, "V4")

    def rows(prefix: str, people) -> list[list[str]]:
        out = []
        for i, (email, role, p1_cat, v4_cat) in enumerate(people, 1):
            row = [""] * len(headers)
            row[0], row[1], row[-2], row[-1] = f"{prefix}{i:02d}", "Fullført", email, role
            row[p1] = BAD_CELL if p1_cat is None else label("degree", p1_cat)
            row[v4] = label("yes_no", v4_cat)
            out.append(row)
        return out

    write_csv_wave(
        raw_dir,
        "2025",
        headers,
        rows("A", PANEL_2025),
        invited=10,
        fielded="2025-03-01",
        columns={"Tidsstempel": "submitted_at"},
        panel_id="E-post",
    )
    write_csv_wave(
        raw_dir,
        "2026",
        headers,
        rows("B", PANEL_2026),
        invited=12,
        fielded="2026-03-01",
        columns={"Tidsstempel": "submitted_at"},
        panel_id="E-post",
    )
