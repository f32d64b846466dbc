"""End to end: while `make ui` runs (UI + daemon), a wave folder copied into the raw folder becomes published marts
and report pages with no command typed: the sensor adds the partition and queues ingest_wave then build_marts, and
the instance runs them one at a time. (That starting the UI after `make run` launches nothing: test_lineage_ui.)"""

import time

import dagster as dg
import duckdb
import pytest
from helpers import copy_sample_wave, make_settings
from waves_helpers import DagsterDev

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)


def published_waves(path) -> list[str]:
    if not path.is_file():
        return []
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [w for (w,) in con.execute("select wave from waves order by wave").fetchall()]
    finally:
        con.close()


def finished(instance: dg.DagsterInstance, job: str) -> bool:
    runs = instance.get_runs(filters=dg.RunsFilter(job_name=job))
    return bool(runs) and all(r.is_finished for r in runs)


def test_a_wave_dropped_in_while_the_ui_runs_is_published(tmp_path):
    settings = make_settings(tmp_path)
    dev = DagsterDev(tmp_path, settings.raw_dir, settings.marts_dir)
    dev.env["PIPELINE_SENSOR_INTERVAL"] = "5"  # two looks 5 s apart instead of 15 s
    with dev, dg.DagsterInstance.from_config(str(dev.home)) as instance:
        copy_sample_wave(settings.raw_dir)
        deadline = time.monotonic() + 420
        while not finished(instance, "build_marts"):
            assert time.monotonic() < deadline, dev.log.read_text(errors="replace")[-4000:]
            time.sleep(2)
        assert published_waves(settings.published_db) == ["2024"]
        page = (settings.reports_dir / "waves.html").read_text(encoding="utf-8")
    assert dev.group_pids() == []
    assert "Runde 2024" not in page and "Bare én runde er bygget" in page
    assert (settings.marts_dir / "manifest.json").is_file()

    with dg.DagsterInstance.from_config(str(dev.home)) as instance:
        assert instance.get_dynamic_partitions("wave") == ["2024"]
        records = sorted(instance.get_run_records(), key=lambda r: r.create_timestamp)
        runs = [
            (
                r.dagster_run.job_name,
                r.dagster_run.tags.get("dagster/partition"),
                r.dagster_run.status,
                r.dagster_run.tags.get("dagster/sensor_name"),
            )
            for r in records
        ]
        assert runs == [
            ("ingest_wave", "2024", dg.DagsterRunStatus.SUCCESS, "raw_folder_sensor"),
            ("build_marts", None, dg.DagsterRunStatus.SUCCESS, "raw_folder_sensor"),
        ]
        # one run at a time: the marts were built after the wave was ingested
        ingest, marts = records
        assert ingest.end_time <= marts.start_time
