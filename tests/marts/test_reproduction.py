"""Layer 4: the whole build of the sample wave 2024 into tmp_path, as `make run` does it."""

import json
import subprocess

import duckdb
import pytest
from helpers import build, copy_sample_wave, make_settings, query

from pipeline.contract import load_contract
from pipeline.marts.reproduction import compare, load_reference
from pipeline.settings import PROJECT_ROOT

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)

CORE_TABLES = {
    "codebook_levels",
    "codebook_items",
    "codebook_categories",
    "responses",
    "waves",
    "item_distribution",
    "item_indicators",
    "indicators_personal",
    "indicators_institutional",
    "indicators_citizen",
    "indicators_visibility",
    "quarantine",
    "open_answers",
}
MART_TABLES = [t.name for t in load_contract(PROJECT_ROOT / "schemas" / "marts.yaml", PROJECT_ROOT / "sql")]


@pytest.fixture(scope="module")
def built(sample_build):
    """The session's build of the sample wave (tests/conftest.py): its settings and exit code (it asserted 0)."""
    return sample_build, 0


def test_build_succeeds_and_publishes(built):
    settings, code = built
    assert code == 0
    assert settings.published_db.is_file()
    tables = query(settings, "select table_name from duckdb_tables() order by table_name")["table_name"].to_list()
    assert tables == sorted(MART_TABLES)
    assert CORE_TABLES <= set(tables)


def test_response_rate_is_10_of_12(built):
    settings, _ = built
    assert query(
        settings, "select wave, invited, exported_rows, complete, partial, response_rate, reconstruction from waves"
    ).rows() == [("2024", 12, 10, 10, 0, pytest.approx(100 * 10 / 12), True)]


def test_every_published_percentage_is_reproduced(built):
    settings, _ = built
    reference = load_reference(PROJECT_ROOT / "schemas" / "published_2024.yaml")
    compared, mismatches = compare(
        reference, query(settings, "select * from item_indicators"), query(settings, "select * from waves")
    )
    assert compared == 37
    assert [str(m) for m in mismatches] == []


def test_a_changed_figure_is_reported_as_a_mismatch(built):
    settings, _ = built
    reference = load_reference(PROJECT_ROOT / "schemas" / "published_2024.yaml")
    reference["items"]["P1"]["very_high"] = 60
    _, mismatches = compare(
        reference, query(settings, "select * from item_indicators"), query(settings, "select * from waves")
    )
    assert [str(m) for m in mismatches] == ["P1 very_high: published 60, marts 50"]


def test_distribution_of_figure_6(built):
    settings, _ = built
    rows = query(
        settings, "select category, n, base_n, pct from item_distribution where item = 'I1' order by category_order"
    ).rows()
    assert rows == [
        ("very_high", 1, 10, 10.0),
        ("high", 3, 10, 30.0),
        ("some", 4, 10, 40.0),
        ("low", 2, 10, 20.0),
        ("not_at_all", 0, 10, 0.0),
        ("dont_know", 0, 10, 0.0),
    ]


def test_fact_tables_hold_every_answer(built):
    settings, _ = built
    assert query(settings, "select count(*) as n, count(distinct respondent_key) as r from responses").row(0) == (
        180,
        10,
    )
    assert query(settings, "select item, count(*) as n from open_answers group by item order by item").rows() == [
        ("OC", 3),
        ("OI", 2),
        ("OP", 3),
    ]
    assert query(settings, "select count(*) as n from quarantine")["n"][0] == 0


def test_respondent_ids_are_pseudonymised(built):
    settings, _ = built
    keys = query(settings, "select distinct respondent_key from responses")["respondent_key"].to_list()
    assert all(len(k) == 16 and set(k) <= set("0123456789abcdef") for k in keys)
    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        for table in MART_TABLES:
            text = str(con.execute("select * from " + table).fetchall())
            assert "R001" not in text and "R010" not in text, table
    finally:
        con.close()


def test_duckdb_cli_reads_the_published_file_and_its_comments(built):
    settings, _ = built
    result = subprocess.run(
        [
            str(PROJECT_ROOT / ".venv" / "bin" / "duckdb"),
            "-readonly",
            "-csv",
            str(settings.published_db),
            "-c",
            "select comment from duckdb_tables() where table_name = 'waves'",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "response rate" in result.stdout


def test_manifest_names_inputs_and_counts(built):
    settings, _ = built
    manifest = json.loads((settings.marts_dir / "manifest.json").read_text())
    assert manifest["inputs"][0]["wave"] == "2024"
    assert len(manifest["inputs"][0]["sha256"]) == 64
    assert manifest["tables"]["responses"] == 180
    assert sorted(p.name for p in (settings.marts_dir / "parquet").iterdir()) == sorted(
        t + ".parquet" for t in MART_TABLES
    )


def test_summary_pages_are_written(built):
    settings, _ = built
    for page in ("index", "personal", "institutional", "citizen", "visibility"):
        assert (settings.reports_dir / f"{page}.html").is_file()
    personal = (settings.reports_dir / "personal.html").read_text(encoding="utf-8")
    assert "I svært høy grad" in personal


def test_same_inputs_give_the_same_marts_and_pages(built, tmp_path):
    settings, _ = built
    again = make_settings(tmp_path)
    copy_sample_wave(again.raw_dir)
    assert build(again) == 0
    for table in MART_TABLES:
        assert query(settings, "select * from " + table).equals(query(again, "select * from " + table)), table
    for page in sorted(p.name for p in settings.reports_dir.glob("*.html")):
        assert (settings.reports_dir / page).read_bytes() == (again.reports_dir / page).read_bytes(), page
