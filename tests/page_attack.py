"""An attacker holding only the public pages: read every by-group table (the "All" row and each group's row: n, the
stacked bar's counts, the headline share), write every relation the page states (a row's counts sum to its n, the
groups of a variable sum to the "All" row, the headline share × n) and compute each hidden count's feasible range
by linear programming. A hidden count is recovered when its range is a single value."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import linprog

HIDDEN = ":"


@dataclass
class GroupRow:
    group: str
    n: int | None
    counts: dict[str, int | None]  # category label → count, None where the page prints ":"
    share: int | None  # headline share in whole percent, None where hidden


@dataclass
class ByGroupBlock:
    page: str
    table: str  # the table's id (level and variable)
    item: str
    rows: list[GroupRow] = field(default_factory=list)


_ROW = re.compile(r"<tr>\s*<th scope=\"row\"[^>]*>(.*?)</th>(.*?)</tr>", re.S)
_CELL = re.compile(r"<td headers=\"[^\"]*-(n|bars|share|mean)\"[^>]*>(.*?)</td>", re.S)
_HEADING = re.compile(r"<th class=\"gt_group_heading\"[^>]*>(.*?)</th>", re.S)


def _count(text: str) -> int | None:
    text = text.strip()
    if text == HIDDEN:
        return None
    m = re.match(r"(\d+)", text)
    assert m, text
    return int(m.group(1))


def table_rows(page: Path) -> list[list[str]]:
    """Every table row of a page as its cells' text (charts left out)."""
    text = re.sub(r"<(style|svg)\b.*?</\1>", "", page.read_text(encoding="utf-8"), flags=re.S)
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)]
        for r in re.findall(r"<tr[^>]*>(.*?)</tr>", text, re.S)
    ]


def read_by_group(page: Path) -> list[ByGroupBlock]:
    """Every by-group table of a page, one block per item."""
    text = page.read_text(encoding="utf-8")
    blocks: list[ByGroupBlock] = []
    for m in re.finditer(r'<div id="(by-group-[^"]+)"', text):
        table_id = m.group(1)
        end = text.find("</table>", m.end())
        body = text[m.end() : end]
        parts = re.split(r'(<tr class="gt_group_heading_row">.*?</tr>)', body, flags=re.S)
        block = None
        for part in parts:
            heading = _HEADING.search(part)
            if heading and part.startswith('<tr class="gt_group_heading_row"'):
                item = html.unescape(heading.group(1)).split(" · ")[0]
                block = ByGroupBlock(page.name, table_id, item)
                blocks.append(block)
                continue
            for row in _ROW.finditer(part):
                cells = dict(_CELL.findall(row.group(2)))
                label = re.search(r'aria-label="([^"]*)"', cells["bars"])
                counts = {}
                if label and html.unescape(label.group(1)) != HIDDEN:
                    for pair in html.unescape(label.group(1)).split("; "):
                        category, _, value = pair.rpartition(": ")
                        counts[category] = _count(value)
                share = cells["share"].strip()
                block.rows.append(
                    GroupRow(
                        html.unescape(row.group(1)).strip(),
                        _count(cells["n"]),
                        counts,
                        None if share == HIDDEN else int(re.match(r"(\d+)", share).group(1)),
                    )
                )
    return blocks


def recovered(block: ByGroupBlock, categories: list[str], headline: list[str], bound: int) -> dict[tuple, int]:
    """The hidden counts (and hidden n's) of one block that the page's relations pin to one value."""
    variables: dict[tuple, int] = {}
    fixed: dict[tuple, int] = {}

    def var(key: tuple, value: int | None) -> None:
        if value is None:
            variables.setdefault(key, len(variables))
        else:
            fixed[key] = value

    for row in block.rows:
        var((row.group, "n"), row.n)
        for c in categories:
            # a row whose bar is hidden whole prints no counts: each is unknown
            var((row.group, c), row.counts.get(c) if row.counts else None)
    relations: list[tuple[dict, float, float]] = []
    for row in block.rows:
        relations.append(({(row.group, "n"): -1, **{(row.group, c): 1 for c in categories}}, 0, 0))
        if row.share is not None and row.n:
            # the share printed in whole percent: headline / n within ±0.5 % of it
            lo, hi = (row.share - 0.5) * row.n / 100, (row.share + 0.5) * row.n / 100
            relations.append(({(row.group, c): 1 for c in headline}, lo, hi))
    everyone, groups = block.rows[0], block.rows[1:]
    for key in ["n", *categories]:
        relations.append(({(everyone.group, key): -1, **{(g.group, key): 1 for g in groups}}, 0, 0))
    return {key: low for key, (low, high) in ranges(fixed, variables, relations, bound).items() if low == high}


# --- the response and panel counts of waves.html and panel.html ------------------------------------------------
_PAIR = re.compile(r"^\S+ (\S+) → (\S+)$")  # "Runde <from> → <to>"
_SHARED = re.compile(r"\S+ (\S+) \S+ (\S+) \S+ (:|\d+) \S+:")  # "Rundene <a> og <b> deler <n> personer: …"


def _value(text: str) -> int | None:
    return None if text.strip() == HIDDEN else int(text.strip())


def panel_counts_from_pages(reports_dir: Path) -> tuple[dict, dict, list]:
    """What waves.html and panel.html print of the response and panel counts: the known values, the hidden ones
    (as unknowns) and every relation between them: (fixed, unknown, relations), keys such as ("complete", wave),
    ("answered_both", from, to); a relation is (coefficients, lower, upper)."""
    fixed: dict[tuple, int] = {}
    unknown: dict[tuple, int] = {}
    relations: list[tuple[dict, float, float]] = []

    def put(key: tuple, value: int | None) -> None:
        if value is None:
            unknown.setdefault(key, len(unknown))
        else:
            fixed[key] = value

    waves = []
    for row in table_rows(reports_dir / "waves.html"):
        if len(row) == 7 and row[3].isdigit() and re.match(r"\d{4}-\d\d-\d\d$", row[2]):
            wave = row[0]
            waves.append(wave)
            put(("complete", wave), _value(row[4]))
            put(("partial", wave), _value(row[5]))
            relations.append(({("complete", wave): 1, ("partial", wave): 1}, 0, int(row[3])))
    text = re.sub(r"<[^>]+>", " ", (reports_dir / "waves.html").read_text(encoding="utf-8"))
    shared = {(m.group(1), m.group(2)): _value(m.group(3)) for m in _SHARED.finditer(html.unescape(text))}
    pairs, most_pairs, current = [], {}, None
    for row in table_rows(reports_dir / "panel.html"):
        m = _PAIR.match(row[0]) if row else None
        if m and len(row) == 6:
            f, t = m.groups()
            pairs.append((f, t))
            put(("linked_from", f, t), _value(row[1]))
            for key, cell in (("answered_both", row[2]), ("left_after", row[4]), ("joined", row[5])):
                put((key, f, t), _value(cell))
            put(("linked_to", f, t), None)
            put(("shared", f, t), shared.get((f, t)))
            if row[3] != HIDDEN:  # answered again / answered the first wave, in whole percent
                pct = int(row[3].split()[0])
                relations.append(
                    ({("answered_both", f, t): 1, ("linked_from", f, t): -(pct - 0.5) / 100}, 0, float("inf"))
                )
                relations.append(
                    ({("answered_both", f, t): -1, ("linked_from", f, t): (pct + 0.5) / 100}, 0, float("inf"))
                )
        elif m and len(row) == 1:
            current = m.groups()
        elif current and len(row) == 7 and row[2] != HIDDEN and row[2].isdigit():
            most_pairs[current] = max(most_pairs.get(current, 0), int(row[2]))
    for f, t in pairs:
        k = {c: (c, f, t) for c in ("linked_from", "linked_to", "answered_both", "left_after", "joined", "shared")}
        relations += [
            ({k["linked_from"]: 1, k["answered_both"]: -1, k["left_after"]: -1}, 0, 0),
            ({k["linked_to"]: 1, k["answered_both"]: -1, k["joined"]: -1}, 0, 0),
            ({("complete", f): 1, ("partial", f): 1, k["linked_from"]: -1}, 0, float("inf")),
            ({("complete", t): 1, ("partial", t): 1, k["linked_to"]: -1}, 0, float("inf")),
            ({k["answered_both"]: 1, k["shared"]: -1}, 0, float("inf")),
            ({("complete", f): 1, k["shared"]: -1}, 0, float("inf")),
            ({("complete", t): 1, k["shared"]: -1}, 0, float("inf")),
            ({k["shared"]: 1}, most_pairs.get((f, t), 0), float("inf")),
        ]
        after = next(((g, u) for g, u in pairs if g == t), None)
        if after:
            relations.append(({k["linked_to"]: 1, ("linked_from", *after): -1}, 0, 0))
    return fixed, unknown, relations


def ranges(fixed: dict, unknown: dict, relations: list, bound: float) -> dict[tuple, tuple[int, int]]:
    """Each unknown's feasible range (whole numbers) under the relations (coefficients over known and unknown keys,
    lower, upper), every unknown in [0, bound]."""
    a_ub, b_ub = [], []
    for coefs, lo, hi in relations:
        a = np.zeros(len(unknown))
        rhs = 0.0
        for key, c in coefs.items():
            if key in unknown:
                a[unknown[key]] += c
            else:
                rhs -= c * fixed[key]
        if not a.any():
            continue
        if np.isfinite(hi):
            a_ub.append(a)
            b_ub.append(hi + rhs)
        a_ub.append(-a)
        b_ub.append(-(lo + rhs))
    out = {}
    for key, j in unknown.items():
        extremes = []
        for sense in (1, -1):
            c = np.zeros(len(unknown))
            c[j] = sense
            res = linprog(
                c,
                A_ub=np.array(a_ub) if a_ub else None,
                b_ub=b_ub or None,
                bounds=[(0, bound)] * len(unknown),
                method="highs",
            )
            assert res.status == 0, (key, res.message)
            extremes.append(sense * res.fun)
        out[key] = (int(np.ceil(extremes[0] - 1e-6)), int(np.floor(extremes[1] + 1e-6)))
    return out
