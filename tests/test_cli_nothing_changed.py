"""`python -m pipeline.cli build` builds nothing while nothing it publishes could differ
(pipeline.ingest.fingerprints: outputs_fingerprint, published_is_current)."""

import os
import shutil
import subprocess
import sys
from dataclasses import replace

import dagster as dg
import duckdb
import pytest
from helpers import make_settings, read_sample_rows, write_csv_wave

from pipeline import cli
from pipeline.ingest.fingerprints import PUBLISHED_RECORD
from pipeline.settings import PROJECT_ROOT

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)


def write_wave(raw, key):
    headers, rows = read_sample_rows()
    write_csv_wave(raw, key, headers, rows, columns={"Tidsstempel": "submitted_at"})


def test_a_build_is_skipped_only_while_nothing_it_publishes_could_differ(tmp_path, capsys):
    """`make run` skips the whole build when the staged waves, the SQL, the schemas, the code, the document's text,
    the locked libraries, the output settings and the published files are what the last successful build left; each
    differing thing builds again."""
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "2024")

    def build(s=settings) -> str:
        assert cli.build(s, instance) == 0
        out = capsys.readouterr().out
        return "skipped" if "nothing changed since the last build" in out else "built"

    with dg.instance_for_test() as instance:
        assert build() == "built"
        assert build() == "skipped"
        english = replace(settings, lang="en")
        assert build(english) == "built"  # the pages in another language
        assert "Same people over time" in (settings.reports_dir / "panel.html").read_text(encoding="utf-8")
        assert build(english) == "skipped"
        assert build() == "built"
        (settings.reports_dir / "index.html").unlink()
        assert build() == "built"
        con = duckdb.connect(str(settings.published_db))  # an analyst's read-write session
        con.execute("create table notes as select 1 as n")
        con.close()
        assert build() == "built"
        (settings.marts_dir / PUBLISHED_RECORD).write_text("{}", encoding="utf-8")
        assert build() == "built"
        assert build() == "skipped"
        sql = tmp_path / "sql"
        shutil.copytree(settings.sql_dir, sql)
        assert build(replace(settings, sql_dir=sql)) == "skipped"  # the same SQL elsewhere
        (sql / "marts" / "waves.sql").write_text((sql / "marts" / "waves.sql").read_text() + "\n-- edited\n")
        assert build(replace(settings, sql_dir=sql)) == "built"
        assert len(instance.get_runs(filters=dg.RunsFilter(job_name="build_marts"))) == 7
        prose = tmp_path / "report"  # the document's text: part of what the documents are made from
        (prose / "nb").mkdir(parents=True)
        (prose / "nb" / "summary.md").write_text("{{ P1.very_high.pct }} svarte i svært høy grad.\n")
        with_text = replace(settings, sql_dir=sql, report_dir=prose)
        assert build(with_text) == "built"
        assert build(with_text) == "skipped"
        (prose / "nb" / "summary.md").write_text("{{ P1.high.pct }} svarte i høy grad.\n")
        assert build(with_text) == "built"


def test_a_build_that_has_nothing_to_do_says_so_without_starting_dagster(tmp_path):
    """`make run` with nothing changed checks the waves and the published record before Dagster is imported (its
    import and instance were most of the 2.5 s such a run took): the same lines, exit 0, no Dagster module loaded;
    a changed export builds as before."""
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "2024")
    with dg.instance_for_test() as instance:
        assert cli.build(settings, instance) == 0
    (tmp_path / "dagster_home_cli").mkdir()
    env = {
        **os.environ,
        "PIPELINE_RAW_DIR": str(settings.raw_dir),
        "PIPELINE_MARTS_DIR": str(settings.marts_dir),
        "PIPELINE_PSEUDONYM_KEY_FILE": str(settings.pseudonym_key_file),
        "DAGSTER_HOME": str(tmp_path / "dagster_home_cli"),
    }

    def run(*flags: str) -> subprocess.CompletedProcess:
        command = [sys.executable, *flags, "-m", "pipeline.cli", "build"]
        return subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False)

    quiet = run("-X", "importtime")
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    assert quiet.stdout.splitlines()[:3] == [
        f"samskabelse: 1 wave(s) under {settings.raw_dir}: 2024",
        "  wave 2024: unchanged, kept",
        f"samskabelse: nothing changed since the last build: {settings.published_db} and the reports in "
        f"{settings.reports_dir} are up to date (`python -m pipeline.cli build --force` builds everything again)",
    ]
    imported = {
        line.rsplit("|", 1)[-1].strip() for line in quiet.stderr.splitlines() if line.startswith("import time:")
    }
    assert "duckdb" in imported and not {m for m in imported if m.split(".")[0] == "dagster"}
    export = settings.raw_dir / "2024" / "export.csv"
    export.write_text(export.read_text(encoding="utf-8").replace("Språkkafé,", "Språkcafé,", 1), encoding="utf-8")
    changed = run()
    assert changed.returncode == 0, changed.stderr[-2000:]
    assert "  wave 2024: ingested" in changed.stdout and "nothing changed" not in changed.stdout
