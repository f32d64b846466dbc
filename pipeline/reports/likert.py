"""The Likert summary (cf. gtsummary tbl_likert) of the index and level pages: per wave and item the question, n,
every category as "n (pct %)", a stacked bar, the headline share with its Wilson interval and the mean score; and
the notes on response every table of those pages carries.

In the public profile the table holds only what marts.item_disclosure lets it show (pipeline.reports.disclosure):
a hidden value is not in the table's frame at all, its cell says ":".
"""

from __future__ import annotations

import html

from pipeline.codebook import Item
from pipeline.reports.data import ReportData
from pipeline.reports.disclosure import SUPPRESSED, ItemView, count_hidden
from pipeline.reports.figures import apart_keys, polarity
from pipeline.reports.tables import Column, ReportTable, format_values, table_frame
from pipeline.reports.waves import base_below_notes


def wave_notes(data: ReportData) -> list[str]:
    """Per wave (in key order) its response ("Runde 2024: 10 av 12 inviterte svarte (83 %)") and, where the data
    are a reconstruction, a note saying so."""
    notes = []
    for w in data.waves.sort("wave").iter_rows(named=True):
        if count_hidden(w["complete"], profile=data.profile, min_cell=data.min_cell):
            complete, rate = SUPPRESSED, SUPPRESSED
        else:
            complete = format_values([w["complete"]], "integer", data.lang)[0]
            rate = "–" if w["response_rate"] is None else format_values([w["response_rate"]], "number0", data.lang)[0]
        notes.append(data.t("note_response", wave=w["wave"], complete=complete, invited=w["invited"], rate=rate))
        if w["reconstruction"]:
            notes.append(data.t("note_reconstruction", wave=w["wave"]))
    return notes


def base_notes(data: ReportData, waves: list[str], items: list[Item]) -> list[str]:
    """Per wave, the items whose n is below the wave's complete responses (pipeline.reports.waves.base_below_notes)."""
    return base_below_notes(
        data.codebook, data.lang, data.indicators, data.waves, data.views, waves, items, data.profile, data.min_cell
    )


def stacked_bar(data: ReportData, view: ItemView) -> str:
    """Inline SVG: the distribution as one 0–100 % stacked bar in category order (hidden cells are left out, with
    ":" in the tooltip). Every segment has a tooltip; no ids, so no clashes between cells."""
    width, height = 120.0, 14.0
    scale = data.codebook.scale_of(view.item)
    colours = polarity(data.codebook, scale).colour
    labels = {c.key: c.label[data.lang] for c in scale.categories}
    parts, x, summary = [], 0.0, []
    if not view.n_hidden:
        # the bar's percentages formatted in one call (great-tables' per-call cost is most of a bar's time)
        pcts = format_values([None if c.hidden else c.pct for c in view.cells], "percent", data.lang)
        for cell, formatted in zip(view.cells, pcts):
            if cell.hidden:
                summary.append(f"{labels[cell.category]}: {SUPPRESSED}")
                continue
            pct = "–" if cell.pct is None else formatted
            text = f"{labels[cell.category]}: {cell.n} ({pct})"
            summary.append(text)
            w = width * (cell.pct or 0.0) / 100
            if w > 0:
                parts.append(
                    f'<rect x="{x:.2f}" y="0" width="{w:.2f}" height="{height:.0f}" '
                    f'fill="{colours[cell.category]}"><title>{html.escape(text)}</title></rect>'
                )
            x += w
        # the hidden cells are not drawn, and neither is their total: the bar stops short of 100 %
    label = html.escape("; ".join(summary) or SUPPRESSED, quote=True)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{label}" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" style="vertical-align:middle;'
        f'background:#eef2f6">{"".join(parts)}</svg>'
    )


def category_columns(data: ReportData, items: list[Item]) -> tuple[list[str], dict[str, str]]:
    """Category keys of the items' scales in display order, categories kept apart (don't know) last."""
    apart = apart_keys(data.codebook)
    keys: list[str] = []
    labels: dict[str, str] = {}
    for scale in dict.fromkeys(i.scale for i in items):
        for c in data.codebook.scales[scale].categories:
            if c.key not in labels:
                keys.append(c.key)
                labels[c.key] = c.label[data.lang]
    return [k for k in keys if k not in apart] + [k for k in keys if k in apart], labels


def headline_column(data: ReportData, key: str = "headline", nowrap: bool = True) -> Column:
    """The headline share with its Wilson interval: "50 % (24–76)"."""
    return Column(
        key,
        data.t("headline"),
        "percent",
        merge=((key + "_low", "number0"), (key + "_high", "number0")),
        pattern="{0}<< ({1}–{2})>>",
        nowrap=nowrap,
    )


def likert_table(
    data: ReportData, table_id: str, items: list[Item], *, group_by_level: bool, title: str, subtitle: str | None = None
) -> ReportTable:
    """A Likert summary of `items`, per wave (newest first) and item. Row groups: per level (group_by_level, with the
    wave when there are several) or per wave."""
    cb, lang = data.codebook, data.lang
    views = data.views
    categories, labels = category_columns(data, items)
    ind = {(r["wave"], r["item"]): r for r in data.indicators.iter_rows(named=True)}
    waves = data.wave_keys
    records, bars = [], []
    any_hidden = small = False
    for wave in waves:
        for item in items:
            view, row = views.get((wave, item.code)), ind.get((wave, item.code))
            if view is None or row is None:
                continue
            if group_by_level:
                group = cb.levels[item.level].label[lang]
                if len(waves) > 1:
                    group += f" · {data.t('wave')} {wave}"
            else:
                group = f"{data.t('wave')} {wave}"
            any_hidden |= view.any_hidden
            small |= bool(row["small_n"])
            cells = {c.category: c for c in view.cells}
            rec: dict[str, object] = {
                "group": group,
                "item": item.code,
                "question": item.question[lang],
                "bars": str(len(bars)),
            }
            if view.n_hidden:
                rec["n__missing"] = SUPPRESSED
            else:
                rec["n"] = view.n
            for key in categories:
                cell = cells.get(key)
                if cell is None:
                    rec[key + "__missing"] = ""
                elif cell.hidden or view.n_hidden:
                    rec[key + "__missing"] = SUPPRESSED
                else:
                    rec[key], rec[key + "_pct"] = cell.n, cell.pct
            if view.headline_hidden or view.n_hidden:
                rec["headline__missing"] = SUPPRESSED
            elif row["headline_pct"] is not None:
                rec["headline"], rec["headline_low"], rec["headline_high"] = (
                    row["headline_pct"],
                    row["ci_low"],
                    row["ci_high"],
                )
            # hidden before absent: a "–" where the decision hides the mean would say that every answer was "don't know"
            if view.mean_hidden or view.n_hidden:
                rec["mean__missing"] = SUPPRESSED
            elif row["mean_score"] is not None:
                rec["mean"] = row["mean_score"]
            bars.append(stacked_bar(data, view))
            records.append(rec)
    columns = (
        Column("question", data.t("item"), align="left"),
        Column("n", "n", "integer", nowrap=True),
        *(
            Column(
                key,
                labels[key],
                "integer",
                merge=((key + "_pct", "percent"),),
                pattern="{0} ({1})",
                spanner=data.t("answers"),
                nowrap=True,
            )
            for key in categories
        ),
        Column("bars", data.t("distribution"), "html", align=None, nowrap=True),
        headline_column(data),
        Column("mean", data.t("mean"), "decimal1", nowrap=True),
    )
    notes = [data.t("note_base"), data.t("note_headline"), *wave_notes(data), *base_notes(data, waves, items)]
    if small:
        notes.append(data.t("note_small_n", n=cb.small_n_below))
    if any_hidden:
        notes.append(data.t("note_suppressed", min=data.min_cell))
    return ReportTable(
        id=table_id,
        title=title,
        subtitle=subtitle,
        frame=table_frame(records, columns, ("group", "item")),
        columns=columns,
        stub="item",
        group="group",
        notes=tuple(notes),
        html=tuple(bars),
        font_size="13px",
        row_padding="4px",
    )


def level_table(data: ReportData, level: str) -> ReportTable:
    """The Likert summary of one level (row groups per wave)."""
    items = [i for i in data.codebook.closed_items() if i.level == level]
    lv = data.codebook.levels[level]
    return likert_table(
        data,
        f"level-{level}",
        items,
        group_by_level=False,
        title=lv.label[data.lang],
        subtitle=lv.description[data.lang],
    )


def items_table(data: ReportData) -> ReportTable:
    """Every closed item in codebook order, one row group per level."""
    return likert_table(
        data,
        "items",
        data.codebook.closed_items(),
        group_by_level=True,
        title=data.t("all_items"),
        subtitle=data.codebook.title[data.lang],
    )
