"""Charts (pipeline.reports.figures): sides and colours from the codebook, geometry of the diverging chart, bytes."""

from __future__ import annotations

import polars as pl
import pytest
from reports_helpers import COUNTS_2024

from pipeline.codebook import load_codebook
from pipeline.reports.disclosure import item_views
from pipeline.reports.figures import apart_keys, level_chart, polarity, render_figures
from pipeline.settings import PROJECT_ROOT

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")


def _distribution(counts: dict[str, list[int]], wave: str = "2024") -> pl.DataFrame:
    """A frame shaped like marts.item_distribution for the given items."""
    rows = []
    for item, ns in counts.items():
        keys = [c.key for c in CODEBOOK.scale_of(item).categories]
        base = sum(ns)
        for order, (key, n) in enumerate(zip(keys, ns), start=1):
            rows.append(
                {
                    "wave": wave,
                    "level": CODEBOOK.items[item].level,
                    "item": item,
                    "item_order": CODEBOOK.items[item].order,
                    "category": key,
                    "category_order": order,
                    "n": n,
                    "base_n": base,
                    "pct": 100.0 * n / base if base else None,
                }
            )
    return pl.DataFrame(rows)


def test_sides_come_from_scores_and_headline():
    degree = polarity(CODEBOOK, CODEBOOK.scales["degree"])
    assert degree.side == {"very_high": 1, "high": 1, "some": 0, "low": -1, "not_at_all": -1, "dont_know": None}
    assert degree.outward == {1: ("high", "very_high"), -1: ("low", "not_at_all")}
    yes_no = polarity(CODEBOOK, CODEBOOK.scales["yes_no"])
    assert yes_no.side == {"yes": 1, "no": -1, "dont_know": None}
    assert apart_keys(CODEBOOK) == {"dont_know"}
    # further out = stronger colour; the two sides differ
    assert degree.colour["very_high"] != degree.colour["high"] != degree.colour["low"]
    assert degree.colour["dont_know"] == yes_no.colour["dont_know"]


def _bars(ax):
    """(left, right) of every bar with a width, rounded, sorted."""
    out = []
    for p in ax.patches:
        x0, x1 = sorted((p.get_x(), p.get_x() + p.get_width()))
        if x1 - x0 > 1e-9:
            out.append((round(x0, 6), round(x1, 6)))
    return sorted(out)


def test_diverging_chart_puts_negative_left_positive_right_and_dont_know_apart():
    # C5: very_high 1, high 2, some 3, low 2, not_at_all 2, dont_know 0  → some 30 % across 0
    # C4: very_high 1, high 3, some 3, low 2, not_at_all 0, dont_know 1 → dont_know 10 % apart
    views = item_views(
        CODEBOOK, _distribution({k: COUNTS_2024[k] for k in ("C4", "C5")}), profile="internal", min_cell=3
    )
    fig = level_chart(CODEBOOK, "nb", "citizen", [views[("2024", "C4")], views[("2024", "C5")]])
    main, side = fig.axes[:2]
    assert _bars(main) == sorted(
        [
            # C4: some -15..15, high 15..45, very_high 45..55, low -15..-35
            (-15.0, 15.0),
            (15.0, 45.0),
            (45.0, 55.0),
            (-35.0, -15.0),
            # C5: some -15..15, high 15..35, very_high 35..45, low -35..-15, not_at_all -55..-35
            (-15.0, 15.0),
            (15.0, 35.0),
            (35.0, 45.0),
            (-35.0, -15.0),
            (-55.0, -35.0),
        ]
    )
    assert _bars(side) == [(0.0, 10.0)]  # C4's dont_know, apart
    totals = sorted(t.get_text() for t in main.texts if t.get_text().endswith(" %"))
    assert totals == ["20 %", "30 %", "40 %", "40 %"]  # C4: 20 left, 40 right; C5: 40 left, 30 right


def test_figures_are_byte_identical_and_carry_no_date():
    dist = _distribution({k: COUNTS_2024[k] for k in ("P1", "C4", "V4")})
    views = item_views(CODEBOOK, dist, profile="internal", min_cell=3)
    first = render_figures(CODEBOOK, "da", views)
    second = render_figures(CODEBOOK, "da", item_views(CODEBOOK, dist, profile="internal", min_cell=3))
    assert first == second
    assert len(first) == 2 * (3 + 3)
    assert list(first) == sorted(first)
    svg = first["2024/item-P1.svg"].decode("utf-8")
    assert svg.startswith("<?xml") and "<dc:date>" not in svg and 'id="figure-2024-P1"' in svg
    assert first["2024/item-P1.png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert b"tEXtSoftware" not in first["2024/item-P1.png"]
    english = render_figures(CODEBOOK, "en", views)
    assert english["2024/item-P1.svg"] != first["2024/item-P1.svg"]  # labels follow the language


def test_each_wave_gets_its_own_charts():
    dist = pl.concat(
        [_distribution({"P1": COUNTS_2024["P1"]}, "2024"), _distribution({"P1": [1, 1, 1, 1, 1, 0]}, "2025")]
    )
    out = render_figures(CODEBOOK, "nb", item_views(CODEBOOK, dist, profile="internal", min_cell=3))
    assert sorted(out) == [
        "2024/item-P1.png",
        "2024/item-P1.svg",
        "2024/level-personal.png",
        "2024/level-personal.svg",
        "2025/item-P1.png",
        "2025/item-P1.svg",
        "2025/level-personal.png",
        "2025/level-personal.svg",
    ]
    assert out["2024/item-P1.svg"] != out["2025/item-P1.svg"]


def test_a_chart_drawn_for_one_build_is_taken_from_memory_by_the_next_build_of_the_process(tmp_path, monkeypatch):
    import pipeline.reports.figures as figures

    calls = []
    real_render = figures._render
    monkeypatch.setattr(figures, "_render", lambda *a, **k: calls.append(a[1]) or real_render(*a, **k))
    monkeypatch.setattr(figures, "DRAWN_IN_PROCESS", figures.OrderedDict())
    views = item_views(CODEBOOK, _distribution({"P1": COUNTS_2024["P1"]}), profile="internal", min_cell=3)
    first = figures.figure_files(CODEBOOK, "nb", views, figures.FigureCache(tmp_path / "a"))
    second_cache = figures.FigureCache(tmp_path / "b")
    second = figures.figure_files(CODEBOOK, "nb", views, second_cache)
    assert sorted(calls) == ["figure-2024-P1", "figure-2024-personal"]  # each drawn once, for the first build
    assert {rel: p.read_bytes() for rel, p in first.items()} == {rel: p.read_bytes() for rel, p in second.items()}
    assert len(second_cache.drawn) == 2  # new to the second folder all the same
    assert {rel: p.read_bytes() for rel, p in second.items()} == render_figures(CODEBOOK, "nb", views)


def test_many_charts_are_drawn_by_worker_processes_with_the_same_bytes(tmp_path, monkeypatch):
    import pipeline.reports.figures as figures

    monkeypatch.setattr(figures, "DRAWN_IN_PROCESS", figures.OrderedDict())
    monkeypatch.setattr(figures, "PARALLEL_FROM_S", 0.5)
    calls = []
    real_render = figures._render
    monkeypatch.setattr(figures, "_render", lambda *a, **k: calls.append(a[1]) or real_render(*a, **k))
    dist = _distribution({k: COUNTS_2024[k] for k in ("P1", "P2", "C4", "V4")})
    views = item_views(CODEBOOK, dist, profile="internal", min_cell=3)
    drawn = figures.figure_files(CODEBOOK, "nb", views, figures.FigureCache(tmp_path))
    assert calls == []  # nothing drawn in this process: 4 item charts and 3 level charts by the workers
    # estimated 0.8 s of drawing (0.1 s a chart, 0.025 s a row of a level chart: P1+P2, C4, V4), above the 0.5 s
    assert sum(figures.drawing_seconds(c) for c in figures.charts(CODEBOOK, "nb", views)) == pytest.approx(0.8)
    assert len(drawn) == 2 * 7
    assert {rel: p.read_bytes() for rel, p in drawn.items()} == render_figures(CODEBOOK, "nb", views)


def _group_views(groups: dict[str, list[str]], items=("P1", "C4", "V4"), wave: str = "2026"):
    """GroupViews (wave, variable, group) → item → view: every group of every variable answers the items as in
    wave 2024."""
    views = item_views(
        CODEBOOK, _distribution({k: COUNTS_2024[k] for k in items}, wave), profile="internal", min_cell=3
    )
    return {
        (wave, variable, group): {item: views[(wave, item)] for item in items}
        for variable, keys in groups.items()
        for group in keys
    }


ROLE = ["all", "manager", "staff", "not_stated"]
SIZE = ["all", "small", "medium", "large", "not_stated"]


def test_one_group_chart_per_level_and_variable_not_per_group():
    from pipeline.reports.figures import group_charts

    # 2 variables (9 groups) × 3 levels (P1 personal, C4 citizen, V4 visibility): 6 charts, not 27
    charts = group_charts(CODEBOOK, "nb", _group_views({"role": ROLE, "library_size": SIZE}))
    assert len(charts) == 2 * 3
    assert sorted(c.paths["svg"] for c in charts) == [
        "2026/group-citizen-library_size.svg",
        "2026/group-citizen-role.svg",
        "2026/group-personal-library_size.svg",
        "2026/group-personal-role.svg",
        "2026/group-visibility-library_size.svg",
        "2026/group-visibility-role.svg",
    ]
    assert len({c.key for c in charts}) == 6
    # a row per group under the item's heading: role 1 + 4, library size 1 + 5 (the drawing time grows with them)
    assert sorted((c.paths["svg"], c.rows) for c in charts)[:2] == [
        ("2026/group-citizen-library_size.svg", 6),
        ("2026/group-citizen-role.svg", 5),
    ]
    assert {c.stem for c in charts} == {f"figure-2026-group-{c.paths['svg'][11:-4]}" for c in charts}


def test_group_rows_follow_the_table_order_and_leave_hidden_groups_out():
    import dataclasses

    from pipeline.reports.figures import group_rows

    # the groups given in another order than the table's: the rows follow group_order all, codebook, not_stated
    views = _group_views({"role": ["not_stated", "staff", "all", "manager"]}, items=("P1", "P2"))
    by_group = {group: v for (_, _, group), v in views.items()}
    rows = group_rows(CODEBOOK, "nb", "personal", "role", by_group)
    assert [(label, None if view is None else view.item) for label, view in rows] == [
        (
            "P1: Kompetansen og erfaringen fra Biblioteket som\nsamskaper gjør at det er blitt lettere for meg å\n"
            "jobbe samskapende med innbyggerne",
            None,
        ),
        ("P1 · Alle (n = 10)", "P1"),
        ("P1 · Leder (n = 10)", "P1"),
        ("P1 · Medarbeider (n = 10)", "P1"),
        ("P1 · Ikke oppgitt (n = 10)", "P1"),
        (rows[5][0], None),
        ("P2 · Alle (n = 10)", "P2"),
        ("P2 · Leder (n = 10)", "P2"),
        ("P2 · Medarbeider (n = 10)", "P2"),
        ("P2 · Ikke oppgitt (n = 10)", "P2"),
    ]
    assert rows[5][0].startswith("P2: ")
    # a group the public profile hides has no row; a hidden view of a shown group is drawn as ":" with its n hidden
    hidden = {k: {i: dataclasses.replace(v, n_hidden=True) for i, v in views.items()} for k, views in by_group.items()}
    partly = {**by_group, "manager": hidden["manager"], "staff": {**by_group["staff"], "P2": hidden["staff"]["P2"]}}
    labels = [label for label, view in group_rows(CODEBOOK, "nb", "personal", "role", partly) if view is not None]
    assert labels == [
        "P1 · Alle (n = 10)",
        "P1 · Medarbeider (n = 10)",
        "P1 · Ikke oppgitt (n = 10)",
        "P2 · Alle (n = 10)",
        "P2 · Medarbeider (n = :)",
        "P2 · Ikke oppgitt (n = 10)",
    ]


def test_no_group_chart_when_every_group_is_hidden():
    import dataclasses

    from pipeline.reports.figures import group_charts

    views = _group_views({"role": ROLE, "library_size": SIZE})
    hidden = {
        k: ({i: dataclasses.replace(v, n_hidden=True) for i, v in views.items()} if k[1] == "role" else views)
        for k, views in views.items()
    }
    assert sorted(c.paths["svg"] for c in group_charts(CODEBOOK, "nb", hidden)) == [
        "2026/group-citizen-library_size.svg",
        "2026/group-personal-library_size.svg",
        "2026/group-visibility-library_size.svg",
    ]


def test_group_chart_keys_follow_group_labels_and_order():
    import dataclasses

    from pipeline.reports.figures import group_charts

    views = _group_views({"role": ROLE, "library_size": SIZE})

    def keys(codebook=CODEBOOK):
        return {c.paths["svg"]: c.key for c in group_charts(codebook, "nb", views)}

    base = keys()
    role = CODEBOOK.background["role"]
    manager, staff = role.groups
    relabelled = dataclasses.replace(manager, label={**manager.label, "nb": "Sjef"})
    swapped = (dataclasses.replace(staff, order=manager.order), dataclasses.replace(manager, order=staff.order))
    for groups in ((relabelled, staff), swapped):
        codebook = dataclasses.replace(
            CODEBOOK, background={**CODEBOOK.background, "role": dataclasses.replace(role, groups=groups)}
        )
        changed = {p for p, k in keys(codebook).items() if base[p] != k}
        assert changed == {
            "2026/group-personal-role.svg",
            "2026/group-citizen-role.svg",
            "2026/group-visibility-role.svg",
        }


def test_a_group_chart_draws_a_bar_row_per_group_under_each_item():
    from pipeline.reports.figures import diverging_chart, group_rows

    by_group = {group: v for (_, _, group), v in _group_views({"role": ROLE}, items=("C4",)).items()}
    fig = diverging_chart(
        CODEBOOK, "nb", "Relevans for borgerne etter Rolle", group_rows(CODEBOOK, "nb", "citizen", "role", by_group)
    )
    main, side = fig.axes[:2]
    # C4 as in test_diverging_chart_…: the same 4 bars and 10 % don't know for each of the 4 groups
    assert _bars(main) == sorted([(-15.0, 15.0), (15.0, 45.0), (45.0, 55.0), (-35.0, -15.0)] * 4)
    assert _bars(side) == [(0.0, 10.0)] * 4
    assert [t.get_text() for t in main.get_yticklabels()] == [
        "C4: Det samskapende arbeidet gjør at biblioteket\ntilbyr flere aktiviteter (tjenester) med de\n"
        "nåværende ressursene",
        "C4 · Alle (n = 10)",
        "C4 · Leder (n = 10)",
        "C4 · Medarbeider (n = 10)",
        "C4 · Ikke oppgitt (n = 10)",
    ]
    assert [t.get_fontweight() for t in main.get_yticklabels()] == ["bold"] + ["normal"] * 4
    # the heading (3 lines) is taller than a group's row; the rows are evenly spaced below it
    ys = [round(y, 6) for y in main.get_yticks()]
    assert ys == [1.675, 1.225, 0.875, 0.525, 0.175]  # inches: heading 0.1 + 3 × 0.15, a row 0.2 + 0.15
    assert main.get_ylim() == pytest.approx((0, 1.95))


def test_group_charts_are_byte_identical_svg_and_png():
    views = item_views(CODEBOOK, _distribution({"P1": COUNTS_2024["P1"]}, "2026"), profile="internal", min_cell=3)
    group_views = _group_views({"role": ROLE}, items=("P1",))
    first = render_figures(CODEBOOK, "nb", views, group_views)
    assert first == render_figures(CODEBOOK, "nb", views, _group_views({"role": ROLE}, items=("P1",)))
    assert sorted(first) == [
        "2026/group-personal-role.png",
        "2026/group-personal-role.svg",
        "2026/item-P1.png",
        "2026/item-P1.svg",
        "2026/level-personal.png",
        "2026/level-personal.svg",
    ]
    svg = first["2026/group-personal-role.svg"].decode("utf-8")
    assert 'id="figure-2026-group-personal-role"' in svg and "<dc:date>" not in svg
    assert first["2026/group-personal-role.png"].startswith(b"\x89PNG\r\n\x1a\n")
