"""Runs never overlap. The instance (dagster.yaml) runs one run at a time; `python -m pipeline.cli`
refuses to start while another build of the same marts folder or a queued/running Dagster run is in progress."""

import fcntl
import shutil

import dagster as dg
import pytest
from helpers import build, copy_sample_wave, make_settings

from pipeline.cli import BUSY, CLI_TAG
from pipeline.definitions import build_definitions
from pipeline.settings import PROJECT_ROOT

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)


def test_instance_runs_one_run_at_a_time_in_submission_order(tmp_path):
    shutil.copy(PROJECT_ROOT / "pipeline" / "defs" / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings["start_timeout_seconds"] == 180


def test_a_second_cli_build_of_the_same_marts_refuses(tmp_path, capsys):
    settings = make_settings(tmp_path)
    copy_sample_wave(settings.raw_dir)
    settings.build_dir.mkdir(parents=True)
    with open(settings.build_dir / "run.lock", "a+") as held, dg.instance_for_test() as instance:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what a running `make run` holds
        assert build(settings, instance) == BUSY
        assert instance.get_runs() == []
    err = capsys.readouterr().err
    assert err == (
        f"samskabelse: not started: another `python -m pipeline.cli` (make run / make remove-wave) is "
        f"building into {settings.marts_dir}; wait until it has finished, then run again\n"
    )
    assert not settings.published_db.exists()


def test_cli_refuses_while_the_daemon_has_a_run_in_progress(tmp_path, capsys):
    settings = make_settings(tmp_path)
    copy_sample_wave(settings.raw_dir)
    job = build_definitions(settings).resolve_job_def("build_marts")
    with dg.instance_for_test() as instance:
        running = instance.create_run_for_job(
            job_def=job, status=dg.DagsterRunStatus.STARTED, tags={"dagster/sensor_name": "raw_folder_sensor"}
        )
        assert build(settings, instance) == BUSY
        err = capsys.readouterr().err
        assert f"has 1 run(s) queued or in progress: build_marts {running.run_id[:8]} (started)" in err
        assert "Wait for them (Dagster UI, Runs) or terminate them there, then run again" in err
        assert [r.run_id for r in instance.get_runs()] == [running.run_id]  # nothing else started

        instance.report_run_canceled(running)
        assert build(settings, instance) == 0


def test_runs_of_a_killed_cli_build_are_marked_failed(tmp_path):
    settings = make_settings(tmp_path)
    copy_sample_wave(settings.raw_dir)
    job = build_definitions(settings).resolve_job_def("build_marts")
    with dg.instance_for_test() as instance:
        stale = instance.create_run_for_job(
            job_def=job, status=dg.DagsterRunStatus.STARTED, tags={CLI_TAG: str(settings.marts_dir)}
        )
        other = instance.create_run_for_job(
            job_def=job, status=dg.DagsterRunStatus.STARTED, tags={CLI_TAG: str(tmp_path / "elsewhere")}
        )
        assert build(settings, instance) == 0
        assert instance.get_run_by_id(stale.run_id).status == dg.DagsterRunStatus.FAILURE
        # a cli build of another marts folder is not this command's business
        assert instance.get_run_by_id(other.run_id).status == dg.DagsterRunStatus.STARTED
