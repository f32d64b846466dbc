"""Charts of the reports, drawn with matplotlib (no browser needed), as SVG and PNG bytes.

- item charts: per wave and closed item a horizontal bar chart of the distribution, categories in the
  codebook's order (the report's Figures 1–17; items without a report figure get a chart too);
- level charts: per wave and level a diverging stacked Likert chart (cf. ggstats `gglikert`): negative
  categories left of 0, positive right, a neutral middle category split across 0, and the categories
  without a score ("don't know") apart in a panel of their own;
- charts by group: per wave, level and background variable the same diverging chart with the groups as rows
  (under each item's code and question a row per group: all respondents, the variable's groups, not stated; the
  level pages' "by group" sections, newest wave only). A group the public profile hides has no row.

Which side a category is on comes from the codebook: in a scored scale by its score against the middle of
the scores; in an unscored scale (yes/no) headline categories are positive and the others negative. A
category without a score in a scored scale is "apart", and so is the same key in an unscored scale.

Byte-identical output: fixed svg.hashsalt and svg.id, no dates in the metadata, the bundled DejaVu Sans
font named in the SVG's text elements (svg.fonttype none), rows and categories sorted by the codebook. In the
public profile the cells marts.item_disclosure hides are not drawn (their label is ":"), and no total that
includes one is printed (a side's share, the "don't know" panel).

Cache (FigureCache): a chart is drawn only when what determines its bytes changed. Its key is a sha256 over
figures_version() (the source of this module and disclosure.py, the matplotlib, Pillow and numpy versions), the
language, the chart's id, the views it draws (hidden cells included), its title and row labels in their order
(group labels and n included) and the codebook texts and categories it uses; <key>.svg / <key>.png are kept in a
folder of the build area (<marts>/.build/figure_cache/), written atomically, and entries no build uses any more
are pruned.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import hashlib
import io
import json
import multiprocessing
import os
import textwrap
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import matplotlib
import matplotlib.lines
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from pipeline.codebook import ALL_GROUPS, NOT_STATED, Codebook, Scale
from pipeline.files import write_atomic_bytes
from pipeline.ingest.waves import check_wave_key
from pipeline.reports.disclosure import SUPPRESSED, ItemView

RC = {
    "svg.hashsalt": "samskabelse",
    "svg.fonttype": "none",  # text stays text: readable by screen readers, searchable, checked by the tests
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "path.simplify": True,
}
SVG_METADATA = {"Date": None, "Creator": "samskabelse"}
PNG_METADATA = {"Software": None}
PNG_DPI = 110

BAR = "#2f6b9a"
APART = "#b3b3b3"
NEUTRAL = "#dedede"
TEXT = "#1f2933"
CMAP = matplotlib.colormaps["RdBu"]


@dataclass(frozen=True)
class Polarity:
    """Side of every category of a scale (-1 negative, 0 neutral, +1 positive, None apart), the categories
    of each side from the middle outwards, and a colour per category (stronger further out)."""

    side: dict[str, int | None]
    outward: dict[int, tuple[str, ...]]
    colour: dict[str, str]


def apart_keys(codebook: Codebook) -> frozenset[str]:
    """Categories without a score in a scale that has scores (the codebook's "don't know")."""
    return frozenset(
        c.key
        for s in codebook.scales.values()
        if any(x.score is not None for x in s.categories)
        for c in s.categories
        if c.score is None
    )


def polarity(codebook: Codebook, scale: Scale) -> Polarity:
    apart = apart_keys(codebook)
    scores = [c.score for c in scale.categories if c.score is not None]
    mid = (min(scores) + max(scores)) / 2 if scores else None
    side: dict[str, int | None] = {}
    for c in scale.categories:
        if c.key in apart or (scores and c.score is None):
            side[c.key] = None
        elif mid is not None:
            side[c.key] = 0 if c.score == mid else (1 if c.score > mid else -1)
        else:
            side[c.key] = 1 if c.headline else -1
    outward: dict[int, tuple[str, ...]] = {}
    for sign in (1, -1):
        cats = [c for c in scale.categories if side[c.key] == sign]
        if mid is not None:
            cats.sort(key=lambda c: abs(c.score - mid))
        elif sign == 1:
            cats.reverse()  # the codebook lists the strongest positive category first
        outward[sign] = tuple(c.key for c in cats)
    colour: dict[str, str] = {}
    for sign, keys in outward.items():
        for rank, key in enumerate(keys, start=1):
            colour[key] = to_hex(CMAP(0.5 + sign * (0.2 + 0.28 * rank / len(keys))))
    for key, s in side.items():
        if s == 0:
            colour[key] = NEUTRAL
        elif s is None:
            colour[key] = APART
    return Polarity(side, outward, colour)


def _pct_label(pct: float | None) -> str:
    return "" if pct is None else f"{pct:.0f} %"


def _render(fig: Figure, stem: str, png: bool = True) -> dict[str, bytes]:
    """The figure as SVG (and PNG unless png=False) bytes."""
    out = {}
    with matplotlib.rc_context({**RC, "svg.id": stem}):
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", metadata=SVG_METADATA)
        out["svg"] = buf.getvalue()
        if not png:
            return out
        fig.set_layout_engine("none")  # keep the layout of the SVG: the PNG is the same picture, drawn faster
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=PNG_DPI, metadata=PNG_METADATA)
        out["png"] = buf.getvalue()
    return out


def item_chart(codebook: Codebook, lang: str, view: ItemView) -> Figure:
    """Horizontal bars of one item's distribution, categories top to bottom in the codebook's order."""
    item = codebook.items[view.item]
    labels = {c.key: c.label[lang] for c in codebook.scale_of(view.item).categories}
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(7.2, 0.45 * len(view.cells) + 1.5), layout="constrained")
        ax = fig.add_subplot()
        ys = list(range(len(view.cells)))[::-1]
        for y, cell in zip(ys, view.cells):
            if view.n_hidden or cell.hidden:
                ax.text(1, y, SUPPRESSED, va="center", ha="left", color=TEXT)
                continue
            pct = cell.pct or 0.0
            ax.barh(y, pct, height=0.65, color=APART if cell.category in apart_keys(codebook) else BAR)
            ax.text(pct + 1, y, f"{pct:.0f} % ({cell.n})", va="center", ha="left", color=TEXT)
        ax.set_yticks(ys, [labels[c.category] for c in view.cells])
        ax.set_ylim(-0.6, len(view.cells) - 0.4)
        ax.set_xlim(0, 112)
        ax.set_xticks([0, 25, 50, 75, 100], ["0 %", "25 %", "50 %", "75 %", "100 %"])
        ax.tick_params(axis="y", length=0)
        number = f"{codebook.word('figure', lang)} {item.figure}: " if item.figure is not None else ""
        ax.set_title("\n".join(textwrap.wrap(number + item.question[lang], 72)), loc="left", fontsize=10, color=TEXT)
        n_text = SUPPRESSED if view.n_hidden else str(view.n)
        ax.set_xlabel(f"{codebook.word('wave', lang)} {view.wave} · n = {n_text}", loc="left", color=TEXT)
    return fig


Row = tuple[str, ItemView | None]
"""One row of a diverging chart: its label and the view it draws; a row without a view is a heading (in a chart by
group, the item's code and question over its groups' rows)."""


def item_label(codebook: Codebook, lang: str, view: ItemView) -> str:
    """A level chart's row label: the item's code with its n, then its question wrapped."""
    item = codebook.items[view.item]
    n_text = SUPPRESSED if view.n_hidden else str(view.n)
    return "\n".join([f"{item.code} (n = {n_text})", *textwrap.wrap(item.question[lang], 50)])


def level_rows(codebook: Codebook, lang: str, views: list[ItemView]) -> list[Row]:
    """The rows of a level chart: one per item (item_label)."""
    return [(item_label(codebook, lang, view), view) for view in views]


def level_chart(codebook: Codebook, lang: str, level: str, views: list[ItemView]) -> Figure:
    """Diverging stacked bars of a level's items in one wave (top to bottom in the codebook's order), titled with
    the level's label."""
    return diverging_chart(codebook, lang, codebook.levels[level].label[lang], level_rows(codebook, lang, views))


def diverging_chart(codebook: Codebook, lang: str, title: str, rows: list[Row]) -> Figure:
    """Diverging stacked bars, one per row with a view (top to bottom as given): the level charts and the charts
    by group. Every row with a view is as tall as the one with the longest label; a heading row (no view) is as
    tall as its own label, printed in bold, with a thin line above it when rows precede it."""
    apart = apart_keys(codebook)
    views = [view for _, view in rows if view is not None]
    suppressed_any = any(v.any_hidden for v in views)
    with matplotlib.rc_context(RC):
        lines = max((label.count("\n") + 1 for label, view in rows if view is not None), default=1)
        bar_slot = 0.2 + 0.15 * lines  # inches, as the y axis' data units
        slots = [bar_slot if view is not None else 0.1 + 0.15 * (label.count("\n") + 1) for label, view in rows]
        total = sum(slots) if rows else bar_slot
        fig = Figure(figsize=(10.5, total + 1.9), layout="constrained")
        # not sharey: the side panel would get a tick (and a hidden label) per row too, which costs the layout time
        main, side = fig.subplots(1, 2, gridspec_kw={"width_ratios": [5, 1]})
        ys, top = [], total
        for slot in slots:
            ys.append(top - slot / 2)
            top -= slot
        bar = 0.66 * bar_slot
        bars: dict[str, list[tuple[float, float, float, str]]] = {"main": [], "side": []}  # y, width, left, colour
        legend: dict[str, tuple[str, str]] = {}
        max_apart = 0.0
        for i, ((_, view), y) in enumerate(zip(rows, ys)):
            if view is None:
                if i:
                    for ax in (main, side):
                        ax.axhline(y + slots[i] / 2, color="#cbd2d9", linewidth=0.6)
                continue
            scale = codebook.scale_of(view.item)
            pol = polarity(codebook, scale)
            for c in scale.categories:
                legend.setdefault(c.key, (c.label[lang], pol.colour[c.key]))
            if view.n_hidden:
                main.text(0, y, SUPPRESSED, ha="center", va="center", color=TEXT)
                continue
            cells = {c.category: c for c in view.cells if not c.hidden}
            order = [c.key for c in scale.categories]
            neutral = sum((cells[k].pct or 0.0) for k in order if k in cells and pol.side[k] == 0)
            # each side from the middle outwards; a neutral category is split across 0
            for sign in (1, -1):
                x = neutral / 2
                subtotal = 0.0
                for k in pol.outward[sign]:
                    if k not in cells:
                        continue
                    w = cells[k].pct or 0.0
                    bars["main"].append((y, sign * w, sign * x, pol.colour[k]))
                    if w >= 7:
                        main.text(
                            sign * (x + w / 2),
                            y,
                            f"{w:.0f}",
                            ha="center",
                            va="center",
                            fontsize=8,
                            color="white" if _dark(pol.colour[k]) else TEXT,
                        )
                    x += w
                    subtotal += w
                hidden_here = any(c.hidden for c in view.cells if pol.side.get(c.category) == sign)
                main.text(
                    sign * 112,
                    y,
                    SUPPRESSED if hidden_here else f"{subtotal:.0f} %",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color=TEXT,
                    fontweight="bold",
                )
            for k in order:
                if k in cells and pol.side[k] == 0:
                    w = cells[k].pct or 0.0
                    bars["main"].append((y, w, -w / 2, pol.colour[k]))
                    if w >= 7:
                        main.text(0, y, f"{w:.0f}", ha="center", va="center", fontsize=8, color=TEXT)
            x = 0.0
            for k in order:
                if k in cells and pol.side[k] is None:
                    w = cells[k].pct or 0.0
                    bars["side"].append((y, w, x, pol.colour[k]))
                    x += w
            hidden_apart = any(c.hidden for c in view.cells if pol.side.get(c.category) is None)
            side.text(
                x + 2, y, SUPPRESSED if hidden_apart else f"{x:.0f} %", ha="left", va="center", fontsize=8, color=TEXT
            )
            max_apart = max(max_apart, x)
        for ax, name in ((main, "main"), (side, "side")):  # one call per panel: a call per bar costs 1 ms each
            if bars[name]:
                y_, width, left, colour = zip(*bars[name])
                ax.barh(y_, width, left=left, height=bar, color=colour, edgecolor="white", linewidth=0.6)
        main.set_yticks(ys, [label for label, _ in rows], fontsize=8)
        for tick, (_, view) in zip(main.get_yticklabels(), rows):
            if view is None:
                tick.set_fontweight("bold")
        main.set_ylim(0, total)
        side.set_ylim(0, total)
        main.tick_params(axis="y", length=0)
        main.axvline(0, color=TEXT, linewidth=0.8)
        main.set_xlim(-122, 122)
        main.set_xticks([-100, -50, 0, 50, 100], ["100 %", "50 %", "0", "50 %", "100 %"])
        side.set_xlim(0, max(30.0, max_apart * 1.35))
        side.set_yticks([])
        side.set_xticks([])
        side.spines["bottom"].set_visible(False)
        apart_titles = [legend[k][0] for k in legend if k in apart]
        if suppressed_any:
            apart_titles.append(SUPPRESSED)
        side.set_title(" / ".join(apart_titles), fontsize=9, color=TEXT)
        main.set_title(title, loc="left", fontsize=11, color=TEXT)
        handles = [
            Patch(facecolor=colour, edgecolor="#9aa5b1", linewidth=0.5, label=label)
            for key, (label, colour) in legend.items()
        ]
        if suppressed_any:
            handles.append(
                Patch(facecolor="white", edgecolor="white", label=f"{SUPPRESSED} {codebook.word('suppressed', lang)}")
            )
        fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 5), frameon=False, fontsize=8)
    return fig


def panel_chart(codebook: Codebook, lang: str, wave_from: str, wave_to: str, rows: list[dict]) -> Figure:
    """Dumbbell chart of the paired change of one pair of waves: per item (codebook order, top to bottom) the
    headline share of the same people before (open dot) and after (filled dot), joined by a line, with the
    number of pairs. rows: marts.panel_change rows of the pair; where `hidden` is true (the public profile's
    decision) no share is drawn, only ":"."""
    order = {code: i for i, code in enumerate(codebook.items)}
    rows = sorted(rows, key=lambda r: order[r["item"]])
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(7.2, 0.32 * len(rows) + 1.6), layout="constrained")
        ax = fig.add_subplot()
        ys = list(range(len(rows)))[::-1]
        for y, r in zip(ys, rows):
            if r["hidden"] or r["headline_pct_from"] is None:
                ax.text(1, y, SUPPRESSED if r["hidden"] else "–", va="center", ha="left", color=TEXT)
                continue
            before, after = r["headline_pct_from"], r["headline_pct_to"]
            ax.plot([before, after], [y, y], color=APART, linewidth=2, zorder=1)
            ax.scatter([before], [y], s=36, facecolors="white", edgecolors=BAR, linewidths=1.5, zorder=2)
            ax.scatter([after], [y], s=36, color=BAR, zorder=3)
            change = f"{after - before:+.0f}"
            change = "0" if not change.strip("+-0") else change.replace("-", "−")  # a rounded zero has no sign
            ax.text(max(before, after) + 2, y, f"{change} (n={r['n_pairs']})", va="center", ha="left", color=TEXT)
        ax.set_yticks(ys, [r["item"] for r in rows])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlim(0, 118)
        ax.set_xticks([0, 25, 50, 75, 100], ["0 %", "25 %", "50 %", "75 %", "100 %"])
        ax.tick_params(axis="y", length=0)
        ax.set_title(
            "\n".join(textwrap.wrap(codebook.word("chart_panel", lang, wave_from=wave_from, wave_to=wave_to), 72)),
            loc="left",
            fontsize=10,
            color=TEXT,
        )
        ax.legend(
            handles=[
                matplotlib.lines.Line2D(
                    [],
                    [],
                    marker="o",
                    linestyle="none",
                    markerfacecolor="white",
                    markeredgecolor=BAR,
                    label=codebook.word("chart_before", lang),
                ),
                matplotlib.lines.Line2D(
                    [], [], marker="o", linestyle="none", color=BAR, label=codebook.word("chart_after", lang)
                ),
            ],
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncols=2,
            frameon=False,
            fontsize=8,
        )
    return fig


def panel_chart_svg(codebook: Codebook, lang: str, wave_from: str, wave_to: str, rows: list[dict]) -> bytes:
    """panel_chart as SVG bytes (byte-identical for the same rows)."""
    check_wave_key(wave_from)
    check_wave_key(wave_to)
    return _render(panel_chart(codebook, lang, wave_from, wave_to, rows), f"panel-{wave_from}-{wave_to}", png=False)[
        "svg"
    ]


def _dark(colour: str) -> bool:
    return _lightness(colour) < 0.55


def _lightness(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def figure_paths(wave: str, kind: str, key: str) -> dict[str, str]:
    """Paths (relative to reports/figures/) of a chart's SVG and PNG: <wave>/<kind>-<key>.svg/.png."""
    check_wave_key(wave)
    return {fmt: f"{wave}/{kind}-{key}.{fmt}" for fmt in ("svg", "png")}


@cache
def figures_version() -> str:
    """What every chart's bytes depend on beyond its inputs: the source of this module and of
    pipeline/reports/disclosure.py (the views' computed properties), and the versions of matplotlib, Pillow (PNG
    encoding) and numpy."""
    import numpy
    import PIL

    digest = hashlib.sha256()
    for module in (Path(__file__), Path(__file__).with_name("disclosure.py")):
        digest.update(module.read_bytes() + b"\0")
    for name, version in (
        ("matplotlib", matplotlib.__version__),
        ("Pillow", PIL.__version__),
        ("numpy", numpy.__version__),
    ):
        digest.update(f"{name} {version}\0".encode())
    return digest.hexdigest()


def _scale_inputs(codebook: Codebook, scale: Scale, lang: str) -> list:
    return [[c.key, c.label[lang], c.score, c.headline] for c in scale.categories]


def _view_inputs(codebook: Codebook, lang: str, view: ItemView) -> dict:
    item = codebook.items[view.item]
    return {
        "view": dataclasses.asdict(view),
        "code": item.code,
        "question": item.question[lang],
        "figure": item.figure,
        "scale": _scale_inputs(codebook, codebook.scale_of(view.item), lang),
    }


def _row_inputs(codebook: Codebook, lang: str, rows: list[Row]) -> list[dict]:
    """A diverging chart's rows as chart_key inputs: each label (group labels and n included) in order, with its
    view's inputs."""
    return [
        {"label": label, "view": None if view is None else _view_inputs(codebook, lang, view)} for label, view in rows
    ]


def chart_key(codebook: Codebook, lang: str, stem: str, inputs: dict) -> str:
    """sha256 (hex) of everything that determines a chart's bytes (see the module docstring)."""
    payload = {
        "version": figures_version(),
        "lang": lang,
        "stem": stem,
        "suppressed": SUPPRESSED,
        "apart": sorted(apart_keys(codebook)),
        "ui": {k: codebook.ui[k][lang] for k in ("figure", "wave", "suppressed")},
        **inputs,
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Chart:
    """One chart to be drawn: its files (relative to reports/figures/), SVG id, cache key and drawing."""

    paths: dict[str, str]
    stem: str
    key: str
    draw: Callable[[], Figure] = field(compare=False, repr=False)  # picklable (a partial): drawn in a worker too
    rows: int = 0  # rows of a diverging chart (the drawing time grows with them; draw_all estimates it)


def _diverging(
    codebook: Codebook, lang: str, paths: dict[str, str], stem: str, kind: str, title: str, rows: list[Row]
) -> Chart:
    """A diverging chart (level or by group) to draw: its key covers the kind, the title and every row's label and
    view, in order."""
    key = chart_key(codebook, lang, stem, {"kind": kind, "title": title, "rows": _row_inputs(codebook, lang, rows)})
    return Chart(paths, stem, key, functools.partial(diverging_chart, codebook, lang, title, rows), len(rows))


GroupViews = dict[tuple[str, str, str], dict[str, ItemView]]  # (wave, variable, group) → item → view


def group_chart_key(level: str, variable: str) -> str:
    return f"{level}-{variable}"


def group_order(codebook: Codebook, variable: str) -> list[str]:
    """A background variable's groups in the order of the pages' tables (marts group_order): the all-respondents
    row, the codebook's groups, not_stated."""
    groups = sorted(codebook.background[variable].groups, key=lambda g: g.order)
    return [ALL_GROUPS, *(g.key for g in groups), NOT_STATED]


def group_rows(
    codebook: Codebook, lang: str, level: str, variable: str, by_group: dict[str, dict[str, ItemView]]
) -> list[Row]:
    """The rows of a level's chart by one variable in one wave. by_group: group → item → view. Per item of the
    level answered in the wave (a group has an n; codebook order, as the variable's table) a heading (code and
    question), then a row per group in group_order, labelled "<code> · <group> (n = …)". A group the public
    profile hides for every item of the level gets no row; a view it hides otherwise is drawn as ":"
    (diverging_chart)."""
    items = [
        i.code
        for i in codebook.closed_items()
        if i.level == level and any(i.code in views and views[i.code].n > 0 for views in by_group.values())
    ]
    shown = [
        g
        for g in group_order(codebook, variable)
        if g in by_group and not all(by_group[g][i].n_hidden for i in items if i in by_group[g])
    ]
    rows: list[Row] = []
    for code in items:
        item_rows: list[Row] = []
        for group in shown:
            view = by_group[group].get(code)
            if view is not None:
                n_text = SUPPRESSED if view.n_hidden else str(view.n)
                item_rows.append((f"{code} · {group_label(codebook, lang, variable, group)} (n = {n_text})", view))
        if item_rows:
            heading = "\n".join(textwrap.wrap(f"{code}: {codebook.items[code].question[lang]}", 50))
            rows += [(heading, None), *item_rows]
    return rows


def group_charts(codebook: Codebook, lang: str, group_views: GroupViews) -> list[Chart]:
    """Per wave, level and background variable one diverging chart of the level's items with the groups as rows
    (group_rows; the level pages' "by group" sections show it under the variable's table). No chart when the public
    profile hides every group of the variable."""
    out: list[Chart] = []
    by_variable: dict[tuple[str, str], dict[str, dict[str, ItemView]]] = {}
    for (wave, variable, group), views in group_views.items():
        by_variable.setdefault((wave, variable), {})[group] = views
    order = sorted(by_variable, key=lambda wv: (wv[0], codebook.background[wv[1]].order, wv[1]))
    for wave, variable in order:
        for level in codebook.levels:
            rows = group_rows(codebook, lang, level, variable, by_variable[(wave, variable)])
            if not any(view is not None for _, view in rows):
                continue
            key_text = group_chart_key(level, variable)
            stem = f"figure-{wave}-group-{key_text}"
            title = codebook.word(
                "by_group_table",
                lang,
                level=codebook.levels[level].label[lang],
                variable=codebook.background[variable].label[lang],
            )
            out.append(_diverging(codebook, lang, figure_paths(wave, "group", key_text), stem, "group", title, rows))
    return out


def group_label(codebook: Codebook, lang: str, variable: str, group: str) -> str:
    """A group's label: the codebook's, "All" for the all-respondents row, "Not stated" for not_stated."""
    if group == ALL_GROUPS:
        return codebook.word("group_all", lang)
    if group == NOT_STATED:
        return codebook.word("group_not_stated", lang)
    return next(g.label[lang] for g in codebook.background[variable].groups if g.key == group)


def charts(
    codebook: Codebook, lang: str, views: dict[tuple[str, str], ItemView], group_views: GroupViews | None = None
) -> list[Chart]:
    """Every chart of the views: per wave its item charts then its level charts (codebook order), then the
    charts by group."""
    out: list[Chart] = []
    waves = sorted({w for w, _ in views})
    closed = codebook.closed_items()
    for wave in waves:
        for item in closed:
            view = views.get((wave, item.code))
            if view is None:
                continue
            stem = f"figure-{wave}-{item.code}"
            key = chart_key(codebook, lang, stem, {"kind": "item", "views": [_view_inputs(codebook, lang, view)]})
            draw = functools.partial(item_chart, codebook, lang, view)
            out.append(Chart(figure_paths(wave, "item", item.code), stem, key, draw))
        for level in codebook.levels:
            level_views = [views[(wave, i.code)] for i in closed if i.level == level and (wave, i.code) in views]
            if not level_views:
                continue
            title = codebook.levels[level].label[lang]
            rows = level_rows(codebook, lang, level_views)
            out.append(
                _diverging(
                    codebook, lang, figure_paths(wave, "level", level), f"figure-{wave}-{level}", "level", title, rows
                )
            )
    return out + group_charts(codebook, lang, group_views or {})


# Charts this process has drawn, by key (the key covers everything that determines the bytes): another build in
# the same process (the test suite builds dozens of marts folders, the benchmark many waves) takes them from here
# instead of drawing again. Bounded: the least recently used are forgotten first.
DRAWN_IN_PROCESS: OrderedDict[str, dict[str, bytes]] = OrderedDict()
DRAWN_IN_PROCESS_MAX = 512


def _remember(key: str, blobs: dict[str, bytes]) -> None:
    DRAWN_IN_PROCESS[key] = blobs
    DRAWN_IN_PROCESS.move_to_end(key)
    while len(DRAWN_IN_PROCESS) > DRAWN_IN_PROCESS_MAX:
        DRAWN_IN_PROCESS.popitem(last=False)


def _drawn(chart: Chart) -> dict[str, bytes]:
    blobs = DRAWN_IN_PROCESS.get(chart.key)
    if blobs is None:
        blobs = _render(chart.draw(), chart.stem)
    _remember(chart.key, blobs)
    return blobs


def _draw_in_worker(draw: Callable[[], Figure], stem: str) -> dict[str, bytes]:
    return _render(draw(), stem)


# Charts are drawn by a pool of worker processes (one per core, at most one per PARALLEL_FROM_S / 2 seconds of
# drawing) when a build has at least PARALLEL_FROM_S seconds of drawing to do: a worker costs 1–3 s to start (a
# spawned process imports matplotlib and the main module, e.g. pipeline.cli with Dagster). The estimate
# (drawing_seconds) comes from the benchmark machine (2 cores): about 0.1 s a chart and 0.025 s a row of a
# diverging chart (a level by county, 6 items × (17 groups + a heading) = 108 rows: 2.5–3 s). The sample's first
# build (22 charts, ~2.7 s) stays in this process; a generated 1k wave's (34 charts, ~17 s) goes to the workers.
PARALLEL_FROM_S = 10.0


def drawing_seconds(chart: Chart) -> float:
    """A rough estimate of the time a chart takes to draw (SVG and PNG), for draw_all's choice."""
    return 0.1 + 0.025 * chart.rows


def draw_all(charts: list[Chart]) -> None:
    """Draw the charts not drawn by this process yet, in worker processes when there is much to draw and more than
    one core (the longest first, so that the workers finish together), and keep them in DRAWN_IN_PROCESS (the same
    bytes as drawing them here: a test compares)."""
    todo = [c for c in charts if c.key not in DRAWN_IN_PROCESS]
    todo = sorted({c.key: c for c in todo}.values(), key=drawing_seconds, reverse=True)
    seconds = sum(drawing_seconds(c) for c in todo)
    workers = min(os.cpu_count() or 1, int(seconds // (PARALLEL_FROM_S / 2)) or 1)
    if seconds < PARALLEL_FROM_S or workers < 2:
        return
    # spawn, not fork: the build may run threads (Dagster), which a forked child would inherit half-way
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_draw_in_worker, c.draw, c.stem) for c in todo]
        for chart, future in zip(todo, futures):
            _remember(chart.key, future.result())


class FigureCache:
    """Charts by key in a folder: <key>.svg and <key>.png. `drawn` lists the chart keys drawn (not found) in
    this build, `used` every chart key this build asked for. The same folder keeps HTML fragments
    (<key>.html, see fragment()); prune() removes every entry this build did not use."""

    FORMATS = ("svg", "png")

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.drawn: list[str] = []
        self.used: set[str] = set()
        self.fragments_made: list[str] = []
        self.fragments_used: set[str] = set()

    def fragment(self, key: str, make: Callable[[], str]) -> str:
        """The cached text of `key` (an HTML fragment whose key covers everything it is made of), made and
        stored first when it is not cached yet."""
        self.fragments_used.add(key)
        path = self.file(key, "html")
        try:
            return path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            pass
        text = make()
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic_bytes(path, text.encode("utf-8"))
        self.fragments_made.append(key)
        return text

    def file(self, key: str, fmt: str) -> Path:
        return self.folder / f"{key}.{fmt}"

    def has(self, chart: Chart) -> bool:
        """Both files of the chart are in the cache folder."""
        return all(self.file(chart.key, fmt).is_file() for fmt in self.FORMATS)

    def ensure(self, chart: Chart) -> dict[str, Path]:
        """The cached files of a chart (fmt → path), drawing it first when it is not cached yet (or taking it
        from what this process drew for another build)."""
        self.used.add(chart.key)
        files = {fmt: self.file(chart.key, fmt) for fmt in self.FORMATS}
        if not all(p.is_file() for p in files.values()):
            self.folder.mkdir(parents=True, exist_ok=True)
            blobs = _drawn(chart)
            # the PNG last: a chart counts as cached once both files exist
            for fmt in self.FORMATS:
                write_atomic_bytes(files[fmt], blobs[fmt])
            self.drawn.append(chart.key)
        return files

    def prune(self) -> int:
        """Remove entries (and left-over temporary files) that this build did not use; return how many files."""
        removed = 0
        if not self.folder.is_dir():
            return 0
        keep = self.used | self.fragments_used
        for path in sorted(self.folder.iterdir()):
            if path.is_file() and (path.name.startswith(".") or path.name.split(".")[0] not in keep):
                path.unlink(missing_ok=True)
                removed += 1
        return removed


def figure_files(
    codebook: Codebook,
    lang: str,
    views: dict[tuple[str, str], ItemView],
    cache: FigureCache,
    group_views: GroupViews | None = None,
) -> dict[str, Path]:
    """Every chart as relative path (under reports/figures/) → its file in the cache, sorted by path; charts
    not in the cache yet are drawn."""
    out: dict[str, Path] = {}
    every = charts(codebook, lang, views, group_views)
    draw_all([c for c in every if not cache.has(c)])
    for chart in every:
        files = cache.ensure(chart)
        for fmt, rel in chart.paths.items():
            out[rel] = files[fmt]
    return dict(sorted(out.items()))


def render_figures(
    codebook: Codebook, lang: str, views: dict[tuple[str, str], ItemView], group_views: GroupViews | None = None
) -> dict[str, bytes]:
    """Every chart as relative path (under reports/figures/) → bytes, sorted by path, drawn in memory (the
    build goes through the cache: figure_files)."""
    out: dict[str, bytes] = {}
    for chart in charts(codebook, lang, views, group_views):
        for fmt, data in _render(chart.draw(), chart.stem).items():
            out[chart.paths[fmt]] = data
    return dict(sorted(out.items()))
