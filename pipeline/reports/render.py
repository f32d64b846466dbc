"""Render the index page, one page per effect level and their charts (pipeline.reports.figures under
reports/figures/) into a folder: what the `reports` asset writes into the build area.

Every label comes from the codebook in the language of PIPELINE_LANG. In the public profile small cells are
suppressed (pipeline.reports.disclosure) in tables and charts alike.

Deterministic: every GT has a fixed id, rows are sorted as in the codebook (waves newest first), no
timestamps. Text from the codebook or the data is HTML-escaped (great-tables escapes cell text; the page
frame and the inline SVG use html.escape).

At scale: charts come from a content-addressed cache (pipeline.reports.figures.FigureCache) when render_reports gets
one, unchanged files under reports/ are not rewritten, and great-tables gets no per-cell styles (its cost
grows with cells × styles): nowrap columns are one CSS rule per table.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipeline.codebook import Codebook
from pipeline.files import remove_stale_tmp, write_if_changed
from pipeline.reports.data import ReportData
from pipeline.reports.figures import FigureCache, FigureFiles, figure_files, render_figures
from pipeline.reports.index import index_page, overview_table
from pipeline.reports.level import level_page
from pipeline.reports.likert import items_table, level_table
from pipeline.reports.open_answers import open_answers_tables
from pipeline.reports.tables import ReportTable
from pipeline.settings import DEFAULT_MIN_CELL, DEFAULT_MIN_GROUP


def build_tables(data: ReportData) -> dict[str, ReportTable]:
    """Every table of the index and level pages by id: overview, items, level-<level>, open-<level> (one wave) or
    open-<level>-<wave> (several waves), in page order."""
    tables = {"overview": overview_table(data), "items": items_table(data)}
    for level in data.codebook.levels:
        tables[f"level-{level}"] = level_table(data, level)
        tables.update(open_answers_tables(data, level))
    return tables


def build_pages(data: ReportData, figures: FigureFiles, cache: FigureCache | None = None) -> dict[str, str]:
    """Page file name → HTML, for index.html and every level page. `figures`: the chart files (paths under
    reports/figures/; the pages hold their SVG). With a cache, the HTML of open-answers tables whose content did not
    change is taken from it."""
    pages = {"index.html": index_page(data, figures)}
    for level in data.codebook.levels:
        pages[f"{level}.html"] = level_page(data, level, figures, cache)
    return pages


def render_reports(
    codebook: Codebook,
    lang: str,
    out_dir: Path,
    indicators: pl.DataFrame,
    distribution: pl.DataFrame,
    waves: pl.DataFrame,
    open_answers: pl.DataFrame | None = None,
    *,
    profile: str = "internal",
    min_cell: int = DEFAULT_MIN_CELL,
    cache_dir: Path | FigureCache | None = None,
    by_group: pl.DataFrame | None = None,
    min_group: int = DEFAULT_MIN_GROUP,
) -> dict[str, Path]:
    """Write index.html, <level>.html and figures/; return page name → path (figures: the folder).

    Everything is rendered first (charts into the cache folder when `cache_dir` is given, else in memory),
    so a failure writes nothing under out_dir; each file that changed is then replaced atomically, charts of
    waves no longer present are removed, and so are cache entries this build did not use. Temporary files
    left by a killed run are removed first."""
    remove_stale_tmp(out_dir)
    if open_answers is None:
        open_answers = pl.DataFrame(
            schema={
                "wave": pl.Utf8,
                "item": pl.Utf8,
                "level": pl.Utf8,
                "respondent_key": pl.Utf8,
                "complete": pl.Boolean,
                "text": pl.Utf8,
            }
        )
    data = ReportData(
        codebook, lang, indicators, distribution, waves, open_answers, profile, min_cell, by_group, min_group
    )
    cache = FigureCache(cache_dir) if isinstance(cache_dir, (str, Path)) else cache_dir
    figures: dict[str, bytes] | dict[str, Path]
    if cache is None:
        figures = render_figures(codebook, lang, data.chart_views, data.group_views)
    else:
        figures = figure_files(codebook, lang, data.chart_views, cache, data.group_views)
    pages = build_pages(data, figures, cache)
    fig_dir = out_dir / "figures"
    for rel, blob in figures.items():
        write_if_changed(fig_dir / rel, blob.read_bytes() if isinstance(blob, Path) else blob)
    if fig_dir.is_dir():
        for old in sorted(fig_dir.rglob("*"), reverse=True):
            rel = old.relative_to(fig_dir).as_posix()
            if old.is_file() and rel not in figures:
                old.unlink()
            elif old.is_dir() and not any(old.iterdir()):
                old.rmdir()
    written = {}
    for name, text in pages.items():
        write_if_changed(out_dir / name, text.encode("utf-8"))
        written[name.removesuffix(".html")] = out_dir / name
    fig_dir.mkdir(parents=True, exist_ok=True)  # there even when no wave has charts yet (every wave failed)
    written["figures"] = fig_dir
    if cache is not None:
        cache.prune()
    return written
