"""The published database is replaced atomically. A reader holding it never blocks a rebuild; a run
that fails or is killed mid-way leaves <marts>/samskabelse.duckdb, parquet/ and manifest.json byte-identical."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import pytest
from helpers import build, copy_sample_wave, make_settings, query
from waves_helpers import write_second_wave

from pipeline.cli import CLI_TAG
from pipeline.settings import PROJECT_ROOT

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)

# Runs pipeline.cli build with one function paused (forever) right after the first call whose arguments
# mention `match`, after writing the marker file: the test kills the process there.
PAUSED_BUILD = textwrap.dedent("""
    import importlib, sys, time
    module, name, match, marker = sys.argv[1:5]
    mod = importlib.import_module(module)
    original = getattr(mod, name)

    def paused(*args, **kwargs):
        result = original(*args, **kwargs)
        if match in " ".join(str(a) for a in args):
            open(marker, "w").close()
            time.sleep(600)
        return result

    setattr(mod, name, paused)
    from pipeline.cli import main
    sys.exit(main(["build"]))
""")


def snapshot(marts: Path) -> dict[str, str]:
    """sha256 of every file users read: the database, the parquet copies and the manifest."""
    files = [marts / "samskabelse.duckdb", marts / "manifest.json", *sorted((marts / "parquet").glob("*"))]
    return {str(p.relative_to(marts)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def cli_env(root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PIPELINE_RAW_DIR": str(root / "raw"),
        "PIPELINE_MARTS_DIR": str(root / "marts"),
        "DAGSTER_HOME": str(root / "home"),
        "PIPELINE_PSEUDONYM_KEY": "test-key",
        "PIPELINE_PSEUDONYM_KEY_FILE": str(root / "secrets" / "pseudonym.key"),
    }


def run_cli(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "build"],
        cwd=PROJECT_ROOT,
        env=cli_env(root),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """Wave 2024 built and published by `python -m pipeline.cli build` with a DAGSTER_HOME of its own; wave 2026
    then dropped in (not yet built)."""
    root = tmp_path_factory.mktemp("published")
    (root / "raw").mkdir()
    (root / "home").mkdir()
    shutil.copy(PROJECT_ROOT / "pipeline" / "defs" / "dagster.yaml", root / "home" / "dagster.yaml")
    copy_sample_wave(root / "raw")
    result = run_cli(root)
    assert result.returncode == 0, result.stdout + result.stderr
    write_second_wave(root / "raw", "2026")
    return root


@pytest.fixture
def published(baseline, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(baseline, root)
    return root


@pytest.mark.parametrize(
    "module, name, match",
    [
        ("pipeline.warehouse", "replace_wave", "2026"),  # ingesting the new wave, transaction open
        ("pipeline.warehouse", "build_model", "item_indicators"),  # half the marts rebuilt, transaction open
        ("pipeline.publish", "_fsync", "publish-"),  # new database written aside, not yet swapped in
    ],
    ids=["during-ingest", "during-marts", "during-publish"],
)
def test_killed_run_leaves_the_published_files_byte_identical(published, module, name, match):
    marts = published / "marts"
    before = snapshot(marts)
    assert set(before) >= {"samskabelse.duckdb", "manifest.json", "parquet/wave_change.parquet"}
    marker = published / "paused"
    script = published / "paused_build.py"
    script.write_text(PAUSED_BUILD, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(script), module, name, match, str(marker)],
        cwd=PROJECT_ROOT,
        env=cli_env(published),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, "the build never reached the pause"
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL

    assert snapshot(marts) == before
    assert query_waves(marts) == ["2024"]
    if name == "_fsync":  # killed with the new file complete in the build folder
        assert [p.name for p in (marts / ".build").glob("publish-*.duckdb")] == [f"publish-{proc.pid}.duckdb"]

    # the next build cleans up, marks the killed run failed and publishes both waves
    result = run_cli(published)
    assert result.returncode == 0, result.stdout + result.stderr
    assert list((marts / ".build").glob("publish-*")) == [] and list((marts / ".build").glob("parquet-*")) == []
    assert query_waves(marts) == ["2024", "2026"]
    with dg.DagsterInstance.from_config(str(published / "home")) as instance:
        killed = [r for r in instance.get_runs() if r.tags.get(CLI_TAG) and r.status != dg.DagsterRunStatus.SUCCESS]
        assert [r.status for r in killed] == [dg.DagsterRunStatus.FAILURE]
        assert not instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))


def query_waves(marts: Path) -> list[str]:
    import duckdb

    con = duckdb.connect(str(marts / "samskabelse.duckdb"), read_only=True)
    try:
        return [w for (w,) in con.execute("select wave from waves order by wave").fetchall()]
    finally:
        con.close()


READER = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    def waves():
        return ",".join(w for (w,) in con.execute("select wave from waves order by wave").fetchall())
    print(waves(), flush=True)
    sys.stdin.readline()
    print(waves(), flush=True)
    con.close()
""")


def test_a_reader_holding_the_published_file_never_blocks_a_rebuild(published):
    """Another process holds a read-only connection to samskabelse.duckdb during the whole rebuild: the rebuild
    succeeds, the reader keeps reading the database as it was, new connections see the new one."""
    marts = published / "marts"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(marts / "samskabelse.duckdb")],
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert reader.stdout.readline().strip() == "2024"
        result = run_cli(published)
        assert result.returncode == 0, result.stdout + result.stderr
        assert reader.poll() is None  # still connected
        out, err = reader.communicate("\n", timeout=60)
    finally:
        if reader.poll() is None:
            os.killpg(reader.pid, signal.SIGKILL)
            reader.wait()
    assert (reader.returncode, out.strip(), err) == (0, "2024", "")
    assert query_waves(marts) == ["2024", "2026"]


def test_failed_run_leaves_the_published_files_byte_identical(tmp_path):
    """A mart whose SQL fails: the run fails before publishing, nothing users read changes."""
    sql = tmp_path / "sql"
    shutil.copytree(PROJECT_ROOT / "sql", sql)
    settings = make_settings(tmp_path, sql_dir=sql)
    copy_sample_wave(settings.raw_dir)
    with dg.instance_for_test() as instance:
        assert build(settings, instance) == 0
        before = snapshot(settings.marts_dir)
        write_second_wave(settings.raw_dir, "2026")
        (sql / "marts" / "wave_change.sql").write_text(
            "select 1 / 0 as wave_from from marts.waves where error('boom')", encoding="utf-8"
        )
        assert build(settings, instance) == 1
    assert snapshot(settings.marts_dir) == before
    assert query(settings, "select wave from waves")["wave"].to_list() == ["2024"]


def test_manifest_and_parquet_copies(tmp_path):
    import polars as pl

    from pipeline.codebook import load_codebook
    from pipeline.contract import load_contract
    from pipeline.ingest.waves import file_sha256

    settings = make_settings(tmp_path)
    copy_sample_wave(settings.raw_dir)
    write_second_wave(settings.raw_dir, "2026")
    started = time.time()
    with dg.instance_for_test() as instance:
        assert build(settings, instance) == 0
    manifest = json.loads((settings.marts_dir / "manifest.json").read_text(encoding="utf-8"))
    contract = load_contract(settings.marts_contract_file, settings.sql_dir)
    assert manifest["package"] == "samskabelse" and manifest["version"] == "0.1.0"
    assert manifest["codebook_sha256"] == load_codebook(settings.codebook_file).sha256
    assert manifest["inputs"] == [
        {"wave": w, "file": "export.csv", "sha256": file_sha256(settings.raw_dir / w / "export.csv")}
        for w in ("2024", "2026")
    ]
    counts = {t.name: query(settings, f'select count(*) from "{t.name}"').item() for t in contract}
    assert manifest["tables"] == counts
    assert counts["wave_change"] == 18 and counts["waves"] == 2
    import datetime as dt

    built = dt.datetime.fromisoformat(manifest["built_at"]).timestamp()
    assert started - 1 <= built <= time.time() + 1
    assert sorted(p.name for p in (settings.marts_dir / "parquet").iterdir()) == sorted(
        t.name + ".parquet" for t in contract
    )
    for t in contract:
        from_parquet = pl.read_parquet(settings.marts_dir / "parquet" / f"{t.name}.parquet")
        from_db = query(settings, f'select * from "{t.name}"')
        assert from_parquet.columns == list(t.columns)
        assert from_parquet.sort(from_parquet.columns).equals(from_db.sort(from_db.columns)), t.name
