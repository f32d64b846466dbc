"""`python -m pipeline.cli build` re-ingests only waves whose inputs changed (wave fingerprints), and
ingests the changed waves in as few Dagster runs as the partition order allows (partition ranges)."""

import hashlib
import hmac
import shutil
from collections import Counter

import dagster as dg
import duckdb
import pytest
from helpers import make_settings, read_sample_rows, write_csv_wave

from pipeline import cli
from pipeline.codebook import load_codebook
from pipeline.ingest.fingerprints import KEY_CONSTANT, build_inputs, wave_fingerprint
from pipeline.settings import PROJECT_ROOT

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
P1 = CODEBOOK.items["P1"].question["nb"]
HIGH = next(c.label["nb"] for c in CODEBOOK.scales["degree"].categories if c.key == "high")
STAGED = dg.AssetKey(["staging", "respondents"])
RAW = dg.AssetKey(["raw", "wave_export"])
NO_HEADER = (
    "export.csv: no header matches an item of the codebook. Map these headers in wave.yaml columns: "
    "'Spørsmål A', 'Spørsmål B' (to item codes such as P1, P2, P3, or to drop)"
)


def write_wave(raw, key, edit=None):
    headers, rows = read_sample_rows()
    if edit:
        edit(headers, rows)
    write_csv_wave(raw, key, headers, rows, columns={"Tidsstempel": "submitted_at"})


def materialized(instance, key=STAGED) -> Counter:
    """How often each partition of the asset was materialized."""
    records = instance.fetch_materializations(key, limit=10_000).records
    return Counter(r.partition_key for r in records)


def ingest_runs(instance) -> list[dg.DagsterRun]:
    """Oldest first (get_runs lists the newest first; run ids are random)."""
    return list(reversed(instance.get_runs(filters=dg.RunsFilter(job_name="ingest_wave"))))


def work(settings, sql):
    con = duckdb.connect(str(settings.work_db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def wave_lines(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.startswith("  wave ")]


def test_only_changed_waves_are_ingested_in_one_run(tmp_path, capsys, monkeypatch):
    settings = make_settings(tmp_path)
    for key in ("2024", "2025", "2026"):
        write_wave(settings.raw_dir, key)
    with dg.instance_for_test() as instance:
        # 1. from scratch: the three waves in one partition-range run
        assert cli.build(settings, instance) == 0
        assert wave_lines(capsys.readouterr().out) == [
            "wave 2024: ingested",
            "wave 2025: ingested",
            "wave 2026: ingested",
        ]
        runs = ingest_runs(instance)
        assert len(runs) == 1
        assert (
            runs[0].tags["dagster/asset_partition_range_start"],
            runs[0].tags["dagster/asset_partition_range_end"],
        ) == ("2024", "2026")
        assert materialized(instance) == {"2024": 1, "2025": 1, "2026": 1}
        assert materialized(instance, RAW) == {"2024": 1, "2025": 1, "2026": 1}
        stored = dict(work(settings, "select wave, fingerprint from staging.wave_fingerprints"))
        common = build_inputs(settings, CODEBOOK)
        assert stored == {k: wave_fingerprint(settings, k, common) for k in ("2024", "2025", "2026")}
        assert len(set(stored.values())) == 3  # the wave key is part of it

        # 2. nothing changed: no run at all, the published files untouched
        published = settings.published_db.stat().st_mtime_ns
        assert cli.build(settings, instance) == 0
        out = capsys.readouterr().out
        assert wave_lines(out) == [
            "wave 2024: unchanged, kept",
            "wave 2025: unchanged, kept",
            "wave 2026: unchanged, kept",
        ]
        assert "samskabelse: nothing changed since the last build" in out and "marts published to" not in out
        assert "  2025: generic (csv), 10 rows" in out  # the summary of every wave still
        assert len(ingest_runs(instance)) == 1
        assert materialized(instance) == {"2024": 1, "2025": 1, "2026": 1}
        assert len(instance.get_runs(filters=dg.RunsFilter(job_name="build_marts"))) == 1
        assert settings.published_db.stat().st_mtime_ns == published

        # 3. one export edited: exactly that wave again, one single-partition run
        def edit(headers, rows):
            rows[2][headers.index(P1)] = HIGH

        write_wave(settings.raw_dir, "2025", edit)
        assert cli.build(settings, instance) == 0
        assert wave_lines(capsys.readouterr().out) == [
            "wave 2024: unchanged, kept",
            "wave 2026: unchanged, kept",
            "wave 2025: ingested",
        ]
        runs = ingest_runs(instance)
        assert len(runs) == 2 and runs[-1].tags["dagster/partition"] == "2025"
        assert materialized(instance) == {"2024": 1, "2025": 2, "2026": 1}
        assert work(
            settings, "select wave, category from staging.responses where source_row = 3 and item = 'P1' order by wave"
        ) == [("2024", "very_high"), ("2025", "high"), ("2026", "very_high")]
        assert dict(work(settings, "select wave, fingerprint from staging.wave_fingerprints"))["2025"] != stored["2025"]

        # 4. the work database deleted: every wave again
        for path in settings.build_dir.glob("warehouse.duckdb*"):
            path.unlink()
        assert cli.build(settings, instance) == 0
        assert wave_lines(capsys.readouterr().out) == [
            "wave 2024: ingested",
            "wave 2025: ingested",
            "wave 2026: ingested",
        ]
        assert len(ingest_runs(instance)) == 3
        assert materialized(instance) == {"2024": 2, "2025": 3, "2026": 2}

    # 5. --force (command line, same instance under DAGSTER_HOME): every wave again
    monkeypatch.setenv("PIPELINE_RAW_DIR", str(settings.raw_dir))
    monkeypatch.setenv("PIPELINE_MARTS_DIR", str(settings.marts_dir))
    monkeypatch.setenv("PIPELINE_PSEUDONYM_KEY_FILE", str(settings.pseudonym_key_file))
    # (the fingerprints live in the work database, so this other instance keeps the waves too)
    assert cli.main(["build"]) == 0
    assert wave_lines(capsys.readouterr().out) == [
        "wave 2024: unchanged, kept",
        "wave 2025: unchanged, kept",
        "wave 2026: unchanged, kept",
    ]
    assert cli.main(["build", "--force"]) == 0
    assert wave_lines(capsys.readouterr().out) == ["wave 2024: ingested", "wave 2025: ingested", "wave 2026: ingested"]
    with dg.DagsterInstance.get() as instance:
        assert len(ingest_runs(instance)) == 1
        assert materialized(instance) == {"2024": 1, "2025": 1, "2026": 1}


def test_a_failing_wave_among_three_leaves_the_others_staged(tmp_path, capsys):
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "a")
    write_csv_wave(settings.raw_dir, "b", ["Spørsmål A", "Spørsmål B"], [["1", "2"]])
    write_wave(settings.raw_dir, "c")
    with dg.instance_for_test() as instance:
        assert cli.build(settings, instance) == 1
        captured = capsys.readouterr()
        assert wave_lines(captured.out) == ["wave a: ingested", "wave c: ingested"]
        failures = [line for line in captured.err.splitlines() if line.startswith("  wave ")]
        assert failures == [f"  wave b: FAILED – {settings.raw_dir / 'b' / NO_HEADER}"]
        assert captured.err.rstrip().endswith(
            "samskabelse: 1 wave(s) failed: b (a wave that failed on reading keeps its earlier data; one stopped in "
            "staging is left out until fixed)"
        )
        assert work(settings, "select wave from staging.wave_fingerprints order by wave") == [("a",), ("c",)]
        assert work(settings, "select distinct wave from staging.responses order by wave") == [("a",), ("c",)]
        assert work(settings, "select wave from raw.waves order by wave") == [("a",), ("c",)]
        assert materialized(instance) == {"a": 1, "c": 1}
        assert materialized(instance, RAW) == {"a": 1, "c": 1}
        # one range run a..c: raw and staging of a and c in it, b failed (no second run re-stages a and c)
        runs = ingest_runs(instance)
        assert [
            (r.tags.get("dagster/asset_partition_range_start"), r.tags.get("dagster/asset_partition_range_end"))
            for r in runs
        ] == [("a", "c")]
        assert [r.status for r in runs] == [dg.DagsterRunStatus.FAILURE]

        # the failed wave has no fingerprint: the next build tries it again, keeps the others
        assert cli.build(settings, instance) == 1
        captured = capsys.readouterr()
        assert wave_lines(captured.out) == ["wave a: unchanged, kept", "wave c: unchanged, kept"]
        assert "  wave b: FAILED – " in captured.err

        # fixed: ingested, alone
        write_wave(settings.raw_dir, "b")
        assert cli.build(settings, instance) == 0
        assert wave_lines(capsys.readouterr().out) == [
            "wave a: unchanged, kept",
            "wave c: unchanged, kept",
            "wave b: ingested",
        ]
        assert work(settings, "select wave from staging.wave_fingerprints order by wave") == [("a",), ("b",), ("c",)]


def test_a_wave_stopped_in_staging_loses_its_fingerprint(tmp_path, capsys):
    """Three rows share one respondent id with different answers: staging stops the wave (over 20 % quarantined).
    Its rows and fingerprint go; the two good waves of the same run are staged."""
    settings = make_settings(tmp_path)

    def dups(headers, rows):
        rows[1][0] = rows[0][0]
        rows[2][0] = rows[0][0]

    write_wave(settings.raw_dir, "a")
    write_wave(settings.raw_dir, "b")
    write_wave(settings.raw_dir, "c")
    with dg.instance_for_test() as instance:
        assert cli.build(settings, instance) == 0
        capsys.readouterr()
        write_wave(settings.raw_dir, "b", dups)
        assert cli.build(settings, instance) == 1
        captured = capsys.readouterr()
        assert wave_lines(captured.out) == ["wave a: unchanged, kept", "wave c: unchanged, kept"]
        failures = [line for line in captured.err.splitlines() if line.startswith("  wave ")]
        assert len(failures) == 1
        assert failures[0].startswith("  wave b: FAILED – b/export.csv: ")
        assert failures[0].endswith("the wave was not updated. The wave is left out of the marts until this is fixed.")
        assert work(settings, "select wave from staging.wave_fingerprints order by wave") == [("a",), ("c",)]
        assert work(settings, "select wave from raw.wave_fingerprints order by wave") == [("a",), ("c",)]
        assert work(settings, "select distinct wave from raw.wave_export order by wave") == [("a",), ("c",)]


def test_remove_wave_deletes_the_fingerprint(tmp_path, capsys):
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "a")
    write_wave(settings.raw_dir, "b")
    with dg.instance_for_test() as instance:
        assert cli.build(settings, instance) == 0
        capsys.readouterr()
        (settings.raw_dir / "b").rename(tmp_path / "b-moved")
        assert cli.remove_wave(settings, instance, "b") == 0
        assert wave_lines(capsys.readouterr().out) == ["wave a: unchanged, kept"]
        assert work(settings, "select wave from staging.wave_fingerprints") == [("a",)]
        assert work(settings, "select wave from raw.wave_fingerprints") == [("a",)]
        # back again: ingested (no fingerprint), not kept
        (tmp_path / "b-moved").rename(settings.raw_dir / "b")
        assert cli.build(settings, instance) == 0
        assert wave_lines(capsys.readouterr().out) == ["wave a: unchanged, kept", "wave b: ingested"]


@pytest.mark.parametrize("change", ["key", "codebook", "file", "new file"])
def test_the_fingerprint_follows_every_input(tmp_path, monkeypatch, change):
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "a")
    before = wave_fingerprint(settings, "a", build_inputs(settings, CODEBOOK))
    assert wave_fingerprint(settings, "a", build_inputs(settings, CODEBOOK)) == before  # deterministic
    codebook = CODEBOOK
    if change == "key":
        settings = make_settings(tmp_path, pseudonym_key="another-key")
    elif change == "codebook":
        text = (PROJECT_ROOT / "schemas" / "codebook.yaml").read_text(encoding="utf-8")
        other = tmp_path / "codebook.yaml"
        other.write_text(text + "\n# a comment\n", encoding="utf-8")
        codebook = load_codebook(other)
    elif change == "file":
        export = settings.raw_dir / "a" / "export.csv"
        export.write_bytes(export.read_bytes() + b"\n")
    else:
        (settings.raw_dir / "a" / "labels.csv").write_text("variable;code;label\n", encoding="utf-8")
    after = wave_fingerprint(settings, "a", build_inputs(settings, codebook))
    assert after != before
    key = settings.pseudonym_key.encode()
    assert build_inputs(settings, codebook)["pseudonym key"] == hmac.new(key, KEY_CONSTANT, hashlib.sha256).hexdigest()


def test_unreadable_fingerprints_mean_every_wave_is_ingested_again(tmp_path, capsys):
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "a")
    settings.work_db.parent.mkdir(parents=True)
    settings.work_db.write_bytes(b"not a duckdb file" * 100)
    assert cli.unchanged_waves(settings, ["a"]) == []
    err = capsys.readouterr().err
    assert err.startswith(f"samskabelse: note – the fingerprints in {settings.work_db} could not be read (")
    assert err.rstrip().endswith("): every wave is ingested again")


def test_the_ingest_code_version_follows_the_staging_sql(tmp_path):
    from pipeline.ingest.fingerprints import ingest_code_version

    first, second = tmp_path / "sql1", tmp_path / "sql2"
    for folder in (first, second):
        shutil.copytree(PROJECT_ROOT / "sql", folder)
    assert ingest_code_version(first) == ingest_code_version(second) == ingest_code_version(PROJECT_ROOT / "sql")
    seen = {ingest_code_version(first)}
    for changed in (
        "staging/respondents.sql",
        "staging/quarantine.sql",
        "staging/decide/duplicate_suspects.sql",
        "raw/wave_export.sql",
    ):
        path = second / changed
        path.write_text(path.read_text(encoding="utf-8") + "\n-- changed\n", encoding="utf-8")
        ingest_code_version.cache_clear()
        assert ingest_code_version(second) not in seen, changed
        seen.add(ingest_code_version(second))
