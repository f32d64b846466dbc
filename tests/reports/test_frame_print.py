"""pipeline.reports.frame's print stylesheet: the sample's pages printed to PDF by headless Debian chromium (as a
reader's "Print" does) and read back with pdfplumber: A4, no navigation, every table as wide as the page at most
(nothing cut at the right edge), a long table's header repeated on the next page, its notes once at its end."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess

import pdfplumber
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def print_to_pdf(page, tmp_path) -> list[tuple[float, float, list[dict], str]]:
    """(width, height, chars, text) of every page of `page` printed by chromium."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed: run `make browser` as root")
    target = tmp_path / (page.stem + ".pdf")
    args = [
        CHROMIUM,
        "--headless",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-pdf-header-footer",
        f"--print-to-pdf={target}",
        page.as_uri(),
    ]
    if os.geteuid() == 0:
        args.insert(1, "--no-sandbox")
    subprocess.run(args, capture_output=True, timeout=180, check=True)
    with pdfplumber.open(io.BytesIO(target.read_bytes())) as pdf:
        return [(p.width, p.height, p.chars, p.extract_text() or "") for p in pdf.pages]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["index", "personal", "visibility"])
def test_pages_print_on_a4_without_navigation_and_within_the_page(sample_build, tmp_path, name):
    pages = print_to_pdf(sample_build.reports_dir / f"{name}.html", tmp_path)
    assert len(pages) >= 2
    for width, height, chars, text in pages:
        assert (round(width), round(height)) == (595, 842)
        assert "Samme personer over tid" not in text  # the navigation's last link
        assert [c["text"] for c in chars if c["x1"] > width or c["x0"] < 0] == []


@pytest.mark.slow
def test_a_long_table_repeats_its_header_and_ends_with_its_notes(sample_build, tmp_path):
    pages = print_to_pdf(sample_build.reports_dir / "index.html", tmp_path)
    row = re.compile(r"^[PICV]\d .* \d+ \(\d+ %\)", flags=re.M)  # an item's row: code, question, "5 (50 %)", …
    with_rows = [text for _, _, _, text in pages if row.search(text)]
    assert len(with_rows) == 2  # the table of every item runs over two pages
    assert all("Alle spørsmål" in text and "I svært høy" in text for text in with_rows)  # the header on both
    note = "n = fullførte svar med gyldig svar på spørsmålet"
    assert [note in text for text in with_rows] == [False, True]  # the notes once, after the last row
