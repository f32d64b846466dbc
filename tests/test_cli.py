"""Layer 4: `python -m pipeline.cli build` (what `make run` runs) honours the folder variables and records its
runs in the Dagster instance under DAGSTER_HOME, where `make ui` shows them."""

import os
import subprocess
import sys

import dagster as dg
import pytest
from helpers import copy_sample_wave

from pipeline.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)


def test_cli_builds_any_raw_folder_into_any_marts_folder(tmp_path):
    raw, marts, home = tmp_path / "in", tmp_path / "out", tmp_path / "home"
    raw.mkdir()
    home.mkdir()
    (home / "dagster.yaml").write_text((PROJECT_ROOT / "pipeline" / "defs" / "dagster.yaml").read_text())
    copy_sample_wave(raw, "2024")
    env = {
        **os.environ,
        "PIPELINE_RAW_DIR": str(raw),
        "PIPELINE_MARTS_DIR": str(marts),
        "DAGSTER_HOME": str(home),
        "PIPELINE_PSEUDONYM_KEY": "cli-key",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "build"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 wave(s) under " + str(raw) + ": 2024" in result.stdout
    assert result.stdout.splitlines()[-3:] == [
        "samskabelse: waves in the marts:",
        ("  2024: generic (csv), 10 rows, 10 complete / 0 partial, 0 quarantined cell(s), 0 unmapped header(s)"),
        "    complete/partial: `Status`: its values decide (codebook status_values; a blank status counts as complete)",
    ]
    assert (marts / "samskabelse.duckdb").is_file()
    assert (marts / "reports" / "index.html").is_file()
    assert not (PROJECT_ROOT / "data" / "marts" / ".build" / "never").exists()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_dynamic_partitions("wave") == ["2024"]
        jobs = sorted(r.job_name for r in instance.get_runs())
        assert "ingest_wave" in jobs and "build_marts" in jobs
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in instance.get_runs())


def test_settings_come_from_the_environment(tmp_path):
    s = Settings.from_env(
        {
            "PIPELINE_RAW_DIR": str(tmp_path / "r"),
            "PIPELINE_MARTS_DIR": "elsewhere/marts",
            "PIPELINE_LANG": "da",
            "PIPELINE_PROFILE": "public",
            "PIPELINE_MIN_CELL": "5",
        }
    )
    assert s.raw_dir == tmp_path / "r"
    assert s.marts_dir == PROJECT_ROOT / "elsewhere" / "marts"
    assert s.published_db == PROJECT_ROOT / "elsewhere" / "marts" / "samskabelse.duckdb"
    assert s.work_db == PROJECT_ROOT / "elsewhere" / "marts" / ".build" / "warehouse.duckdb"
    assert (s.lang, s.profile, s.min_cell) == ("da", "public", 5)


def test_bad_settings_are_named():
    import pytest

    from pipeline.settings import SettingsError

    with pytest.raises(SettingsError, match="PIPELINE_LANG='sv': use one of nb, da, en"):
        Settings.from_env({"PIPELINE_LANG": "sv"})


def _cli(tmp_path, *args, raw=None):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text((PROJECT_ROOT / "pipeline" / "defs" / "dagster.yaml").read_text())
    env = {
        **os.environ,
        "PIPELINE_RAW_DIR": str(raw or tmp_path / "raw"),
        "PIPELINE_MARTS_DIR": str(tmp_path / "marts"),
        "DAGSTER_HOME": str(home),
        "PIPELINE_PSEUDONYM_KEY": "cli-key",
    }
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_first_run_where_every_wave_fails_says_so_and_publishes_nothing(tmp_path):
    """No wave built and no earlier one: no page of headings over empty tables, no marts file, and the run says so."""
    from helpers import write_csv_wave

    write_csv_wave(tmp_path / "raw", "w1", ["a", "b"], [["1", "2"]], invited=3)
    result = _cli(tmp_path, "build")
    assert result.returncode == 1
    err = result.stderr.splitlines()
    assert err == [
        f"  wave w1: FAILED – {tmp_path / 'raw' / 'w1' / 'export.csv'}: no header matches an item of "
        "the codebook. Map these headers in wave.yaml columns: 'a', 'b' (to item codes such as P1, P2, P3, or to drop)",
        "samskabelse: nothing published: no wave could be built (1 failed, see above), so there are no numbers to "
        f"show; {tmp_path / 'marts' / 'samskabelse.duckdb'} and the reports are as they were before this run",
    ]
    assert "Traceback" not in result.stdout + result.stderr and "Stack Trace" not in result.stdout + result.stderr
    assert "reports in" not in result.stdout
    assert not (tmp_path / "marts" / "reports").exists()
    assert not (tmp_path / "marts" / "samskabelse.duckdb").exists()


def test_inspect_shows_how_a_wave_would_be_read_without_building(tmp_path):
    from exports import write_wave

    write_wave(tmp_path / "raw", "sx", "surveyxact_cp1252")
    result = _cli(tmp_path, "inspect", "sx")
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[2].startswith("tool: surveyxact (tool: auto; detected surveyxact: header signature of SurveyXact")
    assert out[3] == "read: format csv, encoding windows-1252, delimiter semicolon"
    assert out[4] == "rows: 13 under the header row; 0 more header row(s) of the tool; 13 data rows"
    assert "  left out: 2 row(s) not responded (not responses)" in out
    assert "  'id' → PERSONAL DATA (dropped)   [names an identifier]" in out
    assert "  's_1' → item P1   [question text / alias (codebook)]" in out
    start = out.index("  's_1' = P1, 11 answered cell(s):")  # the partial respondent's answer too
    assert out[start + 1 : start + 5] == [
        "    'I svært høy grad': 6 → very_high",
        "    'I høy grad': 4 → high",
        "    'I noen grad': 1 → some",
        "  's_2' = P2, 11 answered cell(s):",
    ]
    assert "respondents: 11 (10 complete, 1 partial); response rate 10/12 = 83.3 %" in out
    assert out[-1] == "quarantine: 0 cell(s)"
    assert not (tmp_path / "marts").exists()
    # personal data is never printed
    from exports import PERSONAL_DATA, SCHOOLS

    assert not [p for p in PERSONAL_DATA + SCHOOLS if p in result.stdout]


def test_inspect_of_a_wave_that_cannot_be_read_is_one_line(tmp_path):
    from helpers import write_csv_wave

    write_csv_wave(tmp_path / "raw", "w", ["P1"], [["1"]], colums={"x": "P2"})
    result = _cli(tmp_path, "inspect", "w")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(
        f"wave w: would FAIL – {tmp_path / 'raw' / 'w' / 'wave.yaml'}: unknown key(s) 'colums'"
    )
    assert len(result.stderr.splitlines()) == 1


def _make_run(tmp_path, raw):
    """`make run` as a user types it, into tmp_path (its own marts folder and Dagster instance)."""
    # as typed in a shell, also when the tests themselves run under `make test` (no make[1] prefix)
    outer_make = ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")
    env = {
        **{k: v for k, v in os.environ.items() if k not in outer_make},
        "PIPELINE_PSEUDONYM_KEY": "cli-key",
        "PIPELINE_RAW_DIR": str(raw),
        "PIPELINE_MARTS_DIR": str(tmp_path / "marts"),
    }
    return subprocess.run(
        ["make", "--no-print-directory", "run", f"DAGSTER_HOME={tmp_path / 'home'}"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_make_run_publishes_nothing_when_the_reproduction_check_fails_and_names_the_exit_code(tmp_path):
    import fcntl

    recipe = (PROJECT_ROOT / "Makefile").read_text().splitlines().index("\t$(PY) -m pipeline.cli build") + 1

    raw = tmp_path / "raw"
    raw.mkdir()
    copy_sample_wave(raw, "2024")
    first = _make_run(tmp_path, raw)
    assert first.returncode == 0, first.stderr
    published = tmp_path / "marts" / "samskabelse.duckdb"
    before = {p: p.read_bytes() for p in [published, tmp_path / "marts" / "reports" / "personal.html"]}

    export = raw / "2024" / "export.csv"
    text = export.read_text(encoding="utf-8").splitlines()
    cells = text[1].split(";")
    assert cells[3] == "I svært høy grad"  # respondent 1, P1
    cells[3] = "I liten grad"
    export.write_text("\n".join([text[0], ";".join(cells), *text[2:]]) + "\n", encoding="utf-8")
    second = _make_run(tmp_path, raw)
    assert second.returncode == 2  # GNU make's code for any failure; its last line names ours
    assert second.stderr.splitlines() == [
        "  check FAILED – marts/item_indicators reproduces_published_2024: P1 very_high: published 50, marts 40",
        f"samskabelse: nothing published: {published} and the reports are as they were before this run",
        f"make: *** [Makefile:{recipe}: run] Error 1",
    ]
    assert "marts published" not in second.stdout
    assert {p: p.read_bytes() for p in before} == before

    build_dir = tmp_path / "marts" / ".build"
    with open(build_dir / "run.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        third = _make_run(tmp_path, raw)
    assert third.returncode == 2
    assert third.stderr.splitlines()[-1] == f"make: *** [Makefile:{recipe}: run] Error 3"
    assert "samskabelse: not started: another `python -m pipeline.cli`" in third.stderr


def test_inspect_says_when_make_run_would_stop_the_wave(tmp_path):
    from helpers import write_csv_wave

    rows = [
        [school, ["I høy grad", "I liten grad", "I noen grad"][n % 3]]
        for n, school in enumerate(["Bryne", "Sandnes"] * 3)
    ]
    write_csv_wave(tmp_path / "raw", "w", ["Respondent", "P1"], rows, invited=6)
    result = _cli(tmp_path, "inspect", "w")
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[-1].startswith("make run would FAIL for this wave – w/export.csv: 6 rows share a respondent id")
    assert (
        "  'P1': 6 cell(s), e.g. the respondent id of this row also stands in rows 3, 5 with different answers: "
        "the rows count in neither. Keep one row in the export" in out
    )
