"""The public profile's disclosure decision over linked tables, and the audit that proves it (HiGHS, via highspy).

What the public pages publish per wave and item is one *linked block* of counts: the overall distribution (its
categories and base n) and, per background variable the public profile shows, the group × category table whose
column margins are the overall distribution and whose row margins are the groups' base n's; each row also has its
headline count (the share with its Wilson interval publishes it). An attacker who holds the published numbers knows
every relation between them (row sums, column sums, the headline subtotal) and that counts are ≥ 0. A hidden count
is protected when, from all of that, its feasible range still covers [0, min_cell]: the attacker can rule out
neither "nobody" nor "a publishable count" (τ-Argus's and sdcTable's notion of protection, made strict).

- primary cells: counts below min_cell (zeros too), base n's below min_cell (the row is hidden whole), headline
  counts below min_cell, and every cell of a group with fewer than min_group respondents (hidden whole);
- secondary cells: chosen per block by an LP-guided greedy (Fischetti–Salazar style: for each protection requirement
  not yet met, the cheapest fractional opening of shown cells that lets it hold, by LP; the cells it opens are
  hidden; then a clean-up pass shows again every secondary whose return keeps every requirement met);
- costs are independent of the values (1 a count, the number of categories a base n), perturbed by a key derived
  from the pseudonym key (HMAC): the pattern is reproducible for us but cannot be replayed by an attacker who tries
  candidate tables against the public code (the tie-break is no longer public knowledge);
- the audit (`audit`) computes, from the published values and the relations alone, each hidden cell's feasible
  range by LP (integer relaxation, tightened to integers) and lists every primary whose range does not cover
  [0, min_cell].

Why our own model and not τ-Argus (pytauargus): its documented API protects one table at a time; linked tables need
its undocumented batch format through private bindings, which cannot state our inequalities or the requirement
above and treats zeros as structural (research notes in the closing note of issue 26).
"""

from __future__ import annotations

import hashlib
import hmac
import multiprocessing
import sys
import types
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import highspy
import numpy as np
import polars as pl
import scipy.sparse as sp

from pipeline.settings import usable_cores

FREE, PUBLISHED, LATENT = 0, 1, -1  # a cell the decision may hide / always shown / never shown
BASE, HEADLINE = "~n", "~headline"  # the pseudo-categories of a row's base n and headline count
ALL = "all"
INF = highspy.kHighsInf
EPS = 1e-7


@dataclass
class Problem:
    """Cells (canonically ordered), their values, a-priori bounds, costs, which are primary, which are fixed, the
    protection each primary needs (lower: value − min of its range ≥ lpl; upper: max − value ≥ upl), and the
    relations lo ≤ A x ≤ hi."""

    labels: list  # per relation, what it says
    keys: list
    value: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    cost: np.ndarray
    primary: np.ndarray
    fixed: np.ndarray
    lpl: np.ndarray
    upl: np.ndarray
    A: sp.csr_matrix
    rlo: np.ndarray
    rhi: np.ndarray

    @property
    def n(self) -> int:
        return len(self.keys)

    def initial_hidden(self) -> np.ndarray:
        return self.primary | (self.fixed == LATENT)

    def requirements(self) -> list[tuple[int, str, float]]:
        out = []
        for j in np.flatnonzero(self.primary):
            if self.lpl[j] > 0:
                out.append((int(j), "down", float(self.lpl[j])))
            if self.upl[j] > 0:
                out.append((int(j), "up", float(self.upl[j])))
        return out


@dataclass
class Builder:
    """Collects cells and relations, then orders the cells by key into a Problem."""

    cells: dict = field(default_factory=dict)
    relations: list = field(default_factory=list)
    labels: list = field(default_factory=list)  # what each relation says, for the audit's messages

    def cell(
        self,
        key: tuple,
        value: float,
        *,
        ub: float,
        cost: float = 1.0,
        primary: bool = False,
        fixed: int = FREE,
        min_cell: int = 3,
    ) -> tuple:
        """A cell; a primary one must keep a feasible range covering [0, min_cell] (pass min_group as min_cell for
        the base n of a group hidden for its size)."""
        if key in self.cells:
            raise ValueError(f"duplicate cell {key!r}")
        need = requirement(value, min_cell) if primary else (0.0, 0.0)
        self.cells[key] = (float(value), 0.0, float(ub), float(cost), bool(primary), int(fixed), *need)
        return key

    def relation(self, coefs: dict, lo: float = 0.0, hi: float | None = None, label: str = "") -> None:
        self.relations.append((dict(coefs), float(lo), float(lo if hi is None else hi)))
        self.labels.append(label)

    def build(self, perturb: dict | None = None) -> Problem:
        keys = sorted(self.cells, key=lambda k: tuple(str(x) for x in k))
        pos = {k: j for j, k in enumerate(keys)}
        cols = list(zip(*(self.cells[k] for k in keys))) if keys else [()] * 8
        rows, idx, vals = [], [], []
        for r, (coefs, _, _) in enumerate(self.relations):
            for k, a in sorted(coefs.items(), key=lambda kv: pos[kv[0]]):
                rows.append(r)
                idx.append(pos[k])
                vals.append(a)
        A = sp.csr_matrix((vals, (rows, idx)), shape=(len(self.relations), len(keys)))
        cost = np.array(cols[3], dtype=float)
        if perturb:
            cost = cost * np.array([1.0 + perturb.get(k, 0.0) for k in keys])
        p = Problem(
            labels=list(self.labels),
            keys=keys,
            value=np.array(cols[0], dtype=float),
            lb=np.array(cols[1], dtype=float),
            ub=np.array(cols[2], dtype=float),
            cost=cost,
            primary=np.array(cols[4], dtype=bool),
            fixed=np.array(cols[5], dtype=np.int8),
            lpl=np.array(cols[6], dtype=float),
            upl=np.array(cols[7], dtype=float),
            A=A,
            rlo=np.array([r[1] for r in self.relations]),
            rhi=np.array([r[2] for r in self.relations]),
        )
        off = np.abs(A @ p.value - np.clip(A @ p.value, p.rlo, p.rhi)) > 1e-6
        if off.any():
            raise ValueError(f"{int(off.sum())} relations do not hold for the true values")
        return p


def requirement(value: float, min_cell: int) -> tuple[float, float]:
    """(lpl, upl) of a primary cell: its feasible range must reach down to 0 and up to min_cell."""
    return float(value), float(max(min_cell - value, 1.0))


@dataclass(frozen=True)
class Row:
    """One row of a linked block: the overall distribution (variable ALL) or a group of a background variable."""

    variable: str
    group: str
    counts: dict[str, int]  # category → n
    group_n: int | None = None  # the group's complete respondents in the wave (None: the overall row)


def linked_block(
    builder: Builder,
    prefix: tuple,
    categories: list[str],
    headline: list[str],
    rows: list[Row],
    *,
    min_cell: int,
    min_group: int,
    bound: int,
) -> None:
    """Add one (wave, item) block. Cells are keyed prefix + (variable, group, category); a row's base n has category
    BASE and its headline count HEADLINE. The overall row's base is published unless it is below min_cell (then the
    item is hidden whole); a group below min_group is hidden whole (its cells latent, each small one still needing
    protection). bound: what an attacker knows every count to be at most (the wave's published respondents)."""
    overall = next(r for r in rows if r.variable == ALL)
    total = sum(overall.counts.values())
    for row in rows:
        counts = {c: int(row.counts.get(c, 0)) for c in categories}
        n_row = sum(counts.values())
        whole = row.variable != ALL and row.group_n is not None and row.group_n < min_group
        hidden_item = row.variable == ALL and total < min_cell
        fixed = LATENT if (whole or hidden_item) else FREE
        ub = float(max(bound, total, min_cell))
        key = prefix + (row.variable, row.group)
        # a group hidden for its size must not be worked out from the total and the other groups either
        base_primary = n_row < min_cell or (whole and n_row > 0)
        builder.cell(
            key + (BASE,),
            n_row,
            ub=ub,
            cost=float(len(categories)),
            primary=base_primary,
            fixed=PUBLISHED if row.variable == ALL and not hidden_item else fixed,
            min_cell=max(min_cell, min_group) if whole else min_cell,
        )
        for c in categories:
            builder.cell(key + (c,), counts[c], ub=ub, primary=counts[c] < min_cell, fixed=fixed, min_cell=min_cell)
        where = "overall" if row.variable == ALL else f"{row.variable}={row.group}"
        builder.relation(
            {key + (BASE,): -1, **{key + (c,): 1 for c in categories}},
            label=f"{where}: the categories sum to the base n",
        )
        k = sum(counts[c] for c in headline)
        builder.cell(key + (HEADLINE,), k, ub=ub, primary=k < min_cell, fixed=fixed, min_cell=min_cell)
        builder.relation(
            {key + (HEADLINE,): -1, **{key + (c,): 1 for c in headline}},
            label=f"{where}: the headline count is {' + '.join(headline)}",
        )
    for variable in sorted({r.variable for r in rows} - {ALL}):
        groups = [r for r in rows if r.variable == variable]
        for c in [*categories, BASE, HEADLINE]:
            builder.relation(
                {prefix + (ALL, "", c): -1, **{prefix + (variable, r.group, c): 1 for r in groups}},
                label=f"the groups of {variable} sum to the overall {c}",
            )


def keyed_perturbation(secret: bytes, keys: list[tuple]) -> dict[tuple, float]:
    """Per cell a number in [0, 0.1) from an HMAC of its key under a secret: breaks ties between equally costly
    patterns in a way no one without the secret can replay."""
    out = {}
    for key in keys:
        digest = hmac.new(secret, "\x1f".join(map(str, key)).encode("utf-8"), hashlib.sha256).digest()
        out[key] = 0.1 * int.from_bytes(digest[:4], "big") / 2**32
    return out


# --- HiGHS ----------------------------------------------------------------------------------------------------
def _highs() -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    return h


def _pass(h: highspy.Highs, c, lb, ub, A, rlo, rhi) -> None:
    lp = highspy.HighsLp()
    A = sp.csc_matrix(A)
    A.sort_indices()
    lp.num_col_, lp.num_row_ = int(A.shape[1]), int(A.shape[0])
    lp.col_cost_ = np.asarray(c, dtype=float)
    lp.col_lower_ = np.where(np.isfinite(lb), lb, -INF).astype(float)
    lp.col_upper_ = np.where(np.isfinite(ub), ub, INF).astype(float)
    lp.row_lower_ = np.where(np.isfinite(rlo), rlo, -INF).astype(float)
    lp.row_upper_ = np.where(np.isfinite(rhi), rhi, INF).astype(float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    h.passModel(lp)


class Attacker:
    """The attacker's LP: published cells fixed at their values, hidden cells within their a-priori bounds, every
    relation; min and max of one cell at a time (one model, only bounds and the objective change)."""

    def __init__(self, p: Problem, hidden: np.ndarray):
        self.p = p
        self.hidden = np.asarray(hidden, bool).copy()
        self.h = _highs()
        _pass(
            self.h,
            np.zeros(p.n),
            np.where(self.hidden, p.lb, p.value),
            np.where(self.hidden, p.ub, p.value),
            p.A,
            p.rlo,
            p.rhi,
        )

    def set_hidden(self, j: int, flag: bool) -> None:
        if self.hidden[j] != flag:
            self.hidden[j] = flag
            self.h.changeColBounds(
                j, self.p.lb[j] if flag else self.p.value[j], self.p.ub[j] if flag else self.p.value[j]
            )

    def extreme(self, j: int, maximize: bool) -> float:
        h = self.h
        h.changeColCost(j, 1.0)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize)
        h.run()
        status = h.getModelStatus()
        value = h.getInfo().objective_function_value
        h.changeColCost(j, 0.0)
        if status == highspy.HighsModelStatus.kOptimal:
            return value
        raise RuntimeError(f"disclosure audit LP for {self.p.keys[j]}: {h.modelStatusToString(status)}")

    def range(self, j: int) -> tuple[float, float]:
        """The cell's feasible range, tightened to whole numbers."""
        low, high = self.extreme(j, False), self.extreme(j, True)
        return float(np.ceil(low - 1e-6)) + 0.0, float(np.floor(high + 1e-6)) + 0.0

    def meets(self, req: tuple[int, str, float]) -> bool:
        j, kind, amount = req
        if kind == "up":
            return self.extreme(j, True) >= self.p.value[j] + amount - 1e-6
        return self.extreme(j, False) <= self.p.value[j] - amount + 1e-6


def _opening(p: Problem, hidden: np.ndarray, req: tuple[int, str, float]) -> np.ndarray | None:
    """The cheapest fractional opening of shown free cells (t in [0, 1]) under which requirement `req` can hold:
    an LP over the deviations d of an alternative table (A d within the relations; a hidden cell moves within its
    bounds; a shown cell moves only as far as t opens it). Returns the cells with t > 0, or None when no opening
    helps."""
    i, kind, amount = req
    a, n = p.value, p.n
    candidates = np.flatnonzero(~hidden & (p.fixed == FREE))
    nc = len(candidates)
    dl = np.where(hidden, -(a - p.lb), 0.0)
    du = np.where(hidden, p.ub - a, 0.0)
    dl[candidates] = -(a - p.lb)[candidates]
    du[candidates] = (p.ub - a)[candidates]
    if kind == "up":
        dl[i] = max(dl[i], amount)
    else:
        du[i] = min(du[i], -amount)
    A = sp.csr_matrix(p.A)
    m = A.shape[0]
    pick = sp.csr_matrix((np.ones(nc), (np.arange(nc), candidates)), shape=(nc, n))
    # moving a shown cell by the amount needed costs its whole cost (a big-M link would make wide margins free)
    up = sp.diags(-np.minimum(p.ub - a, amount)[candidates])
    down = sp.diags(np.minimum(a - p.lb, amount)[candidates])
    M = sp.bmat([[sp.csr_matrix((m, nc)), A], [up, pick], [down, pick]], format="csc")
    Aa = A @ a
    rlo = np.concatenate([p.rlo - Aa, np.full(nc, -np.inf), np.zeros(nc)])
    rhi = np.concatenate([p.rhi - Aa, np.zeros(nc), np.full(nc, np.inf)])
    h = _highs()
    _pass(
        h,
        np.concatenate([p.cost[candidates], np.zeros(n)]),
        np.concatenate([np.zeros(nc), dl]),
        np.concatenate([np.ones(nc), du]),
        M,
        rlo,
        rhi,
    )
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    t = np.asarray(h.getSolution().col_value)[:nc]
    return candidates[t > EPS]


def decide(p: Problem) -> np.ndarray:
    """The hidden pattern of one block: the primary and latent cells, the secondary cells the greedy opening adds,
    less those a clean-up pass can show again. Raises when a requirement cannot be met even with every free cell
    hidden (which the clean-up then could not break)."""
    attacker = Attacker(p, p.initial_hidden())
    reqs = p.requirements()
    for req in reqs:
        if attacker.meets(req):
            continue
        cells = _opening(p, attacker.hidden, req)
        if cells is None:
            raise RuntimeError(f"disclosure: {p.keys[req[0]]} cannot be protected")
        for j in cells:
            attacker.set_hidden(int(j), True)
    secondary = np.flatnonzero(attacker.hidden & ~p.initial_hidden())
    for j in sorted(secondary, key=lambda j: (-p.cost[j], -j)):
        attacker.set_hidden(int(j), False)
        if not all(attacker.meets(r) for r in reqs):
            attacker.set_hidden(int(j), True)
    return attacker.hidden.copy()


@dataclass(frozen=True)
class AuditFailure:
    key: tuple
    value: float
    low: float
    high: float
    needed: float
    relations: tuple[str, ...]

    def __str__(self) -> str:
        wave, item, variable, group, cell = self.key
        where = "overall" if variable == ALL else f"{variable}={group}"
        return (
            f"wave {wave}, {item}, {where}, {cell}: the published figures pin it to [{self.low:g}, {self.high:g}], "
            f"which must reach 0 and {self.needed:g} (through: {'; '.join(self.relations)})"
        )


def audit(p: Problem, hidden: np.ndarray) -> tuple[list[AuditFailure], list[float]]:
    """From the published values and the relations alone: each hidden primary cell's feasible range, which must
    cover [0, its protection] (min_cell, or min_group for the base of a group hidden for its size). Returns the
    failures, with the relations they are in, and the width of every range audited."""
    attacker = Attacker(p, hidden)
    failures, widths = [], []
    A, R = sp.csc_matrix(p.A), sp.csr_matrix(p.A)
    hidden = np.asarray(hidden, bool)
    for j in np.flatnonzero(hidden & p.primary):
        low, high = attacker.range(int(j))
        widths.append(high - low)
        needed = p.value[j] + p.upl[j]
        if low > p.value[j] - p.lpl[j] + 1e-9 or high < needed - 1e-9:
            # the relations the cell is in, and those of a hidden base n or headline count beside it there (a bound
            # on a hidden headline count, as the panel's, pins the categories it sums)
            rows = set(A.indices[A.indptr[j] : A.indptr[j + 1]].tolist())
            beside = {int(k) for k in R[sorted(rows)].indices if hidden[k] and p.keys[k][-1] in (BASE, HEADLINE)}
            for k in beside:
                rows.update(A.indices[A.indptr[k] : A.indptr[k + 1]].tolist())
            labels = tuple(p.labels[r] for r in sorted(rows))
            failures.append(AuditFailure(p.keys[j], float(p.value[j]), low, high, float(needed), labels))
    return failures, widths


# --- the decision as the marts take it ---------------------------------------------------------------------------
DECISION_SCHEMA = {
    "wave": pl.Utf8,
    "item": pl.Utf8,
    "variable": pl.Utf8,
    "group": pl.Utf8,
    "cell": pl.Utf8,
    "hidden": pl.Boolean,
    "hidden_because": pl.Utf8,
}


@dataclass(frozen=True)
class Bound:
    """What a published panel figure says about one wave's overall row of an item: sum(coefficient × cell) ≥ lower
    (cells: categories, the base n BASE or the headline count HEADLINE)."""

    wave: str
    item: str
    label: str
    lower: float
    cells: tuple[tuple[str, float], ...]


def block_builders(cells: pl.DataFrame, *, min_cell: int, min_group: int) -> dict[tuple[str, str], Builder]:
    """One Builder per (wave, item) from the rows of sql/marts/decide/disclosure_cells.sql (wave, item, variable,
    group, group_n, category, n, headline, bound), in their order."""
    grouped: dict[tuple[str, str], dict] = {}  # one pass in Python: a polars group_by per block cost ~2 ms each
    columns = ("wave", "item", "variable", "group", "group_n", "category", "n", "headline", "bound")
    for wave, item, variable, group, group_n, category, n, headline, bound in cells.select(columns).iter_rows():
        block = grouped.get((wave, item))
        if block is None:
            block = grouped[(wave, item)] = {"categories": [], "headline": [], "rows": {}, "bound": bound}
        if variable == ALL:
            block["categories"].append(category)
            if headline:
                block["headline"].append(category)
        row = block["rows"].get((variable, group))
        if row is None:
            row = block["rows"][(variable, group)] = (group_n, {})
        row[1][category] = n
    out = {}
    for (wave, item), block in grouped.items():
        builder = Builder()
        linked_block(
            builder,
            (wave, item),
            block["categories"],
            block["headline"],
            [Row(variable, group, counts, group_n) for (variable, group), (group_n, counts) in block["rows"].items()],
            min_cell=min_cell,
            min_group=min_group,
            bound=int(block["bound"]),
        )
        out[(wave, item)] = builder
    return out


def with_bounds(builder: Builder, bounds: list[Bound]) -> Builder:
    """A copy of a block's Builder with the panel's bounds on its overall row as relations."""
    out = Builder(dict(builder.cells), list(builder.relations), list(builder.labels))
    for b in sorted(bounds, key=lambda b: (b.label, b.cells)):
        out.relation(
            {(b.wave, b.item, ALL, "", cell): a for cell, a in b.cells},
            lo=b.lower,
            hi=INF,
            label=f"panel: {b.label} (at least {b.lower:g})",
        )
    return out


def blocks(
    cells: pl.DataFrame, *, min_cell: int, min_group: int, secret: bytes, bounds: list[Bound] = ()
) -> list[Problem]:
    """One Problem per (wave, item) (block_builders), with the bounds on its overall row."""
    by_block: dict[tuple[str, str], list[Bound]] = {}
    for b in bounds:
        by_block.setdefault((b.wave, b.item), []).append(b)
    out = []
    for key, builder in block_builders(cells, min_cell=min_cell, min_group=min_group).items():
        builder = with_bounds(builder, by_block.get(key, []))
        out.append(builder.build(keyed_perturbation(secret, list(builder.cells))))
    return out


def reasons(p: Problem, hidden: np.ndarray) -> list[str | None]:
    """Why each cell is hidden: base_n (the item's base is small: hidden whole, or a row's base is), small_group (a
    group below min_group, hidden whole), small (a count below min_cell), complementary (hidden to protect one of
    those), or None (shown)."""
    out: list[str | None] = []
    for key, h, primary, fixed in zip(p.keys, hidden, p.primary, p.fixed):
        variable, cell = key[2], key[4]
        if not h:
            out.append(None)
        elif fixed == LATENT:
            out.append("base_n" if variable == ALL else "small_group")
        elif primary:
            out.append("base_n" if cell == BASE else "small")
        else:
            out.append("complementary")
    return out


def block_digest(p: Problem, secret: bytes) -> str:
    """What a block's decision depends on (its cells, values, bounds, requirements and relations), as an HMAC under
    the decision's secret: the key of the decision cache (it tells nothing about the counts without the secret)."""
    mac = hmac.new(secret, b"samskabelse disclosure block v1", hashlib.sha256)
    for part in (repr(p.keys), p.value, p.ub, p.cost, p.primary, p.fixed, p.lpl, p.upl, p.rlo, p.rhi):
        mac.update(part.encode("utf-8") if isinstance(part, str) else np.ascontiguousarray(part).tobytes())
    A = sp.csr_matrix(p.A)
    for part in (A.indptr, A.indices, A.data):
        mac.update(np.ascontiguousarray(part).tobytes())
    return mac.hexdigest()


def decide_cells(
    cells: pl.DataFrame,
    *,
    min_cell: int,
    min_group: int,
    secret: bytes,
    complementary: bool = True,
    cache: dict[str, list[int]] | None = None,
    used: dict[str, list[int]] | None = None,
) -> pl.DataFrame:
    """The decision over every block: one row per cell (DECISION_SCHEMA). complementary=False: the primary cells
    only (the audit's weakened case in tests). cache: block digest → the hidden cells' positions of earlier
    decisions (a block found there is not solved again: the waves a build did not change cost nothing); used
    receives every block's entry of this decision."""
    problems = blocks(cells, min_cell=min_cell, min_group=min_group, secret=secret)
    digests: list[str | None] = [None] * len(problems)
    patterns: list[np.ndarray | None] = [None] * len(problems)
    for i, p in enumerate(problems):
        if not complementary:
            patterns[i] = p.initial_hidden()
            continue
        digests[i] = block_digest(p, secret) if cache is not None or used is not None else None
        if digests[i] is not None and cache and digests[i] in cache:
            patterns[i] = np.zeros(p.n, dtype=bool)
            patterns[i][cache[digests[i]]] = True
    todo = [i for i, hidden in enumerate(patterns) if hidden is None]
    for i, hidden in zip(todo, decide_blocks([problems[i] for i in todo])):
        patterns[i] = hidden
    records = []
    for p, digest, hidden in zip(problems, digests, patterns):
        if digest is not None and used is not None:
            used[digest] = [int(j) for j in np.flatnonzero(hidden)]
        for key, h, why in zip(p.keys, hidden, reasons(p, hidden)):
            records.append((*key, bool(h), why))
    return pl.DataFrame(records, schema=DECISION_SCHEMA, orient="row")


PARALLEL_BLOCKS = 200  # blocks to decide before more processes pay for their start (~0.5 s each: imports)
MAX_DECISION_PROCESSES = 4


def decide_blocks(problems: list[Problem], processes: int | None = None) -> list[np.ndarray]:
    """decide() for every block, in order: on every core the build may use when there are many (a first build of 100
    waves has ~1,800 blocks, ~22 s of LPs on one core). The blocks are independent and each decision deterministic,
    so the result does not depend on the number of processes (`processes`: that many, whatever the number of
    blocks)."""
    workers = processes or min(usable_cores(), MAX_DECISION_PROCESSES)
    if workers < 2 or (processes is None and len(problems) < PARALLEL_BLOCKS):
        return [decide(p) for p in problems]
    # spawn: a fork of the build process would copy Dagster's threads and open files. A spawned process imports the
    # program that started it (its __main__) before it unpickles work: a script that builds at import would build
    # again there. It is started with an empty __main__, so it imports only this module.
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            return list(pool.map(decide, problems, chunksize=max(1, len(problems) // (workers * 8))))
    finally:
        sys.modules["__main__"] = main


def disclosure_secret(pseudonym_key: bytes) -> bytes:
    """The secret of the keyed tie-break: an HMAC of a constant under the pseudonym key (never the key itself)."""
    return hmac.new(pseudonym_key, b"samskabelse disclosure tie-break v1", hashlib.sha256).digest()


@dataclass(frozen=True)
class AuditResult:
    """What the audit of a public build found: the hidden cells, those audited (the small ones), the narrowest range
    of an audited cell, and the failures."""

    hidden: int
    audited: int
    narrowest: float | None
    failures: tuple[AuditFailure, ...]


def published_blocks(
    cells: pl.DataFrame, shown: pl.DataFrame, *, min_cell: int, min_group: int, bounds: list[Bound] = ()
) -> list[tuple[Problem, np.ndarray]]:
    """The blocks of the published figures: the same linked tables (cells: the rows of disclosure_cells.sql), with
    the pattern read from what the public marts let the pages show (shown: wave, item, variable, group, cell,
    published — from item_disclosure and item_by_group, never from the decision) and the bounds of the panel figures
    published beside them (published_panel_bounds)."""
    published = {
        tuple(r[:5]): r[5] for r in shown.select("wave", "item", "variable", "group", "cell", "published").iter_rows()
    }
    out = []
    for p in blocks(cells, min_cell=min_cell, min_group=min_group, secret=b"", bounds=bounds):
        hidden = np.array([not published.get(tuple(k), False) for k in p.keys])
        out.append((p, hidden))
    return out


def audit_published(
    cells: pl.DataFrame, shown: pl.DataFrame, *, min_cell: int, min_group: int, bounds: list[Bound] = ()
) -> AuditResult:
    """The audit of everything the public profile publishes of the linked tables (see published_blocks)."""
    failures, widths, hidden = [], [], 0
    for p, pattern in published_blocks(cells, shown, min_cell=min_cell, min_group=min_group, bounds=bounds):
        found, w = audit(p, pattern)
        failures += found
        widths += w
        hidden += int(pattern.sum())
    return AuditResult(hidden, len(widths), min(widths) if widths else None, tuple(failures))


def panel_counts_block(rows: pl.DataFrame, *, min_cell: int) -> tuple[Problem, np.ndarray] | None:
    """The panel's counts as one block (rows: sql/marts/decide/published_panel_counts.sql, one per consecutive pair
    of waves with panel members) and what the pages publish of them: each wave's complete and partial counts, and
    per pair who answered the first wave (linked), answered again, dropped out, joined, and the people both waves
    share as complete responses. Relations: at most the invited answered a wave; linked = answered again + dropped
    out in the first wave, answered again + joined in the second; the panel members of a wave are at most its
    complete + partial responses and are the same people in the pair before and after it; the shared people
    answered both and completed each wave, and are at least the most pairs panel_change shows for one item. Cells
    are keyed (wave, "responses", "all", "", count) and (wave_from, "panel", "to", wave_to, count). The counts
    that need protection are those from 1 to min_cell − 1: a zero here says that nobody answered partially, dropped
    out or joined, which points at no one, and cannot be kept when everyone invited answered (complete = invited
    says partial = 0) or every panel member is paired (n_pairs = the first wave's panel members says that nobody
    dropped out); the pages still print it as ":"."""
    if rows.height == 0:
        return None
    b = Builder()
    published: dict[tuple, bool] = {}
    waves: dict[str, tuple] = {}
    for r in rows.iter_rows(named=True):
        for side in ("from", "to"):
            w = r[f"wave_{side}"]
            if w in waves:
                continue
            ub = float(max(r[f"invited_{side}"] or 0, r[f"complete_{side}"] + r[f"partial_{side}"], min_cell))
            for count in ("complete", "partial"):
                key = b.cell(
                    (w, "responses", ALL, "", count),
                    r[f"{count}_{side}"],
                    ub=ub,
                    primary=0 < r[f"{count}_{side}"] < min_cell,
                    min_cell=min_cell,
                )
                published[key] = not r[f"{count}_{side}_hidden"]
            waves[w] = ((w, "responses", ALL, "", "complete"), (w, "responses", ALL, "", "partial"), ub)
            if r[f"invited_{side}"]:
                b.relation(
                    {waves[w][0]: 1, waves[w][1]: 1},
                    lo=0,
                    hi=float(r[f"invited_{side}"]),
                    label=f"{w}: at most the invited answered",
                )
    linked_from_of = {}
    for r in rows.iter_rows(named=True):
        f, t = r["wave_from"], r["wave_to"]
        prefix = (f, "panel", "to", t)
        ub = max(waves[f][2], waves[t][2])
        shown = {
            "linked_from": not r["linked_hidden"],
            "linked_to": False,
            "answered_both": not (r["counts_hidden"] or r["linked_hidden"]),
            "left_after": not (r["counts_hidden"] or r["linked_hidden"]),
            "joined": not (r["counts_hidden"] or r["linked_hidden"]),
            "complete_both": not r["shared_hidden"],
        }
        for count, is_shown in shown.items():
            key = b.cell(prefix + (count,), r[count], ub=ub, primary=0 < r[count] < min_cell, min_cell=min_cell)
            published[key] = is_shown
        k = {c: prefix + (c,) for c in shown}
        b.relation(
            {k["linked_from"]: -1, k["answered_both"]: 1, k["left_after"]: 1},
            label=f"{f} → {t}: who answered {f} answered again or dropped out",
        )
        b.relation(
            {k["linked_to"]: -1, k["answered_both"]: 1, k["joined"]: 1},
            label=f"{f} → {t}: who answered {t} answered {f} too or joined",
        )
        for side, w in (("from", f), ("to", t)):
            complete, partial, _ = waves[w]
            b.relation(
                {complete: 1, partial: 1, k[f"linked_{side}"]: -1},
                lo=0,
                hi=INF,
                label=f"the panel members of {w} are at most its responses",
            )
            b.relation(
                {complete: 1, k["complete_both"]: -1},
                lo=0,
                hi=INF,
                label=f"{f} → {t}: the people both waves share completed {w}",
            )
        b.relation(
            {k["answered_both"]: 1, k["complete_both"]: -1},
            lo=0,
            hi=INF,
            label=f"{f} → {t}: the people both waves share answered both",
        )
        b.relation(
            {k["complete_both"]: 1},
            lo=float(r["most_pairs"]),
            hi=INF,
            label=f"{f} → {t}: the pairs of panel_change (at most {r['most_pairs']})",
        )
        linked_from_of[f] = k["linked_from"]
    for r in rows.iter_rows(named=True):
        after = linked_from_of.get(r["wave_to"])
        if after is not None:
            b.relation(
                {(r["wave_from"], "panel", "to", r["wave_to"], "linked_to"): 1, after: -1},
                label=f"the panel members of {r['wave_to']} are the same people before and after it",
            )
    p = b.build()
    return p, np.array([not published[k] for k in p.keys])


def audit_panel_counts(rows: pl.DataFrame, *, min_cell: int) -> AuditResult:
    """The audit of the panel's counts (panel_counts_block): each hidden count from 1 to min_cell − 1 must keep a
    feasible range reaching 0 and min_cell."""
    block = panel_counts_block(rows, min_cell=min_cell)
    if block is None:
        return AuditResult(0, 0, None, ())
    p, hidden = block
    failures, widths = audit(p, hidden)
    return AuditResult(int(hidden.sum()), len(widths), min(widths) if widths else None, tuple(failures))


# --- the panel's figures beside the waves' tables ---------------------------------------------------------------
PANEL_UNITS = ("pairs", "transitions", "movement")  # what panel_change publishes or hides together, per row
PANEL_DECISION_SCHEMA = {
    "wave_from": pl.Utf8,
    "wave_to": pl.Utf8,
    "item": pl.Utf8,
    **{f"{unit}_hidden": pl.Boolean for unit in PANEL_UNITS},
}


def item_categories(cells: pl.DataFrame) -> dict[str, list[tuple[str, bool, float | None]]]:
    """Per item its categories (category, headline, score) from the overall rows of disclosure_cells.sql."""
    overall = cells.filter(pl.col("variable") == ALL)
    if "score" not in overall.columns:
        overall = overall.with_columns(pl.lit(None, dtype=pl.Float64).alias("score"))
    out: dict[str, list] = {}
    for item, category, headline, score in overall.select("item", "category", "headline", "score").iter_rows():
        if category not in {c for c, _, _ in out.get(item, [])}:
            out.setdefault(item, []).append((category, bool(headline), None if score is None else float(score)))
    return out


def unit_bounds(row: dict, unit: str, categories: list[tuple[str, bool, float | None]]) -> list[Bound]:
    """What one published unit of a panel_change row says about the two waves' overall rows of its item. The pairs
    are complete respondents who answered the item validly in both waves, so a count over them is at most the same
    count over either wave:
    - pairs: each wave's base n ≥ n_pairs;
    - transitions (the 2×2 table of the headline answer, and both shares): each wave's headline count ≥ the pairs
      in the headline answer in it, and its base n − headline count ≥ the pairs outside it;
    - movement (up / same / down): who moved up was not at the top of the scale before and not at its bottom after,
      who moved down the reverse; every scored pair was scored in both waves."""
    f, t, item = row["wave_from"], row["wave_to"], row["item"]
    pair = f"{f} → {t}"
    if unit == "pairs":
        return [Bound(w, item, f"the pairs of {pair}", float(row["n_pairs"]), ((BASE, 1.0),)) for w in (f, t)]
    if unit == "transitions":
        both, out_, in_, neither = (
            row["both_headline"],
            row["headline_from_only"],
            row["headline_to_only"],
            row["neither_headline"],
        )
        inside, outside = ((HEADLINE, 1.0),), ((BASE, 1.0), (HEADLINE, -1.0))
        return [
            Bound(f, item, f"the pairs of {pair} in the headline answer in {f}", float(both + out_), inside),
            Bound(f, item, f"the pairs of {pair} outside the headline answer in {f}", float(in_ + neither), outside),
            Bound(t, item, f"the pairs of {pair} in the headline answer in {t}", float(both + in_), inside),
            Bound(t, item, f"the pairs of {pair} outside the headline answer in {t}", float(out_ + neither), outside),
        ]
    scored = [(c, s) for c, _, s in categories if s is not None]
    if not scored or not row["n_scored"]:
        return []
    top, bottom = max(s for _, s in scored), min(s for _, s in scored)

    def over(leave_out: float | None) -> tuple[tuple[str, float], ...]:
        return tuple((c, 1.0) for c, s in scored if s != leave_out)

    return [
        Bound(f, item, f"who moved up in {pair}, not at the top in {f}", float(row["moved_up"]), over(top)),
        Bound(f, item, f"who moved down in {pair}, not at the bottom in {f}", float(row["moved_down"]), over(bottom)),
        Bound(t, item, f"who moved up in {pair}, not at the bottom in {t}", float(row["moved_up"]), over(bottom)),
        Bound(t, item, f"who moved down in {pair}, not at the top in {t}", float(row["moved_down"]), over(top)),
        Bound(f, item, f"the scored pairs of {pair}, scored in {f}", float(row["n_scored"]), over(None)),
        Bound(t, item, f"the scored pairs of {pair}, scored in {t}", float(row["n_scored"]), over(None)),
    ]


def published_panel_bounds(panel: pl.DataFrame, cells: pl.DataFrame) -> list[Bound]:
    """The bounds of every unit marts.panel_change publishes (its *_hidden flags false)."""
    categories = item_categories(cells)
    out: list[Bound] = []
    for row in panel.iter_rows(named=True):
        for unit in PANEL_UNITS:
            if not row[f"{unit}_hidden"]:
                out += unit_bounds(row, unit, categories.get(row["item"], []))
    return out


def decide_panel(
    cells: pl.DataFrame, shown: pl.DataFrame, panel: pl.DataFrame, *, min_cell: int, min_group: int
) -> pl.DataFrame:
    """Which units of panel_change (PANEL_UNITS) the public profile hides beyond its own rule, so that nothing the
    waves' tables hide can be worked out with them. The waves' decision (shown: the published cells of marts.
    disclosure) is taken without the panel and stays as it is, so a wave's pages are the same before and after the
    next wave arrives; a panel unit is published only when, with it and every unit published before it (pairs of
    waves in order, items in order), each hidden small count of the two waves' tables keeps a feasible range
    reaching 0 and min_cell. panel: panel_change's rows with its rule's flags. One row per panel_change row, each
    unit's flag true where the decision hides it; a unit the pairs' count would give back is hidden with it."""
    builders = block_builders(cells, min_cell=min_cell, min_group=min_group)
    published = {
        tuple(r[:5]): r[5] for r in shown.select("wave", "item", "variable", "group", "cell", "published").iter_rows()
    }
    categories = item_categories(cells)
    accepted: dict[tuple[str, str], list[Bound]] = {}
    needs_check: dict[tuple[str, str], bool] = {}

    def protected(key: tuple[str, str], extra: list[Bound]) -> bool:
        builder = builders.get(key)
        if builder is None:
            return True
        if key not in needs_check:  # nothing small hidden in the block: no bound can expose anything
            # a cell's record: value, lb, ub, cost, primary, fixed, lpl, upl
            needs_check[key] = any(record[4] and not published.get(k, False) for k, record in builder.cells.items())
        if not needs_check[key]:
            return True
        p = with_bounds(builder, accepted.get(key, []) + extra).build()
        failures, _ = audit(p, np.array([not published.get(tuple(k), False) for k in p.keys]))
        return not failures

    records = []
    for row in panel.iter_rows(named=True):
        hidden = {}
        for unit in PANEL_UNITS:
            if row[f"{unit}_hidden"]:  # the rule hides it already
                hidden[unit] = False
                continue
            if unit == "transitions" and hidden.get("pairs"):  # the 2×2 table sums to the pairs
                hidden[unit] = True
                continue
            bounds = unit_bounds(row, unit, categories.get(row["item"], []))
            waves = sorted({(b.wave, b.item) for b in bounds})
            if all(protected(key, [b for b in bounds if (b.wave, b.item) == key]) for key in waves):
                for b in bounds:
                    accepted.setdefault((b.wave, b.item), []).append(b)
                hidden[unit] = False
            else:
                hidden[unit] = True
        records.append((row["wave_from"], row["wave_to"], row["item"], *(hidden[u] for u in PANEL_UNITS)))
    return pl.DataFrame(records, schema=PANEL_DECISION_SCHEMA, orient="row")
