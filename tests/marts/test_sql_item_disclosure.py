"""sql/marts/item_disclosure.sql, the one disclosure decision of the public profile, on tiny DuckDB files: one
wave, one item at a time, counts given per category."""

import dataclasses

import polars as pl
import pytest
from helpers import work_settings

from pipeline.codebook import load_codebook
from pipeline.contract import load_contract
from pipeline.marts.decisions import build_mart
from pipeline.settings import PROJECT_ROOT
from pipeline.warehouse import connect, load_codebook_tables, query_frame

SQL = PROJECT_ROOT / "sql"
TABLES = {t.name: t for t in load_contract(PROJECT_ROOT / "schemas" / "marts.yaml", SQL)}
GROUP_COLUMNS = [  # marts.group_distribution's columns the decision reads
    ("wave", "varchar"),
    ("item", "varchar"),
    ("item_order", "integer"),
    ("variable", "varchar"),
    ("variable_public", "boolean"),
    ('"group"', "varchar"),
    ("group_n", "bigint"),
    ("category", "varchar"),
    ("category_order", "integer"),
    ("n", "bigint"),
    ("headline", "boolean"),
]
CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
DEGREE = ["very_high", "high", "some", "low", "not_at_all", "dont_know"]
YES_NO = ["yes", "no", "dont_know"]


def decide(tmp_path, item: str, counts: list[int], min_cell: int = 3) -> pl.DataFrame:
    """item_disclosure for one item of one wave whose distribution has these counts (category order)."""
    keys = [c.key for c in CODEBOOK.scale_of(item).categories]
    base = sum(counts)
    distribution = pl.DataFrame(
        {
            "wave": ["w"] * len(keys),
            "level": [CODEBOOK.items[item].level] * len(keys),
            "item": [item] * len(keys),
            "item_order": [CODEBOOK.items[item].order] * len(keys),
            "category": keys,
            "category_order": list(range(1, len(keys) + 1)),
            "label": keys,
            "n": counts,
            "base_n": [base] * len(keys),
            "pct": [100.0 * n / base if base else None for n in counts],
        }
    )
    settings = dataclasses.replace(
        work_settings(tmp_path / f"{item}-{'-'.join(map(str, counts))}"), profile="public", min_cell=min_cell
    )
    with connect(settings) as con:
        load_codebook_tables(con, CODEBOOK)
        con.register("distribution", distribution.to_arrow())
        con.execute("create or replace table marts.item_distribution as select * from distribution")
        # one wave of `base` complete answers, no groups: the decision over the overall distribution alone
        con.execute(
            "create or replace table marts.waves as select 'w' as wave, ?::bigint as complete, ?::bigint as invited",
            [base, base],
        )
        groups = ", ".join(f"{name} {kind}" for name, kind in GROUP_COLUMNS)
        con.execute(f"create or replace table marts.group_distribution ({groups})")
        panel = ", ".join(f"{name} {kind}" for name, kind in TABLES["panel_change"].types.items())
        con.execute(f"create or replace table marts.panel_change ({panel})")  # no panel
        for name in ("disclosure", "item_disclosure"):
            build_mart(con, settings, TABLES[name], {"min_cell": min_cell})
        return query_frame(con, "select * from marts.item_disclosure order by category_order")


def hidden(frame: pl.DataFrame) -> dict[str, str]:
    return dict(frame.filter(pl.col("hidden")).select("category", "hidden_because").rows())


def flags(frame: pl.DataFrame) -> tuple[bool, bool, bool, bool, bool]:
    row = frame.row(0, named=True)
    return row["base_hidden"], row["headline_hidden"], row["top2_hidden"], row["top3_hidden"], row["mean_hidden"]


def test_small_counts_are_hidden_and_every_figure_built_on_them(tmp_path):
    p1 = decide(tmp_path, "P1", [5, 4, 1, 0, 0, 0])  # the sample's P1
    # the four small cells sum to 10 − 5 − 4 = 1: none could reach 3, so very_high or high is hidden too (which one
    # the keyed tie-break decides), and the headline 5 + 4 with it, which would give it back
    p1_hidden = hidden(p1)
    small = ["some", "low", "not_at_all", "dont_know"]
    assert {k: v for k, v in p1_hidden.items() if v == "small"} == dict.fromkeys(small, "small")
    assert [k for k, v in p1_hidden.items() if v == "complementary"] in (["very_high"], ["high"])
    assert flags(p1) == (False, True, True, True, True)


def test_a_headline_built_on_a_hidden_zero_is_hidden(tmp_path):
    p3 = decide(tmp_path, "P3", [0, 3, 6, 1, 0, 0])  # the sample's P3: its "30 %" would reveal very_high = 0
    # the small cells (0, 1, 0, 0) need company: some, or high and some (the keyed tie-break decides); the top-3
    # and the mean rest on hidden counts
    p3_hidden = hidden(p3)
    small = ["very_high", "low", "not_at_all", "dont_know"]
    assert {k: v for k, v in p3_hidden.items() if v == "small"} == dict.fromkeys(small, "small")
    assert sorted(k for k, v in p3_hidden.items() if v == "complementary") in (["some"], ["high", "some"])
    assert flags(p3)[0] is False and flags(p3)[3:] == (True, True)


def test_a_single_hidden_cell_gets_a_complementary_one(tmp_path):
    v = decide(tmp_path, "V4", [4, 4, 2])  # n − 4 − 4 would give dont_know = 2
    assert hidden(v) == {"dont_know": "small", "no": "complementary"}  # outside the headline: "yes" can stay
    assert flags(v) == (False, False, False, False, False)
    y = decide(tmp_path, "V4", [2, 0, 0])  # n = 2 < 3: all hidden
    assert flags(y)[0]


def test_hidden_cells_that_are_all_zero_get_a_complementary_one(tmp_path):
    v = decide(tmp_path, "V4", [5, 5, 0])  # n − 5 − 5 = 0 would show dont_know = 0
    assert hidden(v) == {"dont_know": "small", "no": "complementary"}
    d = decide(tmp_path, "P2", [3, 3, 4, 0, 0, 0])
    assert hidden(d) == {"low": "small", "not_at_all": "small", "dont_know": "small", "some": "complementary"}
    assert flags(d) == (False, False, False, True, True)


def test_a_small_base_hides_the_whole_item(tmp_path):
    v = decide(tmp_path, "V4", [1, 1, 0])
    assert hidden(v) == {"yes": "base_n", "no": "base_n", "dont_know": "base_n"}
    assert flags(v) == (True, True, True, True, True)  # every figure of a hidden base is hidden


def test_nothing_is_hidden_when_every_count_is_large_enough(tmp_path):
    d = decide(tmp_path, "P1", [3, 4, 5, 3, 3, 3])
    assert hidden(d) == {} and flags(d) == (False, False, False, False, False)
    assert decide(tmp_path, "P1", [3, 4, 5, 3, 3, 3], min_cell=4)["hidden"].to_list() == [
        True,
        False,
        False,
        True,
        True,
        True,
    ]


@pytest.mark.parametrize(
    "counts",
    [
        [5, 4, 1, 0, 0, 0],
        [0, 3, 6, 1, 0, 0],
        [1, 1, 6, 2, 0, 0],
        [3, 3, 3, 0, 0, 1],
        [2, 3, 3, 2, 0, 0],
        [0, 0, 10, 0, 0, 0],
        [9, 1, 0, 0, 0, 0],
    ],
)
def test_no_hidden_count_follows_from_the_base_and_the_shown_counts(tmp_path, counts):
    """Brute force: every split of n − shown over the hidden cells; each hidden cell must have two values."""
    import itertools

    d = decide(tmp_path, "P1", counts)
    cells = dict(zip(DEGREE, counts))
    secret = [k for k in DEGREE if k in hidden(d)]
    rest = sum(counts) - sum(n for k, n in cells.items() if k not in secret)
    possible = {k: set() for k in secret}
    for values in itertools.product(range(rest + 1), repeat=len(secret)):
        if sum(values) == rest:
            for k, v in zip(secret, values):
                possible[k].add(v)
    assert all(len(v) >= 2 for v in possible.values()), possible
