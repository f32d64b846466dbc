"""Breakdowns by background variable on the level pages ("By group"): for the newest wave, per level and
background variable a great-tables Likert table (a row group per item answered in that wave, a row per group: n,
the headline share with its Wilson interval, the distribution as a stacked bar, the mean) and one diverging chart
with the groups as rows (pipeline.reports.figures.group_charts).

Everything comes from marts.item_by_group, where the disclosure decision is taken once (small groups and their
complement, small counts and the figures built on them); here the public profile only shows what it allows, and
leaves out variables the codebook does not mark public.
"""

from __future__ import annotations

import polars as pl

from pipeline.codebook import ALL_GROUPS
from pipeline.reports.data import ReportData
from pipeline.reports.disclosure import SUPPRESSED, ItemView
from pipeline.reports.figures import FigureFiles, figure_paths, group_chart_key, group_label, svg_markup
from pipeline.reports.frame import figure_html
from pipeline.reports.likert import headline_column, stacked_bar
from pipeline.reports.tables import Column, ReportTable, table_frame, to_gt


def group_table(data: ReportData, level: str, variable: str) -> ReportTable:
    """One level's items by one background variable (data.group_rows): a row group per item answered in the wave,
    a row per group ('all' first)."""
    codebook, lang = data.codebook, data.lang
    var = codebook.background[variable]
    part = data.group_rows.filter((pl.col("level") == level) & (pl.col("variable") == variable))
    answered = part.filter((pl.col("group") == ALL_GROUPS) & (pl.col("base_n") > 0))["item"].unique()
    summary = (
        part.filter(pl.col("item").is_in(answered.implode()))
        .unique(["item", "group"], keep="first", maintain_order=True)
        .sort("item_order", "group_order")
    )
    records, bars = [], []
    hidden_any = False
    for r in summary.iter_rows(named=True):
        view: ItemView = data.group_views[(r["wave"], variable, r["group"])][r["item"]]
        item = codebook.items[r["item"]]
        hidden_any |= view.any_hidden
        rec: dict[str, object] = {
            "item_group": f"{item.code} · {item.question[lang]}",
            "group": group_label(codebook, lang, variable, r["group"]),
            "bars": str(len(bars)),
        }
        if view.n_hidden:  # the public profile hides the whole group
            rec.update({"n__missing": SUPPRESSED, "share__missing": SUPPRESSED, "mean__missing": SUPPRESSED})
        else:
            rec["n"] = r["base_n"]
            if view.headline_hidden:
                rec["share__missing"] = SUPPRESSED
            elif r["headline_pct"] is not None:
                rec.update(share=r["headline_pct"], share_low=r["ci_low"], share_high=r["ci_high"])
            if view.mean_hidden:  # hidden before absent (a "–" would say every answer was "don't know")
                rec["mean__missing"] = SUPPRESSED
            elif r["mean_score"] is not None:
                rec["mean"] = r["mean_score"]
        records.append(rec)
        bars.append(stacked_bar(data, view))
    columns = (
        Column("n", "n", "integer"),
        Column("bars", data.t("distribution"), "html", align=None),
        headline_column(data, "share", nowrap=False),
        Column("mean", data.t("mean"), "decimal1"),
    )
    notes = [data.t("note_by_group")]
    if hidden_any:
        notes += [data.t("note_group_hidden", min=data.min_group), data.t("note_suppressed", min=data.min_cell)]
    wave = summary["wave"][0] if summary.height else ""
    return ReportTable(
        id=f"by-group-{level}-{variable}",
        title=data.t("by_group_table", level=codebook.levels[level].label[lang], variable=var.label[lang]),
        subtitle=f"{data.t('wave')} {wave}",
        frame=table_frame(records, columns, ("item_group", "group")),
        columns=columns,
        stub="group",
        group="item_group",
        notes=tuple(notes),
        html=tuple(bars),
        font_size="13px",
        row_padding="3px",
    )


def group_section(data: ReportData, level: str, figures: FigureFiles) -> str:
    """The level page's "By group" section (empty when the newest wave has no background variables): per variable
    its table, then its chart (the groups as rows; none when the public profile hides every group). figures: the
    chart files (path under reports/figures/ → bytes or cached file)."""
    codebook, lang = data.codebook, data.lang
    part = data.group_rows.filter(pl.col("level") == level)
    if part.is_empty():
        return ""
    out = []
    level_label = codebook.levels[level].label[lang]
    for variable in sorted(set(part["variable"].to_list()), key=lambda v: codebook.background[v].order):
        out.append(to_gt(group_table(data, level, variable), lang).as_raw_html())
        variable_label = codebook.background[variable].label[lang]
        wave = part.filter(pl.col("variable") == variable)["wave"][0]
        path = figure_paths(wave, "group", group_chart_key(level, variable))
        if path["svg"] in figures:
            alt = data.t("chart_alt_group", level=level_label, variable=variable_label, wave=wave)
            caption = (
                f"{data.t('by_group_table', level=level_label, variable=variable_label)} · "
                f"{data.t('wave')} {wave}. {data.t('note_chart')}"
            )
            out.append(
                figure_html(
                    {f: "figures/" + p for f, p in path.items()},
                    alt,
                    caption,
                    data.t("png"),
                    svg_markup(figures[path["svg"]]),
                    data.t("svg"),
                )
            )
    return "\n".join(out)
