"""The report as a Document (pipeline.reports.document.model) from the marts, the codebook, the charts of
pipeline.reports.figures and the analyst's prose — the structure of the report the survey was made for:

- title page: the codebook's title, a subtitle, the waves, the date (the newest wave's fielded date, never the
  clock), the publisher (the codebook's ui word doc_publisher), which edition (internal or public);
- summary (summary.md, then the overview of every level), introduction (introduction.md);
- method: invited, complete and partial answers and the response rate per wave, who answered again (panels), the
  quarantined cells and why, the reconstruction flag, the small-n caveat, what the share, its Wilson interval and
  the mean are;
- one chapter per effect level (the codebook's label and description): <level>.md, each item's figure of the newest
  wave (numbered continuously: "Figur 1: <question>"; items the codebook gives no figure number are in the tables
  only), the level's table, the change since the previous wave and the paired change of the same people (with
  several waves), the tables by group (where the newest wave has background variables the profile shows), the open
  answers as quotations;
- discussion (discussion.md); appendices: the questionnaire, and where every table and figure comes from.

Every table is a ReportTable made by the pages' own builders (likert, index, waves, panel, by_group) from the same
frames, so the documents show the pages' numbers; a hidden value is not in the frames.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from pipeline.codebook import Codebook
from pipeline.ingest.waves import time_order
from pipeline.reports.by_group import group_table
from pipeline.reports.data import ReportData, newest_wave
from pipeline.reports.disclosure import SUPPRESSED
from pipeline.reports.document.cells import grid
from pipeline.reports.document.model import (
    Block,
    Document,
    Figure,
    Heading,
    Paragraph,
    Quote,
    Run,
    Source,
    Table,
)
from pipeline.reports.document.placeholders import Placeholders
from pipeline.reports.document.prose import read_prose
from pipeline.reports.figures import figure_paths
from pipeline.reports.index import overview_table
from pipeline.reports.likert import level_table, wave_notes
from pipeline.reports.open_answers import open_answer_specs
from pipeline.reports.panel import change_table as panel_change_table
from pipeline.reports.panel import retention_table
from pipeline.reports.tables import Column, ReportTable, format_values, table_frame
from pipeline.reports.waves import base_below_notes, change_table, response_table, wave_order

# The marts the documents are made of (the Dagster deps of the document assets are exactly these).
DOCUMENT_READS = (
    "item_by_group",
    "item_disclosure",
    "item_indicators",
    "open_answers",
    "panel_change",
    "panel_retention",
    "quarantine",
    "wave_change",
    "waves",
)

# What each kind of table and figure reads: mart → columns (the appendix "sources" lists them; a test builds the
# documents from the marts cut to these columns and gets the same documents).
VIEWS = (
    "item_disclosure",
    (
        "wave",
        "item",
        "item_order",
        "category",
        "category_order",
        "n",
        "pct",
        "hidden",
        "base_hidden",
        "headline_hidden",
        "top2_hidden",
        "top3_hidden",
        "mean_hidden",
    ),
)
WAVE_ORDER = ("waves", ("wave", "fielded"))
WAVE_NOTES = ("waves", ("wave", "fielded", "invited", "complete", "response_rate", "reconstruction"))
SOURCES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "overview": (("item_indicators", ("wave", "level", "item", "top2_pct")), VIEWS, WAVE_NOTES),
    "level": (
        (
            "item_indicators",
            (
                "wave",
                "item",
                "n",
                "n_missing",
                "n_quarantined",
                "headline_pct",
                "ci_low",
                "ci_high",
                "mean_score",
                "small_n",
            ),
        ),
        VIEWS,
        WAVE_NOTES,
    ),
    "response": (
        ("waves", ("wave", "label", "fielded", "invited", "complete", "partial", "response_rate", "reconstruction")),
    ),
    "retention": (
        (
            "panel_retention",
            (
                "wave_from",
                "wave_to",
                "linked_from",
                "linked_to",
                "answered_both",
                "left_after",
                "joined",
                "retention_pct",
                "counts_hidden",
                "linked_hidden",
            ),
        ),
        WAVE_ORDER,
    ),
    "change": (
        (
            "wave_change",
            (
                "wave_from",
                "wave_to",
                "level",
                "item",
                "item_order",
                "n_from",
                "n_to",
                "headline_pct_from",
                "headline_pct_to",
                "headline_diff",
                "headline_diff_ci_low",
                "headline_diff_ci_high",
                "top3_diff",
                "top3_diff_ci_low",
                "top3_diff_ci_high",
                "mean_score_diff",
                "small_n",
                "samples",
                "shared_respondents",
                "shared_hidden",
            ),
        ),
        VIEWS,
        WAVE_ORDER,
    ),
    "panel": (
        (
            "panel_change",
            (
                "wave_from",
                "wave_to",
                "level",
                "item",
                "item_order",
                "n_pairs",
                "headline_pct_from",
                "headline_pct_to",
                "headline_diff",
                "headline_diff_ci_low",
                "headline_diff_ci_high",
                "n_scored",
                "moved_up",
                "stayed",
                "moved_down",
                "mean_score_diff",
                "mean_score_diff_ci_low",
                "mean_score_diff_ci_high",
                "small_n",
                "transitions_hidden",
                "movement_hidden",
                "mean_hidden",
                "pairs_hidden",
            ),
        ),
        WAVE_ORDER,
    ),
    "group": (
        (
            "item_by_group",
            (
                "wave",
                "level",
                "item",
                "item_order",
                "variable",
                "variable_public",
                "group",
                "group_order",
                "category",
                "category_order",
                "n",
                "pct",
                "base_n",
                "headline_pct",
                "ci_low",
                "ci_high",
                "mean_score",
                "group_hidden",
                "hidden",
                "headline_hidden",
                "mean_hidden",
            ),
        ),
        WAVE_ORDER,
    ),
    "quarantine": (("quarantine", ("wave", "column", "reason")),),
    "figure": (VIEWS, WAVE_ORDER),
    "open": (("open_answers", ("wave", "item", "respondent_key", "text")), WAVE_ORDER),
    "questionnaire": (),
    "sources": (),
    # the numbers of the analyst's text (placeholders.py)
    "prose": (
        (
            "item_indicators",
            ("wave", "item", "n", "headline_pct", "ci_low", "ci_high", "top2_pct", "top3_pct", "mean_score"),
        ),
        VIEWS,
        ("waves", ("wave", "label", "fielded", "invited", "complete", "partial", "response_rate")),
        ("wave_change", ("wave_from", "wave_to", "item", "headline_diff")),
    ),
}
# Words of the codebook's ui section the renderers use (their keys there are doc_<word> unless named here).
RENDER_WORDS = {
    "figure": "figure",
    "table": "doc_table",
    "contents": "doc_contents",
    "page": "doc_page",
    "of": "doc_of",
    "appendix": "doc_appendix",
    "toc_hint": "doc_toc_hint",
    "count": "doc_count",
    "ci_low": "doc_ci_low",
    "ci_high": "doc_ci_high",
    "about": "doc_xlsx_about",
    "about_text": "doc_xlsx_about_text",
    "sheet": "doc_xlsx_sheet",
    "column": "doc_column",
    "row": "doc_xlsx_row",
    "group": "group",
    "meaning": "doc_xlsx_meaning",
    "fmt_text": "doc_xlsx_text",
    "fmt_integer": "doc_xlsx_integer",
    "fmt_percent": "doc_xlsx_percent",
    "fmt_decimal": "doc_xlsx_decimal",
    "fmt_signed": "doc_xlsx_signed",
    "sources": "doc_source_columns",
    "wave": "wave",
}


def slug(title: str) -> str:
    """The file name of the documents: the title in lower-case ASCII words joined by '-' (æ → ae, ø → oe, å → aa)."""
    text = title.lower()
    for a, b in (("æ", "ae"), ("ø", "oe"), ("å", "aa"), ("ß", "ss")):
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "report"


def text_runs(text: str, **style: bool) -> tuple[Run, ...]:
    return (Run(text, **style),)


class DocumentBuilder:
    """Collects the blocks in document order and numbers the tables and figures."""

    def __init__(
        self, data: ReportData, marts: Mapping[str, pl.DataFrame], figures: Mapping[str, Path | bytes]
    ) -> None:
        self.data = data
        self.codebook = data.codebook
        self.lang = data.lang
        self.marts = marts
        self.figures = figures
        self.blocks: list[Block] = []
        self.tables = 0
        self.figure_count = 0
        self.newest = newest_wave(data.waves)
        ordered = time_order(dict(zip(data.waves["wave"].to_list(), data.waves["fielded"].to_list())))
        self.previous = ordered[-2] if len(ordered) > 1 else None
        self.order = wave_order(data.waves)
        self.sources: list[tuple[str, str, Source]] = []  # (label, title, source) for the appendix

    def t(self, key: str, **fmt: object) -> str:
        return self.data.t(key, **fmt)

    def heading(self, text: str, level: int = 1, appendix: bool = False) -> None:
        self.blocks.append(Heading(text, level, appendix))

    def paragraph(self, text: str, style: str = "body") -> None:
        self.blocks.append(Paragraph(text_runs(text), style))

    def table(self, table: ReportTable, kind: str) -> None:
        self.tables += 1
        source = Source(SOURCES[kind])
        self.blocks.append(Table(self.tables, table, grid(table, self.lang), source))
        self.sources.append((f"{self.t('doc_table')} {self.tables}", table.title, source))

    def figure(self, wave: str, item: str, caption: str, alt: str) -> None:
        """An item's chart (figures.py, the newest wave), numbered."""
        self.figure_count += 1
        paths = figure_paths(wave, "item", item)
        blobs = {fmt: self._bytes(paths[fmt]) for fmt in ("svg", "png")}
        key = paths["svg"].removesuffix(".svg")
        self.blocks.append(
            Figure(self.figure_count, key, caption, alt, blobs["svg"], blobs["png"], Source(SOURCES["figure"]))
        )

    def _bytes(self, rel: str) -> bytes:
        blob = self.figures[rel]
        return blob.read_bytes() if isinstance(blob, Path) else blob


def figure_items(codebook: Codebook, data: ReportData, wave: str | None) -> list[str]:
    """The items drawn as numbered figures, in document order: the closed items the codebook gives a figure number
    (null: reported in the tables only) that have answers in the newest wave, level by level."""
    if wave is None:
        return []
    closed = codebook.closed_items()
    return [
        i.code
        for level in codebook.levels
        for i in closed
        if i.level == level
        and i.figure is not None
        and (wave, i.code) in data.views
        and data.views[(wave, i.code)].n > 0
    ]


def figure_alt(data: ReportData, wave: str, item: str) -> str:
    """A chart's alt text: the question, the wave, n and every category's share with its count (":" where hidden)."""
    view = data.views[(wave, item)]
    labels = {c.key: c.label[data.lang] for c in data.codebook.scale_of(item).categories}
    values = []
    for cell in view.cells:
        if view.n_hidden or cell.hidden or cell.pct is None:
            values.append(f"{labels[cell.category]} {SUPPRESSED}")
        else:
            pct = format_values([cell.pct], "percent", data.lang)[0]
            values.append(f"{labels[cell.category]} {pct} ({cell.n})")
    n = SUPPRESSED if view.n_hidden else format_values([view.n], "integer", data.lang)[0]
    return data.t(
        "doc_figure_alt",
        question=data.codebook.items[item].question[data.lang],
        wave=wave,
        n=n,
        values="; ".join(values),
    )


def method(b: DocumentBuilder) -> None:
    """The method chapter: response, quarantine, definitions and caveats."""
    data, cb = b.data, b.codebook
    b.heading(b.t("doc_method"))
    b.heading(b.t("doc_response"), 2)
    for note in wave_notes(data):
        b.paragraph(note)
    b.paragraph(b.t("doc_response_text"))
    b.table(response_table(cb, b.lang, data.waves, data.profile, data.min_cell), "response")
    retention = b.marts["panel_retention"]
    if retention.filter(pl.col("linked_from") + pl.col("linked_to") > 0).height:
        b.table(retention_table(cb, b.lang, retention, b.order, data.profile, data.min_cell), "retention")
    b.heading(b.t("doc_quarantine"), 2)
    quarantine = b.marts["quarantine"]
    if quarantine.height:
        b.paragraph(b.t("doc_quarantine_text"))
        b.table(quarantine_table(b, quarantine), "quarantine")
    else:
        b.paragraph(b.t("doc_quarantine_none"))
    b.heading(b.t("doc_definitions"), 2)
    headline = [c.label[b.lang] for s in cb.scales.values() for c in s.categories if c.headline]
    quoted = f" {b.t('doc_or')} ".join(b.t("doc_quoted", text=h) for h in headline)
    b.paragraph(b.t("doc_def_headline", categories=quoted))
    b.paragraph(b.t("doc_def_wilson"))
    scored = [c for s in cb.scales.values() for c in s.categories if c.score is not None]
    scores = ", ".join(f"{c.score} = {c.label[b.lang]}" for c in sorted(scored, key=lambda c: -c.score))
    b.paragraph(b.t("doc_def_mean", scores=scores))
    if b.newest is not None:
        rows = data.indicators.filter(pl.col("wave") == b.newest)
        small = rows.filter(pl.col("small_n")).height
        if small:
            b.paragraph(b.t("doc_small_n", items=small, total=rows.height, wave=b.newest, n=cb.small_n_below))
    if data.profile == "public":
        b.paragraph(b.t("note_suppressed", min=data.min_cell))


def quarantine_table(b: DocumentBuilder, quarantine: pl.DataFrame) -> ReportTable:
    """Quarantined cells per wave, export column and reason, with their number."""
    counted = (
        quarantine.group_by("wave", "column", "reason")
        .agg(pl.len().alias("cells"))
        .sort("wave", "column", "reason", nulls_last=True)
    )
    records = [
        {"wave": f"{b.t('wave')} {r['wave']}", "column": r["column"] or "–", "reason": r["reason"], "cells": r["cells"]}
        for r in counted.iter_rows(named=True)
    ]
    columns = (
        Column("column", b.t("doc_column"), align="left"),
        Column("cells", b.t("doc_cells"), "integer"),
        Column("reason", b.t("doc_reason"), align="left"),
    )
    return ReportTable(
        id="quarantine",
        title=b.t("doc_quarantine"),
        subtitle=None,
        frame=table_frame(records, columns, ("wave",)),
        columns=columns,
        group="wave",
    )


def level_chapter(b: DocumentBuilder, level: str, prose: list[Block], numbers: dict[str, int]) -> None:
    """One effect level: its prose, its figures, its table, change, paired change, groups, open answers."""
    data, cb, lang = b.data, b.codebook, b.lang
    lv = cb.levels[level]
    b.heading(lv.label[lang])
    b.paragraph(lv.description[lang], "lead")
    b.blocks += prose
    for item in (i for i in cb.closed_items() if i.code in numbers and i.level == level):
        b.figure(b.newest, item.code, item.question[lang], figure_alt(data, b.newest, item.code))
    b.table(level_table(data, level), "level")
    change = b.marts["wave_change"]
    if b.previous is not None:
        rows = change.filter((pl.col("level") == level) & (pl.col("wave_to") == b.newest))
        if rows.height:
            b.heading(b.t("doc_since", wave=b.previous), 2)
            items = [i for i in cb.closed_items() if i.level == level]
            # the newest wave's bases are noted under the level's table: the previous wave's here
            bases = base_below_notes(
                cb, lang, data.indicators, data.waves, data.views, [b.previous], items, data.profile, data.min_cell
            )
            table = change_table(cb, lang, rows, b.order, data.views, data.min_cell, data.profile, bases)
            b.table(
                dataclasses.replace(table, id=f"change-{level}", title=f"{b.t('waves_change')} · {lv.label[lang]}"),
                "change",
            )
        paired = b.marts["panel_change"].filter((pl.col("level") == level) & (pl.col("wave_to") == b.newest))
        if paired.height:
            b.heading(b.t("panel_title"), 2)
            b.table(panel_change_table(cb, lang, level, paired, b.order, data.profile, data.min_cell), "panel")
    groups = data.group_rows.filter(pl.col("level") == level) if data.group_rows.height else data.group_rows
    if groups.height and data.group_views:
        tables = [
            group_table(data, level, variable)
            for variable in sorted(set(groups["variable"].to_list()), key=lambda v: cb.background[v].order)
        ]
        tables = [t for t in tables if t.frame.height]  # a variable whose items of the level were not answered
        if tables:
            b.heading(b.t("by_group"), 2)
        for table in tables:
            b.table(table, "group")
    open_answers(b, level)


def open_answers(b: DocumentBuilder, level: str) -> None:
    """The newest wave's open answers of the level as quotations, under their question."""
    specs = open_answer_specs(b.data, level)
    several = len(b.data.wave_keys) > 1
    spec = next((s for s in specs if not several or s.table_id == f"open-{level}-{b.newest}"), None)
    if spec is None:
        return
    b.heading(b.t("open_answers"), 2)
    question = None
    for group, _, text in spec.records:
        if group != question:
            question = group
            b.blocks.append(Paragraph(text_runs(group, bold=True)))
        b.blocks.append(Quote(text_runs(text)))
    for note in spec.notes:
        b.paragraph(note, "note")
    b.sources.append((b.t("open_answers"), b.codebook.levels[level].label[b.lang], Source(SOURCES["open"])))


def questionnaire_table(b: DocumentBuilder) -> ReportTable:
    """Every item as asked (the codebook's nb wording), with the build language's question where that differs, its
    answer scale and its level."""
    cb, lang = b.codebook, b.lang
    records = []
    for item in cb.items.values():
        scale = cb.scales[item.scale]
        cats = " / ".join(c.label[lang] for c in scale.categories)
        records.append(
            {
                "item": item.code,
                "question": item.question[lang],
                "wording": item.question["nb"],
                "scale": f"{scale.label[lang]}: {cats}" if cats else scale.label[lang],
                "level": cb.levels[item.level].label[lang],
            }
        )
    columns = [Column("wording", b.t("doc_wording"), align="left")]
    if lang != "nb":
        columns.insert(0, Column("question", b.t("item"), align="left"))
    columns += [Column("scale", b.t("doc_scale"), align="left"), Column("level", b.t("level"), align="left")]
    return ReportTable(
        id="questionnaire",
        title=b.t("doc_questionnaire"),
        subtitle=None,
        frame=table_frame(records, columns, ("item",)),
        columns=tuple(columns),
        stub="item",
    )


def sources_table(b: DocumentBuilder) -> ReportTable:
    """Per table (and per level's figures) the marts and columns it is made of."""
    records = []
    for label, title, source in b.sources:
        text = "; ".join(f"{mart}: {', '.join(cols)}" for mart, cols in source.marts) or "schemas/codebook.yaml"
        records.append({"what": label, "title": title, "source": text})
    columns = (
        Column("title", b.t("doc_source_of"), align="left"),
        Column("source", b.t("doc_source_columns"), align="left"),
    )
    return ReportTable(
        id="sources",
        title=b.t("doc_sources"),
        subtitle=None,
        frame=table_frame(records, columns, ("what",)),
        columns=columns,
        stub="what",
    )


def title_page(b: DocumentBuilder) -> tuple[tuple[str, ...], tuple[str, ...], dt.date | None]:
    """The title page's lines (the waves, the date, the publisher), notes (edition, reconstruction) and date (the
    newest wave's fielded date)."""
    data = b.data
    rows = {w["wave"]: w for w in data.waves.iter_rows(named=True)}
    lines = []
    for wave in sorted(rows, key=lambda w: b.order[w]):
        w = rows[wave]
        lines.append(
            b.t("doc_wave_line", wave=wave, label=w["label"], fielded=w["fielded"].isoformat() if w["fielded"] else "–")
        )
    date = rows[b.newest]["fielded"] if b.newest else None
    if date is not None:
        lines.append(f"{b.t('doc_date')}: {date.isoformat()}")
    lines.append(b.t("doc_publisher"))
    edition = b.t("doc_edition_public", min=data.min_cell) if data.profile == "public" else b.t("doc_edition_internal")
    notes = [edition, *(b.t("note_reconstruction", wave=w) for w in sorted(rows) if rows[w]["reconstruction"])]
    return tuple(lines), tuple(notes), date


def build_document(
    codebook: Codebook,
    lang: str,
    marts: Mapping[str, pl.DataFrame],
    figures: Mapping[str, Path | bytes],
    prose_dir: Path,
    *,
    profile: str = "internal",
    min_cell: int = 3,
    min_group: int = 5,
) -> Document:
    """The whole document. `marts`: DOCUMENT_READS; `figures`: path under reports/figures/ → file or bytes (at
    least the newest wave's item charts, figure_files); `prose_dir`: the report folder (report/<lang>/*.md).
    Raises prose.ProseError when the analyst's text names what does not exist (or, public, what is hidden)."""
    data = ReportData.from_marts(codebook, lang, marts, profile, min_cell, min_group)
    b = DocumentBuilder(data, marts, figures)
    numbers = {code: n for n, code in enumerate(figure_items(codebook, data, b.newest), start=1)}
    prose = read_prose(prose_dir, lang, codebook, Placeholders(data, marts["wave_change"], numbers))
    lines, notes, date = title_page(b)

    b.heading(b.t("doc_summary"))
    b.blocks += prose.get("summary", [])
    b.table(overview_table(data), "overview")
    if "introduction" in prose:
        b.heading(b.t("doc_introduction"))
        b.blocks += prose["introduction"]
    method(b)
    for level in codebook.levels:
        level_chapter(b, level, prose.get(level, []), numbers)
    if "discussion" in prose:
        b.heading(b.t("doc_discussion"))
        b.blocks += prose["discussion"]
    b.heading(b.t("doc_questionnaire"), appendix=True)
    b.paragraph(b.t("doc_questionnaire_text"))
    b.table(questionnaire_table(b), "questionnaire")
    b.heading(b.t("doc_sources"), appendix=True)
    b.paragraph(b.t("doc_sources_text"))
    for level in codebook.levels:
        shown = [n for code, n in numbers.items() if codebook.items[code].level == level]
        if shown:
            span = f"{min(shown)}–{max(shown)}" if len(shown) > 1 else str(min(shown))
            b.sources.append((f"{b.t('figure')} {span}", codebook.levels[level].label[lang], Source(SOURCES["figure"])))
    b.sources.sort(key=lambda s: 0 if s[0].startswith(b.t("figure")) else 1)
    if prose:
        b.sources.append((b.t("doc_source_prose"), ", ".join(f"{p}.md" for p in prose), Source(SOURCES["prose"])))
    b.table(sources_table(b), "sources")
    words = {name: codebook.word(key, lang) for name, key in RENDER_WORDS.items()}
    return Document(
        lang=lang,
        profile=profile,
        slug=slug(codebook.title[lang]),
        title=codebook.title[lang],
        subtitle=b.t("doc_subtitle"),
        kicker=b.t("doc_kicker"),
        publisher=b.t("doc_publisher"),
        date=date,
        title_lines=lines,
        title_notes=notes,
        running=f"{b.t('wave')} {b.newest}" if b.newest else "",
        words=words,
        blocks=tuple(b.blocks),
    )
