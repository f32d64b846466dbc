"""PIPELINE_PROFILE=public: small-cell suppression, in the unit and in a real build of wave 2024 (Danish)."""

from __future__ import annotations

import itertools
import re

import pytest

from pipeline.codebook import load_codebook
from pipeline.disclosure import item_views, protect_counts
from pipeline.figures import item_chart, render_figures
from pipeline.settings import PROJECT_ROOT
from reports_helpers import COUNTS_2024, build_sample, parse_tables, report_frames, rows_by_stub, source_notes

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
DEGREE = dict(sums={"headline": frozenset({"very_high", "high"}), "top2": frozenset({"very_high", "high"})},
              scored=frozenset({"very_high", "high", "some", "low", "not_at_all"}), min_cell=3)
YES_NO = dict(sums={"headline": frozenset({"yes"})}, scored=frozenset(), min_cell=3)
DEGREE_KEYS = ["very_high", "high", "some", "low", "not_at_all", "dont_know"]
YES_NO_KEYS = ["yes", "no", "dont_know"]


def _degree(*counts):
    return protect_counts(dict(zip(DEGREE_KEYS, counts)), **DEGREE)


def _yes_no(*counts):
    return protect_counts(dict(zip(YES_NO_KEYS, counts)), **YES_NO)


def test_counts_below_the_minimum_are_hidden_and_the_mean_with_them():
    p = _degree(5, 4, 1, 0, 0, 0)
    assert p.hidden == {"some", "low", "not_at_all", "dont_know"}
    assert (p.n_hidden, p.hidden_sums, p.mean_hidden) == (False, frozenset(), True)
    p = _degree(3, 3, 3, 0, 0, 1)
    assert p.hidden == {"low", "not_at_all", "dont_know"}
    assert p.mean_hidden


def test_a_lone_hidden_cell_in_the_headline_gets_a_second_one():
    # very_high 0 is hidden; top-2 = 3 is published, so high (3) would follow by subtraction: hide it too
    p = _degree(0, 3, 6, 1, 0, 0)
    assert p.hidden == {"very_high", "high", "low", "not_at_all", "dont_know"}
    assert p.hidden_sums == frozenset()


def test_the_second_cell_is_chosen_so_the_headline_can_stay():
    # dont_know 2 needs a partner; hiding "yes" would force hiding the headline (yes is all of it): hide "no"
    p = _yes_no(4, 4, 2)
    assert (p.hidden, p.hidden_sums) == ({"no", "dont_know"}, frozenset())
    assert _yes_no(5, 5, 0).hidden == {"no", "dont_know"}


def test_a_small_headline_is_hidden_itself():
    p = _degree(1, 1, 6, 2, 0, 0)
    assert p.hidden_sums == {"headline", "top2"}
    assert p.hidden == {"very_high", "high", "low", "not_at_all", "dont_know"}
    p = _yes_no(2, 8, 0)
    assert (p.hidden, p.hidden_sums) == ({"yes", "dont_know"}, {"headline"})


def test_a_small_base_hides_everything():
    p = _degree(1, 1, 0, 0, 0, 0)
    assert p.n_hidden and p.hidden == set(DEGREE_KEYS) and p.hidden_sums == {"headline", "top2"}


def test_nothing_is_hidden_when_every_count_is_large_enough():
    p = _degree(3, 4, 5, 3, 3, 3)
    assert p.hidden == frozenset() and not p.mean_hidden and p.hidden_sums == frozenset()


def test_internal_profile_hides_nothing():
    frames_like = [(i, COUNTS_2024[i]) for i in ("P3", "V4")]
    import polars as pl

    rows = []
    for item, counts in frames_like:
        keys = [c.key for c in CODEBOOK.scale_of(item).categories]
        for order, (key, n) in enumerate(zip(keys, counts), start=1):
            rows.append({"wave": "2024", "item": item, "item_order": CODEBOOK.items[item].order, "category": key,
                         "category_order": order, "n": n, "pct": 10.0 * n})
    dist = pl.DataFrame(rows)
    internal = item_views(CODEBOOK, dist, profile="internal", min_cell=3)
    assert not any(v.any_hidden for v in internal.values())
    public = item_views(CODEBOOK, dist, profile="public", min_cell=3)
    assert [c.category for c in public[("2024", "V4")].cells if c.hidden] == ["no", "dont_know"]
    assert public[("2024", "V4")].hidden_share == 60.0
    # the chart of V4 draws bars for the visible cells only: yes
    fig = item_chart(CODEBOOK, "nb", public[("2024", "V4")])
    assert len(fig.axes[0].patches) == 1
    fig = item_chart(CODEBOOK, "nb", internal[("2024", "V4")])
    assert len(fig.axes[0].patches) == 3


@pytest.fixture(scope="module")
def public(tmp_path_factory):
    return build_sample(tmp_path_factory.mktemp("public"), profile="public", lang="da")


def _count(cell: str) -> int:
    m = re.fullmatch(r"(\d+) \((\d+) %\)", cell)
    assert m, cell
    return int(m.group(1))


def test_public_profile_shows_no_count_below_3(public):
    shown = hidden = 0
    for level in CODEBOOK.levels:
        text = (public.reports_dir / f"{level}.html").read_text(encoding="utf-8")
        for item_code, row in rows_by_stub(text, f"level-{level}").items():
            for cat in CODEBOOK.scale_of(item_code).categories:
                if row[cat.key] == ":":
                    hidden += 1
                else:
                    assert _count(row[cat.key]) >= 3, (item_code, cat.key, row[cat.key])
                    shown += 1
            assert row["n"] == "10"
        assert "»:« = skjult af hensyn til fortroligheden: antal under 3" in " ".join(source_notes(text, f"level-{level}"))
    assert (shown, hidden) == (25, 74)
    # the stacked bars' tooltips show no hidden count either
    for level in CODEBOOK.levels:
        text = (public.reports_dir / f"{level}.html").read_text(encoding="utf-8")
        for label in re.findall(r'role="img" aria-label="([^"]*)"', text):
            for n in re.findall(r": (\d+) \(", label):
                assert int(n) >= 3, label


def test_public_profile_exact_rows(public):
    text = (public.reports_dir / "index.html").read_text(encoding="utf-8")
    rows = rows_by_stub(text, "items")
    p1 = rows["P1"]
    assert [p1[k] for k in DEGREE_KEYS] == ["5 (50 %)", "4 (40 %)", ":", ":", ":", ":"]
    assert (p1["headline"], p1["mean"]) == ("90 % (60–98)", ":")
    c1 = rows["C1"]
    assert [c1[k] for k in DEGREE_KEYS] == [":", ":", "6 (60 %)", ":", ":", ":"]
    assert c1["headline"] == ":"  # top-2 = 2 people
    v4 = rows["V4"]
    assert [v4[k] for k in YES_NO_KEYS] == ["4 (40 %)", ":", ":"]
    assert v4["headline"] == "40 % (17–69)"
    overview = {r["_stub"]: (r["items"], r["mean_top2"], r["range"]) for r in parse_tables(text)["overview"]}
    # C1 and C6 (top-2 of 2 people) are left out of the citizen level's mean and range
    assert overview["Relevans for borgerne"] == ("4", "40 %", "30–60 %")
    assert "Spørgsmål med skjult top-2-andel indgår ikke i gennemsnit og spænd." in source_notes(text, "overview")


def test_no_hidden_count_can_be_worked_out_from_what_is_published(public):
    """An attacker knows n, every visible count and the headline share: every hidden count that is not 0 must
    have at least two values consistent with all of it."""
    text = (public.reports_dir / "index.html").read_text(encoding="utf-8")
    for item_code, row in rows_by_stub(text, "items").items():
        scale = CODEBOOK.scale_of(item_code)
        keys = [c.key for c in scale.categories]
        headline = {c.key for c in scale.categories if c.headline}
        n = int(row["n"])
        hidden = [k for k in keys if row[k] == ":"]
        visible = {k: _count(row[k]) for k in keys if row[k] != ":"}
        rest = n - sum(visible.values())
        share = None if row["headline"] == ":" else int(row["headline"].split(" %")[0])
        possible = {k: set() for k in hidden}
        for values in itertools.product(range(rest + 1), repeat=len(hidden)):
            if sum(values) != rest:
                continue
            counts = {**visible, **dict(zip(hidden, values))}
            if share is not None and round(100 * sum(counts[k] for k in headline) / n) != share:
                continue
            for k, v in zip(hidden, values):
                possible[k].add(v)
        truth = dict(zip(keys, COUNTS_2024[item_code]))
        for k in hidden:
            assert truth[k] in possible[k]
            assert len(possible[k]) >= 2 or possible[k] == {0}, (item_code, k, possible[k])


def test_public_charts_hide_what_the_tables_hide(public):
    frames = report_frames(public)
    views = {"internal": item_views(CODEBOOK, frames["item_distribution"], profile="internal", min_cell=3),
             "public": item_views(CODEBOOK, frames["item_distribution"], profile="public", min_cell=3)}
    internal = render_figures(CODEBOOK, "da", views["internal"])
    published = {p.relative_to(public.reports_dir / "figures").as_posix(): p.read_bytes()
                 for p in (public.reports_dir / "figures").rglob("*") if p.is_file()}
    assert published == render_figures(CODEBOOK, "da", views["public"])
    assert published["2024/item-P1.svg"] != internal["2024/item-P1.svg"]
    # P1 in public: bars for very_high and high only
    assert len(item_chart(CODEBOOK, "da", views["public"][("2024", "P1")]).axes[0].patches) == 2
    assert len(item_chart(CODEBOOK, "da", views["internal"][("2024", "P1")]).axes[0].patches) == 6
