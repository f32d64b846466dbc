"""Breakdowns by background variable on the level pages ("By group"): for the newest wave, per level and
background variable a great-tables Likert table (a row group per item answered in that wave, a row per group: n,
the headline share with its Wilson interval, the distribution as a stacked bar, the mean) and one diverging chart
with the groups as rows (pipeline.reports.figures.group_charts).

Everything comes from marts.item_by_group, where the disclosure decision is taken once (small groups and their
complement, small counts and the figures built on them); here the public profile only shows what it allows, and
leaves out variables the codebook does not mark public.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
from great_tables import GT

from pipeline.codebook import ALL_GROUPS, Codebook
from pipeline.ingest.waves import time_order
from pipeline.reports.disclosure import SUPPRESSED, ItemView, item_views
from pipeline.reports.figures import GroupViews, figure_paths, group_chart_key, group_label

if TYPE_CHECKING:
    from pipeline.reports.render import ReportData


def newest_wave(waves: pl.DataFrame) -> str | None:
    """The newest wave of marts.waves in time order (pipeline.ingest.waves.time_order)."""
    ordered = time_order(dict(zip(waves["wave"].to_list(), waves["fielded"].to_list())))
    return ordered[-1] if ordered else None


def shown_rows(by_group: pl.DataFrame, wave: str | None, profile: str) -> pl.DataFrame:
    """The rows of marts.item_by_group the pages use: the newest wave, and in the public profile only the
    variables the codebook marks public."""
    rows = by_group.filter(pl.col("wave") == wave) if wave is not None else by_group.clear()
    return rows.filter(pl.col("variable_public")) if profile == "public" else rows


def group_views(codebook: Codebook, rows: pl.DataFrame, *, profile: str) -> GroupViews:
    """(wave, variable, group) → item → ItemView of that group, with what the decision hides (public profile)."""
    out: GroupViews = {}
    if rows.is_empty():
        return out
    decided = rows.with_columns(
        pl.col("group_hidden").alias("base_hidden"),
        pl.col("headline_hidden").alias("top2_hidden"),
        (pl.col("headline_hidden") | pl.col("hidden").any().over("wave", "item", "variable", "group"))
        .alias("top3_hidden"),
    )
    for (wave, variable, group), part in decided.group_by(["wave", "variable", "group"], maintain_order=True):
        views = item_views(codebook, part, profile=profile)
        out[(wave, variable, group)] = {item: view for (_, item), view in views.items()}
    return out


def group_table(data: ReportData, level: str, variable: str) -> GT:
    """One level's items by one background variable (data.group_rows): a row group per item answered in the wave,
    a row per group ('all' first)."""
    from pipeline.reports.render import decimal_text, stacked_bar

    codebook, lang = data.codebook, data.lang
    var = codebook.background[variable]
    part = data.group_rows.filter((pl.col("level") == level) & (pl.col("variable") == variable))
    answered = part.filter((pl.col("group") == ALL_GROUPS) & (pl.col("base_n") > 0))["item"].unique()
    summary = part.filter(pl.col("item").is_in(answered.implode())) \
        .unique(["item", "group"], keep="first", maintain_order=True).sort("item_order", "group_order")
    records, bars = [], []
    hidden_any = False
    for r in summary.iter_rows(named=True):
        view: ItemView = data.group_views[(r["wave"], variable, r["group"])][r["item"]]
        item = codebook.items[r["item"]]
        hidden_any |= view.any_hidden
        if view.n_hidden:  # the public profile hides the whole group
            n, share, mean = SUPPRESSED, SUPPRESSED, SUPPRESSED
        else:
            n = str(r["base_n"])
            if view.headline_hidden:
                share = SUPPRESSED
            elif r["headline_pct"] is None:
                share = "–"
            else:
                share = f"{r['headline_pct']:.0f} % ({r['ci_low']:.0f}–{r['ci_high']:.0f})"
            mean = "–" if r["mean_score"] is None else (SUPPRESSED if view.mean_hidden
                                                        else decimal_text(r["mean_score"], 1, lang))
        records.append({
            "item_group": f"{item.code} · {item.question[lang]}",
            "group": group_label(codebook, lang, variable, r["group"]),
            "n": n, "share": share, "bars": str(len(bars)), "mean": mean,
        })
        bars.append(stacked_bar(data, view))
    columns = ["item_group", "group", "n", "bars", "share", "mean"]
    frame = pl.DataFrame(records, schema={c: pl.Utf8 for c in columns}, orient="row") if records else \
        pl.DataFrame(schema={c: pl.Utf8 for c in columns})
    wave = summary["wave"][0] if summary.height else ""
    gt = (
        GT(frame, rowname_col="group", groupname_col="item_group", id=f"by-group-{level}-{variable}")
        .tab_header(title=data.t("by_group_table", level=codebook.levels[level].label[lang], variable=var.label[lang]),
                    subtitle=f"{data.t('wave')} {wave}")
        .cols_label(n="n", bars=data.t("distribution"), share=data.t("headline"), mean=data.t("mean"))
        .cols_align("right", columns=["n", "share", "mean"])
        .fmt(lambda i: bars[int(i)], columns="bars")
        .tab_options(table_font_size="13px", data_row_padding="3px")
        .tab_source_note(data.t("note_by_group"))
    )
    if hidden_any:
        gt = gt.tab_source_note(data.t("note_group_hidden", min=data.min_group))
        gt = gt.tab_source_note(data.t("note_suppressed", min=data.min_cell))
    return gt


def group_section(data: ReportData, level: str, figures) -> str:
    """The level page's "By group" section (empty when the newest wave has no background variables): per variable
    its table, then its chart (the groups as rows; none when the public profile hides every group). figures: the
    chart files that exist (paths under reports/figures/)."""
    from pipeline.reports.render import figure_html

    codebook, lang = data.codebook, data.lang
    part = data.group_rows.filter(pl.col("level") == level)
    if part.is_empty():
        return ""
    out = []
    level_label = codebook.levels[level].label[lang]
    for variable in sorted(set(part["variable"].to_list()), key=lambda v: codebook.background[v].order):
        out.append(group_table(data, level, variable).as_raw_html())
        variable_label = codebook.background[variable].label[lang]
        wave = part.filter(pl.col("variable") == variable)["wave"][0]
        path = figure_paths(wave, "group", group_chart_key(level, variable))
        if path["svg"] in figures:
            alt = data.t("chart_alt_group", level=level_label, variable=variable_label, wave=wave)
            caption = (f"{data.t('by_group_table', level=level_label, variable=variable_label)} · "
                       f"{data.t('wave')} {wave}. {data.t('note_chart')}")
            out.append(figure_html(data, path, alt, caption))
    return "\n".join(out)
