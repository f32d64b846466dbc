"""sql/macros/intervals.sql on an in-memory DuckDB: the paired-proportions interval against Newcombe's published
worked examples, and the t quantiles against the printed tables."""

from __future__ import annotations

import duckdb
import pytest

from pipeline.codebook import load_codebook
from pipeline.settings import PROJECT_ROOT

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")

# Newcombe RG (1998), "Improved confidence intervals for the difference between binomial proportions based on
# paired data", Statistics in Medicine 17:2635–2650: method 10 (hybrid score, no continuity correction), 95 %
# limits for (a + b) / n − (a + c) / n, a = positive on both occasions, d = negative on both. The limits as printed
# (to 4 decimals), as quoted by the test suites of implementations of the paper (e.g. m-Py/propint,
# tests/testthat/test_Two_Dependent_Props_CI.R, for the rows 36,12,2,0 · 18,12,2,18 · 53,0,0,1 · 0,30,0,0).
NEWCOMBE_1998_METHOD_10 = [
    ((36, 12, 2, 0), (0.0569, 0.3404)),
    ((20, 12, 2, 16), (0.0562, 0.3292)),
    ((18, 12, 2, 18), (0.0562, 0.3290)),
    ((36, 14, 0, 0), (0.1528, 0.4167)),
    ((35, 14, 0, 1), (0.1461, 0.4175)),
    ((18, 14, 0, 18), (0.1441, 0.3963)),
    ((2, 97, 1, 0), (0.8721, 0.9854)),
    ((0, 29, 1, 0), (0.6666, 0.9882)),
    ((2, 98, 0, 0), (0.9178, 0.9945)),
    ((1, 98, 0, 1), (0.9171, 0.9916)),
    ((0, 30, 0, 0), (0.8395, 1.0)),
    ((54, 0, 0, 0), (-0.0664, 0.0664)),
    ((53, 0, 0, 1), (-0.0729, 0.0729)),
    ((30, 0, 0, 24), (-0.0358, 0.0358)),
    ((29, 0, 0, 25), (-0.0354, 0.0354)),
    ((28, 0, 0, 26), (-0.0352, 0.0352)),
    ((27, 0, 0, 27), (-0.0351, 0.0351)),
]

# Student's t, two-sided 95 % (the 0.975 quantile), as printed in the usual tables (3 decimals).
T_975 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    15: 2.131,
    20: 2.086,
    25: 2.060,
    30: 2.042,
    40: 2.021,
    60: 2.000,
    120: 1.980,
}


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    con.execute((PROJECT_ROOT / "sql" / "macros" / "intervals.sql").read_text(encoding="utf-8"))
    yield con
    con.close()


def paired(con, a: int, b: int, c: int, d: int) -> tuple[float, float]:
    low, high = con.execute(
        "select newcombe_paired_low($a, $b, $c, $d, $z), newcombe_paired_high($a, $b, $c, $d, $z)",
        {"a": a, "b": b, "c": c, "d": d, "z": CODEBOOK.z},
    ).fetchall()[0]
    return low / 100, high / 100


@pytest.mark.parametrize("cells, printed", NEWCOMBE_1998_METHOD_10, ids=lambda v: ",".join(map(str, v)))
def test_newcombe_paired_reproduces_the_papers_examples(con, cells, printed):
    low, high = paired(con, *cells)
    assert (round(low, 4), round(high, 4)) == printed


def test_newcombe_paired_example_printed_one_digit_lower(con):
    """1, 97, 1, 1: the quoted lower limit is 0.8736; the formula gives 0.873672 (0.8737 rounded; the quote may be
    truncated). The upper limit agrees to 4 decimals."""
    low, high = paired(con, 1, 97, 1, 1)
    assert low == pytest.approx(0.8736, abs=1e-4) and round(high, 4) == 0.9850


def test_newcombe_paired_is_null_without_pairs(con):
    assert con.execute("select newcombe_paired_low(0, 0, 0, 0, 1.96)").fetchall() == [(None,)]


@pytest.mark.parametrize("df, printed", sorted(T_975.items()))
def test_t_quantile_matches_the_tables(con, df, printed):
    got = con.execute(
        "select t_quantile($alpha, $z, $df)", {"alpha": CODEBOOK.alpha, "z": CODEBOOK.z, "df": df}
    ).fetchall()[0][0]
    assert round(got, 3) == printed


# qt(0.975, df) in R, to 6 decimals: Hill's approximation stays within 1e-4 of it.
T_975_EXACT = {3: 3.182446, 4: 2.776445, 5: 2.570582, 7: 2.364624, 10: 2.228139, 30: 2.042272, 100: 1.983972}


@pytest.mark.parametrize("df, exact", sorted(T_975_EXACT.items()))
def test_t_quantile_is_within_1e4_of_the_exact_quantile(con, df, exact):
    got = con.execute(
        "select t_quantile($alpha, $z, $df)", {"alpha": CODEBOOK.alpha, "z": CODEBOOK.z, "df": df}
    ).fetchall()[0][0]
    assert got == pytest.approx(exact, abs=1e-4)


def test_t_quantile_is_null_below_one_degree_of_freedom(con):
    assert con.execute("select t_quantile(0.05, 1.96, 0)").fetchall() == [(None,)]
