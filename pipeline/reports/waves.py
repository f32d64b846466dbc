"""waves.html, the survey over time: the response rate per wave and the change per item between consecutive waves,
with Newcombe 95 % intervals (marts.waves, marts.wave_change; the public profile shows what marts.item_disclosure
decides)."""

from __future__ import annotations

import html

import polars as pl

from pipeline.codebook import Codebook, Item
from pipeline.ingest.waves import time_order
from pipeline.reports.disclosure import SUPPRESSED, ItemView, count_hidden, item_views
from pipeline.reports.frame import page, ui_word
from pipeline.reports.tables import Column, ReportTable, table_frame, to_gt
from pipeline.settings import DEFAULT_MIN_CELL


def wave_order(waves: pl.DataFrame) -> dict[str, int]:
    """Position of each wave (marts.waves) in time, as in marts.wave_pairs (pipeline.ingest.waves.time_order)."""
    return {w: i for i, w in enumerate(time_order(dict(zip(waves["wave"].to_list(), waves["fielded"].to_list()))))}


def signed_interval(key: str, label: str, number: str = "signed0") -> Column:
    """A change with its interval: "+12 [−3; +27]"."""
    return Column(
        key, label, number, merge=((key + "_low", number), (key + "_high", number)), pattern="{0}<< [{1}; {2}]>>"
    )


def response_table(
    codebook: Codebook, lang: str, waves: pl.DataFrame, profile: str = "internal", min_cell: int = DEFAULT_MIN_CELL
) -> ReportTable:
    """One row per wave in time order: label, fielded date, invited, complete, partial and the response rate. In
    the public profile a complete or partial count below min_cell is ":" (the rate with a hidden complete count)."""
    order = wave_order(waves)
    rows = waves.sort(pl.col("wave").replace_strict(order, return_dtype=pl.Int64))
    records = []
    for w in rows.iter_rows(named=True):
        rec: dict[str, object] = {
            "wave": w["wave"],
            "label": w["label"],
            "fielded": None if w["fielded"] is None else w["fielded"].isoformat(),
            "invited": w["invited"],
        }
        for key in ("complete", "partial"):
            if count_hidden(w[key], profile=profile, min_cell=min_cell):
                rec[key + "__missing"] = SUPPRESSED
            else:
                rec[key] = w[key]
        if w["response_rate"] is not None:
            if count_hidden(w["complete"], profile=profile, min_cell=min_cell):
                rec["rate__missing"] = SUPPRESSED
            else:
                rec["rate"] = w["response_rate"]
        records.append(rec)
    columns = (
        Column("label", ui_word(codebook, "wave_label", lang), align=None),
        Column("fielded", ui_word(codebook, "fielded", lang)),
        Column("invited", ui_word(codebook, "invited", lang), "integer"),
        Column("complete", ui_word(codebook, "complete", lang), "integer"),
        Column("partial", ui_word(codebook, "partial", lang), "integer"),
        Column("rate", ui_word(codebook, "response_rate", lang), "percent"),
    )
    notes = tuple(
        ui_word(codebook, "note_reconstruction", lang, wave=w["wave"])
        for w in rows.filter(pl.col("reconstruction")).iter_rows(named=True)
    )
    return ReportTable(
        id="waves-response",
        title=ui_word(codebook, "waves_response", lang),
        subtitle=None,
        frame=table_frame(records, columns, ("wave",)),
        columns=columns,
        stub="wave",
        notes=notes,
    )


def base_below_notes(
    codebook: Codebook,
    lang: str,
    indicators: pl.DataFrame,
    waves: pl.DataFrame,
    views: dict[tuple[str, str], ItemView],
    wave_keys: list[str],
    items: list[Item],
    profile: str = "internal",
    min_cell: int = DEFAULT_MIN_CELL,
) -> list[str]:
    """Per wave, the items whose n is below the wave's complete responses (marts.item_indicators), with how many
    answers were set aside in quarantine and how many left blank, and where to see why (none where the count itself
    is hidden: views, the disclosure decision as the page shows it)."""
    rows = {(r["wave"], r["item"]): r for r in indicators.iter_rows(named=True)}
    complete = dict(waves.select("wave", "complete").iter_rows())
    notes = []
    for wave in wave_keys:
        if count_hidden(complete.get(wave) or 0, profile=profile, min_cell=min_cell):
            continue
        below = []
        for item in items:
            row, view = rows.get((wave, item.code)), views.get((wave, item.code))
            if row is None or view is None or view.n_hidden or not row["n_missing"]:
                continue
            quarantined = row.get("n_quarantined") or 0
            below.append(
                ui_word(
                    codebook,
                    "base_below_item",
                    lang,
                    item=item.code,
                    n=row["n"],
                    quarantined=quarantined,
                    blank=row["n_missing"] - quarantined,
                )
            )
        if below:
            notes.append(
                ui_word(codebook, "note_base_below", lang, wave=wave, complete=complete[wave], items="; ".join(below))
            )
    return notes


def change_table(
    codebook: Codebook,
    lang: str,
    change: pl.DataFrame,
    order: dict[str, int],
    views: dict[tuple[str, str], ItemView] | None = None,
    min_cell: int = DEFAULT_MIN_CELL,
    profile: str = "internal",
    bases: list[str] = (),
) -> ReportTable:
    """One group per consecutive pair of waves, one row per item: the headline share in both waves with n,
    the change with its Newcombe interval, the top-3 change and the mean-score change. `views`: what the
    disclosure decision (marts.item_disclosure, pipeline.reports.disclosure.item_views) lets the page show; a share it
    hides is ":" and so is every change computed from it. bases: the notes of base_below_notes, under the others."""
    views = views or {}
    rows = change.with_columns(pl.col("wave_from").replace_strict(order, return_dtype=pl.Int64).alias("pair")).sort(
        "pair", "item_order", descending=[True, False]
    )
    wave = ui_word(codebook, "wave", lang)
    not_asked = ui_word(codebook, "not_asked", lang)
    records = []
    for r in rows.iter_rows(named=True):
        rec: dict[str, object] = {
            "pair": f"{wave} {r['wave_from']} → {r['wave_to']}",
            "item": r["item"],
            "question": codebook.items[r["item"]].question[lang],
        }
        before, after = views.get((r["wave_from"], r["item"])), views.get((r["wave_to"], r["item"]))
        for side, view in (("from", before), ("to", after)):
            n, pct = r[f"n_{side}"], r[f"headline_pct_{side}"]
            if view is not None and view.n_hidden:
                rec[f"share_{side}__missing"] = SUPPRESSED
            elif view is not None and view.headline_hidden:
                rec[f"share_{side}__missing"], rec[f"n_{side}"] = SUPPRESSED, n
            elif not n:
                rec[f"share_{side}__missing"] = not_asked
            else:
                rec[f"share_{side}"], rec[f"n_{side}"] = pct, n
        hidden = [v for v in (before, after) if v is not None]
        for key, diff, hide in (
            ("change", "headline_diff", any(v.n_hidden or v.headline_hidden for v in hidden)),
            ("top3_change", "top3_diff", any(v.n_hidden or v.top3_hidden for v in hidden)),
        ):
            if hide:
                rec[key + "__missing"] = SUPPRESSED
            elif r[diff] is not None:
                rec[key], rec[key + "_low"], rec[key + "_high"] = r[diff], r[diff + "_ci_low"], r[diff + "_ci_high"]
        if any(v.n_hidden or v.mean_hidden for v in hidden):
            rec["mean_change__missing"] = SUPPRESSED
        else:
            rec["mean_change"] = r["mean_score_diff"]
        records.append(rec)
    columns = (
        Column("question", ui_word(codebook, "item", lang), align=None),
        Column(
            "share_from",
            ui_word(codebook, "share_from", lang),
            "percent",
            merge=(("n_from", "integer"),),
            pattern="{0}<< (n={1})>>",
        ),
        Column(
            "share_to",
            ui_word(codebook, "share_to", lang),
            "percent",
            merge=(("n_to", "integer"),),
            pattern="{0}<< (n={1})>>",
        ),
        signed_interval("change", ui_word(codebook, "change_pp", lang)),
        signed_interval("top3_change", ui_word(codebook, "top3_change_pp", lang)),
        Column("mean_change", ui_word(codebook, "mean_change", lang), "signed1"),
    )
    frame = table_frame(records, columns, ("pair", "item"))
    notes = [ui_word(codebook, "note_change", lang)]
    if any(r.get(c.key + "__missing") == SUPPRESSED for r in records for c in columns):
        notes.append(ui_word(codebook, "note_suppressed", lang, min=min_cell))
    if rows.filter(pl.col("small_n")).height:
        notes.append(ui_word(codebook, "note_small_n", lang, n=codebook.small_n_below))
    if "samples" in rows.columns:
        shared = rows.filter(pl.col("samples") == "shared").select(
            "wave_from", "wave_to", "shared_respondents", "shared_hidden", "pair"
        )
        for wave_from, wave_to, n, hidden, _ in shared.unique().sort("pair", descending=True).rows():
            shown = SUPPRESSED if profile == "public" and hidden else n
            notes.append(ui_word(codebook, "note_panel_shared", lang, wave_from=wave_from, wave_to=wave_to, n=shown))
    notes += bases
    return ReportTable(
        id="waves-change",
        title=ui_word(codebook, "waves_change", lang),
        subtitle=None,
        frame=frame,
        columns=columns,
        stub="item",
        group="pair",
        notes=tuple(notes),
    )


def waves_tables(
    codebook: Codebook,
    lang: str,
    waves: pl.DataFrame,
    change: pl.DataFrame,
    profile: str = "internal",
    min_cell: int = DEFAULT_MIN_CELL,
    disclosure: pl.DataFrame | None = None,
    indicators: pl.DataFrame | None = None,
) -> dict[str, ReportTable]:
    """The tables of waves.html by id: waves-response and, with two waves or more, waves-change. disclosure:
    marts.item_disclosure (required in the public profile); indicators: marts.item_indicators, for the note on the
    items whose n is below a wave's complete responses."""
    if disclosure is None and profile == "public":
        raise ValueError("the public waves page reads marts.item_disclosure (the disclosure decision)")
    views = item_views(codebook, disclosure, profile=profile) if disclosure is not None else {}
    out = {"waves-response": response_table(codebook, lang, waves, profile, min_cell)}
    if change.height:
        order = wave_order(waves)
        shown = sorted({*change["wave_from"], *change["wave_to"]}, key=lambda w: order[w])
        bases = []
        if indicators is not None:
            items = codebook.closed_items()
            bases = base_below_notes(codebook, lang, indicators, waves, views, shown, items, profile, min_cell)
        out["waves-change"] = change_table(codebook, lang, change, order, views, min_cell, profile, bases)
    return out


def waves_page(
    codebook: Codebook,
    lang: str,
    waves: pl.DataFrame,
    change: pl.DataFrame,
    profile: str = "internal",
    min_cell: int = DEFAULT_MIN_CELL,
    disclosure: pl.DataFrame | None = None,
    indicators: pl.DataFrame | None = None,
) -> str:
    """The whole waves.html page (deterministic: fixed table ids, sorted rows, no timestamps)."""
    tables = waves_tables(codebook, lang, waves, change, profile, min_cell, disclosure, indicators)
    body = [to_gt(t, lang).as_raw_html() for t in tables.values()]
    if "waves-change" not in tables:
        body.append(f'<p class="lead">{html.escape(ui_word(codebook, "note_single_wave", lang))}</p>')
    return page(codebook, lang, ui_word(codebook, "waves_title", lang), "\n".join(body))
