"""pipeline.reports.document.cells: every cell of every table of the pages reads in the documents exactly as on the
pages (the great-tables HTML of the same ReportTable), for the sample and for two waves of the same people with a
background variable, internal and public, in each language."""

from __future__ import annotations

import pytest
from reports_helpers import parse_tables

from pipeline.codebook import load_codebook
from pipeline.reports.by_group import group_table
from pipeline.reports.data import ReportData
from pipeline.reports.document.cells import apply_pattern, grid
from pipeline.reports.document.documents import read_published
from pipeline.reports.panel import panel_tables
from pipeline.reports.render import build_tables
from pipeline.reports.tables import to_gt
from pipeline.reports.waves import waves_tables


def page_tables(settings, lang: str, profile: str) -> dict:
    """Every ReportTable of the pages (index, levels, waves, panel, by group) from a build's published marts."""
    codebook = load_codebook(settings.codebook_file)
    marts = read_published(settings)
    data = ReportData.from_marts(codebook, lang, marts, profile, settings.min_cell, settings.min_group)
    tables = build_tables(data)
    tables.update(
        waves_tables(
            codebook, lang, marts["waves"], marts["wave_change"], profile, settings.min_cell, marts["item_disclosure"]
        )
    )
    tables.update(
        panel_tables(
            codebook, lang, marts["waves"], marts["panel_retention"], marts["panel_change"], profile, settings.min_cell
        )
    )
    if data.group_rows.height:
        for level in codebook.levels:
            part = data.group_rows.filter(data.group_rows["level"] == level)
            for variable in sorted(set(part["variable"].to_list())):
                table = group_table(data, level, variable)
                tables[table.id] = table
    return tables


def compare(tables: dict, lang: str) -> int:
    """Assert that each table's grid says what its HTML says; return the number of cells compared."""
    compared = 0
    for table_id, table in tables.items():
        html_rows = parse_tables(to_gt(table, lang).as_raw_html())[table_id]
        g = grid(table, lang)
        assert len(html_rows) == len(g.rows), table_id
        for html_row, row in zip(html_rows, g.rows):
            assert html_row["_stub"] == (row.stub or ""), table_id
            if row.group is not None:
                assert html_row["_group"] == row.group, table_id
            for column, text in zip(g.columns, row.cells):
                assert html_row[column.key] == text, (table_id, row.stub, column.key)
                compared += 1
    return compared


@pytest.mark.parametrize(("lang", "profile"), [("nb", "internal"), ("da", "public"), ("en", "internal")])
def test_sample_tables_read_as_on_the_pages(sample_build, lang, profile):
    tables = page_tables(sample_build, lang, profile)
    assert {"overview", "items", "level-personal", "level-visibility", "waves-response"} <= set(tables)
    assert compare(tables, lang) > 400


@pytest.mark.parametrize("profile", ["internal", "public"])
def test_two_waves_with_panel_and_groups_read_as_on_the_pages(panel_group_build, profile):
    tables = page_tables(panel_group_build, "da", profile)
    assert {"waves-change", "panel-retention", "panel-personal", "by-group-personal-role"} <= set(tables)
    assert compare(tables, "da") > 300


def test_hidden_cells_of_the_public_sample_are_colons(sample_build):
    internal = grid(page_tables(sample_build, "da", "internal")["level-institutional"], "da")
    public = grid(page_tables(sample_build, "da", "public")["level-institutional"], "da")
    columns = [c.key for c in public.columns]
    inside, outside = dict(zip(columns, internal.rows[0].cells)), dict(zip(columns, public.rows[0].cells))
    # I1 in 2024: 1 / 3 / 4 / 2 / 0 / 0 of 10 (tests/reports_helpers.COUNTS_2024)
    assert inside["very_high"] == "1 (10 %)" and outside["very_high"] == ":"
    assert inside["low"] == "2 (20 %)" and outside["low"] == ":"
    assert inside["headline"] == outside["headline"] == "40 % (17–69)"  # 1 + 3: the headline may show
    assert outside["n"] == "10"


def test_merge_patterns_as_great_tables():
    assert apply_pattern("{0}<< ({1}–{2})>>", ["90 %", "60", "98"]) == "90 % (60–98)"
    assert apply_pattern("{0}<< ({1}–{2})>>", ["90 %", None, "98"]) == "90 %"
    assert apply_pattern("{0} ({1})", ["5", "50 %"]) == "5 (50 %)"
    assert apply_pattern("{0} / {1} / {2}", [":", None, None]) == ": / NA / NA"
    assert apply_pattern(None, ["a", "b"]) == "a b"
