"""Personal data masked before anything of a wave is written: the normalised wave's free text, the cells that match
no category or group (quarantined as written) and the statuses no rule knows are masked here, in memory, so the work
database (raw.wave_export.value, raw.wave_groups.value, raw.wave_respondents.status) never holds an e-mail address, a
phone number, an IP address, an identity number or the respondent's own name as typed.

The patterns are pipeline.ingest.privacy's; the markers are the codebook's (`ui: masked_*`, as fielded: nb), which
the pages show in their own language. A respondent's names are the words of their row's name columns (personal-data
columns whose header says name / navn / namn), masked in that row's cells only. Cells that match a category or a
group are codebook words and stay as written; bidirectional control characters are stripped from the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

import polars as pl

from pipeline.codebook import Codebook, normalise_text
from pipeline.ingest.privacy import NAME_HEADER, mask_contact_details, name_words, names_pattern, strip_bidi

MARKER_KEYS = ("masked_email", "masked_phone", "masked_ip", "masked_id", "masked_name")


class Column(Protocol):
    """A column of the export as the header mapping decided it (pipeline.ingest.normalise.ColumnMap)."""

    name: str
    header: str
    target: str


Wave = TypeVar("Wave")  # pipeline.ingest.normalise.NormalisedWave (not imported: normalise imports this module)


@dataclass(frozen=True)
class Markers:
    """The words that replace what is masked, in one language."""

    email: str
    phone: str
    ip: str
    identity: str
    name: str

    @classmethod
    def of(cls, codebook: Codebook, lang: str = "nb") -> Markers:
        return cls(*(codebook.ui[key][lang] for key in MARKER_KEYS))

    def pattern(self) -> re.Pattern[str]:
        """Any of the markers (names are never looked for inside one)."""
        words = sorted({self.email, self.phone, self.ip, self.identity, self.name}, key=lambda w: (-len(w), w))
        return re.compile("|".join(re.escape(w) for w in words))


def mask_text(text: str, markers: Markers, names: re.Pattern[str] | None = None) -> str:
    """A free text with bidirectional controls stripped and e-mail addresses, IP addresses, identity numbers, phone
    numbers and (names: the respondent's own) names replaced by markers."""
    text = mask_contact_details(strip_bidi(text), markers.email, markers.phone, markers.ip, markers.identity)
    if names is None:
        return text
    parts = markers.pattern().split(text)
    kept = markers.pattern().findall(text)
    out = [names.sub(markers.name, parts[0])]
    for marker, part in zip(kept, parts[1:]):
        out += [marker, names.sub(markers.name, part)]
    return "".join(out)


def name_columns(columns: list[Column]) -> list[Column]:
    """The personal-data columns that hold a respondent's name (their header says name, navn or namn)."""
    return [c for c in columns if c.target == "personal_data" and NAME_HEADER.search(normalise_text(c.header))]


def row_names(frame: pl.DataFrame, columns: list[Column]) -> dict[int, re.Pattern[str]]:
    """Position of a row in `frame` → the pattern of its names (rows without a name are left out)."""
    names = name_columns(columns)
    if not names:
        return {}
    out = {}
    for position, values in enumerate(frame.select(pl.col(c.name) for c in names).iter_rows()):
        pattern = names_pattern(name_words(list(values)))
        if pattern is not None:
            out[position] = pattern
    return out


def mask_series(series: pl.Series, keep: set[str], markers: Markers, names: dict[int, re.Pattern[str]]) -> pl.Series:
    """A column of cells masked (mask_text), except the values in `keep` (codebook words: categories, groups,
    known statuses) and blanks. Contact details per distinct value; names per row of a named respondent."""
    todo = series.drop_nulls().unique().to_list()
    changed = {}
    for value in todo:
        if value in keep:
            continue
        masked = mask_text(value, markers)
        if masked != value:
            changed[value] = masked
    out = series.replace(changed) if changed else series
    if names:
        positions, values = [], []
        for position, pattern in names.items():
            value = out[position]
            if value is None or series[position] in keep:
                continue
            masked = mask_text(value, markers, pattern)
            if masked != value:
                positions.append(position)
                values.append(masked)
        if positions:
            out = out.scatter(positions, values)
    return out


def _mask_wide(
    wide: pl.DataFrame, keep: dict[str, set[str]], names: list[str], markers: Markers, rows: dict
) -> pl.DataFrame:
    return wide.with_columns(mask_series(wide.get_column(n), keep.get(n, set()), markers, rows) for n in names)


def mask_personal_data(wave: Wave, frame: pl.DataFrame, codebook: Codebook) -> Wave:
    """The normalised wave with its personal data masked (see the module): frame is the export's frame the wave was
    made from, row for row (its name columns give each respondent's names)."""
    markers = Markers.of(codebook)
    rows = row_names(frame, wave.columns)
    answers, background = wave.answers, wave.background
    matched = {}
    for name, value in answers.categories.select("name", "value").iter_rows():
        matched.setdefault(name, set()).add(value)
    answer_names = answers.columns.get_column("name").to_list()
    grouped = {}
    for name, value in background.groups.select("name", "value").iter_rows():
        grouped.setdefault(name, set()).add(value)
    group_names = background.columns.get_column("name").to_list()
    known = {v for values in codebook.status_values.values() for v in values}
    statuses = wave.respondents.get_column("status")
    known |= {s for s in statuses.drop_nulls().unique().to_list() if normalise_text(s) in _known_statuses(codebook)}
    return replace(
        wave,
        respondents=wave.respondents.with_columns(mask_series(statuses, known, markers, rows)),
        answers=replace(answers, wide=_mask_wide(answers.wide, matched, answer_names, markers, rows)),
        background=replace(background, wide=_mask_wide(background.wide, grouped, group_names, markers, rows)),
    )


def _known_statuses(codebook: Codebook) -> set[str]:
    return {normalise_text(v) for values in codebook.status_values.values() for v in values} | {
        "complete",
        "partial",
        "not_responded",
    }
