"""What the pages may show (PIPELINE_PROFILE=public): the views of marts.item_disclosure.

The decision is taken once, in SQL (sql/marts/item_disclosure.sql, documented there and in schemas/marts.yaml):
counts below PIPELINE_MIN_CELL hidden with their percentages, a complementary cell where the hidden ones could
be worked out from the base n, and every figure derived from a hidden count (headline share and interval,
top-2, top-3, mean, changes between waves, a level's average) hidden too. Tables, charts, the overview and
waves.html all read it through `item_views`; none decides on its own. The internal profile hides nothing.
Shown as ":" (SUPPRESSED).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pipeline.codebook import Codebook
from pipeline.settings import DEFAULT_MIN_CELL

SUPPRESSED = ":"


@dataclass(frozen=True)
class Cell:
    """One category of one item in one wave, as it may be published."""

    category: str
    n: int
    pct: float | None
    hidden: bool


@dataclass(frozen=True)
class ItemView:
    """What of one wave's item may be published (see the module docstring)."""

    wave: str
    item: str
    n: int
    cells: tuple[Cell, ...]
    n_hidden: bool = False
    headline_hidden: bool = False
    top2_hidden: bool = False
    mean_hidden: bool = False
    top3_hidden: bool = False

    @property
    def any_hidden(self) -> bool:
        return self.n_hidden or self.headline_hidden or self.mean_hidden or any(c.hidden for c in self.cells)


def item_views(
    codebook: Codebook, distribution: pl.DataFrame, *, profile: str, min_cell: int = DEFAULT_MIN_CELL
) -> dict[tuple[str, str], ItemView]:
    """(wave, item) → ItemView. `distribution`: marts.item_disclosure (the decision, taken once in SQL), or in
    the internal profile also marts.item_distribution. The internal profile hides nothing; the public profile
    shows what item_disclosure says and decides nothing here."""
    public = profile == "public"
    if public and "hidden" not in distribution.columns:
        raise ValueError(
            "the public profile's pages read marts.item_disclosure (the disclosure decision), "
            "not marts.item_distribution"
        )
    views: dict[tuple[str, str], ItemView] = {}
    rows = distribution.sort("wave", "item_order", "category_order")
    for (wave, item), part in rows.group_by(["wave", "item"], maintain_order=True):
        records = list(part.iter_rows(named=True))
        first = records[0]
        cells = tuple(Cell(r["category"], int(r["n"]), r["pct"], public and bool(r["hidden"])) for r in records)
        views[(wave, item)] = ItemView(
            wave=wave,
            item=item,
            n=sum(c.n for c in cells),
            cells=cells,
            n_hidden=public and bool(first["base_hidden"]),
            headline_hidden=public and bool(first["headline_hidden"]),
            top2_hidden=public and bool(first["top2_hidden"]),
            mean_hidden=public and bool(first["mean_hidden"]),
            top3_hidden=public and bool(first["top3_hidden"]),
        )
    return views


def count_hidden(count: int | None, *, profile: str, min_cell: int) -> bool:
    """A single published count (e.g. complete responses of a wave) hidden in the public profile."""
    return profile == "public" and count is not None and count < min_cell
