"""Layer `reports`: reports/panel.html, the same people over time: who answered again (marts.panel_retention) and,
per level, the paired change of the people who answered both waves (marts.panel_change), with a dumbbell chart
per pair of waves under reports/panel/."""

from __future__ import annotations

import html
from pathlib import Path

import dagster as dg
import polars as pl
from great_tables import GT

from pipeline.codebook import Codebook
from pipeline.defs.assets.wave_reports import diff_with_interval, signed, wave_order
from pipeline.defs.resources import SurveyPipeline
from pipeline.reports.disclosure import SUPPRESSED, count_hidden
from pipeline.reports.figures import panel_chart_svg
from pipeline.reports.render import page, remove_stale_tmp, ui_word, write_if_changed
from pipeline.warehouse import read_marts

KEY = dg.AssetKey(["reports", "panel"])
READS = ("panel_change", "panel_retention", "waves")  # read through read_marts: the deps are these
CHART_FOLDER = "panel"  # reports/panel/<wave_from>-<wave_to>.svg


def _pair_label(codebook: Codebook, lang: str, wave_from: str, wave_to: str) -> str:
    return f"{ui_word(codebook, 'wave', lang)} {wave_from} → {wave_to}"


def _pairs_in_order(frame: pl.DataFrame, order: dict[str, int]) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("wave_from").replace_strict(order, default=len(order), return_dtype=pl.Int64).alias("_pair")
    ).sort("_pair", *(["item_order"] if "item_order" in frame.columns else []))


def retention_table(codebook: Codebook, lang: str, retention: pl.DataFrame, order: dict[str, int],
                    profile: str = "internal", min_cell: int = 3) -> GT:
    """One row per consecutive pair of waves with panel members: answered the first wave, answered again, the
    retention, dropped out, new in the second. In the public profile a count below min_cell is ":" (as the
    response counts of waves.html); where marts.panel_retention.counts_hidden says so, answered again, dropped
    out, new and the retention are all ":" (each follows from the others and the totals)."""
    rows = _pairs_in_order(retention.filter(pl.col("linked_from") + pl.col("linked_to") > 0), order)

    def count(n: int) -> str:
        return SUPPRESSED if count_hidden(n, profile=profile, min_cell=min_cell) else str(n)

    records = []
    for r in rows.iter_rows(named=True):
        hidden = profile == "public" and (r["counts_hidden"] or count_hidden(r["linked_from"], profile=profile,
                                                                               min_cell=min_cell))
        records.append(
            {
                "pair": _pair_label(codebook, lang, r["wave_from"], r["wave_to"]),
                "linked_from": count(r["linked_from"]),
                "answered_both": SUPPRESSED if hidden else str(r["answered_both"]),
                "retention": "–"
                if r["retention_pct"] is None
                else (SUPPRESSED if hidden else f"{r['retention_pct']:.0f} %"),
                "left_after": SUPPRESSED if hidden else str(r["left_after"]),
                "joined": SUPPRESSED if hidden else str(r["joined"]),
            }
        )
    frame = pl.DataFrame(
        records,
        schema={k: pl.Utf8 for k in ("pair", "linked_from", "answered_both", "retention", "left_after", "joined")},
    )
    gt = (
        GT(frame, rowname_col="pair", id="panel-retention")
        .tab_header(title=ui_word(codebook, "panel_retention", lang))
        .cols_label(
            linked_from=ui_word(codebook, "panel_linked_from", lang),
            answered_both=ui_word(codebook, "panel_answered_both", lang),
            retention=ui_word(codebook, "panel_retention_pct", lang),
            left_after=ui_word(codebook, "panel_left", lang),
            joined=ui_word(codebook, "panel_joined", lang),
        )
        .cols_align(align="right", columns=["linked_from", "answered_both", "retention", "left_after", "joined"])
    )
    if SUPPRESSED in "".join("".join(r.values()) for r in records):
        gt = gt.tab_source_note(ui_word(codebook, "note_suppressed", lang, min=min_cell))
    return gt


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
    min_cell: int = 3,
) -> GT:
    """One row group per pair of waves, one row per item of the level: pairs (n), share before → after, the
    paired difference with Newcombe's interval, moved up / same / down, and the mean change with its t
    interval; ":" where the public profile's decision (marts.panel_change) hides it."""
    rows = _pairs_in_order(change.filter(pl.col("level") == level), order)
    records = []
    for r in rows.iter_rows(named=True):
        hide = hidden_in(r, profile)
        n = r["n_pairs"]
        if not n:
            shares, diff = "–", "–"
        elif hide["transitions"]:
            shares, diff = SUPPRESSED, SUPPRESSED
        else:
            shares = f"{r['headline_pct_from']:.0f} % → {r['headline_pct_to']:.0f} %"
            diff = diff_with_interval(r["headline_diff"], r["headline_diff_ci_low"], r["headline_diff_ci_high"], lang)
        if not r["n_scored"]:
            moved, mean = "–", "–"
        else:
            moved = SUPPRESSED if hide["movement"] else f"{r['moved_up']} / {r['stayed']} / {r['moved_down']}"
            if hide["mean"]:
                mean = SUPPRESSED
            elif r["mean_score_diff_ci_low"] is None:
                mean = signed(r["mean_score_diff"], 1, lang)
            else:
                mean = (
                    f"{signed(r['mean_score_diff'], 1, lang)} [{signed(r['mean_score_diff_ci_low'], 1, lang)}; "
                    f"{signed(r['mean_score_diff_ci_high'], 1, lang)}]"
                )
        records.append(
            {
                "pair": _pair_label(codebook, lang, r["wave_from"], r["wave_to"]),
                "item": r["item"],
                "question": codebook.items[r["item"]].question[lang],
                "n_pairs": str(n),
                "shares": shares,
                "diff": diff,
                "moved": moved,
                "mean": mean,
            }
        )
    columns = ("pair", "item", "question", "n_pairs", "shares", "diff", "moved", "mean")
    frame = pl.DataFrame(records, schema={k: pl.Utf8 for k in columns})
    gt = (
        GT(frame, rowname_col="item", groupname_col="pair", id=f"panel-{level}")
        .tab_header(title=ui_word(codebook, "panel_change", lang, level=codebook.levels[level].label[lang]))
        .cols_label(
            question=ui_word(codebook, "item", lang),
            n_pairs=ui_word(codebook, "panel_n_pairs", lang),
            shares=ui_word(codebook, "panel_before_after", lang),
            diff=ui_word(codebook, "change_pp", lang),
            moved=ui_word(codebook, "panel_moved", lang),
            mean=ui_word(codebook, "panel_mean_diff", lang),
        )
        .tab_source_note(ui_word(codebook, "note_panel_change", lang))
        .cols_align(align="right", columns=["n_pairs", "shares", "diff", "moved", "mean"])
    )
    if any(SUPPRESSED in (r["shares"] + r["moved"] + r["mean"]) for r in records):
        gt = gt.tab_source_note(ui_word(codebook, "note_suppressed", lang, min=min_cell))
    if rows.filter(pl.col("small_n")).height:
        gt = gt.tab_source_note(ui_word(codebook, "note_panel_small", lang, n=codebook.small_n_below))
    return gt


def chart_name(wave_from: str, wave_to: str) -> str:
    """A pair's chart file under reports/."""
    return f"{CHART_FOLDER}/{wave_from}-{wave_to}.svg"


def panel_charts(codebook: Codebook, lang: str, change: pl.DataFrame, profile: str) -> dict[tuple[str, str], bytes]:
    """(wave_from, wave_to) → the SVG bytes of that pair's dumbbell chart (reports/<chart_name>)."""
    out = {}
    for (wave_from, wave_to), group in sorted(change.group_by("wave_from", "wave_to"), key=lambda g: g[0]):
        rows = [{**r, "hidden": hidden_in(r, profile)["transitions"]} for r in group.iter_rows(named=True)]
        out[(wave_from, wave_to)] = panel_chart_svg(codebook, lang, wave_from, wave_to, rows)
    return out


def render_panel_page(
    codebook: Codebook,
    lang: str,
    waves: pl.DataFrame,
    retention: pl.DataFrame,
    change: pl.DataFrame,
    charts: dict[tuple[str, str], bytes] | None = None,
    profile: str = "internal",
    min_cell: int = 3,
) -> str:
    """The whole panel.html page (deterministic: fixed table ids, sorted rows, no timestamps)."""
    order = wave_order(waves)
    body = [f'<p class="lead">{html.escape(ui_word(codebook, "panel_lead", lang))}</p>']
    linked = retention.filter(pl.col("linked_from") + pl.col("linked_to") > 0)
    if linked.is_empty():
        body.append(f"<p>{html.escape(ui_word(codebook, 'panel_none', lang))}</p>")
    else:
        body.append(retention_table(codebook, lang, retention, order, profile, min_cell).as_raw_html())
    if change.height:
        for level in codebook.levels:
            if change.filter(pl.col("level") == level).height:
                body.append(change_table(codebook, lang, level, change, order, profile, min_cell).as_raw_html())
        for wave_from, wave_to in sorted(charts or {}, key=lambda pair: (order.get(pair[0], len(order)), pair)):
            src = html.escape(chart_name(wave_from, wave_to), quote=True)
            alt = ui_word(codebook, "chart_panel", lang, wave_from=wave_from, wave_to=wave_to)
            body.append(
                f'<figure class="chart"><a href="{src}"><img src="{src}" alt="{html.escape(alt, quote=True)}">'
                f"</a><figcaption>{html.escape(alt)}</figcaption></figure>"
            )
    return page(codebook, lang, ui_word(codebook, "panel_title", lang), "\n".join(body))


def write_panel_report(out_dir: Path, page_html: str, charts: dict[tuple[str, str], bytes]) -> Path:
    """Write panel.html and its charts (each only when its bytes changed); remove charts of pairs no longer
    there. Returns the page's path."""
    remove_stale_tmp(out_dir / CHART_FOLDER)
    names = {chart_name(*pair): blob for pair, blob in charts.items()}
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


@dg.asset(key=KEY, group_name="reports", kinds={"html", "svg"}, deps=[dg.AssetKey(["marts", name]) for name in READS])
def panel_report(pipeline: SurveyPipeline) -> dg.MaterializeResult:
    """`reports/panel.html`, the same people over time: per consecutive pair of waves who answered again
    (retention, attrition), and per level the paired change of the people who answered both waves (n pairs,
    share before and after, the difference with Newcombe's interval for paired proportions, moved up, same or
    down, the mean change with its t interval), with a dumbbell chart per pair (`reports/panel/`). From
    marts.panel_retention and marts.panel_change; the public profile hides what panel_change decides."""
    settings = pipeline.settings
    codebook = pipeline.codebook()
    with pipeline.work_db() as con:
        marts = read_marts(con, READS)
    waves, retention, change = marts["waves"].sort("wave"), marts["panel_retention"], marts["panel_change"]
    charts = panel_charts(codebook, settings.lang, change, settings.profile)
    page_html = render_panel_page(
        codebook, settings.lang, waves, retention, change, charts, settings.profile, settings.min_cell
    )
    path = write_panel_report(settings.staged_reports_dir, page_html, charts)
    return dg.MaterializeResult(
        metadata={
            "path (after publish)": dg.MetadataValue.path(str(settings.reports_dir / path.name)),
            "bytes": path.stat().st_size,
            "language": settings.lang,
            "profile": settings.profile,
            "pairs with panel members": int(retention.filter(pl.col("answered_both") > 0).height),
            "items compared": int(change.height),
            "charts": len(charts),
        },
    )
