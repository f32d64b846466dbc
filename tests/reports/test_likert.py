"""pipeline.reports.likert: every base explained where it is shown. A wave whose n falls below its complete
respondents (one misspelt answer quarantined, one answer left blank) says so under the Likert tables and under the
waves page's change table, per item: how many set aside, how many unanswered, and where to see why. Built for real
(Dagster + DuckDB); the wave is the sample's answers as a later wave (2026, not the reconstruction, whose published
figures it would no longer match)."""

from __future__ import annotations

import dagster as dg
import pytest
from helpers import build, copy_sample_wave, make_settings, query
from reports_helpers import rows_by_stub, source_notes
from waves_helpers import item_column, write_second_wave

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)

MISSPELT = "I svært høj grad"  # Danish spelling of "I svært høy grad"


def change(headers, rows):
    p1, p2 = item_column(headers, "P1"), item_column(headers, "P2")
    assert rows[0][p1] == "I svært høy grad"
    rows[0][p1] = MISSPELT  # respondent 1: P1 quarantined
    rows[1][p2] = ""  # respondent 2: P2 left blank


def build_waves(settings, *, with_2024: bool):
    if with_2024:
        copy_sample_wave(settings.raw_dir)  # as published: waves.html compares the two
    write_second_wave(settings.raw_dir, "2026", change=change)
    with pytest.MonkeyPatch.context() as mp, dg.instance_for_test() as instance:
        mp.setenv("PIPELINE_PSEUDONYM_KEY", "test-key")
        assert build(settings, instance) == 0
    return settings


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_waves(make_settings(tmp_path_factory.mktemp("likert")), with_2024=False)


@pytest.fixture(scope="module")
def two_waves(tmp_path_factory):
    return build_waves(make_settings(tmp_path_factory.mktemp("likert_two")), with_2024=True)


def _page(settings, name: str) -> str:
    return (settings.reports_dir / name).read_text(encoding="utf-8")


def test_item_indicators_count_quarantined_and_blank_answers_apart(built):
    rows = query(
        built, "select item, n, n_missing, n_quarantined from item_indicators where n_missing > 0 order by item"
    ).rows()
    assert rows == [("P1", 9, 1, 1), ("P2", 9, 1, 0)]
    assert query(built, "select count(*) as n from item_indicators where n_quarantined > 0")["n"][0] == 1
    [(column, value)] = query(built, 'select "column", value from quarantine').rows()
    assert value == MISSPELT and column.startswith(
        "Kompetansen og erfaringen fra Biblioteket som samskaper gjør at det"
    )


def test_the_personal_table_says_why_n_is_9(built):
    text = _page(built, "personal.html")
    rows = rows_by_stub(text, "level-personal")
    assert (rows["P1"]["n"], rows["P2"]["n"], rows["P3"]["n"]) == ("9", "9", "10")
    notes = source_notes(text, "level-personal")
    assert (
        "Runde 2026: n er lavere enn de 10 fullførte svarene – P1: n = 9 (1 satt til side som ugyldige, 0 ubesvart); "
        "P2: n = 9 (0 satt til side som ugyldige, 1 ubesvart). Svar som er satt til side, står med grunn i tabellen "
        "quarantine (samskabelse.duckdb); «make inspect WAVE=2026» viser dem også."
    ) in notes


def test_only_the_items_whose_n_fell_are_named_and_only_under_their_table(built):
    index_notes = source_notes(_page(built, "index.html"), "items")
    [note] = [n for n in index_notes if "n er lavere" in n]
    assert "P1: n = 9" in note and "P2: n = 9" in note and "P3" not in note
    for level in ("institutional", "citizen", "visibility"):
        assert not [n for n in source_notes(_page(built, f"{level}.html"), f"level-{level}") if "n er lavere" in n]


def test_the_waves_page_says_why_n_is_9_under_the_change_table(two_waves):
    """waves.html shows each wave's n beside its share: the same note, for the wave whose n fell only."""
    notes = [n for n in source_notes(_page(two_waves, "waves.html"), "waves-change") if "n er lavere" in n]
    assert notes == [
        "Runde 2026: n er lavere enn de 10 fullførte svarene – P1: n = 9 (1 satt til side som ugyldige, 0 ubesvart); "
        "P2: n = 9 (0 satt til side som ugyldige, 1 ubesvart). Svar som er satt til side, står med grunn i tabellen "
        "quarantine (samskabelse.duckdb); «make inspect WAVE=2026» viser dem også."
    ]
