"""index.html: response per wave; the overview (one row per wave and level: items, average top-2 share, range);
every item as a Likert summary with a row group per level; every level's diverging chart; links to the level
pages."""

from __future__ import annotations

import html

from pipeline.reports.data import ReportData
from pipeline.reports.disclosure import SUPPRESSED
from pipeline.reports.figures import FigureFiles
from pipeline.reports.frame import lead, page, section
from pipeline.reports.level import level_figures
from pipeline.reports.likert import items_table, wave_notes
from pipeline.reports.tables import Column, ReportTable, table_frame, to_gt


def overview_table(data: ReportData) -> ReportTable:
    """One row per wave and level: the number of items with a top-2 share, their average and range. In the
    public profile a level's average and range are hidden (":") when any of its items' top-2 share is hidden
    (marts.item_disclosure): leaving such an item out would change the figure without a word, and keeping it
    would reveal the hidden cells."""
    cb, lang = data.codebook, data.lang
    views = data.views
    hidden = {key for key, v in views.items() if v.top2_hidden or v.n_hidden}
    all_rows = list(data.indicators.iter_rows(named=True))
    present = {(r["wave"], r["level"]) for r in all_rows}
    top2: dict[tuple[str, str], list[float]] = {}
    level_hidden: set[tuple[str, str]] = set()
    for r in all_rows:  # grouped once (a scan per wave and level grew with the square of the waves)
        if r["top2_pct"] is not None:
            top2.setdefault((r["wave"], r["level"]), []).append(r["top2_pct"])
            if (r["wave"], r["item"]) in hidden:
                level_hidden.add((r["wave"], r["level"]))
    records = []
    for wave in data.wave_keys:
        for key, level in cb.levels.items():
            shares = top2.get((wave, key), [])
            if not shares and (wave, key) not in present:
                continue
            rec: dict[str, object] = {
                "wave": f"{data.t('wave')} {wave}",
                "level": level.label[lang],
                "items": len(shares),
            }
            if (wave, key) in level_hidden:
                rec.update({"mean_top2__missing": SUPPRESSED, "range__missing": SUPPRESSED})
            elif shares:
                rec.update(mean_top2=sum(shares) / len(shares), range=min(shares), range_high=max(shares))
            records.append(rec)
    columns = (
        Column("items", data.t("items"), "integer"),
        Column("mean_top2", data.t("mean_top2"), "percent"),
        Column("range", data.t("range_top2"), "number0", merge=(("range_high", "number0"),), pattern="{0}–{1} %"),
    )
    notes = [data.t("note_overview"), *wave_notes(data)]
    if level_hidden:
        notes.append(data.t("note_overview_public", min=data.min_cell))
    return ReportTable(
        id="overview",
        title=data.t("overview"),
        subtitle=cb.title[lang],
        frame=table_frame(records, columns, ("wave", "level")),
        columns=columns,
        stub="level",
        group="wave",
        notes=tuple(notes),
    )


def index_page(data: ReportData, figures: FigureFiles) -> str:
    """The whole index.html. `figures`: the chart files (paths under reports/figures/)."""
    cb, lang = data.codebook, data.lang
    links = "".join(
        f'<li><a href="{key}.html">{html.escape(level.label[lang])}</a> – {html.escape(level.description[lang])}</li>'
        for key, level in cb.levels.items()
    )
    level_charts = []
    for key, level in cb.levels.items():
        level_charts += [
            f'<div><h3><a href="{key}.html">{html.escape(level.label[lang])}</a></h3>{fig}</div>'
            for fig in level_figures(data, key, figures)
        ]
    body = "\n".join(
        [
            "".join(lead(n) for n in wave_notes(data)),
            to_gt(overview_table(data), lang).as_raw_html(),
            f"<ul>{links}</ul>",
            section(data.t("all_items"), to_gt(items_table(data), lang).as_raw_html()),
            section(
                data.t("chart_level"), f'<div class="charts">{"".join(level_charts)}</div>', data.chart_waves_note()
            ),
        ]
    )
    return page(cb, lang, cb.title[lang], body)
