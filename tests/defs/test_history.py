"""pipeline.defs.history: one Dagster instance per marts folder."""

import shutil

import pytest

from pipeline.defs.history import MARKER, HistoryMismatch, claim

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)


def test_the_first_claim_records_the_marts_folder_and_the_same_folder_claims_again(tmp_path):
    claim(tmp_path / "home", tmp_path / "marts")
    assert (tmp_path / "home" / MARKER).read_text(encoding="utf-8") == "../marts\n"
    claim(tmp_path / "home", tmp_path / "marts")


def test_another_marts_folder_stops_with_the_folder_to_use(tmp_path):
    claim(tmp_path / "marts" / ".dagster_home", tmp_path / "marts")
    with pytest.raises(HistoryMismatch) as err:
        claim(tmp_path / "marts" / ".dagster_home", tmp_path / "marts-da")
    assert str(err.value) == (
        f"DAGSTER_HOME {tmp_path}/marts/.dagster_home holds the run history of the marts folder {tmp_path}/marts, "
        f"not of {tmp_path}/marts-da (PIPELINE_MARTS_DIR). Each marts folder keeps its own history: run through make "
        f"(it sets DAGSTER_HOME to {tmp_path}/marts-da/.dagster_home) or set DAGSTER_HOME to that folder"
    )


def test_a_project_folder_moved_whole_keeps_its_history(tmp_path):
    claim(tmp_path / "old" / "home", tmp_path / "old" / "marts")
    shutil.move(tmp_path / "old", tmp_path / "new")
    claim(tmp_path / "new" / "home", tmp_path / "new" / "marts")
    with pytest.raises(HistoryMismatch):
        claim(tmp_path / "new" / "home", tmp_path / "old" / "marts")


def test_make_run_into_another_marts_folder_does_not_start(tmp_path):
    """`python -m pipeline.cli build` (what make run runs) with an instance that describes another folder: exit code 3
    before anything is read or written."""
    import os
    import subprocess
    import sys

    from pipeline.settings import PROJECT_ROOT

    claim(tmp_path / "home", tmp_path / "marts")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "home"),
        "PIPELINE_RAW_DIR": str(tmp_path / "raw"),
        "PIPELINE_MARTS_DIR": str(tmp_path / "marts-da"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "build"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3
    assert done.stderr.startswith(
        f"samskabelse: not started: DAGSTER_HOME {tmp_path}/home holds the run history "
        f"of the marts folder {tmp_path}/marts, not of {tmp_path}/marts-da"
    )
    assert not (tmp_path / "marts-da").exists()
