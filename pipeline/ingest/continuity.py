"""Continuity between waves: a question reworded between waves must not silently become "not asked".

An item of the codebook that another wave of the work database has and this wave lacks, while a header of this wave
that maps to nothing resembles the item's question (nb/da/en), an alias, or the item's header in that other wave,
stops the wave: the user maps the header in wave.yaml `columns:` (it is the item, reworded) or lists it under
`ignore:` (it is a new question). Rewording is the most common change between waves of a real survey.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from pipeline.codebook import Codebook, normalise_text
from pipeline.ingest.readers import shorten
from pipeline.ingest.waves import WaveError, WaveSpec

ALIKE = 0.75  # similarity (difflib ratio of the normalised texts) from which a header "looks like" an item
SHOWN = 5  # look-alikes named in one message


@dataclass(frozen=True)
class LookAlike:
    header: str
    item: str
    text: str  # the text it resembles
    ratio: float
    source: str  # "question (codebook)" or "header of <wave>"

    def message(self) -> str:
        return (
            f"header {shorten(self.header, 120)} looks like {self.item} ({shorten(self.text, 120)}, "
            f"{round(100 * self.ratio)} % alike, {self.source})"
        )


def _ratio(a: str, b: str) -> float:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < ALIKE or matcher.quick_ratio() < ALIKE:
        return 0.0
    return matcher.ratio()


def look_alikes(
    unmapped: list[str], asked: set[str], codebook: Codebook, others: dict[str, list[tuple[str, str]]]
) -> list[LookAlike]:
    """For each unmapped header, the best look-alike among the items another wave has (others: item → [(wave,
    header)]) and this wave lacks (asked: the items this wave has a column for)."""
    missing = sorted(
        (item for item in others if item in codebook.items and item not in asked), key=list(codebook.items).index
    )
    texts: list[tuple[str, str, str, str]] = []  # (item, text, normalised, source)
    for item in missing:
        it = codebook.items[item]
        for text in dict.fromkeys([*it.question.values(), *it.aliases]):
            texts.append((item, text, normalise_text(text), "question (codebook)"))
        for wave, header in sorted(others[item]):
            texts.append((item, header, normalise_text(header), f"header of {wave}"))
    out = []
    for header in unmapped:
        norm = normalise_text(header)
        best = max(
            ((_ratio(norm, n), item, text, source) for item, text, n, source in texts),
            default=(0.0, "", "", ""),
        )
        if best[0] >= ALIKE:
            out.append(LookAlike(header, best[1], best[2], best[0], best[3]))
    return out


def check_continuity(
    spec: WaveSpec, unmapped: list[str], asked: set[str], codebook: Codebook, others: dict[str, list[tuple[str, str]]]
) -> None:
    """Stop the wave (WaveError) when an unmapped header looks like an item another wave has and this one lacks."""
    found = look_alikes(unmapped, asked, codebook, others)
    if not found:
        return
    named = "; ".join(f.message() for f in found[:SHOWN]) + (
        f"; and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    )
    first = found[0]
    raise WaveError(
        f"{spec.export_path}: {named}: map it in `columns:` of {spec.yaml_path.name} ({shorten(first.header, 60)}: "
        f"{first.item}) if it is the same question reworded, or list it under `ignore:` if it is a new one; "
        "otherwise the item would show as not asked"
    )


def other_wave_columns(con, sql_dir: Path, wave: str) -> dict[str, list[tuple[str, str]]]:
    """item → [(wave, header)] of every other wave in the work database (raw.wave_columns), for check_continuity."""
    from pipeline.warehouse import bound, read_sql

    sql = read_sql(sql_dir, "summaries", "other_wave_columns")
    out: dict[str, list[tuple[str, str]]] = {}
    for other, item, header in con.execute(sql, bound(sql, {"wave": wave})).fetchall():
        out.setdefault(item, []).append((other, header))
    return out


def other_wave_columns_of(settings, wave: str) -> tuple[dict[str, list[tuple[str, str]]], str | None]:
    """other_wave_columns from the work database opened read-only (make inspect), and a note when it cannot be read
    (no build yet, or a build holds it)."""
    import duckdb

    from pipeline.warehouse import connect

    if not settings.work_db.exists():
        return {}, "no work database yet: headers not compared with other waves"
    try:
        with connect(settings, read_only=True) as con:
            return other_wave_columns(con, settings.sql_dir, wave), None
    except duckdb.Error as exc:
        return {}, f"the work database could not be read ({str(exc).splitlines()[0]}): headers not compared"
