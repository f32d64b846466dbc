"""PIPELINE_PROFILE=public on a real build of wave 2024 (Danish): every page, chart and table shows exactly what
marts.item_disclosure decides (sql/marts/item_disclosure.sql, tested on its own in test_sql_item_disclosure.py),
and nothing hidden can be worked out from what is published."""

from __future__ import annotations

import itertools
import re

import pytest
from reports_helpers import (
    COUNTS_2024,
    build_sample,
    parse_tables,
    report_frames,
    rows_by_stub,
    source_notes,
    svg_texts,
)

from pipeline.codebook import load_codebook
from pipeline.reports.disclosure import item_views
from pipeline.reports.figures import item_chart, render_figures
from pipeline.settings import PROJECT_ROOT

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
DEGREE_KEYS = ["very_high", "high", "some", "low", "not_at_all", "dont_know"]
YES_NO_KEYS = ["yes", "no", "dont_know"]


@pytest.fixture(scope="module")
def public(tmp_path_factory):
    return build_sample(tmp_path_factory.mktemp("public"), profile="public", lang="da")


@pytest.fixture(scope="module")
def decision(public):
    frame = report_frames(public)["item_disclosure"]
    return {(r["item"], r["category"]): r for r in frame.iter_rows(named=True)}


def _count(cell: str) -> int:
    m = re.fullmatch(r"(\d+) \((\d+) %\)", cell)
    assert m, cell
    return int(m.group(1))


def _item_rows(public) -> dict[str, dict[str, str]]:
    return rows_by_stub((public.reports_dir / "index.html").read_text(encoding="utf-8"), "items")


def test_internal_profile_hides_nothing_and_public_needs_the_decision(public):
    frames = report_frames(public)
    internal = item_views(CODEBOOK, frames["item_distribution"], profile="internal")
    assert not any(v.any_hidden for v in internal.values())
    with pytest.raises(ValueError, match="read marts.item_disclosure"):
        item_views(CODEBOOK, frames["item_distribution"], profile="public")


def test_tables_show_exactly_what_the_decision_shows(public, decision):
    shown = hidden = 0
    for page, table in [("index", "items"), *((level, f"level-{level}") for level in CODEBOOK.levels)]:
        text = (public.reports_dir / f"{page}.html").read_text(encoding="utf-8")
        for item_code, row in rows_by_stub(text, table).items():
            for cat in CODEBOOK.scale_of(item_code).categories:
                d = decision[(item_code, cat.key)]
                if d["hidden"]:
                    assert row[cat.key] == ":", (page, item_code, cat.key)
                    hidden += 1
                else:
                    assert _count(row[cat.key]) == d["n"] >= 3, (page, item_code, cat.key)
                    shown += 1
            assert row["n"] == "10"
            assert (row["headline"] == ":") == decision[(item_code, cat.key)]["headline_hidden"], item_code
            assert (
                (row["mean"] in (":", "–"))
                and (row["mean"] == ":") == decision[(item_code, cat.key)]["mean_hidden"]
                or row["mean"] == "–"
            ), item_code
        assert "»:« = skjult af hensyn til fortroligheden: antal under 3 vises ikke" in " ".join(
            source_notes(text, table)
        )
    assert (shown, hidden) == (2 * 19, 2 * 80)  # each item twice: in the items table and in its level's table
    assert "Statistisk sentralbyrå" not in (public.reports_dir / "index.html").read_text(encoding="utf-8")


def test_public_profile_exact_rows(public):
    rows = _item_rows(public)
    # P1 5, 4, 1, 0, 0, 0: the four small cells sum to 1 and none could reach 3, so very_high is hidden too, and the
    # headline (5 + 4) with it
    assert [rows["P1"][k] for k in DEGREE_KEYS] == [":", "4 (40 %)", ":", ":", ":", ":"]
    assert (rows["P1"]["headline"], rows["P1"]["mean"]) == (":", ":")
    # P3 0, 3, 6, 1, 0, 0: with high and some hidden too, the headline 0 + 3 can stay (very_high anywhere in 0 … 3)
    assert [rows["P3"][k] for k in DEGREE_KEYS] == [":", ":", ":", ":", ":", ":"]
    assert rows["P3"]["headline"] == "30 % (11–60)"
    assert [rows["V4"][k] for k in YES_NO_KEYS] == ["4 (40 %)", ":", ":"]  # dont_know 2 and, with it, "no"
    assert rows["V4"]["headline"] == "40 % (17–69)"
    text = (public.reports_dir / "index.html").read_text(encoding="utf-8")
    overview = {r["_stub"]: (r["items"], r["mean_top2"], r["range"]) for r in parse_tables(text)["overview"]}
    # every level has an item whose top-2 share rests on a hidden count: no average is shown, none silently shrinks
    assert overview["Relevans for borgerne"] == ("6", ":", ":")
    assert overview["Institutionelt niveau"] == ("1", "40 %", "40–40 %")  # I1's top-2 (4 of 10) is shown
    assert all(v[0] != "0" and v[1] == ":" for k, v in overview.items() if k != "Institutionelt niveau")
    assert (
        "»:« = gennemsnit og spænd skjules, når top-2-andelen for et af niveauets spørgsmål er skjult (antal under 3)."
    ) in source_notes(text, "overview")


def test_charts_hide_exactly_what_the_tables_hide(public, decision):
    figures = public.reports_dir / "figures" / "2024"
    for item in CODEBOOK.closed_items():
        texts = svg_texts((figures / f"item-{item.code}.svg").read_text(encoding="utf-8"))
        keys = [c.key for c in CODEBOOK.scale_of(item.code).categories]
        labels = [t for t in texts if re.fullmatch(r"\d+ % \(\d+\)|:", t)]
        assert len(labels) == len(keys), (item.code, texts)
        for key, label in zip(keys, labels):
            d = decision[(item.code, key)]
            assert (label == ":") == d["hidden"], (item.code, key, label)
            if not d["hidden"]:
                assert label.endswith(f"({d['n']})")
    frames = report_frames(public)
    published = {
        p.relative_to(public.reports_dir / "figures").as_posix(): p.read_bytes()
        for p in (public.reports_dir / "figures").rglob("*")
        if p.is_file()
    }
    assert published == render_figures(
        CODEBOOK, "da", item_views(CODEBOOK, frames["item_disclosure"], profile="public")
    )
    internal = item_views(CODEBOOK, frames["item_distribution"], profile="internal")
    assert [
        t
        for t in svg_texts(item_chart(CODEBOOK, "da", internal[("2024", "P1")]).svg)
        if re.fullmatch(r"\d+ % \(\d+\)|:", t)
    ] == ["50 % (5)", "40 % (4)", "10 % (1)", "0 % (0)", "0 % (0)", "0 % (0)"]


def _published_numbers(public) -> dict[str, dict[str, object]]:
    """What an attacker reads about each item: from the items table n, the shown counts and the headline share;
    from the level charts (SVG text) the share of each side and of the "don't know" panel."""
    out = {}
    for item_code, row in _item_rows(public).items():
        keys = [c.key for c in CODEBOOK.scale_of(item_code).categories]
        out[item_code] = {
            "n": int(row["n"]),
            "shown": {k: _count(row[k]) for k in keys if row[k] != ":"},
            "hidden": [k for k in keys if row[k] == ":"],
            "headline": None if row["headline"] == ":" else int(row["headline"].split(" %")[0]),
        }
    return out


def test_no_hidden_count_can_be_worked_out_from_what_is_published(public):
    """Brute force over every split of n minus the shown counts: each hidden count must have two possible values
    consistent with everything the pages and charts print (headline share, side totals, don't-know share)."""
    for item_code, pub in _published_numbers(public).items():
        scale = CODEBOOK.scale_of(item_code)
        headline = {c.key for c in scale.categories if c.headline}
        n, hidden = pub["n"], pub["hidden"]
        rest = n - sum(pub["shown"].values())
        possible = {k: set() for k in hidden}
        for values in itertools.product(range(rest + 1), repeat=len(hidden)):
            if sum(values) != rest:
                continue
            counts = {**pub["shown"], **dict(zip(hidden, values))}
            if pub["headline"] is not None and round(100 * sum(counts[k] for k in headline) / n) != pub["headline"]:
                continue
            for k, v in zip(hidden, values):
                possible[k].add(v)
        truth = dict(zip([c.key for c in scale.categories], COUNTS_2024[item_code]))
        for k in hidden:
            assert truth[k] in possible[k]
            assert len(possible[k]) >= 2, (item_code, k, possible[k])


def test_level_charts_print_no_share_that_includes_a_hidden_count(public, decision):
    """Every "x %" in a level chart is an axis tick or a total of shown counts only (a side's share, the
    don't-know panel): a total over a hidden count is ":"."""
    from pipeline.reports.figures import polarity

    figures = public.reports_dir / "figures" / "2024"
    for level in CODEBOOK.levels:
        allowed = {50, 100}  # axis ticks
        colons = 0
        for item in CODEBOOK.items_of_level(level):
            scale = CODEBOOK.scale_of(item.code)
            if scale.is_text:
                continue
            pol = polarity(CODEBOOK, scale)
            for side in (1, -1, None):
                cells = [decision[(item.code, c.key)] for c in scale.categories if pol.side[c.key] == side]
                if any(c["hidden"] for c in cells):
                    colons += 1
                elif cells or side is None:
                    allowed.add(round(sum(c["pct"] for c in cells)))
        texts = svg_texts((figures / f"level-{level}.svg").read_text(encoding="utf-8"))
        printed = [int(t.split(" %")[0]) for t in texts if re.fullmatch(r"\d+ %", t)]
        assert set(printed) <= allowed, (level, sorted(set(printed) - allowed))
        assert texts.count(":") >= colons, level
