"""Layer 3: the SQL models on a tiny hand-made work database."""

import graphlib
import math

import polars as pl
import pytest
from helpers import work_settings

from pipeline.codebook import load_codebook
from pipeline.contract import load_contract
from pipeline.marts.decisions import build_mart
from pipeline.settings import PROJECT_ROOT
from pipeline.warehouse import connect, load_codebook_tables, query_frame, replace_wave

SQL = PROJECT_ROOT / "sql"
CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
CONTRACT = load_contract(PROJECT_ROOT / "schemas" / "marts.yaml", SQL)


def in_build_order(contract):
    """The marts, each after the marts its SQL reads (Dagster's order in a build)."""
    by_name = {t.name: t for t in contract}
    return [by_name[n] for n in graphlib.TopologicalSorter({t.name: t.depends_on for t in contract}).static_order()]


def wilson(k: int, n: int, z: float = CODEBOOK.z) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return 100 * (centre - half), 100 * (centre + half)


@pytest.fixture
def marts(tmp_path):
    """Wave w1: 5 invited, respondents r1–r3 complete, r4 partial; P1 and V4 asked."""
    settings = work_settings(tmp_path)
    with connect(settings) as con:
        load_codebook_tables(con, CODEBOOK)
        replace_wave(
            con,
            "raw.waves",
            "w1",
            pl.DataFrame(
                {
                    "wave": ["w1"],
                    "label": ["Wave 1"],
                    "invited": [5],
                    "source_file": ["x.csv"],
                    "source_sha256": ["0" * 64],
                    "reader": ["csv"],
                    "exported_rows": [4],
                    "asked_items": [["P1", "V4"]],
                }
            ),
        )
        keys = ["a" * 16, "b" * 16, "c" * 16, "d" * 16]
        replace_wave(
            con,
            "staging.respondents",
            "w1",
            pl.DataFrame(
                {
                    "wave": ["w1"] * 4,
                    "respondent_key": keys,
                    "source_row": [1, 2, 3, 4],
                    "complete": [True, True, True, False],
                }
            ),
        )
        answers = [  # (respondent, item, category); r3 left P1 blank; r4 is partial
            (0, "P1", "very_high"),
            (1, "P1", "dont_know"),
            (3, "P1", "very_high"),
            (0, "V4", "yes"),
            (1, "V4", "no"),
            (2, "V4", "yes"),
        ]
        replace_wave(
            con,
            "staging.responses",
            "w1",
            pl.DataFrame(
                {
                    "wave": ["w1"] * len(answers),
                    "respondent_key": [keys[r] for r, _, _ in answers],
                    "source_row": [r + 1 for r, _, _ in answers],
                    "item": [i for _, i, _ in answers],
                    "category": [c for _, _, c in answers],
                    "complete": [r != 3 for r, _, _ in answers],
                }
            ),
        )
        params = {
            "z": CODEBOOK.z,
            "alpha": CODEBOOK.alpha,
            "small_n_below": CODEBOOK.small_n_below,
            "min_cell": 3,
            "min_group": 5,
        }
        for table in in_build_order(CONTRACT):
            build_mart(con, settings, table, params)
        yield con


def test_item_distribution_has_every_category_with_zeros(marts):
    d = query_frame(
        marts, "select item, category, n, base_n, pct from marts.item_distribution order by item, category_order"
    )
    assert d.filter(pl.col("item") == "P1").rows() == [
        ("P1", "very_high", 1, 2, 50.0),
        ("P1", "high", 0, 2, 0.0),
        ("P1", "some", 0, 2, 0.0),
        ("P1", "low", 0, 2, 0.0),
        ("P1", "not_at_all", 0, 2, 0.0),
        ("P1", "dont_know", 1, 2, 50.0),
    ]
    v4 = d.filter(pl.col("item") == "V4")
    assert v4.select("category", "n", "base_n").rows() == [("yes", 2, 3), ("no", 1, 3), ("dont_know", 0, 3)]
    assert v4["pct"].to_list() == pytest.approx([200 / 3, 100 / 3, 0.0])
    assert set(d["item"]) == {"P1", "V4"}  # items the wave did not ask get no rows


def test_indicators_for_a_degree_item(marts):
    row = query_frame(marts, "select * from marts.indicators_personal").row(0, named=True)
    assert (row["wave"], row["item"], row["n"], row["n_missing"]) == ("w1", "P1", 2, 1)
    assert (row["very_high_pct"], row["dont_know_pct"], row["high_pct"]) == (50.0, 50.0, 0.0)
    assert (row["top2_pct"], row["top3_pct"], row["headline_n"], row["headline_pct"]) == (50.0, 50.0, 1, 50.0)
    assert row["yes_pct"] is None
    assert row["mean_score"] == 5.0  # dont_know is not scored
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(wilson(1, 2))
    assert row["small_n"] is True


def test_indicators_for_a_yes_no_item(marts):
    row = query_frame(marts, "select * from marts.indicators_visibility").row(0, named=True)
    assert (row["item"], row["n"], row["n_missing"], row["headline_n"]) == ("V4", 3, 0, 2)
    assert row["yes_pct"] == pytest.approx(200 / 3)
    assert row["headline_pct"] == pytest.approx(200 / 3)
    assert row["top2_pct"] is None and row["mean_score"] is None
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(wilson(2, 3))


def test_waves_counts_complete_partial_and_rate(marts):
    assert query_frame(
        marts, "select wave, invited, exported_rows, complete, partial, response_rate from marts.waves"
    ).rows() == [("w1", 5, 4, 3, 1, 60.0)]


def test_level_tables_split_item_indicators(marts):
    counts = {
        t: query_frame(marts, "select count(*) as n from marts." + t)["n"][0]
        for t in ("indicators_personal", "indicators_institutional", "indicators_citizen", "indicators_visibility")
    }
    assert counts == {
        "indicators_personal": 1,
        "indicators_institutional": 0,
        "indicators_citizen": 0,
        "indicators_visibility": 1,
    }


def test_wilson_matches_the_published_example():
    low, high = wilson(6, 10)
    assert (round(low, 1), round(high, 1)) == (31.3, 83.2)


def test_contract_documents_every_column_of_every_mart(marts):
    for table in CONTRACT:
        got = query_frame(marts, "select * from marts." + table.name + " limit 0").columns
        assert got == list(table.columns), table.name


def test_every_codebook_category_has_an_indicator_column():
    columns = next(t for t in CONTRACT if t.name == "item_indicators").columns
    for scale in CODEBOOK.scales.values():
        for category in scale.categories:
            assert f"{category.key}_pct" in columns


def test_every_level_has_its_indicator_table():
    assert {t.name for t in CONTRACT if t.name.startswith("indicators_")} == {
        f"indicators_{k}" for k in CODEBOOK.levels
    }


def test_a_level_added_to_the_codebook_gets_its_indicator_table(tmp_path):
    """indicators_<level> is one table per level of the codebook, all from sql/marts/indicators_level.sql."""
    import yaml

    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "marts.yaml").write_text((PROJECT_ROOT / "schemas" / "marts.yaml").read_text(encoding="utf-8"))
    codebook = yaml.safe_load((PROJECT_ROOT / "schemas" / "codebook.yaml").read_text(encoding="utf-8"))
    codebook["levels"]["regional"] = {
        "order": 5,
        "label": {"nb": "Regionalt nivå", "da": "Regionalt niveau", "en": "Regional level"},
        "description": {"nb": "Regionen.", "da": "Regionen.", "en": "Cooperation in the region."},
    }
    (schemas / "codebook.yaml").write_text(yaml.safe_dump(codebook, allow_unicode=True), encoding="utf-8")
    contract = load_contract(schemas / "marts.yaml", SQL)
    regional = next(t for t in contract if t.name == "indicators_regional")
    assert regional.sql_path == SQL / "marts" / "indicators_level.sql" and regional.params == (("level", "regional"),)
    assert regional.description == (
        "Indicators of the regional level (cooperation in the region) (see item_indicators): one row per wave and "
        "item of the level."
    )
    assert [t.name for t in contract if t.name.startswith("indicators_")] == [
        "indicators_personal",
        "indicators_institutional",
        "indicators_citizen",
        "indicators_visibility",
        "indicators_regional",
    ]
