"""panel.html, the same people over time: who answered again (marts.panel_retention) and, per level, the paired
change of the people who answered both waves (marts.panel_change), with a dumbbell chart per pair of waves under
reports/panel/."""

from __future__ import annotations

import html
from pathlib import Path

import polars as pl

from pipeline.codebook import Codebook
from pipeline.files import remove_stale_tmp, write_if_changed
from pipeline.reports.disclosure import SUPPRESSED
from pipeline.reports.figures import panel_chart_files, svg_markup
from pipeline.reports.frame import figure_html, page, ui_word
from pipeline.reports.tables import Column, ReportTable, table_frame, to_gt
from pipeline.reports.waves import signed_interval, wave_order
from pipeline.settings import DEFAULT_MIN_CELL

CHART_FOLDER = "panel"  # reports/panel/<wave_from>-<wave_to>.svg and .png


def _pair_label(codebook: Codebook, lang: str, wave_from: str, wave_to: str) -> str:
    return f"{ui_word(codebook, 'wave', lang)} {wave_from} → {wave_to}"


def _pairs_in_order(frame: pl.DataFrame, order: dict[str, int]) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("wave_from").replace_strict(order, default=len(order), return_dtype=pl.Int64).alias("_pair")
    ).sort("_pair", *(["item_order"] if "item_order" in frame.columns else []))


def retention_table(
    codebook: Codebook,
    lang: str,
    retention: pl.DataFrame,
    order: dict[str, int],
    profile: str = "internal",
    min_cell: int = DEFAULT_MIN_CELL,
) -> ReportTable:
    """One row per consecutive pair of waves with panel members: answered the first wave, answered again, the
    retention, dropped out, new in the second. In the public profile a count below min_cell is ":" (as the
    response counts of waves.html); where marts.panel_retention.counts_hidden says so, answered again, dropped
    out, new and the retention are all ":" (each follows from the others and the totals)."""
    rows = _pairs_in_order(retention.filter(pl.col("linked_from") + pl.col("linked_to") > 0), order)
    records = []
    for r in rows.iter_rows(named=True):
        public = profile == "public"
        hidden = public and (r["counts_hidden"] or r["linked_hidden"])
        rec: dict[str, object] = {"pair": _pair_label(codebook, lang, r["wave_from"], r["wave_to"])}
        if public and r["linked_hidden"]:
            rec["linked_from__missing"] = SUPPRESSED
        else:
            rec["linked_from"] = r["linked_from"]
        for key in ("answered_both", "left_after", "joined"):
            if hidden:
                rec[key + "__missing"] = SUPPRESSED
            else:
                rec[key] = r[key]
        if hidden:  # hidden before absent: a "–" would say that nobody answered the first wave
            rec["retention__missing"] = SUPPRESSED
        elif r["retention_pct"] is not None:
            rec["retention"] = r["retention_pct"]
        records.append(rec)
    columns = (
        Column("linked_from", ui_word(codebook, "panel_linked_from", lang), "integer"),
        Column("answered_both", ui_word(codebook, "panel_answered_both", lang), "integer"),
        Column("retention", ui_word(codebook, "panel_retention_pct", lang), "percent"),
        Column("left_after", ui_word(codebook, "panel_left", lang), "integer"),
        Column("joined", ui_word(codebook, "panel_joined", lang), "integer"),
    )
    notes = ()
    if any(r.get(c.key + "__missing") == SUPPRESSED for r in records for c in columns):
        notes = (ui_word(codebook, "note_suppressed", lang, min=min_cell),)
    return ReportTable(
        id="panel-retention",
        title=ui_word(codebook, "panel_retention", lang),
        subtitle=None,
        frame=table_frame(records, columns, ("pair",)),
        columns=columns,
        stub="pair",
        notes=notes,
    )


def hidden_in(row: dict, profile: str) -> dict[str, bool]:
    """What the public profile hides of a marts.panel_change row (the decision is the SQL's flags)."""
    public = profile == "public"
    return {
        "transitions": public and row["transitions_hidden"],
        "movement": public and row["movement_hidden"],
        "mean": public and row["mean_hidden"],
    }


def change_table(
    codebook: Codebook,
    lang: str,
    level: str,
    change: pl.DataFrame,
    order: dict[str, int],
    profile: str = "internal",
    min_cell: int = DEFAULT_MIN_CELL,
) -> ReportTable:
    """One row group per pair of waves, one row per item of the level: pairs (n), share before → after, the
    paired difference with Newcombe's interval, moved up / same / down, and the mean change with its t
    interval; ":" where the public profile's decision (marts.panel_change) hides it."""
    rows = _pairs_in_order(change.filter(pl.col("level") == level), order)
    records = []
    for r in rows.iter_rows(named=True):
        hide = hidden_in(r, profile)
        rec: dict[str, object] = {
            "pair": _pair_label(codebook, lang, r["wave_from"], r["wave_to"]),
            "item": r["item"],
            "question": codebook.items[r["item"]].question[lang],
        }
        if profile == "public" and r["pairs_hidden"]:
            rec["n_pairs__missing"] = SUPPRESSED
        else:
            rec["n_pairs"] = r["n_pairs"]
        if r["n_pairs"]:
            if hide["transitions"]:
                rec["shares__missing"] = rec["diff__missing"] = SUPPRESSED
            else:
                rec.update(
                    shares=r["headline_pct_from"],
                    shares_to=r["headline_pct_to"],
                    diff=r["headline_diff"],
                    diff_low=r["headline_diff_ci_low"],
                    diff_high=r["headline_diff_ci_high"],
                )
        if r["n_scored"]:
            if hide["movement"]:
                rec["moved__missing"] = SUPPRESSED
            else:
                rec.update(moved=r["moved_up"], stayed=r["stayed"], moved_down=r["moved_down"])
            if hide["mean"]:
                rec["mean__missing"] = SUPPRESSED
            else:
                rec.update(
                    mean=r["mean_score_diff"],
                    mean_low=r["mean_score_diff_ci_low"],
                    mean_high=r["mean_score_diff_ci_high"],
                )
        records.append(rec)
    columns = (
        Column("question", ui_word(codebook, "item", lang), align=None),
        Column("n_pairs", ui_word(codebook, "panel_n_pairs", lang), "integer"),
        Column(
            "shares",
            ui_word(codebook, "panel_before_after", lang),
            "percent",
            merge=(("shares_to", "percent"),),
            pattern="{0} → {1}",
        ),
        signed_interval("diff", ui_word(codebook, "change_pp", lang)),
        Column(
            "moved",
            ui_word(codebook, "panel_moved", lang),
            "integer",
            merge=(("stayed", "integer"), ("moved_down", "integer")),
            pattern="{0} / {1} / {2}",
        ),
        signed_interval("mean", ui_word(codebook, "panel_mean_diff", lang), "signed1"),
    )
    notes = [ui_word(codebook, "note_panel_change", lang)]
    if any(r.get(k + "__missing") == SUPPRESSED for r in records for k in ("shares", "moved", "mean")):
        notes.append(ui_word(codebook, "note_suppressed", lang, min=min_cell))
    if rows.filter(pl.col("small_n")).height:
        notes.append(ui_word(codebook, "note_panel_small", lang, n=codebook.small_n_below))
    return ReportTable(
        id=f"panel-{level}",
        title=ui_word(codebook, "panel_change", lang, level=codebook.levels[level].label[lang]),
        subtitle=None,
        frame=table_frame(records, columns, ("pair", "item")),
        columns=columns,
        stub="item",
        group="pair",
        notes=tuple(notes),
    )


def chart_name(wave_from: str, wave_to: str, fmt: str = "svg") -> str:
    """A pair's chart file under reports/ (fmt: svg or png)."""
    return f"{CHART_FOLDER}/{wave_from}-{wave_to}.{fmt}"


def panel_charts(
    codebook: Codebook, lang: str, change: pl.DataFrame, profile: str
) -> dict[tuple[str, str], dict[str, bytes]]:
    """(wave_from, wave_to) → the files of that pair's dumbbell chart, "svg" and "png" (reports/<chart_name>)."""
    rows = {}
    for (wave_from, wave_to), group in sorted(change.group_by("wave_from", "wave_to"), key=lambda g: g[0]):
        rows[(wave_from, wave_to)] = [
            {**r, "hidden": hidden_in(r, profile)["transitions"]} for r in group.iter_rows(named=True)
        ]
    return panel_chart_files(codebook, lang, rows)


def panel_tables(
    codebook: Codebook,
    lang: str,
    waves: pl.DataFrame,
    retention: pl.DataFrame,
    change: pl.DataFrame,
    profile: str = "internal",
    min_cell: int = DEFAULT_MIN_CELL,
) -> dict[str, ReportTable]:
    """The tables of panel.html by id: panel-retention (when waves share panel members) and panel-<level>."""
    order = wave_order(waves)
    out = {}
    if retention.filter(pl.col("linked_from") + pl.col("linked_to") > 0).height:
        out["panel-retention"] = retention_table(codebook, lang, retention, order, profile, min_cell)
    for level in codebook.levels:
        if change.filter(pl.col("level") == level).height:
            out[f"panel-{level}"] = change_table(codebook, lang, level, change, order, profile, min_cell)
    return out


def panel_page(
    codebook: Codebook,
    lang: str,
    waves: pl.DataFrame,
    retention: pl.DataFrame,
    change: pl.DataFrame,
    charts: dict[tuple[str, str], dict[str, bytes]] | None = None,
    profile: str = "internal",
    min_cell: int = DEFAULT_MIN_CELL,
) -> str:
    """The whole panel.html page (deterministic: fixed table ids, sorted rows, no timestamps)."""
    order = wave_order(waves)
    tables = panel_tables(codebook, lang, waves, retention, change, profile, min_cell)
    body = [f'<p class="lead">{html.escape(ui_word(codebook, "panel_lead", lang))}</p>']
    if "panel-retention" not in tables:
        body.append(f"<p>{html.escape(ui_word(codebook, 'panel_none', lang))}</p>")
    body += [to_gt(t, lang).as_raw_html() for t in tables.values()]
    if change.height:
        for wave_from, wave_to in sorted(charts or {}, key=lambda pair: (order.get(pair[0], len(order)), pair)):
            alt = ui_word(codebook, "chart_panel", lang, wave_from=wave_from, wave_to=wave_to)
            src = {fmt: chart_name(wave_from, wave_to, fmt) for fmt in ("svg", "png")}
            body.append(
                figure_html(
                    src,
                    alt,
                    alt,
                    ui_word(codebook, "png", lang),
                    svg_markup(charts[(wave_from, wave_to)]["svg"]),
                    ui_word(codebook, "svg", lang),
                )
            )
    return page(codebook, lang, ui_word(codebook, "panel_title", lang), "\n".join(body))


def write_panel_report(out_dir: Path, page_html: str, charts: dict[tuple[str, str], dict[str, bytes]]) -> Path:
    """Write panel.html and its charts (each file only when its bytes changed); remove charts of pairs no longer
    there. Returns the page's path."""
    remove_stale_tmp(out_dir / CHART_FOLDER)
    names = {chart_name(*pair, fmt): blob for pair, files in charts.items() for fmt, blob in files.items()}
    for name, blob in names.items():
        write_if_changed(out_dir / name, blob)
    folder = out_dir / CHART_FOLDER
    if folder.is_dir():
        for old in sorted(folder.iterdir()):
            if old.is_file() and f"{CHART_FOLDER}/{old.name}" not in names:
                old.unlink()
    path = out_dir / "panel.html"
    write_if_changed(path, page_html.encode("utf-8"))
    return path
