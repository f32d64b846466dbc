"""Layer `reports`: reports/waves.html, the survey over time (response rate per wave and the change per item
between consecutive waves, with Newcombe 95 % intervals)."""

from __future__ import annotations

import html

import dagster as dg
import polars as pl
from great_tables import GT

from pipeline.codebook import Codebook
from pipeline.defs.resources import SurveyPipeline
from pipeline.ingest.waves import time_order
from pipeline.reports.disclosure import SUPPRESSED, ItemView, count_hidden, item_views
from pipeline.reports.render import page, ui_word, write_if_changed
from pipeline.warehouse import read_marts

KEY = dg.AssetKey(["reports", "waves"])
READS = ("item_disclosure", "wave_change", "waves")  # read through read_marts: the deps are these


def _pct_n(pct: float | None, n: int | None, codebook: Codebook, lang: str) -> str:
    if not n:
        return ui_word(codebook, "not_asked", lang)
    return f"– (n={n})" if pct is None else f"{pct:.0f} % (n={n})"


def signed(value: float, decimals: int = 0, lang: str = "en") -> str:
    """+12, −3, 0 (a rounded zero has no sign); a real minus sign; a decimal comma in nb and da (as index.html)."""
    text = f"{value:+.{decimals}f}"
    if not text.strip("+-0."):
        text = f"{0:.{decimals}f}"
    text = text.replace("-", "−")
    return text.replace(".", ",") if lang in ("nb", "da") else text


def diff_with_interval(d: float | None, lo: float | None, hi: float | None, lang: str = "en") -> str:
    return "–" if d is None else f"{signed(d, 0, lang)} [{signed(lo, 0, lang)}; {signed(hi, 0, lang)}]"


def wave_order(waves: pl.DataFrame) -> dict[str, int]:
    """Position of each wave (marts.waves) in time, as in marts.wave_pairs (pipeline.ingest.waves.time_order)."""
    return {w: i for i, w in enumerate(time_order(dict(zip(waves["wave"].to_list(), waves["fielded"].to_list()))))}


def response_table(codebook: Codebook, lang: str, waves: pl.DataFrame, profile: str = "internal",
                   min_cell: int = 3) -> GT:
    """One row per wave in time order: label, fielded date, invited, complete, partial and the response rate. In
    the public profile a complete or partial count below min_cell is ":" (the rate with a hidden complete count)."""
    order = wave_order(waves)
    rows = waves.sort(pl.col("wave").replace_strict(order, return_dtype=pl.Int64))

    def count(n: int | None) -> str | None:
        return None if n is None else (SUPPRESSED if count_hidden(n, profile=profile, min_cell=min_cell) else str(n))

    frame = pl.DataFrame(
        {
            "wave": rows["wave"].to_list(),
            "label": rows["label"].to_list(),
            "fielded": [None if d is None else d.isoformat() for d in rows["fielded"].to_list()],
            "invited": rows["invited"].to_list(),
            "complete": [count(n) for n in rows["complete"].to_list()],
            "partial": [count(n) for n in rows["partial"].to_list()],
            "rate": ["–" if r is None else (SUPPRESSED if count_hidden(c, profile=profile, min_cell=min_cell)
                                           else f"{r:.0f} %")
                     for r, c in zip(rows["response_rate"].to_list(), rows["complete"].to_list())],
        },
        schema={"wave": pl.Utf8, "label": pl.Utf8, "fielded": pl.Utf8, "invited": pl.Int64, "complete": pl.Utf8,
                "partial": pl.Utf8, "rate": pl.Utf8},
    )
    gt = (
        GT(frame, rowname_col="wave", id="waves-response")
        .tab_header(title=ui_word(codebook, "waves_response", lang))
        .cols_label(label=ui_word(codebook, "wave_label", lang), fielded=ui_word(codebook, "fielded", lang),
                    invited=ui_word(codebook, "invited", lang), complete=ui_word(codebook, "complete", lang),
                    partial=ui_word(codebook, "partial", lang), rate=ui_word(codebook, "response_rate", lang))
        .sub_missing(missing_text="–")
        .cols_align(align="right", columns=["fielded", "invited", "complete", "partial", "rate"])
    )
    for w in rows.filter(pl.col("reconstruction")).iter_rows(named=True):
        gt = gt.tab_source_note(ui_word(codebook, "note_reconstruction", lang, wave=w["wave"]))
    return gt


def change_table(codebook: Codebook, lang: str, change: pl.DataFrame, order: dict[str, int],
                 views: dict[tuple[str, str], ItemView] | None = None, min_cell: int = 3,
                 profile: str = "internal") -> GT:
    """One group per consecutive pair of waves, one row per item: the headline share in both waves with n,
    the change with its Newcombe interval, the top-3 change and the mean-score change. `views`: what the
    disclosure decision (marts.item_disclosure, pipeline.reports.disclosure.item_views) lets the page show; a share it
    hides is ":" and so is every change computed from it."""
    views = views or {}
    rows = change.with_columns(
        pl.col("wave_from").replace_strict(order, return_dtype=pl.Int64).alias("pair")
    ).sort("pair", "item_order", descending=[True, False])
    wave = ui_word(codebook, "wave", lang)
    records = []
    suppressed = False
    for r in rows.iter_rows(named=True):
        rec = {
            "pair": f"{wave} {r['wave_from']} → {r['wave_to']}",
            "item": r["item"],
            "question": codebook.items[r["item"]].question[lang],
            "share_from": _pct_n(r["headline_pct_from"], r["n_from"], codebook, lang),
            "share_to": _pct_n(r["headline_pct_to"], r["n_to"], codebook, lang),
            "change": diff_with_interval(
                r["headline_diff"], r["headline_diff_ci_low"], r["headline_diff_ci_high"], lang
            ),
            "top3_change": diff_with_interval(r["top3_diff"], r["top3_diff_ci_low"], r["top3_diff_ci_high"], lang),
            "mean_change": "–" if r["mean_score_diff"] is None else signed(r["mean_score_diff"], 1, lang),
        }
        before, after = views.get((r["wave_from"], r["item"])), views.get((r["wave_to"], r["item"]))
        hide = {
            side: v is not None and (v.n_hidden or v.headline_hidden) for side, v in (("from", before), ("to", after))
        }
        for side in ("from", "to"):
            if hide[side]:
                n = r[f"n_{side}"]
                view = before if side == "from" else after
                rec[f"share_{side}"] = SUPPRESSED if view.n_hidden else f"{SUPPRESSED} (n={n})"
        if hide["from"] or hide["to"]:
            rec["change"] = SUPPRESSED
        if any(v is not None and (v.n_hidden or v.top3_hidden) for v in (before, after)):
            rec["top3_change"] = SUPPRESSED
        if any(v is not None and (v.n_hidden or v.mean_hidden) for v in (before, after)):
            rec["mean_change"] = SUPPRESSED
        suppressed = suppressed or SUPPRESSED in "".join(rec.values())
        records.append(rec)
    schema = {
        k: pl.Utf8
        for k in ("pair", "item", "question", "share_from", "share_to", "change", "top3_change", "mean_change")
    }
    frame = pl.DataFrame(records, schema=schema)
    gt = (
        GT(frame, rowname_col="item", groupname_col="pair", id="waves-change")
        .tab_header(title=ui_word(codebook, "waves_change", lang))
        .cols_label(
            question=ui_word(codebook, "item", lang),
            share_from=ui_word(codebook, "share_from", lang),
            share_to=ui_word(codebook, "share_to", lang),
            change=ui_word(codebook, "change_pp", lang),
            top3_change=ui_word(codebook, "top3_change_pp", lang),
            mean_change=ui_word(codebook, "mean_change", lang),
        )
        .tab_source_note(ui_word(codebook, "note_change", lang))
        .cols_align(align="right", columns=["share_from", "share_to", "change", "top3_change", "mean_change"])
    )
    if suppressed:
        gt = gt.tab_source_note(ui_word(codebook, "note_suppressed", lang, min=min_cell))
    if rows.filter(pl.col("small_n")).height:
        gt = gt.tab_source_note(ui_word(codebook, "note_small_n", lang, n=codebook.small_n_below))
    if "samples" in rows.columns:
        shared = rows.filter(pl.col("samples") == "shared").select("wave_from", "wave_to", "shared_respondents", "pair")
        for wave_from, wave_to, n, _ in shared.unique().sort("pair", descending=True).rows():
            shown = SUPPRESSED if count_hidden(n, profile=profile, min_cell=min_cell) else n
            gt = gt.tab_source_note(
                ui_word(codebook, "note_panel_shared", lang, wave_from=wave_from, wave_to=wave_to, n=shown)
            )
    return gt


def render_waves_page(
    codebook: Codebook,
    lang: str,
    waves: pl.DataFrame,
    change: pl.DataFrame,
    profile: str = "internal",
    min_cell: int = 3,
    disclosure: pl.DataFrame | None = None,
) -> str:
    """The whole waves.html page (deterministic: fixed table ids, sorted rows, no timestamps). disclosure:
    marts.item_disclosure (required in the public profile)."""
    if disclosure is None and profile == "public":
        raise ValueError("the public waves page reads marts.item_disclosure (the disclosure decision)")
    views = item_views(codebook, disclosure, profile=profile) if disclosure is not None else {}
    body = [response_table(codebook, lang, waves, profile, min_cell).as_raw_html()]
    if change.height:
        body.append(change_table(codebook, lang, change, wave_order(waves), views, min_cell, profile).as_raw_html())
    else:
        body.append(f'<p class="lead">{html.escape(ui_word(codebook, "note_single_wave", lang))}</p>')
    return page(codebook, lang, ui_word(codebook, "waves_title", lang), "\n".join(body))


@dg.asset(key=KEY, group_name="reports", kinds={"html"}, deps=[dg.AssetKey(["marts", name]) for name in READS])
def waves_report(pipeline: SurveyPipeline) -> dg.MaterializeResult:
    """`reports/waves.html`: response rate per wave, and per item the change in the headline share from each wave
    to the next with Newcombe's 95 % interval (n of both waves shown), the top-3 change and the mean-score
    change (from marts.wave_change)."""
    settings = pipeline.settings
    codebook = pipeline.codebook()
    with pipeline.work_db() as con:
        marts = read_marts(con, READS)
    waves, change, disclosure = marts["waves"].sort("wave"), marts["wave_change"], marts["item_disclosure"]
    path = settings.staged_reports_dir / "waves.html"
    write_if_changed(
        path,
        render_waves_page(
            codebook, settings.lang, waves, change, settings.profile, settings.min_cell, disclosure
        ).encode("utf-8"),
    )
    pairs = sorted({f"{a}→{b}" for a, b in zip(change["wave_from"], change["wave_to"])})
    return dg.MaterializeResult(
        metadata={
            "path (after publish)": dg.MetadataValue.path(str(settings.reports_dir / path.name)),
            "bytes": path.stat().st_size,
            "language": settings.lang,
            "waves": dg.MetadataValue.json(waves["wave"].to_list()),
            "wave pairs": dg.MetadataValue.json(pairs),
        },
    )
