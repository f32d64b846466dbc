"""Layer 4: `python -m pipeline.cli build` (what `make run` runs) honours the folder variables and records its
runs in the Dagster instance under DAGSTER_HOME, where `make ui` shows them."""

import os
import subprocess
import sys

import dagster as dg

from helpers import copy_sample_wave
from pipeline.settings import PROJECT_ROOT, Settings


def test_cli_builds_any_raw_folder_into_any_marts_folder(tmp_path):
    raw, marts, home = tmp_path / "in", tmp_path / "out", tmp_path / "home"
    raw.mkdir()
    home.mkdir()
    (home / "dagster.yaml").write_text((PROJECT_ROOT / "dagster.yaml").read_text())
    copy_sample_wave(raw, "2024")
    env = {**os.environ, "PIPELINE_RAW_DIR": str(raw), "PIPELINE_MARTS_DIR": str(marts), "DAGSTER_HOME": str(home),
           "PIPELINE_PSEUDONYM_KEY": "cli-key"}
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "build"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 wave(s) under " + str(raw) + ": 2024" in result.stdout
    assert (marts / "samskabelse.duckdb").is_file()
    assert (marts / "reports" / "index.html").is_file()
    assert not (PROJECT_ROOT / "data" / "marts" / ".build" / "never").exists()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_dynamic_partitions("wave") == ["2024"]
        jobs = sorted(r.job_name for r in instance.get_runs())
        assert "ingest_wave" in jobs and "build_marts" in jobs
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in instance.get_runs())


def test_settings_come_from_the_environment(tmp_path):
    s = Settings.from_env({"PIPELINE_RAW_DIR": str(tmp_path / "r"), "PIPELINE_MARTS_DIR": "elsewhere/marts",
                           "PIPELINE_LANG": "da", "PIPELINE_PROFILE": "public", "PIPELINE_MIN_CELL": "5"})
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
