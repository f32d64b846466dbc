"""End to end: while `dagster dev` runs (UI + daemon, as `make ui` starts it), a wave folder copied into
the raw folder becomes published marts and report pages with no command typed: the sensor adds the partition and
queues ingest_wave then build_marts, and the instance runs them one at a time."""

import time

import dagster as dg
import duckdb
from helpers import copy_sample_wave, make_settings
from waves_helpers import DagsterDev


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
        runs = [(r.dagster_run.job_name, r.dagster_run.tags.get("dagster/partition"), r.dagster_run.status,
                 r.dagster_run.tags.get("dagster/sensor_name")) for r in records]
        assert runs == [("ingest_wave", "2024", dg.DagsterRunStatus.SUCCESS, "raw_folder_sensor"),
                        ("build_marts", None, dg.DagsterRunStatus.SUCCESS, "raw_folder_sensor")]
        # one run at a time: the marts were built after the wave was ingested
        ingest, marts = records
        assert ingest.end_time <= marts.start_time


SENSOR_TICKS = """
query($location: String!) { sensorOrError(sensorSelector: {repositoryLocationName: $location,
    repositoryName: "__repository__", sensorName: "raw_folder_sensor"}) {
  __typename ... on Sensor { sensorState { ticks(limit: 20) { status skipReason } } } } }
"""


def test_starting_the_ui_after_make_run_launches_no_run(tmp_path):
    import subprocess
    import sys

    from waves_helpers import LOCATION_QUERY

    from pipeline.settings import PROJECT_ROOT

    settings = make_settings(tmp_path)
    copy_sample_wave(settings.raw_dir)
    dev = DagsterDev(tmp_path, settings.raw_dir, settings.marts_dir)
    made = subprocess.run([sys.executable, "-m", "pipeline.cli", "build"], cwd=PROJECT_ROOT, env=dev.env,
                          capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    with dg.DagsterInstance.from_config(str(dev.home)) as instance:
        before = sorted(r.run_id for r in instance.get_runs())
    assert len(before) == 2  # ingest_wave, build_marts
    with dev:
        location = dev.graphql(LOCATION_QUERY)["workspaceOrError"]["locationEntries"][0]["name"]
        deadline = time.monotonic() + 240
        while True:  # the real daemon ticks the sensor every 15 s: wait for two ticks
            state = dev.graphql(SENSOR_TICKS, {"location": location})["sensorOrError"]["sensorState"]
            ticks = [t for t in state["ticks"] if t["status"] in ("SKIPPED", "SUCCESS", "FAILURE")]
            if len(ticks) >= 2:
                break
            assert time.monotonic() < deadline, dev.log.read_text(errors="replace")[-3000:]
            time.sleep(2)
        with dg.DagsterInstance.from_config(str(dev.home)) as instance:
            # the daily schedule (05:00 Oslo) may rightly fire while this runs; the sensor must launch nothing
            launched = [(r.job_name, dict(r.tags)) for r in instance.get_runs()
                        if r.run_id not in before and "dagster/schedule_name" not in r.tags]
    assert launched == []
    assert {t["status"] for t in ticks} == {"SKIPPED"}
    assert ticks[0]["skipReason"] == f"{settings.raw_dir}: every wave is up to date"
