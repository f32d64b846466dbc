"""Open answers of a level (marts.open_answers), quoted as written: HTML-escaped by great-tables, e-mail addresses,
phone numbers and IP addresses masked (pipeline.ingest.privacy), control characters replaced. At most
OPEN_ANSWERS_SHOWN per item and wave (the first by respondent pseudonym), with a note saying how many there are and
where all of them are; one table per wave when there are several.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import great_tables
import polars as pl

from pipeline.codebook import Codebook
from pipeline.ingest.personal import MARKER_KEYS, Markers, mask_text
from pipeline.reports.data import ReportData
from pipeline.reports.frame import ui_word
from pipeline.reports.tables import Column, ReportTable, format_values, to_gt

OPEN_ANSWERS_SHOWN = 200  # quotes shown per item and wave; all of them are in the open_answers mart
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def mask_contacts(text: str, codebook: Codebook, lang: str) -> str:
    """Replace e-mail addresses, phone numbers, IP addresses and identity numbers in free text by a marker, control
    characters (other than tab and line breaks) by U+FFFD and strip bidirectional controls (the text is escaped
    later)."""
    return contact_masker(codebook, lang)(text)


def contact_masker(codebook: Codebook, lang: str) -> Callable[[str], str]:
    """mask_contacts for one codebook and language, its words looked up once."""
    # ingest already masked personal data with the markers as fielded (nb): show them in the page's language
    fielded = tuple((codebook.ui[key]["nb"], ui_word(codebook, key, lang)) for key in MARKER_KEYS)
    markers = Markers.of(codebook, lang)
    return lambda text: _masked(text, fielded, markers)


@lru_cache(maxsize=2**17)
def _masked(text: str, fielded: tuple[tuple[str, str], ...], markers: Markers) -> str:
    """mask_contacts for one text and language, once per process: the pages and the document quote the same
    answers (a build over 100 waves masks 60,000 quotes, ~1 s, for each)."""
    text = CONTROL.sub("\ufffd", text)
    for nb, shown in fielded:
        text = text.replace(nb, shown)
    return mask_text(text, markers)


def _open_answer_groups(data: ReportData, level: str) -> dict[tuple[str, str], tuple[list[str], int]]:
    """(wave, item) → (the quotes shown, masked, in order; the number of non-blank answers) for the level's text
    items: sorted by respondent_key then text, the first OPEN_ANSWERS_SHOWN of each. One sort and one pass
    over the answers (a filter per wave and item made this grow with waves × answers)."""
    codes = [i.code for i in data.codebook.text_items() if i.level == level]
    frame = data.open_answers
    if "unreviewed" in frame.columns:  # the public profile: only reviewed answers (pipeline.ingest.review)
        frame = frame.filter(~pl.col("unreviewed"))
    if not codes or frame.height == 0:
        return {}
    answers = (
        frame.lazy()
        .filter(pl.col("item").is_in(codes) & (pl.col("text").str.strip_chars().str.len_chars() > 0))
        .select("wave", "item", "respondent_key", "text")
        .sort("wave", "item", "respondent_key", "text")
        .with_columns(
            pl.int_range(pl.len()).over("wave", "item").alias("rank"), pl.len().over("wave", "item").alias("total")
        )
        .filter(pl.col("rank") < OPEN_ANSWERS_SHOWN)
        .collect()
    )
    out: dict[tuple[str, str], tuple[list[str], int]] = {}
    mask = contact_masker(data.codebook, data.lang)
    for (wave, item), part in answers.group_by(["wave", "item"], maintain_order=True):
        out[(wave, item)] = ([mask(t) for t in part["text"].to_list()], int(part["total"][0]))
    return out


def unreviewed_notes(data: ReportData, level: str) -> list[str]:
    """One note per wave with open answers of the level not yet reviewed (public profile: they are left out and
    counted, never shown), newest wave first: "n answers not yet reviewed"."""
    frame = data.open_answers
    if "unreviewed" not in frame.columns:
        return []
    codes = [i.code for i in data.codebook.text_items() if i.level == level]
    counts = dict(frame.filter(pl.col("unreviewed") & pl.col("item").is_in(codes)).group_by("wave").len().iter_rows())
    several = len(data.wave_keys) > 1
    out = []
    for wave in data.wave_keys:
        if counts.get(wave):
            n = format_values([counts[wave]], "integer", data.lang)[0]
            out.append(data.t("open_unreviewed", n=n) + (f" ({data.t('wave')} {wave})" if several else ""))
    return out


@cache
def render_version() -> str:
    """What cached HTML fragments depend on beyond their inputs: this module's and the tables module's source, and
    great-tables' version."""
    here = Path(__file__)
    return hashlib.sha256(
        here.read_bytes()
        + here.with_name("tables.py").read_bytes()
        + b"\0great_tables "
        + great_tables.__version__.encode()
    ).hexdigest()


@dataclass(frozen=True)
class OpenTable:
    """Everything one open-answers table is made of (its cache key is a hash of this)."""

    table_id: str
    title: str
    subtitle: str
    answer: str
    notes: tuple[str, ...]
    records: tuple[tuple[str, str, str], ...]  # (row group, row number, masked quote)
    lang: str = "nb"

    def table(self) -> ReportTable:
        columns = (Column("text", self.answer, align=None),)
        frame = pl.DataFrame(list(self.records), schema={c: pl.Utf8 for c in ("group", "row", "text")}, orient="row")
        return ReportTable(
            id=self.table_id,
            title=self.title,
            subtitle=self.subtitle,
            frame=frame,
            columns=columns,
            stub="row",
            group="group",
            notes=self.notes,
            font_size="14px",
            widths=(("text", "60rem"),),
        )

    def html(self) -> str:
        return to_gt(self.table(), self.lang).as_raw_html()

    def key(self) -> str:
        payload = json.dumps([render_version(), "open-table", dataclasses.astuple(self)], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


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
                shown_text, total_text = format_values([len(quotes), total], "integer", lang)
                notes.append(data.t("open_shown", item=item.code, shown=shown_text, total=total_text))
        if records:
            out.append(
                OpenTable(
                    table_id=f"open-{level}-{wave}" if several else f"open-{level}",
                    title=data.t("open_answers"),
                    subtitle=cb.levels[level].label[lang] + (f" · {data.t('wave')} {wave}" if several else ""),
                    answer=data.t("answer"),
                    notes=tuple(notes),
                    records=tuple(records),
                    lang=lang,
                )
            )
    return out


def open_answers_tables(data: ReportData, level: str) -> dict[str, ReportTable]:
    """The open-answers tables of a level (open_answer_specs) as table id → ReportTable."""
    return {spec.table_id: spec.table() for spec in open_answer_specs(data, level)}
