"""<level>.html, one page per effect level: the level's Likert summary (question, n, every category as "n (pct %)", a
stacked bar, the headline share with its Wilson interval, the mean), its diverging chart, one bar chart per item (the
report's figures), the open answers and, where the newest wave has background variables, the items by group."""

from __future__ import annotations

import html

from pipeline.reports.by_group import group_section
from pipeline.reports.data import ReportData
from pipeline.reports.figures import FigureCache, FigureFiles, figure_paths, svg_markup
from pipeline.reports.frame import figure_html, page, section
from pipeline.reports.likert import level_table
from pipeline.reports.open_answers import open_answer_specs, unreviewed_notes
from pipeline.reports.tables import to_gt


def _figure(data: ReportData, path: dict[str, str], figures: FigureFiles, alt: str, caption: str) -> str:
    """A chart of reports/figures/ in the page (frame.figure_html with its SVG), linked with its SVG and PNG."""
    return figure_html(
        {f: "figures/" + p for f, p in path.items()},
        alt,
        caption,
        data.t("png"),
        svg_markup(figures[path["svg"]]),
        data.t("svg"),
    )


def level_figures(data: ReportData, level: str, figures: FigureFiles) -> list[str]:
    """The level's diverging chart of each wave that has one (newest first)."""
    out = []
    label = data.codebook.levels[level].label[data.lang]
    for wave in data.wave_keys:
        path = figure_paths(wave, "level", level)
        if path["svg"] in figures:
            out.append(
                _figure(
                    data,
                    path,
                    figures,
                    data.t("chart_alt_level", level=label, wave=wave),
                    f"{label} · {data.t('wave')} {wave}. {data.t('note_chart')}",
                )
            )
    return out


def item_figures(data: ReportData, level: str, figures: FigureFiles) -> list[str]:
    """The bar chart of each of the level's closed items in each wave that has one (the report's figures)."""
    out = []
    for wave in data.wave_keys:
        for item in data.codebook.closed_items():
            path = figure_paths(wave, "item", item.code)
            if item.level != level or path["svg"] not in figures:
                continue
            number = f"{data.t('figure')} {item.figure}: " if item.figure is not None else ""
            question = item.question[data.lang]
            out.append(
                _figure(
                    data,
                    path,
                    figures,
                    data.t("chart_alt_item", question=question, wave=wave),
                    f"{item.code} · {number}{question} · {data.t('wave')} {wave}",
                )
            )
    return out


def level_page(data: ReportData, level: str, figures: FigureFiles, cache: FigureCache | None = None) -> str:
    """The whole <level>.html. With a cache, the HTML of open-answers tables whose content did not change is taken
    from it."""
    cb, lang = data.codebook, data.lang
    lv = cb.levels[level]
    open_tables = [
        cache.fragment(spec.key(), spec.html) if cache is not None else spec.html()
        for spec in open_answer_specs(data, level)
    ]
    body = "\n".join(
        [
            f'<p class="lead">{html.escape(lv.description[lang])}</p>',
            to_gt(level_table(data, level), lang).as_raw_html(),
            section(data.t("chart_level"), *level_figures(data, level, figures), data.chart_waves_note()),
            section(
                data.t("figures"),
                f'<div class="charts">{"".join(item_figures(data, level, figures))}</div>',
                data.chart_waves_note(),
            ),
            section(
                data.t("open_answers"),
                *(
                    open_tables
                    or ([] if unreviewed_notes(data, level) else [f"<p>{html.escape(data.t('no_open_answers'))}</p>"])
                ),
                *(f"<p>{html.escape(note)}</p>" for note in unreviewed_notes(data, level)),
            ),
        ]
    )
    if data.group_views:
        by_group = group_section(data, level, figures)
        if by_group:
            body += "\n" + section(data.t("by_group"), by_group)
    return page(cb, lang, lv.label[lang], body)
