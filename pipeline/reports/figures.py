"""Charts of the reports, written as SVG directly from Python (pipeline.reports.svg), with a PNG of each (typst).

- item charts: per wave and closed item a horizontal bar chart of the distribution, categories in the
  codebook's order (the report's Figures 1–17; items without a report figure get a chart too);
- level charts: per wave and level a diverging stacked Likert chart (cf. ggstats `gglikert`): negative
  categories left of 0, positive right, a neutral middle category split across 0, and the categories
  without a score ("don't know") apart in a panel of their own; rows may mix scales (degree and yes/no);
- charts by group: per wave, level and background variable the same diverging chart with the groups as rows
  (under each item's code and question a row per group: all respondents, the variable's groups, not stated; the
  level pages' "by group" sections, newest wave only). A group the public profile hides has no row;
- the panel page's dumbbell chart (panel_chart_svg): per item the headline share of the same people before and
  after.

Which side a category is on comes from the codebook: in a scored scale by its score against the middle of
the scores; in an unscored scale (yes/no) headline categories are positive and the others negative. A
category without a score in a scored scale is "apart", and so is the same key in an unscored scale.

Public profile: the cells marts.item_disclosure hides are not drawn (their label is ":"), and no total that
includes one is printed (a side's share, the "don't know" panel); the same holds for the <desc> and tooltips.
Numbers are rounded as the pages' charts always were: whole percent (Python's format, half to even).

Layout and accessibility (WCAG 2.1 AA):
- every chart is CHART_WIDTH = 544 px wide: 34rem, the narrowest column the pages give a chart, so a page on a
  desktop screen shows it at full size; no text is smaller than 12 px (9 pt at 96 px/in), and a document that
  prints a chart 16 cm wide shows that text at 10 pt. Text is laid out with Source Sans Pro's advance widths
  (wrapping, label room) and the SVG names the pages' font stack (pipeline.reports.fonts);
- every bar, segment, dot and legend swatch is at least 3:1 against white (SC 1.4.11), and adjoining segments are
  parted by a white gap (technique G209: the gap is the border of at least 3:1 with each colour); a value label on
  a segment is white or black, whichever contrasts more (at least 4.58:1, SC 1.4.3); other text is #1f2933 (14.8:1);
- the <svg> has role="img" and is named by its <title> (the pages' words for the chart) and <desc> (every number
  the chart shows, as text): Drawing.alt / Chart.alt is the same text for documents; every bar, segment and dot
  has a <title> tooltip with its category, % and n.

Byte-identical output: numbers formatted by one function, rows and categories in the codebook's order, no dates,
ids from the chart's stem (unique on a page, so charts can be put into pages as they are). PNGs come from one typst
compile per batch of charts (pipeline.reports.svg.png_pages), with the font files of pipeline.reports.fonts only.

Cache (FigureCache): a chart is drawn only when what determines its bytes changed. Its key is a sha256 over
figures_version() (the source of this module, svg.py, font_widths.py, fonts.py and disclosure.py, the typst
version and the font files' sha256), the language, the chart's id, the views it draws (hidden cells included),
its title and row labels in their order (group labels and n included) and the codebook texts and categories it
uses; <key>.svg / <key>.png are kept in a folder of the build area (<marts>/.build/figure_cache/), written
atomically, and entries no build uses any more are pruned.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pipeline.codebook import ALL_GROUPS, NOT_STATED, Codebook, Scale
from pipeline.files import write_atomic_bytes
from pipeline.ingest.waves import check_wave_key
from pipeline.reports.disclosure import SUPPRESSED, ItemView
from pipeline.reports.fonts import FONT_FILES
from pipeline.reports.svg import (
    TEXT,
    XML_DECLARATION,
    Svg,
    label_colour,
    mix,
    png_pages,
    room,
    typst_version,
    wrap,
)

CHART_WIDTH = 544.0  # px (see the module docstring)
PAD = 8.0  # margin around everything
TITLE_SIZE = 14.0
TITLE_LINE = 18.0
LINE = 15.0  # line height of FONT_SIZE text
BASELINE = 4.0  # baseline of FONT_SIZE text centred on a y: y + BASELINE
GAP = 1.5  # px of white between adjoining segments (G209)

# Colours, each at least 3:1 against white. A side's categories run from the lightest (next to the middle) to the
# darkest (outermost), mixed in linear light in between; a side with one category gets the darkest.
POSITIVE = ("#4f8fcf", "#1d4e89")  # 3.41:1, 8.39:1
NEGATIVE = ("#d2762c", "#8c3a0f")  # 3.30:1, 7.70:1
NEUTRAL = "#8a8580"  # 3.65:1
APART = "#4b5563"  # 7.56:1
BAR = "#1d4e89"  # the item charts' bars and the panel's dots
GRID = "#d5dbe1"  # decorative grid lines (exempt from SC 1.4.11)
RULE = "#cbd2d9"  # decorative line above an item's heading in a chart by group


@dataclass(frozen=True)
class Polarity:
    """Side of every category of a scale (-1 negative, 0 neutral, +1 positive, None apart), the categories
    of each side from the middle outwards, and a colour per category (darker further out)."""

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
    for sign, (light, dark) in ((1, POSITIVE), (-1, NEGATIVE)):
        keys = outward[sign]
        for rank, key in enumerate(keys):
            colour[key] = dark if len(keys) == 1 else mix(light, dark, rank / (len(keys) - 1))
    for key, s in side.items():
        if s == 0:
            colour[key] = NEUTRAL
        elif s is None:
            colour[key] = APART
    return Polarity(side, outward, colour)


@dataclass(frozen=True)
class Drawing:
    """A chart drawn: the <svg> element (no XML declaration, so a page can hold it as it is), its size in px, and
    the name and description it carries (<title>, <desc>)."""

    svg: str
    width: float
    height: float
    title: str
    desc: str

    @property
    def alt(self) -> str:
        """The chart as text (its title and every number it shows): the alt text of a document's picture."""
        return f"{self.title}. {self.desc}"

    def svg_bytes(self) -> bytes:
        """The SVG file: XML declaration, the element, a newline."""
        return (XML_DECLARATION + self.svg + "\n").encode("utf-8")


def _pct(x: float) -> str:
    return f"{x:.0f} %"


def _title(svg: Svg, text: str) -> float:
    """The chart's heading (bold, wrapped to the width) at the top; returns the y below it."""
    lines = wrap(text, svg.width - 2 * PAD, TITLE_SIZE, bold=True)
    for i, line in enumerate(lines):
        svg.text(PAD, PAD + TITLE_SIZE + TITLE_LINE * i, line, size=TITLE_SIZE, bold=True)
    return PAD + TITLE_LINE * len(lines) + 4


def _x_axis(svg: Svg, ticks: list[tuple[float, str]], y: float) -> None:
    for x, label in ticks:
        svg.text(x, y, label, anchor="middle")


def item_chart(codebook: Codebook, lang: str, view: ItemView, stem: str | None = None) -> Drawing:
    """Horizontal bars of one item's distribution, categories top to bottom in the codebook's order, each labelled
    "pct % (n)" (":" when hidden). Titled "Figure N: question" and footed with the wave and n."""
    item = codebook.items[view.item]
    stem = stem or f"figure-{view.wave}-{view.item}"
    labels = {c.key: c.label[lang] for c in codebook.scale_of(view.item).categories}
    apart = apart_keys(codebook)
    svg = Svg(CHART_WIDTH)
    number = f"{codebook.word('figure', lang)} {item.figure}: " if item.figure is not None else ""
    top = _title(svg, number + item.question[lang]) + 6
    n_text = SUPPRESSED if view.n_hidden else str(view.n)
    x0 = PAD + max(room(labels[c.category]) for c in view.cells) + 10
    x1 = CHART_WIDTH - PAD - room(f"100 % ({view.n})") - 8
    row, bar = 24.0, 16.0
    bottom = top + row * len(view.cells)
    for p in (0, 25, 50, 75, 100):
        x = x0 + (x1 - x0) * p / 100
        svg.line(x, top, x, bottom, GRID)
    described = []
    for i, cell in enumerate(view.cells):
        yc = top + row * i + row / 2
        label = labels[cell.category]
        svg.text(x0 - 8, yc + BASELINE, label, anchor="end")
        if view.n_hidden or cell.hidden:
            svg.text(x0 + 4, yc + BASELINE, SUPPRESSED)
            described.append(f"{label}: {SUPPRESSED}")
            continue
        pct = cell.pct or 0.0
        value = f"{_pct(pct)} ({cell.n})"
        w = (x1 - x0) * pct / 100
        if w > 0:
            svg.rect(x0, yc - bar / 2, w, bar, APART if cell.category in apart else BAR, tooltip=f"{label}: {value}")
        svg.text(x0 + w + 5, yc + BASELINE, value)
        described.append(f"{label}: {value}")
    svg.line(x0, bottom, x1, bottom, TEXT)
    _x_axis(svg, [(x0 + (x1 - x0) * p / 100, f"{p} %") for p in (0, 25, 50, 75, 100)], bottom + 16)
    footer = f"{codebook.word('wave', lang)} {view.wave} · n = {n_text}"
    svg.text(PAD, bottom + 38, footer)
    height = bottom + 38 + PAD
    title = codebook.word("chart_alt_item", lang, question=item.question[lang], wave=view.wave)
    desc = (f"{number}{footer}. " if number else f"{footer}. ") + "; ".join(described) + "."
    return Drawing(svg.document(stem, height, title, desc), CHART_WIDTH, height, title, desc)


Row = tuple[str, ItemView | None]
"""One row of a diverging chart: its label and the view it draws; a row without a view is a heading (in a chart by
group, the item's code and question over its groups' rows). A label's lines ("\\n") are wrapped to the chart's
width when drawn."""


def item_label(codebook: Codebook, lang: str, view: ItemView) -> str:
    """A level chart's row label: the item's code with its n, then its question."""
    item = codebook.items[view.item]
    n_text = SUPPRESSED if view.n_hidden else str(view.n)
    return f"{item.code} (n = {n_text})\n{item.question[lang]}"


def level_rows(codebook: Codebook, lang: str, views: list[ItemView]) -> list[Row]:
    """The rows of a level chart: one per item (item_label)."""
    return [(item_label(codebook, lang, view), view) for view in views]


def level_chart(codebook: Codebook, lang: str, level: str, views: list[ItemView], stem: str | None = None) -> Drawing:
    """Diverging stacked bars of a level's items in one wave (top to bottom in the codebook's order), titled with
    the level's label."""
    label = codebook.levels[level].label[lang]
    wave = views[0].wave if views else ""
    return diverging_chart(
        codebook,
        lang,
        label,
        level_rows(codebook, lang, views),
        name=codebook.word("chart_alt_level", lang, level=label, wave=wave),
        stem=stem or f"figure-{wave}-{level}",
    )


# the diverging chart's columns: [left total][bars -100 … 100][right total] [apart panel: bars, total]
TOTAL_W = 40.0
APART_W = 92.0
APART_BAR = 52.0
DIVERGING_BAR = 18.0


def diverging_chart(
    codebook: Codebook, lang: str, title: str, rows: list[Row], *, name: str | None = None, stem: str = "figure"
) -> Drawing:
    """Diverging stacked bars, one per row with a view (top to bottom as given): the level charts and the charts
    by group. Under the title the legend (every category of the rows' scales, in the codebook's order) and the
    axis; then per row its label above its bar: the side totals left and right (bold), the value of each segment of
    at least 7 % on it, the categories apart in the panel on the right with their total. A heading row (no view) is
    its label in bold, with a thin line above it when rows precede it. `name`: the <title> (default: title)."""
    apart = apart_keys(codebook)
    views = [view for _, view in rows if view is not None]
    svg = Svg(CHART_WIDTH)
    y = _title(svg, title)
    legend: dict[str, tuple[str, str]] = {}
    polarities = {}
    for view in views:
        scale = codebook.scale_of(view.item)
        pol = polarities.setdefault(scale.key, polarity(codebook, scale))
        for c in scale.categories:
            legend.setdefault(c.key, (c.label[lang], pol.colour[c.key]))
    # legend: swatch and label, wrapped into lines
    x, y = PAD, y + 12
    entries = [(label, colour) for label, colour in legend.values()]
    if any(v.any_hidden for v in views):
        entries.append((f"{SUPPRESSED} {codebook.word('suppressed', lang)}", None))
    for label, colour in entries:
        width = (16 if colour else 0) + room(label) + 14
        if x > PAD and x + width > CHART_WIDTH - PAD:
            x, y = PAD, y + 18
        if colour:
            svg.rect(x, y - 10, 12, 12, colour)
        svg.text(x + (16 if colour else 0), y, label)
        x += width
    bars_x0 = PAD + TOTAL_W
    apart_x0 = CHART_WIDTH - PAD - APART_W
    bars_x1 = apart_x0 - 16 - TOTAL_W

    def sx(v: float) -> float:
        return bars_x0 + (bars_x1 - bars_x0) * (v + 100) / 200

    side_max = max(
        [30.0]
        + [
            1.35 * sum((c.pct or 0.0) for c in v.cells if c.category in apart and not c.hidden)
            for v in views
            if not v.n_hidden
        ]
    )

    def ax(v: float) -> float:
        return apart_x0 + APART_BAR * v / side_max

    ticks = [(sx(v), "0" if v == 0 else _pct(abs(v))) for v in (-100, -50, 0, 50, 100)]
    y += 26
    _x_axis(svg, ticks, y)
    apart_title = " / ".join(label for key, (label, _) in legend.items() if key in apart)
    if apart_title:
        svg.text(apart_x0, y, apart_title)
    y += 10
    described = []
    for i, (label, view) in enumerate(rows):
        if view is None:
            if i:
                svg.line(PAD, y, CHART_WIDTH - PAD, y, RULE)
                y += 8
            for line in wrap(label, CHART_WIDTH - 2 * PAD, bold=True):
                y += LINE
                svg.text(PAD, y - 3, line, bold=True)
            described.append(label.replace("\n", " ") + ".")
            y += 6
            continue
        head, _, rest = label.partition("\n")  # a label of several lines: the first in bold (a level's item code)
        lines = [(line, bool(rest)) for line in wrap(head, CHART_WIDTH - 2 * PAD, bold=bool(rest))]
        lines += [(line, False) for line in wrap(rest, CHART_WIDTH - 2 * PAD)] if rest else []
        for line, bold in lines:
            y += LINE
            svg.text(PAD, y - 3, line, bold=bold)
        y += 3
        described.append(_diverging_row(codebook, lang, svg, head, view, polarities, y, sx, ax))
        y += DIVERGING_BAR + 12
    _x_axis(svg, ticks, y + 8)
    height = y + 8 + PAD
    name = name or title
    desc = " ".join([f"{title}.", *described])
    return Drawing(svg.document(stem, height, name, desc), CHART_WIDTH, height, name, desc)


def _diverging_row(
    codebook: Codebook,
    lang: str,
    svg: Svg,
    head: str,
    view: ItemView,
    polarities: dict,
    top: float,
    sx: Callable[[float], float],
    ax: Callable[[float], float],
) -> str:
    """One bar of a diverging chart, its top at `top`; returns its description (every number it shows)."""
    scale = codebook.scale_of(view.item)
    pol = polarities[scale.key]
    labels = {c.key: c.label[lang] for c in scale.categories}
    bottom, yc = top + DIVERGING_BAR, top + DIVERGING_BAR / 2
    for v in (-100, -50, 50, 100):
        svg.line(sx(v), top - 2, sx(v), bottom + 2, GRID)
    apart_x0 = ax(0)
    svg.line(sx(0), top - 3, sx(0), bottom + 3, TEXT)  # under the segments: seen above, below and between them
    if view.n_hidden:
        svg.text(sx(0), yc + BASELINE, SUPPRESSED, anchor="middle")
        return f"{head}: {SUPPRESSED}."
    cells = {c.category: c for c in view.cells if not c.hidden}
    hidden = {c.category for c in view.cells if c.hidden}
    order = [c.key for c in scale.categories]
    segments: list[tuple[float, float, str]] = []  # left, width (percent), category
    neutral = [k for k in order if k in cells and pol.side[k] == 0]
    middle = sum((cells[k].pct or 0.0) for k in neutral)
    left = -middle / 2
    for k in neutral:
        w = cells[k].pct or 0.0
        segments.append((left, w, k))
        left += w
    totals: dict[int, str] = {}
    for sign in (1, -1):
        x, subtotal = middle / 2, 0.0
        for k in pol.outward[sign]:
            if k not in cells:
                continue
            w = cells[k].pct or 0.0
            segments.append((x if sign > 0 else -x - w, w, k))
            x += w
            subtotal += w
        totals[sign] = SUPPRESSED if any(k in hidden for k in pol.outward[sign]) else _pct(subtotal)
    for left, w, k in sorted(segments):
        if w <= 0:
            continue
        xa, xb = sx(left), sx(left + w)
        colour = pol.colour[k]
        value = f"{w:.0f}"
        svg.rect(
            xa + GAP / 2,
            top,
            max(xb - xa - GAP, 0.5),
            DIVERGING_BAR,
            colour,
            tooltip=f"{head} · {labels[k]}: {value} % ({cells[k].n})",
        )
        if w >= 7 and room(value) + 1 <= xb - xa - GAP:
            svg.text((xa + xb) / 2, yc + BASELINE, value, anchor="middle", fill=label_colour(colour))
    svg.text(sx(-100) - TOTAL_W / 2, yc + BASELINE, totals[-1], anchor="middle", bold=True)
    svg.text(sx(100) + TOTAL_W / 2, yc + BASELINE, totals[1], anchor="middle", bold=True)
    x = 0.0
    apart_keys_ = [k for k in order if pol.side[k] is None]
    for k in apart_keys_:
        if k in cells:
            w = cells[k].pct or 0.0
            if w > 0:
                svg.rect(
                    ax(x) + GAP / 2,
                    top,
                    max(ax(x + w) - ax(x) - GAP, 0.5),
                    DIVERGING_BAR,
                    pol.colour[k],
                    tooltip=f"{head} · {labels[k]}: {w:.0f} % ({cells[k].n})",
                )
            x += w
    svg.line(apart_x0, top - 3, apart_x0, bottom + 3, TEXT)
    apart_total = SUPPRESSED if any(k in hidden for k in apart_keys_) else _pct(x)
    svg.text(ax(x) + 4, yc + BASELINE, apart_total)
    parts = [
        f"{labels[k]} {SUPPRESSED}" if k in hidden else f"{labels[k]} {_pct(cells[k].pct or 0.0)} ({cells[k].n})"
        for k in order
        if k in cells or k in hidden
    ]
    for sign in (-1, 1):
        if len(pol.outward[sign]) > 1:
            parts.append(" + ".join(labels[k] for k in pol.outward[sign]) + f": {totals[sign]}")
    if len(apart_keys_) > 1:
        parts.append(" + ".join(labels[k] for k in apart_keys_) + f": {apart_total}")
    return f"{head}: " + ", ".join(parts) + "."


def panel_chart(codebook: Codebook, lang: str, wave_from: str, wave_to: str, rows: list[dict]) -> Drawing:
    """Dumbbell chart of the paired change of one pair of waves: per item (codebook order, top to bottom) the
    headline share of the same people before (open dot) and after (filled dot), joined by a line, with the change
    and the number of pairs. rows: marts.panel_change rows of the pair; where `hidden` is true (the public profile's
    decision) no share is drawn, only ":"."""
    order = {code: i for i, code in enumerate(codebook.items)}
    rows = sorted(rows, key=lambda r: order[r["item"]])
    before_word, after_word = codebook.word("chart_before", lang), codebook.word("chart_after", lang)
    title = codebook.word("chart_panel", lang, wave_from=wave_from, wave_to=wave_to)
    svg = Svg(CHART_WIDTH)
    y = _title(svg, title) + 12
    x = PAD
    for word, filled in ((before_word, False), (after_word, True)):
        svg.circle(x + 6, y - 4, 5, BAR if filled else "#ffffff", None if filled else BAR, 1.5)
        svg.text(x + 16, y, word)
        x += 16 + room(word) + 16
    top = y + 12
    x0 = PAD + max([room(r["item"]) for r in rows] or [0.0]) + 10
    most = max([r["n_pairs"] or 0 for r in rows] or [0])
    x1 = CHART_WIDTH - PAD - room(f"−100 (n={most})") - 12
    row = 24.0
    bottom = top + row * len(rows)
    for p in (0, 25, 50, 75, 100):
        svg.line(x0 + (x1 - x0) * p / 100, top, x0 + (x1 - x0) * p / 100, bottom, GRID)
    described = []
    for i, r in enumerate(rows):
        yc = top + row * i + row / 2
        svg.text(x0 - 8, yc + BASELINE, r["item"], anchor="end")
        if r["hidden"] or r["headline_pct_from"] is None:
            mark = SUPPRESSED if r["hidden"] else "–"
            svg.text(x0 + 4, yc + BASELINE, mark)
            described.append(f"{r['item']}: {mark}")
            continue
        before, after = r["headline_pct_from"], r["headline_pct_to"]
        change = f"{after - before:+.0f}"
        change = "0" if not change.strip("+-0") else change.replace("-", "−")  # a rounded zero has no sign
        bx, axx = x0 + (x1 - x0) * before / 100, x0 + (x1 - x0) * after / 100
        svg.line(bx, yc, axx, yc, NEUTRAL, 2)
        svg.circle(bx, yc, 5, "#ffffff", BAR, 1.5, tooltip=f"{r['item']} · {before_word}: {_pct(before)}")
        svg.circle(axx, yc, 5, BAR, tooltip=f"{r['item']} · {after_word}: {_pct(after)}")
        label = f"{change} (n={r['n_pairs']})"
        svg.text(max(bx, axx) + 10, yc + BASELINE, label)
        described.append(f"{r['item']}: {before_word} {_pct(before)}, {after_word} {_pct(after)}, {label}")
    svg.line(x0, bottom, x1, bottom, TEXT)
    _x_axis(svg, [(x0 + (x1 - x0) * p / 100, f"{p} %") for p in (0, 25, 50, 75, 100)], bottom + 16)
    height = bottom + 16 + PAD + 4
    desc = "; ".join(described) + "."
    return Drawing(svg.document(f"panel-{wave_from}-{wave_to}", height, title, desc), CHART_WIDTH, height, title, desc)


def panel_chart_svg(codebook: Codebook, lang: str, wave_from: str, wave_to: str, rows: list[dict]) -> bytes:
    """panel_chart as SVG file bytes (byte-identical for the same rows)."""
    check_wave_key(wave_from)
    check_wave_key(wave_to)
    return panel_chart(codebook, lang, wave_from, wave_to, rows).svg_bytes()


FigureFiles = Mapping[str, bytes | Path]
"""A build's chart files: path under reports/figures/ → the file's bytes (render_figures) or cached file
(figure_files)."""


def panel_chart_files(
    codebook: Codebook, lang: str, rows: dict[tuple[str, str], list[dict]]
) -> dict[tuple[str, str], dict[str, bytes]]:
    """(wave_from, wave_to) → that pair's panel_chart as files: "svg" (panel_chart_svg) and "png" (every pair's in
    one typst compile). rows: each pair's marts.panel_change rows, as panel_chart takes them."""
    drawings = {}
    for (wave_from, wave_to), pair_rows in rows.items():
        check_wave_key(wave_from)
        check_wave_key(wave_to)
        drawings[(wave_from, wave_to)] = panel_chart(codebook, lang, wave_from, wave_to, pair_rows)
    pngs = png_pages([(d.svg, d.width, d.height) for d in drawings.values()])
    return {pair: {"svg": d.svg_bytes(), "png": png} for (pair, d), png in zip(drawings.items(), pngs)}


def svg_markup(file: bytes | Path) -> str:
    """A chart's SVG file (its bytes or its path) as markup to put into a page: the <svg> element without the XML
    declaration."""
    data = file.read_bytes() if isinstance(file, Path) else file
    return data.decode("utf-8").removeprefix(XML_DECLARATION).strip()


def figure_paths(wave: str, kind: str, key: str) -> dict[str, str]:
    """Paths (relative to reports/figures/) of a chart's SVG and PNG: <wave>/<kind>-<key>.svg/.png."""
    check_wave_key(wave)
    return {fmt: f"{wave}/{kind}-{key}.{fmt}" for fmt in ("svg", "png")}


@cache
def figures_version() -> str:
    """What every chart's bytes depend on beyond its inputs: the source of the chart code (this module, svg.py,
    font_widths.py, fonts.py, and disclosure.py for the views' computed properties), the typst version (PNG) and
    the font files."""
    digest = hashlib.sha256()
    here = Path(__file__)
    for name in ("figures.py", "svg.py", "font_widths.py", "fonts.py", "disclosure.py"):
        digest.update(name.encode() + b"\0" + here.with_name(name).read_bytes() + b"\0")
    digest.update(f"typst {typst_version()}\0".encode())
    for face, path in sorted(FONT_FILES.items()):
        digest.update(f"{face} {hashlib.sha256(path.read_bytes()).hexdigest()}\0".encode())
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


UI_WORDS = ("figure", "wave", "suppressed", "chart_alt_item", "chart_alt_level", "chart_alt_group")


def chart_key(codebook: Codebook, lang: str, stem: str, inputs: dict) -> str:
    """sha256 (hex) of everything that determines a chart's bytes (see the module docstring)."""
    payload = {
        "version": figures_version(),
        "lang": lang,
        "stem": stem,
        "suppressed": SUPPRESSED,
        "apart": sorted(apart_keys(codebook)),
        "ui": {k: codebook.ui[k][lang] for k in UI_WORDS},
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
    draw: Callable[[], Drawing] = field(compare=False, repr=False)

    @functools.cached_property
    def drawing(self) -> Drawing:
        """The chart drawn (once)."""
        return self.draw()

    @property
    def alt(self) -> str:
        """The chart as text: its title and every number it shows (Drawing.alt)."""
        return self.drawing.alt


def _diverging(
    codebook: Codebook, lang: str, paths: dict[str, str], stem: str, kind: str, title: str, name: str, rows: list[Row]
) -> Chart:
    """A diverging chart (level or by group) to draw: its key covers the kind, the title, the name and every row's
    label and view, in order."""
    key = chart_key(
        codebook, lang, stem, {"kind": kind, "title": title, "name": name, "rows": _row_inputs(codebook, lang, rows)}
    )
    draw = functools.partial(diverging_chart, codebook, lang, title, rows, name=name, stem=stem)
    return Chart(paths, stem, key, draw)


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
            rows += [(f"{code}: {codebook.items[code].question[lang]}", None), *item_rows]
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
            level_label = codebook.levels[level].label[lang]
            variable_label = codebook.background[variable].label[lang]
            title = codebook.word("by_group_table", lang, level=level_label, variable=variable_label)
            name = codebook.word("chart_alt_group", lang, level=level_label, variable=variable_label, wave=wave)
            out.append(
                _diverging(codebook, lang, figure_paths(wave, "group", key_text), stem, "group", title, name, rows)
            )
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
            draw = functools.partial(item_chart, codebook, lang, view, stem)
            out.append(Chart(figure_paths(wave, "item", item.code), stem, key, draw))
        for level, lv in codebook.levels.items():
            level_views = [views[(wave, i.code)] for i in closed if i.level == level and (wave, i.code) in views]
            if not level_views:
                continue
            label = lv.label[lang]
            name = codebook.word("chart_alt_level", lang, level=label, wave=wave)
            out.append(
                _diverging(
                    codebook,
                    lang,
                    figure_paths(wave, "level", level),
                    f"figure-{wave}-{level}",
                    "level",
                    label,
                    name,
                    level_rows(codebook, lang, level_views),
                )
            )
    return out + group_charts(codebook, lang, group_views or {})


def render(charts: list[Chart]) -> list[dict[str, bytes]]:
    """Each chart's files as bytes ("svg", "png"), in the order given: every SVG drawn, then every PNG rasterised
    in one typst compile."""
    drawings = [chart.drawing for chart in charts]
    pngs = png_pages([(d.svg, d.width, d.height) for d in drawings])
    return [{"svg": d.svg_bytes(), "png": png} for d, png in zip(drawings, pngs)]


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

    def ensure(self, charts: list[Chart]) -> list[dict[str, Path]]:
        """The cached files of each chart (fmt → path), drawing those not cached yet first (in one batch)."""
        self.used.update(chart.key for chart in charts)
        todo = list({chart.key: chart for chart in charts if not self.has(chart)}.values())
        if todo:
            self.folder.mkdir(parents=True, exist_ok=True)
        for chart, blobs in zip(todo, render(todo)):
            for fmt in self.FORMATS:  # the PNG last: a chart counts as cached once both files exist
                write_atomic_bytes(self.file(chart.key, fmt), blobs[fmt])
            self.drawn.append(chart.key)
        return [{fmt: self.file(chart.key, fmt) for fmt in self.FORMATS} for chart in charts]

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
    every = charts(codebook, lang, views, group_views)
    out: dict[str, Path] = {}
    for chart, files in zip(every, cache.ensure(every)):
        for fmt, rel in chart.paths.items():
            out[rel] = files[fmt]
    return dict(sorted(out.items()))


def render_figures(
    codebook: Codebook, lang: str, views: dict[tuple[str, str], ItemView], group_views: GroupViews | None = None
) -> dict[str, bytes]:
    """Every chart as relative path (under reports/figures/) → bytes, sorted by path, drawn in memory (the
    build goes through the cache: figure_files)."""
    every = charts(codebook, lang, views, group_views)
    out: dict[str, bytes] = {}
    for chart, blobs in zip(every, render(every)):
        for fmt, data in blobs.items():
            out[chart.paths[fmt]] = data
    return dict(sorted(out.items()))
