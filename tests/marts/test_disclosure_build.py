"""The disclosure decision (pipeline.marts.disclosure) through a whole public build: three synthetic waves of the same
people (a panel, some partial respondents) with role, library size and county. An attacker who reads only the pages
(tests/page_attack.py) recovers no hidden count of the by-group tables; the panel page prints no count the decision
hides elsewhere; the audit stops a build whose decision is weakened, naming the cell."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import build, make_settings
from page_attack import read_by_group, recovered, table_rows

from bench.generate import generate_waves
from pipeline.codebook import load_codebook
from pipeline.settings import PROJECT_ROOT

pytestmark = pytest.mark.build

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")


def write_panel_waves(raw_dir: Path) -> None:
    """Three waves of 30 (the same e-mail addresses in each: a panel; some partial respondents)."""
    generate_waves(raw_dir, 30, 3, seed=11)
    for wave_yaml in sorted(raw_dir.glob("*/wave.yaml")):
        wave_yaml.write_text(wave_yaml.read_text(encoding="utf-8") + "panel_id: E-post\n", encoding="utf-8")


@pytest.fixture(scope="module")
def public_panel(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("public_panel"), profile="public", lang="nb")
    write_panel_waves(settings.raw_dir)
    with pytest.MonkeyPatch.context() as mp:  # one key: the decision's keyed tie-break is the same each run
        mp.setenv("PIPELINE_PSEUDONYM_KEY", "panel-test-key")
        assert build(settings) == 0
    return settings


def attack(reports_dir: Path) -> tuple[int, dict]:
    hidden, found = 0, {}
    for page in sorted(reports_dir.glob("*.html")):
        for block in read_by_group(page):
            scale = CODEBOOK.scale_of(block.item)
            categories = [c.label["nb"] for c in scale.categories]
            headline = [c.label["nb"] for c in scale.categories if c.headline]
            for row in block.rows:
                hidden += (row.n is None) + sum(1 for c in categories if not row.counts or row.counts[c] is None)
            for key, value in recovered(block, categories, headline, bound=38).items():
                found[(page.name, block.table, block.item, *key)] = value
    return hidden, found


def test_no_hidden_count_of_the_by_group_tables_can_be_worked_out_from_the_pages(public_panel):
    hidden, found = attack(public_panel.reports_dir)
    assert hidden == 848
    assert found == {}


def test_the_run_summary_gives_the_audit_and_a_weakened_decision_stops_the_build(tmp_path, monkeypatch, capsys):
    """With the complementary cells left out (the small counts hidden alone, as before), the audit fails, names the
    pinned cells with the relations that pin them, and nothing is published."""
    import pipeline.marts.disclosure as disclosure

    settings = make_settings(tmp_path, profile="public", lang="nb")
    write_panel_waves(settings.raw_dir)
    monkeypatch.setattr(disclosure, "decide", lambda p: p.initial_hidden())
    assert build(settings) != 0
    err = capsys.readouterr().err
    assert "published_cells_are_protected" in err
    assert "the published figures pin it to [" in err and "(through: " in err
    assert not (settings.reports_dir / "index.html").exists()


def test_the_panel_page_prints_movement_and_mean_change_only_when_every_movement_count_may_be_shown(public_panel):
    """The mean change with its t interval pins the up/same/down counts: shown only with them, and they only when
    each reaches the minimum; pairs below the minimum and retention counts that one small count would give away are
    ":" (never "–")."""
    rows = table_rows(public_panel.reports_dir / "panel.html")
    movement = [r for r in rows if len(r) == 7 and r[0][:1] in "PICV" and r[0][1:].isdigit()]
    assert len(movement) == 36
    shown = [r for r in movement if r[5] not in (":", "–")]
    assert len(shown) == 23
    for r in movement:
        if CODEBOOK.scale_of(r[0]).key == "yes_no":  # no order, so no movement and no mean: "–" (not a count)
            assert r[5:] == ["–", "–"], r
        elif r[5] == ":":
            assert r[6] == ":", r
        else:
            assert all(int(x) >= 3 for x in r[5].split(" / ")), r
        assert r[2] == ":" or int(r[2]) >= 3, r
    retention = [r for r in rows if r[0].startswith("Runde ") and len(r) == 6]
    assert retention == [
        ["Runde synthetic-0001 → synthetic-0002", "30", ":", ":", ":", ":"],
        ["Runde synthetic-0002 → synthetic-0003", "30", ":", ":", ":", ":"],
    ]
    assert "–" not in {cell for r in retention for cell in r}
