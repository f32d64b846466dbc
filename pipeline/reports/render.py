"""great-tables summary pages: index.html (overview) and one page per effect level, with the charts of
pipeline.reports.figures under reports/figures/.

- index.html: response per wave; the overview (one row per level: items, average top-2 share, range); every
  item as a Likert summary with a row group per level; every level's diverging chart.
- <level>.html: the level's Likert summary (question, n, every category as "n (pct %)", a stacked-bar
  nanoplot, headline share with its Wilson interval, mean), its diverging chart, one bar chart per item (the
  report's figures) and the open answers (HTML-escaped, e-mail addresses and phone numbers masked): at most
  OPEN_ANSWERS_SHOWN per item and wave (the first by respondent pseudonym), with a note saying how many there
  are and where all of them are; one table per wave when there are several.

Every label comes from the codebook in the language of PIPELINE_LANG. In the public profile small cells are
suppressed (pipeline.reports.disclosure) in tables and charts alike.

Deterministic: every GT has a fixed id, rows are sorted as in the codebook (waves newest first), no
timestamps. Text from the codebook or the data is HTML-escaped (great-tables escapes cell text; the page
shell and the inline SVG use html.escape).

At scale: charts come from a content-addressed cache (pipeline.reports.figures.FigureCache) when render_reports gets
one, unchanged files under reports/ are not rewritten, and great-tables gets no per-cell styles (its cost
grows with cells × styles): nowrap columns are one CSS rule per table.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import os
import re
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import great_tables
import polars as pl
from great_tables import GT

from pipeline.codebook import Codebook, Item
from pipeline.reports.by_group import group_section, group_views, newest_wave, shown_rows
from pipeline.reports.disclosure import SUPPRESSED, ItemView, count_hidden, item_views
from pipeline.reports.figures import (
    FigureCache,
    GroupViews,
    apart_keys,
    figure_files,
    figure_paths,
    polarity,
    render_figures,
)

CSS = """
body{font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;margin:2rem auto;max-width:80rem;
padding:0 1rem;color:#1f2933}
nav a{margin-right:1rem} h1{font-size:1.6rem} h2{font-size:1.25rem;margin-top:2.5rem} p.lead{color:#52606d}
figure.chart{margin:1.5rem 0} figure.chart img{max-width:100%;height:auto;display:block}
figure.chart figcaption{color:#52606d;font-size:.9rem}
div.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(34rem,1fr));gap:1rem 2rem}
"""

# E-mail addresses; phone numbers as written in Norway and Denmark (8 digits, grouped 2-2-2-2 or 3-2-3, an
# optional +47/+45/0047 prefix) and any number starting with + and a country code (pipeline.ingest.privacy).
from pipeline.ingest.privacy import mask_contact_details  # noqa: E402

OPEN_ANSWERS_SHOWN = 200  # quotes shown per item and wave; all of them are in the open_answers mart


def ui_word(codebook: Codebook, key: str, lang: str, **fmt: object) -> str:
    """A word of the reports from the codebook's ui section, in `lang`, with {placeholders} filled in."""
    return codebook.word(key, lang, **fmt)


def _count(n: int, lang: str) -> str:
    """12345 → '12 345' (nb, da: no-break space) or '12,345' (en)."""
    text = f"{n:,}"
    return text if lang == "en" else text.replace(",", "\u00a0")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} %"


def decimal_text(value: float, decimals: int, lang: str) -> str:
    """A number with `decimals` decimals, with a decimal comma in nb and da."""
    text = f"{value:.{decimals}f}"
    return text.replace(".", ",") if lang in ("nb", "da") else text


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def mask_contacts(text: str, codebook: Codebook, lang: str) -> str:
    """Replace e-mail addresses and phone numbers in free text by a marker, and control characters (other than
    tab and line breaks) by U+FFFD (the text is escaped later)."""
    text = CONTROL.sub("\ufffd", text)
    # staging already masked contact details with the markers as fielded (nb): show them in the page's language
    for key in ("masked_email", "masked_phone", "masked_ip"):
        text = text.replace(codebook.ui[key]["nb"], ui_word(codebook, key, lang))
    return mask_contact_details(text, ui_word(codebook, "masked_email", lang), ui_word(codebook, "masked_phone", lang),
                                ui_word(codebook, "masked_ip", lang))


def write_atomic(path: Path, text: str) -> None:
    """Write a file so readers see the old or the new version, never half of one."""
    write_atomic_bytes(path, text.encode("utf-8"))


def write_atomic_bytes(path: Path, data: bytes) -> None:
    """write_atomic for bytes; the file is readable by others (0644 under the usual umask)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def page(codebook: Codebook, lang: str, title: str, body: str) -> str:
    nav = [f'<a href="index.html">{html.escape(ui_word(codebook, "overview", lang))}</a>']
    nav += [f'<a href="{key}.html">{html.escape(level.label[lang])}</a>' for key, level in codebook.levels.items()]
    nav.append(f'<a href="waves.html">{html.escape(ui_word(codebook, "waves_title", lang))}</a>')
    nav.append(f'<a href="panel.html">{html.escape(ui_word(codebook, "panel_title", lang))}</a>')
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<nav>{' '.join(nav)}</nav>\n<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


# Item and level charts are drawn for this many waves, the newest: a chart of every wave of a long series would cost
# minutes and read as noise; every wave's numbers are in the tables (and waves.html compares them).
CHART_WAVES = 3


@dataclass(frozen=True)
class ReportData:
    """The marts the pages are made of, and what of them may be shown (pipeline.reports.disclosure)."""

    codebook: Codebook
    lang: str
    indicators: pl.DataFrame
    distribution: pl.DataFrame
    waves: pl.DataFrame
    open_answers: pl.DataFrame
    profile: str = "internal"
    min_cell: int = 3
    by_group: pl.DataFrame | None = None  # marts.item_by_group (breakdowns by background variable)
    min_group: int = 5

    @cached_property
    def views(self) -> dict[tuple[str, str], ItemView]:
        return item_views(self.codebook, self.distribution, profile=self.profile, min_cell=self.min_cell)

    @cached_property
    def group_rows(self) -> pl.DataFrame:
        """The rows of marts.item_by_group the pages show (newest wave; public variables in the public profile)."""
        if self.by_group is None:
            return pl.DataFrame()
        return shown_rows(self.by_group, newest_wave(self.waves), self.profile)

    @cached_property
    def group_views(self) -> GroupViews:
        return group_views(self.codebook, self.group_rows, profile=self.profile) if self.group_rows.height else {}

    @cached_property
    def wave_keys(self) -> list[str]:
        """Waves newest first."""
        return sorted(self.waves["wave"].to_list(), reverse=True)

    @cached_property
    def chart_views(self) -> dict[tuple[str, str], ItemView]:
        """The views drawn as item and level charts: those of the CHART_WAVES newest waves."""
        drawn = set(self.wave_keys[:CHART_WAVES])
        return {key: view for key, view in self.views.items() if key[0] in drawn}

    def chart_waves_note(self) -> str:
        """The note under the charts when some waves have none (empty otherwise)."""
        total = len(self.wave_keys)
        if total <= CHART_WAVES:
            return ""
        return f'<p class="lead">{html.escape(self.t("note_chart_waves", shown=CHART_WAVES, total=total))}</p>'

    def t(self, key: str, **fmt: object) -> str:
        return ui_word(self.codebook, key, self.lang, **fmt)


def _wave_notes(data: ReportData) -> list[str]:
    notes = []
    for w in data.waves.sort("wave").iter_rows(named=True):
        if count_hidden(w["complete"], profile=data.profile, min_cell=data.min_cell):
            complete, rate = SUPPRESSED, SUPPRESSED
        else:
            complete = w["complete"]
            rate = "–" if w["response_rate"] is None else f"{w['response_rate']:.0f}"
        notes.append(data.t("note_response", wave=w["wave"], complete=complete, invited=w["invited"], rate=rate))
        if w["reconstruction"]:
            notes.append(data.t("note_reconstruction", wave=w["wave"]))
    return notes


def stacked_bar(data: ReportData, view: ItemView) -> str:
    """Inline SVG: the distribution as one 0–100 % stacked bar in category order (hidden cells are left out, with
    ":" in the tooltip). Every segment has a tooltip; no ids, so no clashes between cells."""
    width, height = 120.0, 14.0
    scale = data.codebook.scale_of(view.item)
    colours = polarity(data.codebook, scale).colour
    labels = {c.key: c.label[data.lang] for c in scale.categories}
    parts, x, summary = [], 0.0, []
    if not view.n_hidden:
        for cell in view.cells:
            if cell.hidden:
                summary.append(f"{labels[cell.category]}: {SUPPRESSED}")
                continue
            text = f"{labels[cell.category]}: {cell.n} ({_pct(cell.pct)})"
            summary.append(text)
            w = width * (cell.pct or 0.0) / 100
            if w > 0:
                parts.append(f'<rect x="{x:.2f}" y="0" width="{w:.2f}" height="{height:.0f}" '
                             f'fill="{colours[cell.category]}"><title>{html.escape(text)}</title></rect>')
            x += w
        # the hidden cells are not drawn, and neither is their total: the bar stops short of 100 %
    label = html.escape("; ".join(summary) or SUPPRESSED, quote=True)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{label}" width="{width:.0f}" '
            f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" style="vertical-align:middle;'
            f'background:#eef2f6">{"".join(parts)}</svg>')


def _category_columns(data: ReportData, items: list[Item]) -> tuple[list[str], dict[str, str]]:
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


def _nowrap_css(table_id: str, columns: list[str]) -> str:
    """One CSS rule keeping the body cells of `columns` on one line. (tab_style() on every cell did the same
    with an inline style per cell, but great-tables matches every cell against every style: cells² work.)"""
    selectors = ", ".join(f'#{table_id} td[headers~="{table_id}-{c}"]' for c in columns)
    return f"{selectors} {{ white-space: nowrap; }}"


def likert_table(data: ReportData, table_id: str, items: list[Item], *, group_by_level: bool, title: str,
                 subtitle: str | None = None) -> GT:
    """A Likert summary (cf. gtsummary tbl_likert): per wave and item the question, n, every category as
    'n (pct %)', a stacked-bar nanoplot, the headline share with its Wilson interval and the mean score.
    Row groups: per level (group_by_level, with the wave when there are several) or per wave."""
    cb, lang = data.codebook, data.lang
    views = data.views
    categories, labels = _category_columns(data, items)
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
            rec = {"group": group, "item": item.code, "question": item.question[lang],
                   "n": SUPPRESSED if view.n_hidden else str(view.n), "bars": str(len(bars))}
            for key in categories:
                cell = cells.get(key)
                if cell is None:
                    rec[key] = ""
                elif cell.hidden or view.n_hidden:
                    rec[key] = SUPPRESSED
                else:
                    rec[key] = f"{cell.n} ({_pct(cell.pct)})"
            if view.headline_hidden or view.n_hidden:
                rec["headline"] = SUPPRESSED
            elif row["headline_pct"] is None:
                rec["headline"] = "–"
            else:
                rec["headline"] = f"{row['headline_pct']:.0f} % ({row['ci_low']:.0f}–{row['ci_high']:.0f})"
            if row["mean_score"] is None:
                rec["mean"] = "–"
            elif view.mean_hidden:
                rec["mean"] = SUPPRESSED
            else:
                rec["mean"] = decimal_text(row["mean_score"], 1, lang)
            bars.append(stacked_bar(data, view))
            records.append(rec)
    columns = ["group", "item", "question", "n", *categories, "bars", "headline", "mean"]
    frame = pl.DataFrame(records, schema={c: pl.Utf8 for c in columns}, orient="row") if records else \
        pl.DataFrame(schema={c: pl.Utf8 for c in columns})
    gt = (
        GT(frame, rowname_col="item", groupname_col="group", id=table_id)
        .tab_header(title=title, subtitle=subtitle)
        .cols_label(question=data.t("item"), n="n", bars=data.t("distribution"), headline=data.t("headline"),
                    mean=data.t("mean"), **{c: labels[c] for c in categories})
        .tab_spanner(label=data.t("answers"), columns=categories)
        .cols_align("right", columns=["n", *categories, "headline", "mean"])
        .cols_align("left", columns=["question"])
        .fmt(lambda i: bars[int(i)], columns="bars")
        .opt_css(_nowrap_css(table_id, ["n", *categories, "bars", "headline", "mean"]))
        .tab_options(table_font_size="13px", data_row_padding="4px")
        .tab_source_note(data.t("note_base"))
        .tab_source_note(data.t("note_headline"))
    )
    for note in _wave_notes(data):
        gt = gt.tab_source_note(note)
    if small:
        gt = gt.tab_source_note(data.t("note_small_n", n=cb.small_n_below))
    if any_hidden:
        gt = gt.tab_source_note(data.t("note_suppressed", min=data.min_cell))
    return gt


def level_table(data: ReportData, level: str) -> GT:
    """The Likert summary of one level (row groups per wave)."""
    items = [i for i in data.codebook.closed_items() if i.level == level]
    lv = data.codebook.levels[level]
    return likert_table(data, f"level-{level}", items, group_by_level=False, title=lv.label[data.lang],
                        subtitle=lv.description[data.lang])


def items_table(data: ReportData) -> GT:
    """Every closed item in codebook order, one row group per level."""
    return likert_table(data, "items", data.codebook.closed_items(), group_by_level=True,
                        title=data.t("all_items"), subtitle=data.codebook.title[data.lang])


def overview_table(data: ReportData) -> GT:
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
            secret = (wave, key) in level_hidden
            records.append({
                "wave": f"{data.t('wave')} {wave}",
                "level": level.label[lang],
                "items": str(len(shares)),
                "mean_top2": SUPPRESSED if secret else (_pct(sum(shares) / len(shares)) if shares else "–"),
                "range": SUPPRESSED if secret else (f"{min(shares):.0f}–{max(shares):.0f} %" if shares else "–"),
            })
    columns = ["wave", "level", "items", "mean_top2", "range"]
    frame = pl.DataFrame(records, schema={c: pl.Utf8 for c in columns}, orient="row") if records else \
        pl.DataFrame(schema={c: pl.Utf8 for c in columns})
    gt = (
        GT(frame, rowname_col="level", groupname_col="wave", id="overview")
        .tab_header(title=data.t("overview"), subtitle=cb.title[lang])
        .cols_label(items=data.t("items"), mean_top2=data.t("mean_top2"), range=data.t("range_top2"))
        .cols_align("right", columns=["items", "mean_top2", "range"])
        .tab_source_note(data.t("note_overview"))
    )
    for note in _wave_notes(data):
        gt = gt.tab_source_note(note)
    if level_hidden:
        gt = gt.tab_source_note(data.t("note_overview_public", min=data.min_cell))
    return gt


def _open_answer_groups(data: ReportData, level: str) -> dict[tuple[str, str], tuple[list[str], int]]:
    """(wave, item) → (the quotes shown, masked, in order; the number of non-blank answers) for the level's text
    items: sorted by respondent_key then text, the first OPEN_ANSWERS_SHOWN of each. One sort and one pass
    over the answers (a filter per wave and item made this grow with waves × answers)."""
    codes = [i.code for i in data.codebook.text_items() if i.level == level]
    frame = data.open_answers
    if not codes or frame.height == 0:
        return {}
    answers = (
        frame.lazy()
        .filter(pl.col("item").is_in(codes) & (pl.col("text").str.strip_chars().str.len_chars() > 0))
        .select("wave", "item", "respondent_key", "text")
        .sort("wave", "item", "respondent_key", "text")
        .with_columns(pl.int_range(pl.len()).over("wave", "item").alias("rank"),
                      pl.len().over("wave", "item").alias("total"))
        .filter(pl.col("rank") < OPEN_ANSWERS_SHOWN)
        .collect()
    )
    out: dict[tuple[str, str], tuple[list[str], int]] = {}
    cb, lang = data.codebook, data.lang
    for (wave, item), part in answers.group_by(["wave", "item"], maintain_order=True):
        out[(wave, item)] = ([mask_contacts(t, cb, lang) for t in part["text"].to_list()], int(part["total"][0]))
    return out


@dataclass(frozen=True)
class OpenTable:
    """Everything one open-answers table is made of (its cache key is a hash of this)."""

    table_id: str
    title: str
    subtitle: str
    answer: str
    notes: tuple[str, ...]
    records: tuple[tuple[str, str, str], ...]  # (row group, row number, masked quote)

    def gt(self) -> GT:
        frame = pl.DataFrame(list(self.records), schema={c: pl.Utf8 for c in ("group", "row", "text")},
                             orient="row")
        gt = (
            GT(frame, rowname_col="row", groupname_col="group", id=self.table_id)
            .tab_header(title=self.title, subtitle=self.subtitle)
            .cols_label(text=self.answer)
            .cols_width({"text": "60rem"})
            .tab_options(table_font_size="14px")
        )
        for note in self.notes:
            gt = gt.tab_source_note(note)
        return gt

    def html(self) -> str:
        return self.gt().as_raw_html()

    def key(self) -> str:
        payload = json.dumps([render_version(), "open-table", dataclasses.astuple(self)], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@cache
def render_version() -> str:
    """What cached HTML fragments depend on beyond their inputs: this module's source and great-tables'."""
    return hashlib.sha256(Path(__file__).read_bytes() + b"\0great_tables " + great_tables.__version__.encode()
                          ).hexdigest()


def open_answer_specs(data: ReportData, level: str) -> list[OpenTable]:
    """The open-answers tables of a level, quotes masked. One wave: one table open-<level> with a row group
    per item; several waves: one table open-<level>-<wave> per wave (newest first), so no table grows with
    the number of waves. Items with more than OPEN_ANSWERS_SHOWN answers get a source note with the shown
    and total count. Empty when there are none."""
    cb, lang = data.codebook, data.lang
    items = [i for i in cb.text_items() if i.level == level]
    groups = _open_answer_groups(data, level)
    several = len(data.wave_keys) > 1
    out = []
    for wave in data.wave_keys:
        records: list[tuple[str, str, str]] = []
        notes = [data.t("note_open")]
        for item in items:
            quotes, total = groups.get((wave, item.code), ([], 0))
            records += [(item.question[lang], str(number), text) for number, text in enumerate(quotes, start=1)]
            if total > len(quotes):
                notes.append(data.t("open_shown", item=item.code, shown=_count(len(quotes), lang),
                                    total=_count(total, lang)))
        if records:
            out.append(OpenTable(
                table_id=f"open-{level}-{wave}" if several else f"open-{level}", title=data.t("open_answers"),
                subtitle=cb.levels[level].label[lang] + (f" · {data.t('wave')} {wave}" if several else ""),
                answer=data.t("answer"), notes=tuple(notes), records=tuple(records)))
    return out


def open_answers_tables(data: ReportData, level: str) -> dict[str, GT]:
    """The open-answers tables of a level (open_answer_specs) as table id → GT."""
    return {spec.table_id: spec.gt() for spec in open_answer_specs(data, level)}


def build_tables(data: ReportData) -> dict[str, GT]:
    """Every table of the pages by id: overview, items, level-<level>, open-<level> (one wave) or
    open-<level>-<wave> (several waves), in page order."""
    tables = {"overview": overview_table(data), "items": items_table(data)}
    for level in data.codebook.levels:
        tables[f"level-{level}"] = level_table(data, level)
        tables.update(open_answers_tables(data, level))
    return tables


def figure_html(data: ReportData, path: dict[str, str], alt: str, caption: str) -> str:
    svg, png = (html.escape("figures/" + path[f], quote=True) for f in ("svg", "png"))
    return (f'<figure class="chart"><a href="{svg}"><img src="{svg}" alt="{html.escape(alt, quote=True)}">'
            f'</a><figcaption>{html.escape(caption)} · <a href="{png}">{html.escape(data.t("png"))}</a>'
            f"</figcaption></figure>")


def _level_figures(data: ReportData, level: str, figures: dict[str, bytes]) -> list[str]:
    out = []
    label = data.codebook.levels[level].label[data.lang]
    for wave in data.wave_keys:
        path = figure_paths(wave, "level", level)
        if path["svg"] in figures:
            out.append(figure_html(data, path, data.t("chart_alt_level", level=label, wave=wave),
                                   f"{label} · {data.t('wave')} {wave}. {data.t('note_chart')}"))
    return out


def _item_figures(data: ReportData, level: str, figures: dict[str, bytes]) -> list[str]:
    out = []
    for wave in data.wave_keys:
        for item in data.codebook.closed_items():
            path = figure_paths(wave, "item", item.code)
            if item.level != level or path["svg"] not in figures:
                continue
            number = f"{data.t('figure')} {item.figure}: " if item.figure is not None else ""
            question = item.question[data.lang]
            out.append(figure_html(data, path, data.t("chart_alt_item", question=question, wave=wave),
                                   f"{item.code} · {number}{question} · {data.t('wave')} {wave}"))
    return out


def _section(title: str, *parts: str) -> str:
    return f"<section>\n<h2>{html.escape(title)}</h2>\n" + "\n".join(parts) + "\n</section>"


def build_pages(data: ReportData, figures: Collection[str], cache: FigureCache | None = None) -> dict[str, str]:
    """Page file name → HTML, for index.html and every level page. `figures`: the chart files that exist
    (paths under reports/figures/). With a cache, the HTML of open-answers tables whose content did not
    change is taken from it."""
    cb, lang = data.codebook, data.lang
    tables = {"overview": overview_table(data), "items": items_table(data)}
    tables.update({f"level-{level}": level_table(data, level) for level in cb.levels})
    lead = "".join(f'<p class="lead">{html.escape(n)}</p>' for n in _wave_notes(data))
    links = "".join(
        f'<li><a href="{key}.html">{html.escape(level.label[lang])}</a> – {html.escape(level.description[lang])}</li>'
        for key, level in cb.levels.items()
    )
    level_charts = []
    for key, level in cb.levels.items():
        level_charts += [f'<div><h3><a href="{key}.html">{html.escape(level.label[lang])}</a></h3>{fig}</div>'
                         for fig in _level_figures(data, key, figures)]
    index_body = "\n".join([
        lead,
        tables["overview"].as_raw_html(),
        f"<ul>{links}</ul>",
        _section(data.t("all_items"), tables["items"].as_raw_html()),
        _section(data.t("chart_level"), f'<div class="charts">{"".join(level_charts)}</div>', data.chart_waves_note()),
    ])
    pages = {"index.html": page(cb, lang, cb.title[lang], index_body)}
    for key, level in cb.levels.items():
        open_tables = [cache.fragment(spec.key(), spec.html) if cache is not None else spec.html()
                       for spec in open_answer_specs(data, key)]
        body = "\n".join([
            f'<p class="lead">{html.escape(level.description[lang])}</p>',
            tables[f"level-{key}"].as_raw_html(),
            _section(data.t("chart_level"), *_level_figures(data, key, figures), data.chart_waves_note()),
            _section(data.t("figures"), f'<div class="charts">{"".join(_item_figures(data, key, figures))}</div>',
                     data.chart_waves_note()),
            _section(data.t("open_answers"), *(open_tables
                     or [f"<p>{html.escape(data.t('no_open_answers'))}</p>"])),
        ])
        if data.group_views:
            by_group = group_section(data, key, figures)
            if by_group:
                body += "\n" + _section(data.t("by_group"), by_group)
        pages[f"{key}.html"] = page(cb, lang, level.label[lang], body)
    return pages


TMP_NAME = re.compile(r"\..+\.[A-Za-z0-9_]+\.tmp\Z")  # write_atomic's temporary files: .<name>.<random>.tmp


def remove_stale_tmp(folder: Path) -> list[Path]:
    """Remove temporary files that write_atomic left behind in `folder` and below when a run was killed
    mid-write (the published file next to them is whole: the old or the new version); return them."""
    removed = []
    if folder.is_dir():
        for path in sorted(folder.rglob(".*.tmp")):
            if path.is_file() and TMP_NAME.match(path.name):
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def write_if_changed(path: Path, data: bytes) -> bool:
    """write_atomic_bytes unless the file already holds exactly these bytes; True when written."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    write_atomic_bytes(path, data)
    return True


def render_reports(codebook: Codebook, lang: str, out_dir: Path, indicators: pl.DataFrame,
                   distribution: pl.DataFrame, waves: pl.DataFrame, open_answers: pl.DataFrame | None = None,
                   *, profile: str = "internal", min_cell: int = 3,
                   cache_dir: Path | FigureCache | None = None, by_group: pl.DataFrame | None = None,
                   min_group: int = 5) -> dict[str, Path]:
    """Write index.html, <level>.html and figures/; return page name → path (figures: the folder).

    Everything is rendered first (charts into the cache folder when `cache_dir` is given, else in memory),
    so a failure writes nothing under out_dir; each file that changed is then replaced atomically, charts of
    waves no longer present are removed, and so are cache entries this build did not use. Temporary files
    left by a killed run are removed first."""
    remove_stale_tmp(out_dir)
    if open_answers is None:
        open_answers = pl.DataFrame(schema={"wave": pl.Utf8, "item": pl.Utf8, "level": pl.Utf8,
                                            "respondent_key": pl.Utf8, "complete": pl.Boolean, "text": pl.Utf8})
    data = ReportData(codebook, lang, indicators, distribution, waves, open_answers, profile, min_cell, by_group,
                      min_group)
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
