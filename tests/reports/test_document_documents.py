"""pipeline.reports.document.documents and the Dagster assets of the document: every build publishes <slug>.pdf, .docx
and .xlsx with the pages (each asset depending on exactly the marts it reads); `make report` makes the same bytes
from the published marts in another process; a placeholder that names nothing stops the build with file and line;
the public profile's documents hold no hidden value."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import shutil
import subprocess
import sys

import dagster as dg
import pytest
from document_helpers import clean, file_of, pdf_pages, render
from docx import Document
from helpers import build, query

from pipeline.codebook import load_codebook
from pipeline.definitions import build_definitions
from pipeline.defs.assets.document import DOCUMENT_KEYS
from pipeline.reports.document.build import DOCUMENT_READS
from pipeline.reports.document.model import Figure, Table
from pipeline.settings import PROJECT_ROOT

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
SLUG = "biblioteket-som-samskaper-langsiktige-effekter"  # the codebook's nb title


def sha(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def test_every_build_publishes_the_three_documents(sample_build):
    files = {p.name for p in sample_build.reports_dir.iterdir()}
    assert {f"{SLUG}.pdf", f"{SLUG}.docx", f"{SLUG}.xlsx"} <= files
    assert (sample_build.reports_dir / f"{SLUG}.pdf").read_bytes().startswith(b"%PDF-")


def test_the_document_assets_depend_on_exactly_the_marts_they_read(sample_build):
    graph = build_definitions(sample_build).resolve_asset_graph()
    for key in DOCUMENT_KEYS.values():
        node = graph.get(key)
        assert node.group_name == "reports"
        assert sorted(k.path[1] for k in node.parent_keys) == sorted(DOCUMENT_READS)
        assert all(k.path[0] == "marts" for k in node.parent_keys)
    assert set(DOCUMENT_KEYS.values()) <= set(graph.get(dg.AssetKey(["publish", "reports"])).parent_keys)


def test_make_report_rebuilds_the_same_bytes_in_another_process(sample_build, tmp_path):
    marts = tmp_path / "marts"
    marts.mkdir()
    shutil.copy(sample_build.published_db, marts / "samskabelse.duckdb")
    env = {**os.environ, "PIPELINE_MARTS_DIR": str(marts), "PIPELINE_PSEUDONYM_KEY": "test-key"}
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.reports.document.documents"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == f"samskabelse report: 3 file(s) in {marts / 'reports'} (nb, internal)"
    for fmt in ("pdf", "docx", "xlsx"):
        made, built = marts / "reports" / f"{SLUG}.{fmt}", sample_build.reports_dir / f"{SLUG}.{fmt}"
        assert sha(made.read_bytes()) == sha(built.read_bytes()), fmt


def test_rendering_twice_gives_the_same_bytes(sample_documents, sample_build, tmp_path):
    again = render(sample_build, "da", "internal", tmp_path / "charts")
    assert {name: sha(b) for name, b in again.files.items()} == {
        name: sha(b) for name, b in sample_documents["internal"].files.items()
    }


def test_a_wrong_placeholder_stops_the_build_with_file_and_line(sample_build, tmp_path, capsys):
    settings = dataclasses.replace(
        sample_build, raw_dir=tmp_path / "raw", marts_dir=tmp_path / "marts", report_dir=tmp_path / "prose"
    )
    shutil.copytree(sample_build.raw_dir, settings.raw_dir)
    shutil.copytree(sample_build.marts_dir, settings.marts_dir)
    (settings.report_dir / "nb").mkdir(parents=True)
    (settings.report_dir / "nb" / "personal.md").write_text(
        "Innledning.\n\n{{ P1.svært_høy.pct }} svarte …\n", encoding="utf-8"
    )
    before = (settings.reports_dir / f"{SLUG}.pdf").read_bytes()
    assert build(settings) == 1
    out = capsys.readouterr()
    text = out.out + out.err
    assert (
        f"{settings.report_dir}/nb/personal.md:3: {{{{ P1.svært_høy.pct }}}} names no category 'svært_høy' of P1"
        in text
    )
    assert "Allowed: {{ <item>.<measure> }}" in text
    assert (settings.reports_dir / f"{SLUG}.pdf").read_bytes() == before  # nothing published


@pytest.fixture(scope="module")
def hidden(sample_build):
    """(item, category) of every count the public profile hides in wave 2024 (marts.item_disclosure)."""
    return set(query(sample_build, "select item, category from item_disclosure where wave = '2024' and hidden").rows())


def test_the_public_documents_hold_no_hidden_value(sample_documents, hidden):
    public, internal = sample_documents["public"], sample_documents["internal"]
    assert ("I1", "very_high") in hidden and len(hidden) > 40
    pdf_lines = [line for text in pdf_pages(file_of(public, "pdf")) for line in text.splitlines()]
    word_rows = [
        [c.text for c in row.cells] for t in Document(io.BytesIO(file_of(public, "docx"))).tables for row in t.rows
    ]
    tables = {
        (t.table.id, r.stub): dict(zip((c.key for c in t.grid.columns), r.cells))
        for t in public.document.blocks
        if isinstance(t, Table)
        for r in t.grid.rows
    }
    shown = {
        (t.table.id, r.stub): dict(zip((c.key for c in t.grid.columns), r.cells))
        for t in internal.document.blocks
        if isinstance(t, Table)
        for r in t.grid.rows
    }
    checked = 0
    for block in public.document.blocks:
        if not isinstance(block, Table) or not block.table.id.startswith("level-"):
            continue
        for row in block.grid.rows:
            cells = tables[(block.table.id, row.stub)]
            for item, category in hidden:
                if item == row.stub:
                    assert cells[category] == ":" != shown[(block.table.id, row.stub)][category]
                    checked += 1
            line = " ".join(c for c, col in zip(row.cells, block.grid.columns) if c and not col.text)
            assert any(x.startswith(row.stub) and x.endswith(line) for x in pdf_lines), row.stub
            assert [row.stub, *row.cells] in word_rows
    assert checked == len(hidden)
    for figure in (b for b in public.document.blocks if isinstance(b, Figure)):
        item = figure.key.rsplit("-", 1)[1]
        for cat_item, category in hidden:
            if cat_item == item:
                label = next(c.label["da"] for c in CODEBOOK.scale_of(item).categories if c.key == category)
                assert f"{label} :" in figure.alt, (item, category)


def test_the_public_edition_says_so(sample_documents):
    title = clean(pdf_pages(file_of(sample_documents["public"], "pdf"))[0])
    assert "Offentlig udgave: antal under 3 og det, der bygger på dem, er skjult (»:«)." in title
    method = clean(" ".join(pdf_pages(file_of(sample_documents["public"], "pdf"))))
    assert "»:« = skjult af hensyn til fortroligheden" in method
