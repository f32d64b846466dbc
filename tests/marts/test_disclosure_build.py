"""The disclosure decision (pipeline.marts.disclosure) through a whole public build: three synthetic waves of the same
people (a panel, some partial respondents) with role, library size and county. An attacker who reads only the pages
(tests/page_attack.py) recovers no hidden count of the by-group tables; the panel page prints no count the decision
hides elsewhere; a panel figure that would give back a count the waves' tables hide is hidden; the audit stops a
build whose decision is weakened, naming the cell."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from helpers import build, make_settings, query, read_sample_rows, write_csv_wave
from page_attack import panel_counts_from_pages, ranges, read_by_group, recovered, table_rows

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
    # 23 by the rule alone; the panel's decision hides two more (C4 of the first pair, P1 of the second): "21 of the
    # 24 pairs are scored" would say that the wave's hidden don't-know count is at most 2
    assert len(shown) == 21
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


def label(category: str) -> str:
    return next(c.label["nb"] for c in CODEBOOK.scale_of("P1").categories if c.key == category)


# P1 of the same 14 people in two waves: 2025 very_high 1, high 6, some 4, low 3; 2026 the 2×2 table of the
# headline answer (very_high + high) before × after is 3 / 4 / 4 / 3 (both / only before / only after / neither)
P1_2025 = ["very_high"] + ["high"] * 6 + ["some"] * 4 + ["low"] * 3
P1_2026 = ["high"] * 3 + ["some"] * 4 + ["high"] * 4 + ["low"] * 3


def write_whole_panel(raw_dir: Path) -> None:
    """Two waves of the same 14 people (panel_id: the respondent id), every answer complete; the other items copied
    from the sample's rows."""
    headers, rows = read_sample_rows()
    p1 = headers.index(CODEBOOK.items["P1"].question["nb"])
    for wave, answers in (("2025", P1_2025), ("2026", P1_2026)):
        out = []
        for i, category in enumerate(answers):
            row = list(rows[i % len(rows)])
            row[0], row[1], row[2] = f"R{i + 1:03d}", "Fullført", f"{wave}-05-13 10:{i:02d}"
            row[p1] = label(category)
            out.append(row)
        write_csv_wave(
            raw_dir,
            wave,
            headers,
            out,
            invited=14,
            fielded=f"{wave}-05-13",
            panel_id="Respondent",
            columns={"Tidsstempel": "submitted_at"},
        )


@pytest.fixture(scope="module")
def whole_panel(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("whole_panel"), profile="public", lang="nb")
    write_whole_panel(settings.raw_dir)
    assert build(settings) == 0
    return settings


def test_a_panel_table_that_would_give_back_a_hidden_count_is_hidden(whole_panel):
    """The pairs are all 14 answers of 2025: their headline share "50 % → …" would be 2025's headline count, 7,
    which 2025's tables hide beside high = 6, and with it very_high = 7 − 6 = 1. 2025's tables stay as they are; the
    panel's 2×2 table and shares are hidden, though each of its cells is at least 3, and so is the movement."""
    p1_2025 = query(
        whole_panel,
        "select category, n, hidden, headline_hidden from item_disclosure where wave = '2025' and item = 'P1' "
        "order by category_order",
    )
    # the keyed tie-break (tests' key) chose the headline count as very_high's complement, not high
    assert p1_2025.filter(p1_2025["hidden"])["category"].to_list() == ["very_high", "low", "not_at_all", "dont_know"]
    assert p1_2025["headline_hidden"].to_list() == [True] * 6
    change = query(
        whole_panel,
        "select n_pairs, both_headline, headline_from_only, headline_to_only, neither_headline, transitions_hidden, "
        "pairs_hidden, n_scored, movement_hidden, mean_hidden from panel_change where item = 'P1'",
    )
    # the movement too: "14 of 14 pairs scored" would say that nobody answered "don't know"
    assert change.rows() == [(14, 3, 4, 4, 3, True, False, 14, True, True)]
    rows = [r for r in table_rows(whole_panel.reports_dir / "panel.html") if r[:1] == ["P1"]]
    assert [r[2:] for r in rows] == [["14", ":", ":", ":", ":"]]


def test_a_panel_table_published_anyway_stops_the_build_at_the_audit(tmp_path, monkeypatch, capsys):
    """Without the panel's decision (its rule alone, as before), the audit names 2025's very_high count and the
    panel's relations that pin it, and nothing is published."""
    import pipeline.marts.decisions as decisions

    monkeypatch.setattr(
        decisions,
        "decide_panel",
        lambda cells, shown, panel, **_: panel.select(
            "wave_from",
            "wave_to",
            "item",
            *(pl.lit(False).alias(f"{u}_hidden") for u in ("pairs", "transitions", "movement")),
        ),
    )
    settings = make_settings(tmp_path, profile="public", lang="nb")
    write_whole_panel(settings.raw_dir)
    assert build(settings) != 0
    err = capsys.readouterr().err
    assert (
        "wave 2025, P1, overall, very_high: the published figures pin it to [1, 1], which must reach 0 and 3 "
        "(through: overall: the categories sum to the base n; overall: the headline count is very_high + high; "
        "panel: the pairs of 2025 → 2026 in the headline answer in 2025 (at least 7); panel: the pairs of 2025 → "
        "2026 outside the headline answer in 2025 (at least 7); "
    ) in err
    # all 14 pairs scored in both waves: nobody answered "don't know", which both waves' tables hide
    assert "wave 2025, P1, overall, dont_know: the published figures pin it to [0, 0]" in err
    assert "wave 2026, P1, overall, dont_know: the published figures pin it to [0, 0]" in err
    assert not (settings.reports_dir / "index.html").exists()


@pytest.fixture(scope="module")
def panel_with_leavers(tmp_path_factory):
    """Three waves of a panel of 40, 34 and 28 answers: after each wave 6 drop out and 5 join; the third wave has one
    partial answer (hidden on waves.html)."""
    settings = make_settings(tmp_path_factory.mktemp("panel_with_leavers"), profile="public", lang="nb")
    generate_waves(settings.raw_dir, 40, 3, seed=5)
    for i, wave_yaml in enumerate(sorted(settings.raw_dir.glob("*/wave.yaml"))):
        wave_yaml.write_text(wave_yaml.read_text(encoding="utf-8") + "panel_id: E-post\n", encoding="utf-8")
        export = next(wave_yaml.parent.glob("*.csv"))
        rows = pl.read_csv(export, separator=";", infer_schema=False).slice(6 * i)
        joined = pl.int_range(pl.len()) < (5 if i else 0)
        rows = rows.with_columns(
            pl.when(joined).then(pl.lit(f"new{i}.") + pl.col("E-post")).otherwise(pl.col("E-post")).alias("E-post")
        )
        rows.write_csv(export, separator=";")
    assert build(settings) == 0
    return settings


def test_no_hidden_response_or_panel_count_can_be_worked_out_from_the_pages(panel_with_leavers):
    """An attacker with waves.html and panel.html: the response table (invited, complete, partial), the retention
    table, "the waves share N people" and the pairs per item, with every relation between them
    (tests/page_attack.py). The third wave's one partial answer and the second pair's retention counts are hidden
    (29 + 5 would be 28 answers of the third wave with 27 complete: one partial); none can be pinned."""
    fixed, unknown, relations = panel_counts_from_pages(panel_with_leavers.reports_dir)
    assert fixed[("complete", "synthetic-0003")] == 27
    assert [
        fixed[(c, "synthetic-0001", "synthetic-0002")]
        for c in ("linked_from", "answered_both", "left_after", "joined", "shared")
    ] == [40, 29, 11, 5, 24]
    found = ranges(fixed, unknown, relations, bound=50)
    hidden = {k: v for k, v in found.items() if k[0] != "linked_to"}  # linked_to is printed nowhere
    assert hidden == {
        ("partial", "synthetic-0003"): (0, 23),
        ("answered_both", "synthetic-0002", "synthetic-0003"): (20, 34),
        ("left_after", "synthetic-0002", "synthetic-0003"): (0, 14),
        ("joined", "synthetic-0002", "synthetic-0003"): (0, 30),
        ("shared", "synthetic-0002", "synthetic-0003"): (20, 27),
    }
    hidden_by_group, recovered_by_group = attack(panel_with_leavers.reports_dir)
    assert hidden_by_group == 563 and recovered_by_group == {}
