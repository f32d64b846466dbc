"""pipeline.reports.document.build: the document's structure from the marts and the prose — the chapters in the
order of the report, a place without text left out, the figures of the newest wave only (items with answers and a
figure number), with several waves the change since the previous wave, the paired change, the tables by group and
the quarantined cells; the sources appendix names every column the documents read (cut to them, the marts give the
same document)."""

from __future__ import annotations

import pytest
from document_helpers import BAD_CELL, render
from helpers import query

from pipeline.codebook import load_codebook
from pipeline.reports.document.build import DOCUMENT_READS, SOURCES, build_document, slug
from pipeline.reports.document.documents import chart_files, read_published
from pipeline.reports.document.model import Figure, Heading, Table
from pipeline.reports.document.pdf import document_json
from pipeline.reports.figures import FigureCache
from pipeline.settings import PROJECT_ROOT

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")


def chapters(document) -> list[str]:
    return [b.text for b in document.blocks if isinstance(b, Heading) and b.level == 1]


def test_the_chapters_of_the_report(sample_documents):
    assert chapters(sample_documents["internal"].document) == [
        "Sammenfatning",
        "Indledning",
        "Metode",
        "Personligt niveau",
        "Institutionelt niveau",
        "Relevans for borgerne",
        "Lokal og kommunal synlighed",
        "Diskussion",
        "Spørgeskemaet",
        "Kilder til tabeller og figurer",
    ]


def test_a_language_without_text_leaves_its_places_out(sample_build, tmp_path):
    document = render(sample_build, "en", "internal", tmp_path / "charts").document
    assert chapters(document) == [
        "Summary",
        "Method",
        "Personal level",
        "Institutional level",
        "Relevance for citizens",
        "Local and municipal visibility",
        "The questionnaire",
        "Sources of tables and figures",
    ]
    assert document.slug == "co-creation-the-long-term-effects-of-competence-development"
    assert document.title_notes[0] == "Internal edition: every number is shown, small counts included."


def test_figures_are_the_items_with_a_figure_number(sample_documents):
    figures = [b for b in sample_documents["internal"].document.blocks if isinstance(b, Figure)]
    assert [f.number for f in figures] == list(range(1, 18))
    assert [f.key for f in figures] == [f"2024/item-{i.code}" for i in CODEBOOK.closed_items() if i.figure]
    assert "2024/item-C3" not in [f.key for f in figures]  # figure: null in the codebook: in the tables only


def test_slug():
    assert (
        slug("Samskabelse – de langsigtede effekter af kompetenceudvikling")
        == "samskabelse-de-langsigtede-effekter-af-kompetenceudvikling"
    )
    assert slug("Ærø, Øresund & Århus!") == "aeroe-oeresund-aarhus"


@pytest.fixture(scope="module")
def waves_document(panel_group_build, tmp_path_factory):
    return render(
        panel_group_build, "da", "internal", tmp_path_factory.mktemp("charts"), tmp_path_factory.mktemp("no_prose")
    ).document


def test_several_waves_the_newest_wave_s_figures_and_the_change(waves_document, panel_group_build):
    figures = [b.key for b in waves_document.blocks if isinstance(b, Figure)]
    assert figures == ["2026/item-P1", "2026/item-V4"]  # the items the two waves answered
    tables = {b.table.id: b for b in waves_document.blocks if isinstance(b, Table)}
    assert {
        "change-personal",
        "panel-personal",
        "by-group-personal-role",
        "panel-retention",
        "quarantine",
        "change-visibility",
        "panel-visibility",
        "by-group-visibility-role",
    } <= set(tables)
    change = {
        r.stub: dict(zip((c.key for c in tables["change-personal"].grid.columns), r.cells))
        for r in tables["change-personal"].grid.rows
    }
    row = query(
        panel_group_build,
        "select headline_pct_from, headline_pct_to, n_from, n_to from wave_change "
        "where item = 'P1' and wave_from = '2025' and wave_to = '2026'",
    ).row(0, named=True)
    assert (row["n_from"], row["n_to"]) == (8, 9)
    assert change["P1"]["share_from"] == f"{round(row['headline_pct_from'])} % (n=8)" == "62 % (n=8)"
    assert change["P1"]["share_to"] == f"{round(row['headline_pct_to'])} % (n=9)" == "67 % (n=9)"
    assert [h.text for h in waves_document.blocks if isinstance(h, Heading) and h.level == 2][:7] == [
        "Besvarelser og svarprocent",
        "Celler i karantæne",
        "Definitioner",
        "Ændring siden runde 2025",
        "Samme personer over tid",
        "Efter gruppe",
        "Ændring siden runde 2025",
    ]


def test_the_quarantined_cell_and_why(waves_document, panel_group_build):
    table = next(b for b in waves_document.blocks if isinstance(b, Table) and b.table.id == "quarantine")
    (row,) = table.grid.rows
    column, cells, reason = row.cells
    (marts_row,) = query(panel_group_build, 'select wave, "column", reason from quarantine').rows()
    assert (row.group, column, cells, reason) == (f"Runde {marts_row[0]}", marts_row[1], "1", marts_row[2])
    assert BAD_CELL in reason


@pytest.mark.parametrize("profile", ["internal", "public"])
def test_the_sources_name_every_column_the_document_reads(panel_group_build, sample_build, tmp_path, profile):
    declared: dict[str, set[str]] = {}
    for marts in SOURCES.values():
        for mart, columns in marts:
            declared.setdefault(mart, set()).update(columns)
    assert set(declared) == set(DOCUMENT_READS)
    for settings, prose in ((panel_group_build, tmp_path / "none"), (sample_build, PROJECT_ROOT / "report")):
        marts = read_published(settings)
        figures = chart_files(CODEBOOK, "da", marts, FigureCache(tmp_path / "charts"), profile)
        cut = {name: frame.select(sorted(declared[name])) for name, frame in marts.items()}
        assert all(cut[name].width < marts[name].width for name in ("item_indicators", "waves", "wave_change"))
        whole = build_document(CODEBOOK, "da", marts, figures, prose, profile=profile)
        assert document_json(build_document(CODEBOOK, "da", cut, figures, prose, profile=profile)) == document_json(
            whole
        )
