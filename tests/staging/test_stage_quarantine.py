"""Layer 4: bad cells are quarantined and the rest still builds; a broken wave fails alone."""

import pytest
from helpers import build, copy_sample_wave, make_settings, query, read_sample_rows, write_csv_wave

from pipeline.codebook import load_codebook
from pipeline.settings import PROJECT_ROOT

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
P1 = CODEBOOK.items["P1"].question["nb"]


def test_unknown_label_is_quarantined_and_the_rest_counts(tmp_path, capsys):
    settings = make_settings(tmp_path)
    headers, rows = read_sample_rows()
    column = headers.index(P1)
    assert rows[2][column] == "I svært høy grad"
    rows[2][column] = "Svært bra"
    write_csv_wave(settings.raw_dir, "q1", headers, rows, columns={"Tidsstempel": "submitted_at"})
    assert build(settings) == 0
    quarantine = query(settings, "select * from quarantine").rows()
    assert len(quarantine) == 1
    wave, source_file, source_row, col, value, reason = quarantine[0]
    assert (wave, source_file, source_row, col, value) == ("q1", "export.csv", 3, P1, "Svært bra")
    assert reason.startswith("'Svært bra' is not an answer of item P1 (scale degree): allowed are I svært høy grad, ")
    assert "closest: 'I svært høy grad'" in reason
    bases = dict(query(settings, "select item, n from item_indicators").rows())
    assert bases["P1"] == 9
    assert {k: v for k, v in bases.items() if k != "P1"} == {k: 10 for k in bases if k != "P1"}
    assert query(settings, "select n_missing from item_indicators where item = 'P1'")["n_missing"][0] == 1
    assert query(settings, "select very_high_pct, high_pct, some_pct from item_indicators where item = 'P1'").row(
        0
    ) == (100 * 4 / 9, 100 * 4 / 9, 100 * 1 / 9)


def test_a_wave_with_no_mappable_header_fails_alone(tmp_path, capsys):
    settings = make_settings(tmp_path)
    copy_sample_wave(settings.raw_dir, "good")
    write_csv_wave(settings.raw_dir, "bad", ["Spørsmål A", "Spørsmål B"], [["1", "2"]])
    assert build(settings) == 1
    err = capsys.readouterr().err
    assert "wave bad: FAILED" in err
    assert (
        "export.csv: no header matches an item of the codebook. Map these headers in wave.yaml columns: "
        "'Spørsmål A', 'Spørsmål B'" in err
    )
    assert query(settings, "select wave, complete from waves").rows() == [("good", 10)]


def test_unmapped_headers_are_recorded(tmp_path):
    settings = make_settings(tmp_path)
    headers, rows = read_sample_rows()
    headers.append("Kommune")
    for row in rows:
        row.append("Lillehammer")
    write_csv_wave(settings.raw_dir, "extra", headers, rows, columns={"Tidsstempel": "submitted_at"})
    assert build(settings) == 0
    import duckdb

    con = duckdb.connect(str(settings.work_db), read_only=True)
    try:
        assert con.execute("select unmapped_headers from raw.waves where wave = 'extra'").fetchall() == [(["Kommune"],)]
    finally:
        con.close()


def test_a_wave_stopped_in_staging_is_left_out_of_the_marts_whole(tmp_path, capsys):
    """Three rows share one respondent id with different answers: 3 × 21 of 210 cells → over the 20 % limit in
    staging, after raw/wave_export has run. The wave must not appear half-built in the marts."""
    settings = make_settings(tmp_path)
    copy_sample_wave(settings.raw_dir, "good")
    headers, rows = read_sample_rows()
    rows[1][0] = rows[0][0]
    rows[2][0] = rows[0][0]
    write_csv_wave(settings.raw_dir, "dups", headers, rows, columns={"Tidsstempel": "submitted_at"})
    assert build(settings) == 1
    err = capsys.readouterr().err
    assert "wave dups: FAILED" in err
    assert "The wave is left out of the marts until this is fixed." in err
    assert query(settings, "select wave from waves").rows() == [("good",)]
    assert query(settings, "select distinct wave from responses").rows() == [("good",)]
    assert query(settings, "select count(*) as n from quarantine")["n"][0] == 0


def test_contact_details_in_free_text_never_reach_the_marts(tmp_path):
    settings = make_settings(tmp_path)
    headers, rows = read_sample_rows()
    column = headers.index(CODEBOOK.items["OC"].question["nb"])
    rows[0][column] = "Skriv til ola.nordmann@bibliotek.no eller ring 412 34 567 om strikkekafé"
    write_csv_wave(settings.raw_dir, "w1", headers, rows, columns={"Tidsstempel": "submitted_at"})
    assert build(settings) == 0
    texts = query(settings, "select text from open_answers where item = 'OC' order by text")["text"].to_list()
    assert "Skriv til [e-post fjernet] eller ring [telefonnummer fjernet] om strikkekafé" in texts
    import duckdb

    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        for (table,) in con.execute("select table_name from duckdb_tables()").fetchall():
            dump = str(con.execute('select * from "' + table + '"').fetchall())
            assert "ola.nordmann" not in dump and "412 34 567" not in dump, table
    finally:
        con.close()
    for path in settings.marts_dir.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".svg", ".json", ".parquet"):
            assert b"ola.nordmann" not in path.read_bytes(), path
