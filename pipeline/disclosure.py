"""Public-profile suppression of small cells (PIPELINE_PROFILE=public), in the manner of Statistics Norway.

Per wave and closed item, the published numbers are the count of every category (with its percentage), the
base n, the headline share (top-2 for degree items, yes for yes/no items) with its Wilson interval, the top-2
share on the overview and the mean score. In the public profile:

1. primary suppression: every category count below `min_cell` (zeros included) is hidden, count and percentage;
   an item whose base n is below `min_cell` is hidden altogether;
2. secondary suppression: a published sum (the base n; the headline and top-2 counts and their complements
   n − headline, n − top-2) must never contain exactly one hidden cell, or subtraction would reveal it. Of
   the ways to hide more, the one hiding the fewest sums (the headline / top-2 share), then the fewest and
   smallest cells is chosen;
3. the mean score is hidden when any scored cell is hidden (together with n it would reveal the hidden cells).

The `internal` profile hides nothing. Shown as ":" (SUPPRESSED) in tables and charts.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pipeline.codebook import Codebook

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

    @property
    def any_hidden(self) -> bool:
        return self.n_hidden or self.headline_hidden or self.mean_hidden or any(c.hidden for c in self.cells)

    @property
    def hidden_share(self) -> float:
        """Share of the base in hidden cells (n minus the visible counts, which readers can compute anyway)."""
        if self.n <= 0 or self.n_hidden:
            return 0.0
        return 100.0 * sum(c.n for c in self.cells if c.hidden) / self.n


@dataclass(frozen=True)
class Protection:
    hidden: frozenset[str]
    n_hidden: bool
    hidden_sums: frozenset[str]
    mean_hidden: bool


def protect_counts(counts: dict[str, int], *, sums: dict[str, frozenset[str]], scored: frozenset[str],
                   min_cell: int) -> Protection:
    """Suppress the cells of one item row. counts: category → count in display order; sums: name → the
    categories of a published partial sum (its complement is published too, as n minus it).

    Of all ways to hide further cells (and, if need be, sums) so that no published sum holds exactly one
    hidden cell, the one hiding the fewest sums, then the fewest cells, then the smallest counts is taken
    (ties: earlier categories). Scales have a handful of categories, so every subset is tried."""
    keys = list(counts)
    n = sum(counts.values())
    if n < min_cell:
        return Protection(frozenset(keys), True, frozenset(sums), bool(scored))
    primary = frozenset(k for k in keys if counts[k] < min_cell)
    if len(keys) > 16:
        raise ValueError(f"scale with {len(keys)} categories: too many for exhaustive cell suppression")
    small_sums = frozenset(name for name, ks in sums.items() if sum(counts.get(k, 0) for k in ks) < min_cell)
    optional = [k for k in keys if k not in primary]
    names = sorted(sums)
    best: tuple | None = None
    for sum_mask in range(1 << len(names)):
        hidden_sums = small_sums | {names[i] for i in range(len(names)) if sum_mask >> i & 1}
        if best is not None and len(hidden_sums) > best[0][0]:
            continue
        groups = [frozenset(keys)]
        for name in names:
            if name not in hidden_sums:
                members = frozenset(k for k in sums[name] if k in counts)
                groups += [members, frozenset(keys) - members]
        for cell_mask in range(1 << len(optional)):
            hidden = primary | {optional[i] for i in range(len(optional)) if cell_mask >> i & 1}
            if any(len(g & hidden) == 1 for g in groups):
                continue
            cost = (len(hidden_sums), len(hidden), sum(counts[k] for k in hidden),
                    sorted(keys.index(k) for k in hidden), sorted(hidden_sums))
            if best is None or cost < best[0]:
                best = (cost, frozenset(hidden), frozenset(hidden_sums))
    assert best is not None  # hiding every cell is always valid
    _, hidden, hidden_sums = best
    return Protection(hidden, False, hidden_sums, bool(hidden & scored))


def item_views(codebook: Codebook, distribution: pl.DataFrame, *, profile: str, min_cell: int
               ) -> dict[tuple[str, str], ItemView]:
    """(wave, item) → ItemView from marts.item_distribution; in the internal profile nothing is hidden."""
    views: dict[tuple[str, str], ItemView] = {}
    rows = distribution.sort("wave", "item_order", "category_order")
    for (wave, item), part in rows.group_by(["wave", "item"], maintain_order=True):
        scale = codebook.scale_of(item)
        counts = {r["category"]: int(r["n"]) for r in part.iter_rows(named=True)}
        pcts = {r["category"]: r["pct"] for r in part.iter_rows(named=True)}
        n = sum(counts.values())
        if profile == "public":
            sums = {"headline": frozenset(c.key for c in scale.categories if c.headline)}
            if any(c.top2 for c in scale.categories):
                sums["top2"] = frozenset(c.key for c in scale.categories if c.top2)
            scored = frozenset(c.key for c in scale.categories if c.score is not None)
            p = protect_counts(counts, sums=sums, scored=scored, min_cell=min_cell)
        else:
            p = Protection(frozenset(), False, frozenset(), False)
        cells = tuple(Cell(k, counts[k], pcts[k], k in p.hidden) for k in counts)
        views[(wave, item)] = ItemView(
            wave=wave, item=item, n=n, cells=cells, n_hidden=p.n_hidden,
            headline_hidden="headline" in p.hidden_sums, top2_hidden="top2" in p.hidden_sums,
            mean_hidden=p.mean_hidden,
        )
    return views


def count_hidden(count: int | None, *, profile: str, min_cell: int) -> bool:
    """A single published count (e.g. complete responses of a wave) hidden in the public profile."""
    return profile == "public" and count is not None and count < min_cell
