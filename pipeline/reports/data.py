"""What the index and level pages are made of: the marts they read and what of them may be shown.

`ReportData` holds the marts (item_indicators, item_disclosure, waves, open_answers, item_by_group), the language and
the profile, and derives once what every table and chart of those pages shows: the disclosure views
(pipeline.reports.disclosure) of each wave's items and of each group of the newest wave.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import polars as pl

from pipeline.codebook import Codebook
from pipeline.ingest.waves import time_order
from pipeline.reports.disclosure import ItemView, item_views
from pipeline.reports.figures import GroupViews
from pipeline.reports.frame import ui_word
from pipeline.settings import DEFAULT_MIN_CELL, DEFAULT_MIN_GROUP

# Item and level charts are drawn for this many waves, the newest: a chart of every wave of a long series would cost
# minutes and read as noise; every wave's numbers are in the tables (and waves.html compares them).
CHART_WAVES = 3


def newest_wave(waves: pl.DataFrame) -> str | None:
    """The newest wave of marts.waves in time order (pipeline.ingest.waves.time_order)."""
    ordered = time_order(dict(zip(waves["wave"].to_list(), waves["fielded"].to_list())))
    return ordered[-1] if ordered else None


def shown_rows(by_group: pl.DataFrame, wave: str | None, profile: str) -> pl.DataFrame:
    """The rows of marts.item_by_group the pages use: the newest wave, and in the public profile only the
    variables the codebook marks public."""
    rows = by_group.filter(pl.col("wave") == wave) if wave is not None else by_group.clear()
    return rows.filter(pl.col("variable_public")) if profile == "public" else rows


def group_views(codebook: Codebook, rows: pl.DataFrame, *, profile: str) -> GroupViews:
    """(wave, variable, group) → item → ItemView of that group, with what the decision hides (public profile)."""
    out: GroupViews = {}
    if rows.is_empty():
        return out
    decided = rows.with_columns(
        pl.col("group_hidden").alias("base_hidden"),
        pl.col("headline_hidden").alias("top2_hidden"),
        (pl.col("headline_hidden") | pl.col("hidden").any().over("wave", "item", "variable", "group")).alias(
            "top3_hidden"
        ),
    )
    for (wave, variable, group), part in decided.group_by(["wave", "variable", "group"], maintain_order=True):
        views = item_views(codebook, part, profile=profile)
        out[(wave, variable, group)] = {item: view for (_, item), view in views.items()}
    return out


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
    min_cell: int = DEFAULT_MIN_CELL
    by_group: pl.DataFrame | None = None  # marts.item_by_group (breakdowns by background variable)
    min_group: int = DEFAULT_MIN_GROUP

    @classmethod
    def from_marts(
        cls,
        codebook: Codebook,
        lang: str,
        marts: Mapping[str, pl.DataFrame],
        profile: str = "internal",
        min_cell: int = DEFAULT_MIN_CELL,
        min_group: int = DEFAULT_MIN_GROUP,
    ) -> ReportData:
        """From the marts by name (item_indicators, item_disclosure, waves, open_answers; item_by_group if read)."""
        return cls(
            codebook,
            lang,
            marts["item_indicators"],
            marts["item_disclosure"],
            marts["waves"],
            marts["open_answers"],
            profile,
            min_cell,
            marts.get("item_by_group"),
            min_group,
        )

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
