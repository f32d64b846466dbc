"""Charts (pipeline.reports.figures, pipeline.reports.svg): sides and colours from the codebook, the numbers and
geometry drawn, what the public profile hides, accessibility (contrast measured on the SVG's own colours, text
size, title/desc/tooltips), the width table, PNGs, bytes and the cache."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import polars as pl
import pytest
from PIL import Image
from reports_helpers import COUNTS_2024

from pipeline.codebook import load_codebook
from pipeline.reports.disclosure import item_views
from pipeline.reports.figures import (
    CHART_WIDTH,
    FigureCache,
    apart_keys,
    charts,
    diverging_chart,
    figure_files,
    group_charts,
    group_rows,
    item_chart,
    level_chart,
    panel_chart,
    panel_chart_svg,
    polarity,
    render_figures,
)
from pipeline.reports.svg import (
    FONT_SIZE,
    WIDTH_TABLE,
    contrast,
    label_colour,
    png_pages,
    room,
    text_width,
    width_table_source,
    wrap,
)
from pipeline.settings import PROJECT_ROOT

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
NS = "{http://www.w3.org/2000/svg}"
WHITE = "#ffffff"


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


def _views(*items: str, wave: str = "2024"):
    return item_views(CODEBOOK, _distribution({k: COUNTS_2024[k] for k in items}, wave), profile="internal", min_cell=3)


def _hide(view, *categories: str, **flags):
    """The view with the given categories hidden (as marts.item_disclosure decides in the public profile)."""
    cells = tuple(dataclasses.replace(c, hidden=c.category in categories) for c in view.cells)
    return dataclasses.replace(view, cells=cells, **flags)


# --- reading an SVG back ------------------------------------------------------------------------------------------


def _root(svg: str | bytes) -> ET.Element:
    return ET.fromstring(svg.encode("utf-8") if isinstance(svg, str) else svg)


def _rects(svg) -> list[dict]:
    """The data rectangles (bars, segments: those with a tooltip), in drawing order."""
    return [
        {
            "x": float(r.get("x")),
            "y": float(r.get("y")),
            "w": float(r.get("width")),
            "h": float(r.get("height")),
            "fill": r.get("fill"),
            "tip": r.find(f"{NS}title").text,
        }
        for r in _root(svg).iter(f"{NS}rect")
        if r.find(f"{NS}title") is not None
    ]


def _texts(svg) -> list[dict]:
    root = _root(svg)
    default = float(root.get("font-size"))
    return [
        {
            "x": float(t.get("x")),
            "y": float(t.get("y")),
            "text": t.text,
            "fill": t.get("fill", root.get("fill")),
            "size": float(t.get("font-size", default)),
            "bold": t.get("font-weight") == "bold",
            "anchor": t.get("text-anchor", "start"),
        }
        for t in root.iter(f"{NS}text")
    ]


def _strings(svg) -> list[str]:
    return [t["text"] for t in _texts(svg)]


def _axis(svg) -> tuple[float, float]:
    """x of 0 and px per percent of a diverging chart, from its axis labels ("0" and the right "100 %")."""
    texts = _texts(svg)
    zero = next(t["x"] for t in texts if t["text"] == "0")
    hundred = max(t["x"] for t in texts if t["text"] == "100 %" and not t["bold"])
    return zero, (hundred - zero) / 100


def _segments(svg, gap: float = 1.5) -> list[tuple[float, float]]:
    """(left, right) in percent of every segment of the main panel of a diverging chart, sorted."""
    zero, per = _axis(svg)
    apart_x0 = (
        min(r["x"] for r in _rects(svg) if "Vet ikke" in r["tip"])
        if any("Vet ikke" in r["tip"] for r in _rects(svg))
        else float("inf")
    )
    return sorted(
        (round((r["x"] - gap / 2 - zero) / per, 6), round((r["x"] + r["w"] + gap / 2 - zero) / per, 6))
        for r in _rects(svg)
        if r["x"] < apart_x0
    )


# --- sides and colours --------------------------------------------------------------------------------------------


def test_sides_and_colours_come_from_scores_and_headline():
    degree = polarity(CODEBOOK, CODEBOOK.scales["degree"])
    assert degree.side == {"very_high": 1, "high": 1, "some": 0, "low": -1, "not_at_all": -1, "dont_know": None}
    assert degree.outward == {1: ("high", "very_high"), -1: ("low", "not_at_all")}
    yes_no = polarity(CODEBOOK, CODEBOOK.scales["yes_no"])
    assert yes_no.side == {"yes": 1, "no": -1, "dont_know": None}
    assert apart_keys(CODEBOOK) == {"dont_know"}
    # light next to the middle, darker further out; a side of one category is the darkest
    assert degree.colour == {
        "high": "#4f8fcf",
        "very_high": "#1d4e89",
        "low": "#d2762c",
        "not_at_all": "#8c3a0f",
        "some": "#8a8580",
        "dont_know": "#4b5563",
    }
    assert yes_no.colour == {"yes": "#1d4e89", "no": "#8c3a0f", "dont_know": "#4b5563"}


def test_every_colour_of_every_scale_meets_wcag_aa():
    """Each category's colour is >= 3:1 against white (the background and the gap between segments, G209), and the
    label drawn on it >= 4.5:1; also for a seven-point scale (three categories a side, the middle one mixed)."""
    seven = dataclasses.replace(
        CODEBOOK.scales["degree"],
        categories=tuple(
            dataclasses.replace(c, key=f"c{i}", score=8 - i)
            for i, c in enumerate([*CODEBOOK.scales["degree"].categories[:5]] * 2, start=1)
            if i <= 7
        ),
    )
    colours = []
    for scale in [*CODEBOOK.scales.values(), seven]:
        if scale.is_text:
            continue
        colours += list(polarity(CODEBOOK, scale).colour.values())
    assert len(set(colours)) == 6 + 2  # degree 6, and the seven-point scale's two middles of its sides
    for colour in colours:
        assert contrast(colour, WHITE) >= 3, colour
        assert contrast(colour, label_colour(colour)) >= 4.5, colour
    # "I noen grad" and "Vet ikke" were #dedede (1.35:1) and #b3b3b3 (2.1:1); white 8 px labels on #3480b9 4.26:1
    assert contrast("#dedede", WHITE) < 3 and contrast("#b3b3b3", WHITE) < 3


# --- the numbers drawn ----------------------------------------------------------------------------------------------


def test_item_chart_prints_every_category_with_its_share_and_n():
    view = _views("P1")[("2024", "P1")]
    drawing = item_chart(CODEBOOK, "nb", view)
    texts = _strings(drawing.svg)
    assert texts[:2] == [
        "Figur 1: Kompetansen og erfaringen fra Biblioteket som samskaper gjør at",
        "det er blitt lettere for meg å jobbe samskapende med innbyggerne",
    ]
    assert [t for t in texts if re.fullmatch(r"\d+ % \(\d+\)", t)] == [
        "50 % (5)",
        "40 % (4)",
        "10 % (1)",
        "0 % (0)",
        "0 % (0)",
        "0 % (0)",
    ]
    assert texts[-6:] == ["0 %", "25 %", "50 %", "75 %", "100 %", "Runde 2024 · n = 10"]
    bars = _rects(drawing.svg)
    assert [b["tip"] for b in bars] == ["I svært høy grad: 50 % (5)", "I høy grad: 40 % (4)", "I noen grad: 10 % (1)"]
    assert bars[0]["w"] == pytest.approx(1.25 * bars[1]["w"], abs=0.02) == pytest.approx(5 * bars[2]["w"], abs=0.05)
    assert drawing.title == (
        "Stolpediagram: Kompetansen og erfaringen fra Biblioteket som samskaper gjør at det er "
        "blitt lettere for meg å jobbe samskapende med innbyggerne (runde 2024)"
    )
    assert drawing.desc == (
        "Figur 1: Runde 2024 · n = 10. I svært høy grad: 50 % (5); I høy grad: 40 % (4); "
        "I noen grad: 10 % (1); I liten grad: 0 % (0); Ikke i det hele tatt: 0 % (0); "
        "Vet ikke: 0 % (0)."
    )
    # "don't know" has a colour of its own
    c4 = _rects(item_chart(CODEBOOK, "nb", _views("C4")[("2024", "C4")]).svg)
    assert [(b["tip"], b["fill"]) for b in c4][-1] == ("Vet ikke: 10 % (1)", "#4b5563")
    assert {b["fill"] for b in c4[:-1]} == {"#1d4e89"}


def test_diverging_chart_puts_negative_left_positive_right_and_dont_know_apart():
    # C5: very_high 1, high 2, some 3, low 2, not_at_all 2, dont_know 0  → some 30 % across 0
    # C4: very_high 1, high 3, some 3, low 2, not_at_all 0, dont_know 1 → dont_know 10 % apart
    views = _views("C4", "C5")
    drawing = level_chart(CODEBOOK, "nb", "citizen", [views[("2024", "C4")], views[("2024", "C5")]])
    assert _segments(drawing.svg) == sorted(
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
    apart = [r for r in _rects(drawing.svg) if "Vet ikke" in r["tip"]]
    assert [r["tip"] for r in apart] == ["C4 (n = 10) · Vet ikke: 10 % (1)"]
    texts = _texts(drawing.svg)
    totals = [t["text"] for t in texts if t["bold"] and t["text"].endswith(" %")]
    assert totals == ["20 %", "40 %", "40 %", "30 %"]  # C4: 20 left, 40 right; C5: 40 left, 30 right
    assert [t["text"] for t in texts if re.fullmatch(r"\d+ %", t["text"]) and not t["bold"]][4:-4] == [
        "10 %",
        "0 %",
    ]  # the don't-know panel: C4, C5 (between the axis labels above and below)
    # a value on every segment of at least 7 %, in white or black, whichever contrasts more
    values = [t for t in texts if re.fullmatch(r"\d+", t["text"]) and t["text"] != "0"]  # "0": the axis
    assert sorted(t["text"] for t in values) == sorted(["30", "30", "10", "20", "30", "20", "10", "20", "20"])
    assert [r["tip"] for r in _rects(drawing.svg)][:4] == [
        "C4 (n = 10) · I liten grad: 20 % (2)",
        "C4 (n = 10) · I noen grad: 30 % (3)",
        "C4 (n = 10) · I høy grad: 30 % (3)",
        "C4 (n = 10) · I svært høy grad: 10 % (1)",
    ]
    assert drawing.title == "Divergerende stolpediagram for Relevans for innbyggerne, runde 2024"
    assert drawing.desc.startswith(
        "Relevans for innbyggerne. C4 (n = 10): I svært høy grad 10 % (1), I høy grad 30 % (3), I noen grad 30 % "
        "(3), I liten grad 20 % (2), Ikke i det hele tatt 0 % (0), Vet ikke 10 % (1), I liten grad + Ikke i det "
        "hele tatt: 20 %, I høy grad + I svært høy grad: 40 %. C5 (n = 10): "
    )


def test_a_level_chart_mixes_degree_and_yes_no_rows():
    views = _views("V1", "V4")
    drawing = level_chart(CODEBOOK, "nb", "visibility", [views[("2024", "V1")], views[("2024", "V4")]])
    # V4 yes 4, no 4, don't know 2: yes right of 0, no left, nothing neutral
    v4 = [(r["tip"], r["fill"]) for r in _rects(drawing.svg) if r["tip"].startswith("V4")]
    assert v4 == [
        ("V4 (n = 10) · Nei: 40 % (4)", "#8c3a0f"),
        ("V4 (n = 10) · Ja: 40 % (4)", "#1d4e89"),
        ("V4 (n = 10) · Vet ikke: 20 % (2)", "#4b5563"),
    ]
    legend = [t["text"] for t in _texts(drawing.svg)][1:9]
    assert legend == [
        "I svært høy grad",
        "I høy grad",
        "I noen grad",
        "I liten grad",
        "Ikke i det hele tatt",
        "Vet ikke",
        "Ja",
        "Nei",
    ]
    assert "V4 (n = 10): Ja 40 % (4), Nei 40 % (4), Vet ikke 20 % (2)." in drawing.desc


def test_public_profile_cells_are_not_drawn_and_no_total_over_them_is_printed():
    views = _views("P1", "C4")
    p1 = _hide(views[("2024", "P1")], "some", "low")  # the neutral cell and a negative one hidden
    c4 = _hide(views[("2024", "C4")], "dont_know", "high")
    item = item_chart(CODEBOOK, "nb", p1)
    assert [t for t in _strings(item.svg) if re.fullmatch(r"\d+ % \(\d+\)|:", t)] == [
        "50 % (5)",
        "40 % (4)",
        ":",
        ":",
        "0 % (0)",
        "0 % (0)",
    ]
    assert [b["tip"] for b in _rects(item.svg)] == ["I svært høy grad: 50 % (5)", "I høy grad: 40 % (4)"]
    assert "I noen grad: :; I liten grad: :;" in item.desc
    level = diverging_chart(CODEBOOK, "nb", "T", [("P1", p1), ("C4", c4)], stem="t")
    tips = [r["tip"] for r in _rects(level.svg)]
    assert len(tips) == 2 + 3  # P1: high, very_high; C4: low, some, very_high (not_at_all is 0), no don't know
    assert not any(t.startswith("P1") and ("I noen grad" in t or "I liten grad" in t) for t in tips)
    assert not any(t.startswith("C4") and ("Vet ikke" in t or "I høy grad" in t) for t in tips)
    totals = [t["text"] for t in _texts(level.svg) if t["bold"] and (t["text"] == ":" or t["text"].endswith(" %"))]
    assert totals == [":", "90 %", "20 %", ":"]  # P1: negatives hidden; C4: positives hidden
    texts = _strings(level.svg)
    assert ": skjult (få svar)" in texts  # the legend says what ":" means
    assert texts.count(":") == 3  # P1 left total, C4 right total, C4 don't-know panel
    # P1's positives start at 0 (the neutral cell is hidden: nothing is split across 0)
    assert (0.0, 40.0) in _segments(level.svg) and (40.0, 90.0) in _segments(level.svg)
    assert "P1: I svært høy grad 50 % (5), I høy grad 40 % (4), I noen grad :, I liten grad :," in level.desc
    # a view the public profile hides whole: only ":"
    hidden = _hide(views[("2024", "C4")], n_hidden=True)
    whole = diverging_chart(CODEBOOK, "nb", "T", [("C4 (n = :)", hidden)], stem="t")
    assert _rects(whole.svg) == [] and _strings(whole.svg).count(":") == 1
    assert whole.desc == "T. C4 (n = :): :."


def test_panel_chart_draws_before_and_after_with_change_and_pairs():
    rows = [
        {"item": "V4", "headline_pct_from": 60.0, "headline_pct_to": 80.0, "n_pairs": 5, "hidden": False},
        {"item": "P1", "headline_pct_from": 50.0, "headline_pct_to": 45.0, "n_pairs": 4, "hidden": False},
        {"item": "P2", "headline_pct_from": 50.0, "headline_pct_to": 50.4, "n_pairs": 4, "hidden": False},
        {"item": "C1", "headline_pct_from": 10.0, "headline_pct_to": 90.0, "n_pairs": 2, "hidden": True},
        {"item": "C2", "headline_pct_from": None, "headline_pct_to": None, "n_pairs": 0, "hidden": False},
    ]
    drawing = panel_chart(CODEBOOK, "nb", "2025", "2026", rows)
    texts = _strings(drawing.svg)
    assert [t for t in texts if "(n=" in t] == ["−5 (n=4)", "0 (n=4)", "+20 (n=5)"]  # codebook order: P1 P2 … V4
    assert texts.count(":") == 1 and texts.count("–") == 1
    tips = [
        c.find(f"{NS}title").text for c in _root(drawing.svg).iter(f"{NS}circle") if c.find(f"{NS}title") is not None
    ]
    assert tips[:2] == ["P1 · Før: 50 %", "P1 · Etter: 45 %"] and len(tips) == 6
    assert drawing.desc == (
        "P1: Før 50 %, Etter 45 %, −5 (n=4); P2: Før 50 %, Etter 50 %, 0 (n=4); C1: :; C2: –; "
        "V4: Før 60 %, Etter 80 %, +20 (n=5)."
    )
    assert "90 %" not in drawing.svg and "10 %" not in drawing.svg  # C1 is hidden
    assert panel_chart_svg(CODEBOOK, "nb", "2025", "2026", rows) == drawing.svg_bytes()


def test_alt_text_holds_every_number_the_chart_prints():
    views = _views("C4", "C5", "V4")
    for chart in charts(CODEBOOK, "nb", views):
        drawn = chart.drawing
        assert chart.alt == f"{drawn.title}. {drawn.desc}"
        numbers = [t for t in _strings(drawn.svg) if re.fullmatch(r"\d+( %)?( \(\d+\))?", t)]
        axis = {"0", "0 %", "25 %", "50 %", "75 %", "100 %"}
        for number in numbers:
            if number not in axis:
                assert number in drawn.desc, (chart.stem, number)


# --- accessibility measured on the SVG -----------------------------------------------------------------------------


def _all_drawings():
    views = _views(*COUNTS_2024)
    group_views = {("2024", "role", g): {i: views[("2024", i)] for i in ("P1", "C4", "V4")} for g in ROLE}
    public = {k: _hide(v, *[c.category for c in v.cells if 0 < c.n < 3]) for k, v in views.items()}
    drawn = [c.drawing for c in charts(CODEBOOK, "nb", views, group_views) + charts(CODEBOOK, "en", public)]
    rows = [{"item": "V4", "headline_pct_from": 60.0, "headline_pct_to": 80.0, "n_pairs": 5, "hidden": False}]
    return drawn + [panel_chart(CODEBOOK, "da", "2025", "2026", rows)]


def test_every_chart_is_named_and_described_for_screen_readers():
    for drawing in _all_drawings():
        root = _root(drawing.svg)
        stem = root.get("id")
        assert root.get("role") == "img" and root.get("aria-labelledby") == f"{stem}-title {stem}-desc"
        assert root.find(f"{NS}title").text == drawing.title and root.find(f"{NS}desc").text == drawing.desc
        assert root.get("font-family").startswith("'Source Sans Pro', ")
        for element in root.iter():
            if element.tag in (f"{NS}rect", f"{NS}circle") and element.find(f"{NS}title") is not None:
                assert re.search(r": (\d+ %( \(\d+\))?)$", element.find(f"{NS}title").text)


def test_no_text_is_smaller_than_9_pt_at_the_printed_size():
    """At 544 px (the pages' narrowest chart column, 34rem, shown unscaled) every text is >= 12 px = 9 pt; printed
    16 cm wide in a document it is >= 10 pt."""
    for drawing in _all_drawings():
        root = _root(drawing.svg)
        assert float(root.get("width")) == CHART_WIDTH == 34 * 16 and root.get("viewBox").startswith("0 0 544 ")
        sizes = {t["size"] for t in _texts(drawing.svg)}
        assert min(sizes) == FONT_SIZE == 12 and sizes <= {12.0, 14.0}
        assert min(sizes) * 72 / 96 >= 9 and min(sizes) * (16 / 2.54 * 96 / CHART_WIDTH) * 72 / 96 >= 10


def test_segments_bars_and_labels_meet_contrast_and_are_parted_by_a_white_gap():
    """Every data shape >= 3:1 against white (the background); adjoining segments of a row are apart by >= 1.5 px of
    background (G209); every value printed on a segment >= 4.5:1 against that segment's colour."""
    checked_labels = 0
    for drawing in _all_drawings():
        root = _root(drawing.svg)
        assert [r.get("fill") for r in root.iter(f"{NS}rect")][0] == WHITE  # the background
        rects = _rects(drawing.svg)
        for r in rects:
            assert contrast(r["fill"], WHITE) >= 3, (drawing.title, r)
        for row in {r["y"] for r in rects}:
            xs = sorted((r["x"], r["x"] + r["w"]) for r in rects if r["y"] == row)
            assert all(b[0] - a[1] >= 1.5 - 1e-9 for a, b in zip(xs, xs[1:])), (drawing.title, row, xs)
        for t in _texts(drawing.svg):
            under = [
                r for r in rects if r["x"] <= t["x"] <= r["x"] + r["w"] and r["y"] <= t["y"] - 4 <= r["y"] + r["h"]
            ]
            if under:
                assert contrast(t["fill"], under[0]["fill"]) >= 4.5, (drawing.title, t)
                checked_labels += 1
            else:
                assert contrast(t["fill"], WHITE) >= 4.5, (drawing.title, t)
    assert checked_labels > 100


# --- text layout ---------------------------------------------------------------------------------------------------


def test_the_width_table_is_generated_from_the_installed_font():
    """font_widths.py is what `python -m pipeline.reports.svg` writes from the TTFs of font-source-sans-pro."""
    assert WIDTH_TABLE.read_text(encoding="utf-8") == width_table_source()
    from fontTools.ttLib import TTFont

    from pipeline.reports.fonts import FONT_FILES

    font = TTFont(FONT_FILES["bold"])
    cmap, hmtx = font.getBestCmap(), font["hmtx"].metrics
    assert text_width("Æøå 100 %", 14, bold=True) == pytest.approx(
        14 * sum(hmtx[cmap[ord(c)]][0] for c in "Æøå 100 %") / 1000
    )
    assert text_width("50", 12) == pytest.approx(12 * 2 * 0.497)  # Source Sans Pro's figures: 497 units


def test_text_is_wrapped_with_room_for_a_wider_fallback_face():
    question = CODEBOOK.items["P1"].question["nb"]
    lines = wrap(question, 300)
    assert " ".join(lines) == question and len(lines) == 3
    assert all(room(line) <= 300 for line in lines) and room(f"{lines[0]} {lines[1].split()[0]}") > 300
    assert room("100 %") == pytest.approx(1.15 * text_width("100 %"))
    assert wrap("a\nb c", 1000) == ["a", "b c"]


# --- bytes, PNG, cache ---------------------------------------------------------------------------------------------


def test_figures_are_byte_identical_and_carry_no_date():
    views = _views("P1", "C4", "V4")
    first = render_figures(CODEBOOK, "da", views)
    assert first == render_figures(CODEBOOK, "da", _views("P1", "C4", "V4"))
    assert len(first) == 2 * (3 + 3)
    assert list(first) == sorted(first)
    svg = first["2024/item-P1.svg"].decode("utf-8")
    assert svg.startswith('<?xml version="1.0" encoding="utf-8"?>\n<svg ') and 'id="figure-2024-P1"' in svg
    assert re.search(r"20\d\d-\d\d-\d\d", svg) is None
    english = render_figures(CODEBOOK, "en", views)
    assert english["2024/item-P1.svg"] != first["2024/item-P1.svg"]  # labels follow the language
    assert "To a very high degree: 50 % (5)" in english["2024/item-P1.svg"].decode("utf-8")


def test_every_chart_has_a_png_of_the_same_picture_byte_identical_across_processes():
    views = _views("P1", "C4")
    out = render_figures(CODEBOOK, "nb", views)
    for name in ("2024/item-P1", "2024/level-citizen"):
        png = Image.open(io.BytesIO(out[f"{name}.png"]))
        height = float(_root(out[f"{name}.svg"]).get("height"))
        assert png.format == "PNG" and png.size == (2 * CHART_WIDTH, round(2 * height))  # 2 px per CSS px
        # typst drew the text in Source Sans Pro: dark pixels where the title is (top left), white at the right
        grey = png.convert("L")
        assert grey.crop((16, 16, 200, 44)).getextrema()[0] < 80 and grey.crop((1060, 0, 1088, 16)).getextrema() == (
            255,
            255,
        )
    code = (
        "import hashlib, sys; sys.path[:0] = ['tests', 'tests/reports']; from test_figures import _views, CODEBOOK; "
        "from pipeline.reports.figures import render_figures; "
        "out = render_figures(CODEBOOK, 'nb', _views('P1', 'C4')); "
        "print(hashlib.sha256(b''.join(k.encode() + v for k, v in out.items())).hexdigest())"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, check=True)
    assert other.stdout.strip() == hashlib.sha256(b"".join(k.encode() + v for k, v in out.items())).hexdigest()


def test_a_chart_s_png_does_not_depend_on_its_batch(monkeypatch):
    import pipeline.reports.svg as svg

    drawings = [c.drawing for c in charts(CODEBOOK, "nb", _views("P1", "C4", "V4"))]
    svgs = [(d.svg, d.width, d.height) for d in drawings]
    batch = png_pages(svgs)
    assert len(batch) == 6 and batch == [png_pages([s])[0] for s in svgs] == png_pages(svgs[::-1])[::-1]
    compiles = []
    real = svg._rasterise
    monkeypatch.setattr(svg, "_rasterise", lambda charts: compiles.append(len(charts)) or real(charts))
    monkeypatch.setattr(svg, "PNG_BATCH_PIXELS", 1_000_000)  # one or two charts a compile
    assert png_pages(svgs) == batch and len(compiles) > 2 and sum(compiles) == 6


def test_a_tall_chart_s_png_has_fewer_pixels_per_px():
    view = _views("C4")[("2024", "C4")]
    tall = diverging_chart(CODEBOOK, "nb", "T", [(f"C4 · group {i} (n = 10)", view) for i in range(60)], stem="t")
    png = Image.open(io.BytesIO(png_pages([(tall.svg, tall.width, tall.height)])[0]))
    scale = (4_000_000 / (tall.width * tall.height)) ** 0.5
    assert tall.height > 2000 and 1 < scale < 2
    assert png.size == (pytest.approx(scale * tall.width, abs=1), pytest.approx(scale * tall.height, abs=1))


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
    assert "20 % (1)" in out["2025/item-P1.svg"].decode("utf-8")


def test_the_cache_draws_a_chart_once_and_gives_the_same_bytes(tmp_path):
    views = _views("P1", "C4")
    first = FigureCache(tmp_path / "cache")
    files = figure_files(CODEBOOK, "nb", views, first)
    assert len(first.drawn) == len(first.used) == 4
    assert {rel: p.read_bytes() for rel, p in files.items()} == render_figures(CODEBOOK, "nb", views)
    again = FigureCache(tmp_path / "cache")
    assert figure_files(CODEBOOK, "nb", views, again) == files and again.drawn == [] and again.used == first.used
    other = FigureCache(tmp_path / "other")  # a new folder: drawn there again
    figure_files(CODEBOOK, "nb", views, other)
    assert sorted(other.drawn) == sorted(first.drawn)


# --- charts by group ------------------------------------------------------------------------------------------------


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
    # 2 variables (9 groups) × 3 levels (P1 personal, C4 citizen, V4 visibility): 6 charts, not 27
    out = group_charts(CODEBOOK, "nb", _group_views({"role": ROLE, "library_size": SIZE}))
    assert len(out) == 2 * 3
    assert sorted(c.paths["svg"] for c in out) == [
        "2026/group-citizen-library_size.svg",
        "2026/group-citizen-role.svg",
        "2026/group-personal-library_size.svg",
        "2026/group-personal-role.svg",
        "2026/group-visibility-library_size.svg",
        "2026/group-visibility-role.svg",
    ]
    assert len({c.key for c in out}) == 6
    assert {c.stem for c in out} == {f"figure-2026-group-{c.paths['svg'][11:-4]}" for c in out}
    named = {c.paths["svg"]: c.drawing.title for c in out}
    assert named["2026/group-citizen-role.svg"] == (
        "Divergerende stolpediagram for Relevans for innbyggerne etter Rolle, runde 2026"
    )


def test_group_rows_follow_the_table_order_and_leave_hidden_groups_out():
    # the groups given in another order than the table's: the rows follow group_order all, codebook, not_stated
    views = _group_views({"role": ["not_stated", "staff", "all", "manager"]}, items=("P1", "P2"))
    by_group = {group: v for (_, _, group), v in views.items()}
    rows = group_rows(CODEBOOK, "nb", "personal", "role", by_group)
    assert [(label, None if view is None else view.item) for label, view in rows] == [
        (
            "P1: Kompetansen og erfaringen fra Biblioteket som samskaper gjør at det er blitt lettere for meg å "
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
    by_group = {group: v for (_, _, group), v in _group_views({"role": ROLE}, items=("C4",)).items()}
    drawing = diverging_chart(
        CODEBOOK,
        "nb",
        "Relevans for innbyggerne etter Rolle",
        group_rows(CODEBOOK, "nb", "citizen", "role", by_group),
        stem="g",
    )
    # C4 as in test_diverging_chart_…: the same 4 bars and 10 % don't know for each of the 4 groups
    assert _segments(drawing.svg) == sorted([(-15.0, 15.0), (15.0, 45.0), (45.0, 55.0), (-35.0, -15.0)] * 4)
    assert [r["tip"] for r in _rects(drawing.svg) if "Vet ikke" in r["tip"]] == [
        f"C4 · {g} (n = 10) · Vet ikke: 10 % (1)" for g in ("Alle", "Leder", "Medarbeider", "Ikke oppgitt")
    ]
    texts = _texts(drawing.svg)
    heading = [t["text"] for t in texts if t["bold"] and not t["text"].endswith("%")][1:]
    assert heading == [
        "C4: Det samskapende arbeidet gjør at biblioteket tilbyr flere aktiviteter (tjenester)",
        "med de nåværende ressursene",
    ]
    labels = [t for t in texts if t["text"].startswith("C4 · ")]
    assert [t["text"] for t in labels] == [
        "C4 · Alle (n = 10)",
        "C4 · Leder (n = 10)",
        "C4 · Medarbeider (n = 10)",
        "C4 · Ikke oppgitt (n = 10)",
    ]
    assert not any(t["bold"] for t in labels)
    # each group's label is above its own bar, evenly spaced
    bars = sorted({r["y"] for r in _rects(drawing.svg)})
    assert len(bars) == 4 and all(0 < b - t["y"] < 10 for b, t in zip(bars, labels))
    assert len({b - a for a, b in zip(bars, bars[1:])}) == 1


def test_group_charts_are_byte_identical_svg_and_png():
    views = _views("P1", wave="2026")
    first = render_figures(CODEBOOK, "nb", views, _group_views({"role": ROLE}, items=("P1",)))
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
    assert 'id="figure-2026-group-personal-role"' in svg
    assert first["2026/group-personal-role.png"].startswith(b"\x89PNG\r\n\x1a\n")
