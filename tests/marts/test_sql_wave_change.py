"""Mart wave_change, the change per item between consecutive waves with Newcombe's 95 % interval."""

import math

import dagster as dg
import pytest
from helpers import build, copy_sample_wave, make_settings, query, read_sample_rows, write_csv_wave
from waves_helpers import CODEBOOK, item_column, label, write_second_wave

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)

Z = CODEBOOK.z


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson score interval (independent of the SQL), in percent."""
    p = k / n
    centre = p + Z * Z / (2 * n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return 100 * max(0.0, (centre - half) / (1 + Z * Z / n)), 100 * min(1.0, (centre + half) / (1 + Z * Z / n))


def newcombe(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float]:
    """Difference p2 − p1 (percentage points) with Newcombe's hybrid score interval (his method 10)."""
    p1, p2 = 100 * k1 / n1, 100 * k2 / n2
    l1, u1 = wilson(k1, n1)
    l2, u2 = wilson(k2, n2)
    d = p2 - p1
    return d, d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2), d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)


def build_ok(settings) -> None:
    with dg.instance_for_test() as instance:
        assert build(settings, instance) == 0


def test_newcombe_1998_worked_example(tmp_path):
    """Newcombe (1998, Statistics in Medicine 17:873), example (a): 56/70 − 48/80 = 0.2000, method 10 interval
    0.0524 to 0.3339. Built as a yes/no item answered by 80 respondents (48 yes) and then 70 (56 yes)."""
    settings = make_settings(tmp_path)
    headers, _ = read_sample_rows()
    v4 = item_column(headers, "V4")
    yes, no = label("yes_no", "yes"), label("yes_no", "no")

    def rows(n: int, k: int, prefix: str) -> list[list[str]]:
        out = []
        for i in range(n):
            row = [""] * len(headers)
            row[0], row[1], row[v4] = f"{prefix}{i:03d}", "Fullført", yes if i < k else no
            out.append(row)
        return out

    write_csv_wave(
        settings.raw_dir,
        "first",
        headers,
        rows(80, 48, "A"),
        invited=100,
        fielded="2025-03-01",
        columns={"Tidsstempel": "submitted_at"},
    )
    write_csv_wave(
        settings.raw_dir,
        "second",
        headers,
        rows(70, 56, "B"),
        invited=100,
        fielded="2026-03-01",
        columns={"Tidsstempel": "submitted_at"},
    )
    build_ok(settings)
    got = query(
        settings,
        "select wave_from, wave_to, n_from, n_to, headline_n_from, headline_n_to, headline_diff, "
        "headline_diff_ci_low, headline_diff_ci_high, top3_diff, mean_score_diff "
        "from wave_change where item = 'V4'",
    ).rows()
    assert len(got) == 1
    wave_from, wave_to, n_from, n_to, k_from, k_to, diff, lo, hi, top3, mean = got[0]
    assert (wave_from, wave_to, n_from, n_to, k_from, k_to) == ("first", "second", 80, 70, 48, 56)
    assert diff == pytest.approx(20.0)
    assert (round(lo, 2), round(hi, 2)) == (5.24, 33.39)
    assert (top3, mean) == (None, None)  # yes/no items have no top-3 share and no score


@pytest.fixture(scope="module")
def two_waves(tmp_path_factory):
    """2024 (the sample) and 2026: every P1 answer 'high', V6 not asked."""
    settings = make_settings(tmp_path_factory.mktemp("twowaves"))
    copy_sample_wave(settings.raw_dir)

    def change(headers, rows):
        p1, v6 = item_column(headers, "P1"), item_column(headers, "V6")
        for r in rows:
            r[p1] = label("degree", "high")
            del r[v6]
        del headers[v6]

    write_second_wave(settings.raw_dir, "2026", change=change)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PIPELINE_PSEUDONYM_KEY", "test-key")
        build_ok(settings)
    return settings


def test_one_row_per_closed_item_and_pair(two_waves):
    got = query(two_waves, "select wave_from, wave_to, count(*) as items from wave_change group by all").rows()
    assert got == [("2024", "2026", len(CODEBOOK.closed_items()))]


def test_change_of_p1_is_exact(two_waves):
    row = query(two_waves, "select * from wave_change where item = 'P1'").to_dicts()[0]
    # 2024: 5 very high, 4 high, 1 some of 10 → top-2 9/10, top-3 10/10, mean 4.4; 2026: 10 high → 10/10, 4.0
    assert (row["level"], row["scale"], row["n_from"], row["n_to"]) == ("personal", "degree", 10, 10)
    assert (row["headline_n_from"], row["headline_n_to"], row["top3_n_from"], row["top3_n_to"]) == (9, 10, 10, 10)
    assert (row["headline_pct_from"], row["headline_pct_to"]) == (pytest.approx(90.0), pytest.approx(100.0))
    d, lo, hi = newcombe(9, 10, 10, 10)
    assert (row["headline_diff"], row["headline_diff_ci_low"], row["headline_diff_ci_high"]) == (
        pytest.approx(d),
        pytest.approx(lo),
        pytest.approx(hi),
    )
    assert (round(row["headline_diff_ci_low"], 2), round(row["headline_diff_ci_high"], 2)) == (-18.94, 40.42)
    d3, lo3, hi3 = newcombe(10, 10, 10, 10)
    assert (row["top3_diff"], row["top3_diff_ci_low"], row["top3_diff_ci_high"]) == (
        pytest.approx(d3),
        pytest.approx(lo3),
        pytest.approx(hi3),
    )
    assert round(row["top3_diff_ci_high"], 2) == 27.75
    assert (row["mean_score_from"], row["mean_score_to"], row["mean_score_diff"]) == (
        pytest.approx(4.4),
        pytest.approx(4.0),
        pytest.approx(-0.4),
    )
    assert row["small_n"] is True


def test_item_not_asked_in_one_wave_keeps_its_row_without_change(two_waves):
    row = query(
        two_waves,
        "select n_from, n_to, headline_pct_from, headline_pct_to, headline_diff, "
        "headline_diff_ci_low, mean_score_diff from wave_change where item = 'V6'",
    ).rows()
    assert row == [(10, 0, pytest.approx(30.0), None, None, None, None)]


def test_unchanged_item_has_zero_change_and_symmetric_interval(two_waves):
    lo, hi = query(
        two_waves, "select headline_diff_ci_low, headline_diff_ci_high from wave_change where item = 'V4'"
    ).rows()[0]
    d, elo, ehi = newcombe(4, 10, 4, 10)
    assert (lo, hi) == (pytest.approx(elo), pytest.approx(ehi))
    assert lo == pytest.approx(-hi)
    assert round(hi, 2) == 36.92  # sqrt((68.73 − 40)² + (40 − 16.82)²), Wilson 4/10 = 16.82–68.73


def test_pairs_follow_the_fielded_dates_not_the_keys(tmp_path):
    """Three waves: keys sort 2024, later, mid; fielded dates say 2024 → mid → later. Only consecutive pairs."""
    settings = make_settings(tmp_path)
    copy_sample_wave(settings.raw_dir)
    write_second_wave(settings.raw_dir, "later", fielded="2026-05-01")
    write_second_wave(settings.raw_dir, "mid", fielded="2025-05-01")
    build_ok(settings)
    pairs = query(settings, "select distinct wave_from, wave_to from wave_change order by wave_from").rows()
    assert sorted(pairs) == [("2024", "mid"), ("mid", "later")]
    assert query(settings, "select count(*) from wave_change").item() == 2 * len(CODEBOOK.closed_items())


def test_a_single_wave_has_no_change_rows(tmp_path):
    settings = make_settings(tmp_path)
    copy_sample_wave(settings.raw_dir)
    build_ok(settings)
    assert query(settings, "select count(*) from wave_change").item() == 0
