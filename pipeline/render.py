"""great-tables summary pages: index.html (overview) and one page per effect level.

Deterministic: every GT has a fixed id, rows are sorted as in the codebook, no timestamps. All text from
the codebook or the data is HTML-escaped (great-tables escapes cell text; the page shell uses html.escape).
"""

from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path

import polars as pl
from great_tables import GT, html as gt_html

from pipeline.codebook import Codebook

CSS = """
body{font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;margin:2rem auto;max-width:72rem;
padding:0 1rem;color:#1f2933}
nav a{margin-right:1rem} h1{font-size:1.6rem} h2{font-size:1.25rem;margin-top:2rem} p.lead{color:#52606d}
"""


def _t(codebook: Codebook, key: str, lang: str, **fmt: object) -> str:
    return codebook.ui[key][lang].format(**fmt)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} %"


def write_atomic(path: Path, text: str) -> None:
    """Write a file so readers see the old or the new version, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def page(codebook: Codebook, lang: str, title: str, body: str) -> str:
    nav = [f'<a href="index.html">{html.escape(_t(codebook, "overview", lang))}</a>']
    nav += [f'<a href="{key}.html">{html.escape(level.label[lang])}</a>' for key, level in codebook.levels.items()]
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<nav>{' '.join(nav)}</nav>\n<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def _wave_notes(codebook: Codebook, lang: str, waves: pl.DataFrame) -> list[str]:
    notes = []
    for w in waves.sort("wave").iter_rows(named=True):
        rate = "–" if w["response_rate"] is None else f"{w['response_rate']:.0f}"
        notes.append(_t(codebook, "note_response", lang, wave=w["wave"], complete=w["complete"],
                        invited=w["invited"], rate=rate))
        if w["reconstruction"]:
            notes.append(_t(codebook, "note_reconstruction", lang, wave=w["wave"]))
    return notes


def level_table(codebook: Codebook, lang: str, level: str, indicators: pl.DataFrame,
                distribution: pl.DataFrame, waves: pl.DataFrame) -> GT:
    """One row per wave and item of the level: n, every category as 'n (pct %)', a bar nanoplot,
    the headline share with its Wilson interval, and the mean score."""
    rows = indicators.filter(pl.col("level") == level).sort("wave", "item_order", descending=[True, False])
    dist = distribution.filter(pl.col("level") == level)
    scales = [codebook.scales[s] for s in dict.fromkeys(codebook.items[i].scale for i in rows["item"].to_list())]
    categories = list(dict.fromkeys(c.key for s in scales for c in s.categories))
    labels = {c.key: c.label[lang] for s in scales for c in s.categories}

    records = []
    for r in rows.iter_rows(named=True):
        d = {x["category"]: x for x in dist.filter((pl.col("wave") == r["wave"]) & (pl.col("item") == r["item"])).iter_rows(named=True)}
        rec = {
            "wave": f"{_t(codebook, 'wave', lang)} {r['wave']}",
            "item": r["item"],
            "question": codebook.items[r["item"]].question[lang],
            "n": r["n"],
            "bars": [d[c]["pct"] or 0.0 for c in categories if c in d] or [0.0],
            "headline": "–" if r["headline_pct"] is None else
            f"{r['headline_pct']:.0f} % ({r['ci_low']:.0f}–{r['ci_high']:.0f})",
            "mean": r["mean_score"],
        }
        for c in categories:
            rec[c] = f"{d[c]['n']} ({_pct(d[c]['pct'])})" if c in d else ""
        records.append(rec)
    schema = {"wave": pl.Utf8, "item": pl.Utf8, "question": pl.Utf8, "n": pl.Int64,
              **{c: pl.Utf8 for c in categories}, "bars": pl.List(pl.Float64), "headline": pl.Utf8, "mean": pl.Float64}
    frame = pl.DataFrame(records, schema=schema) if records else pl.DataFrame(schema=schema)

    small = rows.filter(pl.col("small_n")).height > 0
    gt = (
        GT(frame, rowname_col="item", groupname_col="wave", id=f"level-{level}")
        .tab_header(title=codebook.levels[level].label[lang], subtitle=codebook.levels[level].description[lang])
        .cols_label(question=_t(codebook, "item", lang), n="n", bars=_t(codebook, "distribution", lang),
                    headline=_t(codebook, "headline", lang), mean=_t(codebook, "mean", lang),
                    **{c: labels[c] for c in categories})
        .fmt_nanoplot("bars", plot_type="bar", autoscale=False, expand_y=[0, 100])
        .fmt_number("mean", decimals=1)
        .sub_missing(missing_text="–")
        .tab_source_note(_t(codebook, "note_base", lang))
        .tab_source_note(_t(codebook, "note_headline", lang))
    )
    for note in _wave_notes(codebook, lang, waves):
        gt = gt.tab_source_note(note)
    if small:
        gt = gt.tab_source_note(_t(codebook, "note_small_n", lang, n=codebook.small_n_below))
    return gt


def overview_table(codebook: Codebook, lang: str, indicators: pl.DataFrame, waves: pl.DataFrame) -> GT:
    """One row per wave and level: number of items, their average top-2 share and its range."""
    summary = (
        indicators.filter(pl.col("top2_pct").is_not_null())
        .group_by("wave", "level")
        .agg(pl.len().alias("items"), pl.col("top2_pct").mean().alias("mean_top2"),
             pl.col("top2_pct").min().alias("lo"), pl.col("top2_pct").max().alias("hi"))
    )
    order = {k: lv.order for k, lv in codebook.levels.items()}
    summary = (
        summary.with_columns(pl.col("level").replace_strict(order, return_dtype=pl.Int64).alias("level_order"))
        .sort("wave", "level_order", descending=[True, False])
    )
    frame = pl.DataFrame(
        {
            "wave": [f"{_t(codebook, 'wave', lang)} {w}" for w in summary["wave"].to_list()],
            "level": [codebook.levels[l].label[lang] for l in summary["level"].to_list()],
            "items": summary["items"].to_list(),
            "mean_top2": summary["mean_top2"].to_list(),
            "range": [f"{lo:.0f}–{hi:.0f} %" for lo, hi in zip(summary["lo"].to_list(), summary["hi"].to_list())],
        },
        schema={"wave": pl.Utf8, "level": pl.Utf8, "items": pl.Int64, "mean_top2": pl.Float64, "range": pl.Utf8},
    )
    gt = (
        GT(frame, rowname_col="level", groupname_col="wave", id="overview")
        .tab_header(title=codebook.title[lang])
        .cols_label(items=_t(codebook, "items", lang), mean_top2=_t(codebook, "mean_top2", lang),
                    range=_t(codebook, "range_top2", lang))
        .fmt_number("mean_top2", decimals=0, pattern="{x} %")
    )
    for note in _wave_notes(codebook, lang, waves):
        gt = gt.tab_source_note(note)
    return gt


def render_reports(codebook: Codebook, lang: str, out_dir: Path, indicators: pl.DataFrame,
                   distribution: pl.DataFrame, waves: pl.DataFrame) -> dict[str, Path]:
    """Write index.html and <level>.html; return page name → path."""
    written = {}
    body = overview_table(codebook, lang, indicators, waves).as_raw_html()
    links = "".join(
        f'<li><a href="{key}.html">{html.escape(level.label[lang])}</a> – {html.escape(level.description[lang])}</li>'
        for key, level in codebook.levels.items()
    )
    index = page(codebook, lang, codebook.title[lang], f"{body}\n<ul>{links}</ul>")
    write_atomic(out_dir / "index.html", index)
    written["index"] = out_dir / "index.html"
    for key, level in codebook.levels.items():
        table = level_table(codebook, lang, key, indicators, distribution, waves).as_raw_html()
        write_atomic(out_dir / f"{key}.html", page(codebook, lang, level.label[lang], table))
        written[key] = out_dir / f"{key}.html"
    return written
