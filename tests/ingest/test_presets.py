"""One export per tool preset, each carrying the same 10 respondents, built as `make run` does.

Every export is dropped as the tool wrote it (tests/exports.py: real writers) with `tool: auto`; all of
them must give the same item_distribution as the clean sample CSV, and no e-mail, name or IP may reach
the marts file, any artefact under the marts folder, the work database or the Dagster event log.
"""

from __future__ import annotations

import dagster as dg
import duckdb
import polars as pl
import pytest
from exports import (
    KINDS,
    LIMESURVEY_HEADINGS,
    LIMESURVEY_PARTIAL,
    PERSONAL_DATA,
    limesurvey_partial_answers,
    respondents,
    write_wave,
)
from helpers import build, copy_sample_wave, make_settings, query

from pipeline.codebook import load_codebook
from pipeline.ingest.presets import detect
from pipeline.ingest.readers import read_export
from pipeline.settings import PROJECT_ROOT

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
BASE = "2024"
# rows of each export under its header rows; respondents counted complete / partial
EXPORTED_ROWS = {kind: 10 for kind in KINDS} | {
    "surveyxact_csv": 12,
    "surveyxact_xlsx": 12,
    "limesurvey": 11,
    "qualtrics": 12,
    "surveyxact_cp1252": 13,
    "surveyxact_utf16": 13,
    "qualtrics_german": 12,
    "qualtrics_legacy": 11,
    "limesurvey_de": 11,
    "limesurvey_nl": 24,
    "limesurvey_nb": 12,
    "limesurvey_da_xlsx": 13,
}
PARTIAL = {kind: 0 for kind in KINDS} | {
    "limesurvey": 1,
    "qualtrics": 1,
    "surveyxact_cp1252": 1,
    "surveyxact_utf16": 1,
    "qualtrics_german": 1,
    "qualtrics_legacy": 1,
    # LimeSurvey with its headings in German, Dutch, Norwegian, Danish: the submit date decides, in any language
    "limesurvey_de": 1,
    "limesurvey_nl": 14,
    "limesurvey_nb": 2,
    "limesurvey_da_xlsx": 3,
}
# answers of the partial respondents (kept in responses, not in the distributions)
PARTIAL_ANSWERS = {
    "limesurvey": 3,
    "qualtrics": 5,
    "surveyxact_cp1252": 2,
    "surveyxact_utf16": 2,
    "qualtrics_german": 5,
    "qualtrics_legacy": 5,
    "limesurvey_de": 3,
    "limesurvey_nl": 21,
    "limesurvey_nb": 3,
    "limesurvey_da_xlsx": 6,
}


def _all_text(con: duckdb.DuckDBPyConnection, schemas: list[str] | None = None) -> dict[str, str]:
    """Every table of a DuckDB file as one text blob per table (every column cast to text)."""
    out = {}
    tables = con.execute("select schema_name, table_name from duckdb_tables() order by 1, 2").fetchall()
    for schema, table in tables:
        if schemas and schema not in schemas:
            continue
        columns = [
            r[0]
            for r in con.execute(
                "select column_name from duckdb_columns() where schema_name = ? and table_name = ?", [schema, table]
            ).fetchall()
        ]
        if not columns:
            continue
        expr = " || '\x1f' || ".join(f"coalesce(cast(\"{c}\" as varchar), '')" for c in columns)
        rows = con.execute(f'select {expr} from "{schema}"."{table}"').fetchall()
        out[f"{schema}.{table}"] = "\n".join(r[0] for r in rows)
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("presets")
    settings = make_settings(root)
    copy_sample_wave(settings.raw_dir, BASE)
    for kind in KINDS:
        write_wave(settings.raw_dir, kind, kind)
    with pytest.MonkeyPatch.context() as mp, dg.instance_for_test() as instance:
        mp.setenv("PIPELINE_PSEUDONYM_KEY", "test-key")
        code = build(settings, instance)
        log = [dg.serialize_value(entry) for run in instance.get_runs() for entry in instance.all_logs(run.run_id)]
        raw_meta = {}
        for run in instance.get_runs():
            for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
                mat = entry.asset_materialization
                if mat.asset_key == dg.AssetKey(["raw", "wave_export"]):
                    raw_meta[mat.partition] = {k: v.value for k, v in mat.metadata.items()}
    return settings, code, log, raw_meta


def test_every_export_builds(built):
    settings, code, _, _ = built
    assert code == 0
    waves = query(settings, "select wave, exported_rows, complete, partial from waves order by wave").rows()
    assert waves == sorted([(BASE, 10, 10, 0)] + [(k, EXPORTED_ROWS[k], 10, PARTIAL[k]) for k in KINDS])
    assert query(settings, "select count(*) as n from quarantine")["n"][0] == 0


def test_item_distribution_is_identical_for_every_tool(built):
    settings, _, _, _ = built
    dist = query(settings, "select * from item_distribution order by wave, item_order, category_order")
    base = dist.filter(pl.col("wave") == BASE).drop("wave")
    # The baseline itself: P1 = 5 × I svært høy grad, 4 × I høy grad, 1 × I noen grad; V4 = 4 ja, 4 nei, 2 vet ikke.
    p1 = base.filter(pl.col("item") == "P1").select("category", "n", "base_n").rows()
    assert p1 == [
        ("very_high", 5, 10),
        ("high", 4, 10),
        ("some", 1, 10),
        ("low", 0, 10),
        ("not_at_all", 0, 10),
        ("dont_know", 0, 10),
    ]
    v4 = base.filter(pl.col("item") == "V4").select("category", "n").rows()
    assert v4 == [("yes", 4), ("no", 4), ("dont_know", 2)]
    assert base.height == 15 * 6 + 3 * 3
    for kind in KINDS:
        assert dist.filter(pl.col("wave") == kind).drop("wave").equals(base), kind


def test_the_waves_mart_states_the_completion_rule_of_each_export(built):
    settings, _, _, _ = built
    rules = dict(query(settings, "select wave, completion_rule from waves").rows())
    limesurvey = (
        "LimeSurvey: `{}` filled = complete (1980-01-01 too: a submitted response of an anonymised survey), "
        "empty = partial"
    )
    assert rules["limesurvey_de"] == limesurvey.format("Datum Abgeschickt")
    assert rules["limesurvey_nl"] == limesurvey.format("Datum verstuurd")
    assert rules["limesurvey_nb"] == limesurvey.format("Dato for besvarelse")
    assert rules["limesurvey_da_xlsx"] == limesurvey.format("Dato for indsendelse")
    assert rules["limesurvey"] == limesurvey.format("submitdate")
    assert rules["sav_item_codes"] == (
        "every row: the export has no status column (map one to status, or the submission time to submitted_at, "
        "in wave.yaml columns if it holds partial responses)"
    )
    assert rules[BASE] == ("`Status`: its values decide (codebook status_values; a blank status counts as complete)")
    assert all(rules.values())


def test_partial_answers_of_the_translated_limesurvey_exports_are_what_the_writer_wrote():
    assert {lang: limesurvey_partial_answers(lang) for lang in LIMESURVEY_PARTIAL} == {
        "de": PARTIAL_ANSWERS["limesurvey_de"],
        "nl": PARTIAL_ANSWERS["limesurvey_nl"],
        "nb": PARTIAL_ANSWERS["limesurvey_nb"],
        "da": PARTIAL_ANSWERS["limesurvey_da_xlsx"],
    }


def test_auto_recognises_each_tool(built):
    settings, _, _, raw_meta = built
    con = duckdb.connect(str(settings.work_db), read_only=True)
    try:
        readers = dict(con.execute("select wave, reader from raw.waves").fetchall())
    finally:
        con.close()
    assert readers == {BASE: "csv/generic"} | {k: f"{fmt}/{tool}" for k, (_, tool, fmt) in KINDS.items()}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_detect_reads_the_header_signature(kind, tmp_path):
    folder = write_wave(tmp_path, kind, kind)
    import yaml

    spec = yaml.safe_load((folder / "wave.yaml").read_text(encoding="utf-8"))
    export = read_export(folder / spec["export"])
    assert detect(export) == KINDS[kind][1]


def test_open_answers_and_respondent_keys_survive_every_format(built):
    settings, _, _, _ = built
    texts = query(settings, "select wave, item, text from open_answers order by wave, item, text")
    base = texts.filter(pl.col("wave") == BASE).drop("wave")
    assert base.height == 8
    for kind in KINDS:
        assert texts.filter(pl.col("wave") == kind).drop("wave").equals(base), kind
    # Same respondent id + same key → same pseudonym: the exports carrying the ids R001..R010 share them.
    keys = query(
        settings,
        "select wave, list(distinct respondent_key order by respondent_key) as k "
        "from responses where complete group by wave",
    )
    by_wave = dict(keys.rows())
    for kind in ("csv_utf8_bom", "csv_utf16_tab", "csv_cp1252", "xlsx", "sav"):
        assert by_wave[kind] == by_wave[BASE], kind
    assert all(len(k) == 16 and int(k, 16) >= 0 for k in by_wave[BASE])
    # Other tools number their responses their own way: other ids, other pseudonyms, 10 each.
    for kind in ("nettskjema", "qualtrics", "surveymonkey", "googleforms"):
        assert len(by_wave[kind]) == 10 and not set(by_wave[kind]) & set(by_wave[BASE]), kind


def test_personal_data_columns_are_dropped_and_listed(built):
    _, _, _, raw_meta = built
    dropped = {w: m[f"{w}: dropped headers (personal data / drop)"] for w, m in raw_meta.items()}
    assert {"Email", "Name"} <= set(dropped["msforms"])
    assert {
        "IPAddress",
        "RecipientEmail",
        "RecipientFirstName",
        "RecipientLastName",
        "ExternalReference",
        "LocationLatitude",
        "LocationLongitude",
    } <= set(dropped["qualtrics"])
    assert {"IP Address", "Email Address", "First Name", "Last Name", "Custom Data 1"} <= set(dropped["surveymonkey"])
    assert {"ipaddr", "token"} <= set(dropped["limesurvey"])
    assert {"email", "name"} <= set(dropped["surveyxact_xlsx"]) and {"email", "name"} <= set(dropped["surveyxact_csv"])
    assert {"Email Address"} <= set(dropped["googleforms"])
    assert {"epost", "navn"} <= set(dropped["sav"])
    # Real layouts: SurveyXact's `id` (school names), forn/ettern; legacy Qualtrics tags V1…V6 are metadata, not
    # the items V1…V6; a SurveyMonkey option "ID" is not the respondent id; Nettskjema's invitation-list fields.
    assert {"id", "forn", "ettern", "email"} <= set(dropped["surveyxact_cp1252"])
    assert {"ResponseSet", "Name", "ExternalDataReference", "EmailAddress", "IPAddress", "LocationAccuracy"} <= set(
        dropped["qualtrics_legacy"]
    )
    assert {
        "IP Address",
        "Email Address",
        "First Name",
        "LastName",
        "Custom Data",
        "Hvilken legitimasjon viste du fram? (Kryss av alt som passer) - ID",
    } <= set(dropped["surveymonkey_nul"])
    assert {
        "E-post",
        "Fornavn",
        "Etternavn",
        "Bursdag",
        "Epost",
        "Telefon",
        "Adresse",
        "Sted",
        "Postnummer",
        "Svartid",
    } <= set(dropped["nettskjema_2018"])
    assert {"IPAddress", "RecipientEmail"} <= set(dropped["qualtrics_german"])
    assert {"epost"} <= set(dropped["sav_user_missing"])
    assert {"epost"} <= set(dropped["sav_item_codes"])
    # LimeSurvey's IP address and referrer URL in the survey's language; its other metadata are dropped too
    for lang in ("de", "nl", "nb"):
        assert set(dropped[f"limesurvey_{lang}"]) == set(LIMESURVEY_HEADINGS[lang][2:]), lang
    assert set(dropped["limesurvey_da_xlsx"]) == set(LIMESURVEY_HEADINGS["da"][2:])
    # the checkbox question is also read as one column holding the chosen option(s): unmapped too
    unmapped = {
        "surveymonkey_nul": [
            "Hvilken legitimasjon viste du fram? (Kryss av alt som passer) - Pass",
            "Hvilken legitimasjon viste du fram? (Kryss av alt som passer)",
        ]
    }
    for wave, meta in raw_meta.items():
        assert meta[f"{wave}: unmapped headers"] == unmapped.get(wave, []), wave


def test_no_personal_data_in_marts_artefacts_work_db_or_event_log(built):
    settings, _, log, _ = built
    assert len(PERSONAL_DATA) == 12 * 7  # e-mail, name, last name, IP, phone, street, birthday
    sample = respondents()[0].person
    assert sample.email in PERSONAL_DATA and sample.ip in PERSONAL_DATA and sample.name in PERSONAL_DATA

    found: list[str] = []

    def scan(where: str, text: str) -> None:
        low = text.casefold()
        found.extend(f"{where}: {p}" for p in PERSONAL_DATA if p.casefold() in low)

    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        tables = _all_text(con)
    finally:
        con.close()
    assert len(tables) >= 10 and tables["main.responses"].count("\n") + 1 == (1 + len(KINDS)) * 180 + sum(
        PARTIAL_ANSWERS.values()
    )
    for name, text in tables.items():
        scan(f"published {name}", text)

    con = duckdb.connect(str(settings.work_db), read_only=True)
    try:
        work = _all_text(con)
    finally:
        con.close()
    assert "raw.wave_export" in work
    for name, text in work.items():
        scan(f"work db {name}", text)

    files = sorted(p for p in settings.marts_dir.rglob("*") if p.is_file() and ".build" not in p.parts)
    kinds = {p.suffix for p in files}
    assert {".duckdb", ".parquet", ".html", ".json"} <= kinds
    for path in files:
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
            scan(str(path), "\n".join(str(r) for r in frame.rows()))
        elif path.suffix != ".duckdb":
            scan(str(path), path.read_bytes().decode("utf-8", errors="replace"))
    for entry in log:
        scan("dagster event log", entry)
    assert found == []
