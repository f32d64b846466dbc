"""Raw_folder_sensor, evaluated as the daemon evaluates it (build_sensor_context + evaluate_tick, a real
instance), and the runs it requests carried out with that instance."""

import json
import shutil

import dagster as dg
import pytest
from helpers import copy_sample_wave, make_settings, query
from waves_helpers import SensorDriver, item_column, label, summary, write_second_wave

from pipeline.cli import remove_wave
from pipeline.codebook import load_codebook
from pipeline.defs.schedules import SCHEDULE_NAME
from pipeline.defs.sensors import INTERVAL_SECONDS, SENSOR_NAME
from pipeline.ingest.fingerprints import wave_fingerprints
from pipeline.settings import PROJECT_ROOT

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)

UP_TO_DATE = "every wave is up to date"
CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")


@pytest.fixture
def env(tmp_path):
    settings = make_settings(tmp_path)
    with dg.instance_for_test() as instance:
        yield settings, instance, SensorDriver(settings, instance)


def ingest_runs(instance) -> list[str]:
    """Partition of every ingest_wave run in the instance, oldest first."""
    records = instance.get_run_records(filters=dg.RunsFilter(job_name="ingest_wave"))
    return [r.dagster_run.tags["dagster/partition"] for r in sorted(records, key=lambda r: r.create_timestamp)]


def test_new_wave_is_ingested_on_the_second_unchanged_tick_then_marts_and_pages_follow(env):
    settings, instance, sensor = env
    assert sensor.tick().skip_message == f"{settings.raw_dir}: {UP_TO_DATE}"
    copy_sample_wave(settings.raw_dir)

    first = sensor.tick()
    assert first.run_requests == [] and first.dynamic_partitions_requests == []
    assert first.skip_message == (
        f"{settings.raw_dir}: wave 2024: new input seen; it is ingested when it is unchanged on the next tick"
    )
    assert instance.get_dynamic_partitions("wave") == []

    second = sensor.tick()
    assert summary(second) == [("ingest_wave", "2024"), ("build_marts", None)]
    assert [(r.partitions_def_name, list(r.partition_keys)) for r in second.dynamic_partitions_requests] == [
        ("wave", ["2024"])
    ]
    assert second.run_requests[0].tags["samskabelse/trigger"] == "new wave"
    assert second.run_requests[1].tags["samskabelse/trigger"] == "waves ingested: 2024"

    results = sensor.carry_out(second)
    assert [r.success for _, r in results] == [True, True]
    assert instance.get_dynamic_partitions("wave") == ["2024"]
    assert query(settings, "select wave, complete, invited from waves").rows() == [("2024", 10, 12)]
    assert query(settings, "select count(*) from item_indicators").item() == 18
    assert (settings.reports_dir / "waves.html").is_file() and (settings.reports_dir / "index.html").is_file()
    # the run's own record says which partition it processed
    ingest = results[0][1].dagster_run
    assert (ingest.job_name, ingest.tags["dagster/partition"]) == ("ingest_wave", "2024")
    assert ingest.tags["dagster/sensor_name"] == SENSOR_NAME

    third = sensor.tick()
    assert third.run_requests == [] and third.skip_message == f"{settings.raw_dir}: {UP_TO_DATE}"


def test_half_copied_export_is_not_run_until_it_stops_changing(env):
    settings, instance, sensor = env
    folder = write_second_wave(settings.raw_dir, "2025")
    data = (folder / "export.csv").read_bytes()
    (folder / "export.csv").write_bytes(data[: len(data) // 3])
    assert sensor.tick().run_requests == []
    (folder / "export.csv").write_bytes(data[: 2 * len(data) // 3])  # still copying: changed since last tick
    grown = sensor.tick()
    assert grown.run_requests == []
    assert "wave 2025: new input seen" in grown.skip_message
    (folder / "export.csv").write_bytes(data)  # complete, but only seen once
    assert sensor.tick().run_requests == []
    assert summary(sensor.tick()) == [("ingest_wave", "2025"), ("build_marts", None)]


def test_folder_without_its_export_waits_and_says_why(env):
    settings, instance, sensor = env
    folder = write_second_wave(settings.raw_dir, "2025")
    (folder / "export.csv").unlink()
    data = sensor.tick()
    assert data.run_requests == []
    assert data.skip_message == (
        f"{settings.raw_dir}: wave folder 2025 waits: {folder / 'export.csv'}: not there "
        f"(yet); copy the export named in wave.yaml into {folder}"
    )
    (folder / "wave.yaml").write_text("label: [unclosed\n", encoding="utf-8")
    assert "wave.yaml: not valid YAML (" in sensor.tick().skip_message
    assert sensor.tick().run_requests == []


def test_changed_export_reruns_that_wave_and_the_marts_only(env):
    settings, instance, sensor = env
    copy_sample_wave(settings.raw_dir)
    write_second_wave(settings.raw_dir, "2026")
    requests = [(r.job_name, r.partition_key) for r, _ in sensor.tick_until_runs()]
    assert requests == [("ingest_wave", "2024"), ("ingest_wave", "2026"), ("build_marts", None)]
    assert query(
        settings, "select headline_pct from item_indicators where wave = '2026' and item = 'P1'"
    ).item() == pytest.approx(90.0)

    export = settings.raw_dir / "2026" / "export.csv"
    text = export.read_text(encoding="utf-8").splitlines()
    headers = text[0].split(";")
    p1 = item_column(headers, "P1")
    edited = [text[0]]
    for line in text[1:]:
        cells = line.split(";")
        cells[p1] = label("degree", "not_at_all")
        edited.append(";".join(cells))
    export.write_text("\n".join(edited) + "\n", encoding="utf-8")

    seen = sensor.tick()
    assert seen.run_requests == [] and "wave 2026: changed input seen" in seen.skip_message
    rerun = sensor.tick()
    assert summary(rerun) == [("ingest_wave", "2026"), ("build_marts", None)]
    assert rerun.dynamic_partitions_requests == []
    assert rerun.run_requests[0].tags["samskabelse/trigger"] == "changed wave"
    assert all(r.success for _, r in sensor.carry_out(rerun))

    assert ingest_runs(instance) == ["2024", "2026", "2026"]  # 2024 was not ingested again
    assert query(
        settings, "select headline_pct, mean_score from item_indicators where wave = '2026' and item = 'P1'"
    ).rows() == [(pytest.approx(0.0), pytest.approx(1.0))]
    assert query(
        settings, "select headline_pct from item_indicators where wave = '2024' and item = 'P1'"
    ).item() == pytest.approx(90.0)
    change = query(settings, "select headline_diff, mean_score_diff from wave_change where item = 'P1'").rows()
    assert change == [(pytest.approx(-90.0), pytest.approx(1.0 - 4.4))]
    assert "−90 [" in (settings.reports_dir / "waves.html").read_text(encoding="utf-8")
    assert sensor.tick().run_requests == []


def test_changed_wave_yaml_reruns_that_wave(env):
    settings, instance, sensor = env
    copy_sample_wave(settings.raw_dir, "2025")  # not 2024: its response rate is checked against the report
    sensor.tick_until_runs()
    spec = settings.raw_dir / "2025" / "wave.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("invited: 12", "invited: 20"), encoding="utf-8")
    assert sensor.tick().run_requests == []
    rerun = sensor.tick()
    assert summary(rerun) == [("ingest_wave", "2025"), ("build_marts", None)]
    assert all(r.success for _, r in sensor.carry_out(rerun))
    assert query(settings, "select invited, complete, response_rate from waves").rows() == [
        (20, 10, pytest.approx(50.0))
    ]


def test_unchanged_folder_requests_nothing_tick_after_tick(env):
    settings, instance, sensor = env
    copy_sample_wave(settings.raw_dir)
    sensor.tick_until_runs()
    cursor = sensor.cursor
    for _ in range(3):
        data = sensor.tick()
        assert data.run_requests == [] and data.dynamic_partitions_requests == []
        assert data.skip_message == f"{settings.raw_dir}: {UP_TO_DATE}"
    assert sensor.cursor == cursor
    assert ingest_runs(instance) == ["2024"]


def test_removed_folder_is_reported_and_its_rows_stay_until_remove_wave(env):
    settings, instance, sensor = env
    copy_sample_wave(settings.raw_dir)
    write_second_wave(settings.raw_dir, "2026")
    sensor.tick_until_runs()
    shutil.rmtree(settings.raw_dir / "2026")

    data = sensor.tick()
    expected = (
        f"{settings.raw_dir}: wave 2026: its folder was removed; its rows stay in the marts until "
        "`make remove-wave WAVE=2026` removes them"
    )
    assert data.run_requests == [] and data.skip_message == expected
    assert json.loads(sensor.cursor)["removed"] == ["2026"]
    assert instance.get_dynamic_partitions("wave") == ["2024", "2026"]
    assert query(settings, "select wave from waves order by wave")["wave"].to_list() == ["2024", "2026"]
    assert sensor.tick().skip_message == expected  # still reported, still nothing run

    assert remove_wave(settings, instance, "2026") == 0
    assert instance.get_dynamic_partitions("wave") == ["2024"]
    assert query(settings, "select wave from waves")["wave"].to_list() == ["2024"]
    assert query(settings, "select count(*) from wave_change").item() == 0
    assert sensor.tick().skip_message == f"{settings.raw_dir}: {UP_TO_DATE}"
    assert json.loads(sensor.cursor)["ingested"].keys() == {"2024"}

    # the same wave dropped in again is a new wave
    write_second_wave(settings.raw_dir, "2026")
    assert [(r.job_name, r.partition_key) for r, _ in sensor.tick_until_runs()] == [
        ("ingest_wave", "2026"),
        ("build_marts", None),
    ]
    assert query(settings, "select wave from waves order by wave")["wave"].to_list() == ["2024", "2026"]


def test_remove_wave_refuses_while_the_folder_is_there(env, capsys):
    settings, instance, _ = env
    copy_sample_wave(settings.raw_dir)
    assert remove_wave(settings, instance, "2024") == 3  # not started
    assert (
        f"not started: {settings.raw_dir / '2024'} is still there; move it out of {settings.raw_dir} first"
        in capsys.readouterr().err
    )


def test_cursor_is_json_carrying_all_state(env):
    settings, instance, sensor = env
    copy_sample_wave(settings.raw_dir)
    sensor.tick_until_runs()
    fingerprint = wave_fingerprints(settings, CODEBOOK, ["2024"])["2024"]  # the one `make run` stores
    assert json.loads(sensor.cursor) == {
        "version": 1,
        "seen": {"2024": fingerprint},
        "ingested": {"2024": fingerprint},
        "removed": [],
        "requests": 1,
    }
    # a fresh evaluation that gets the cursor (a restarted daemon) knows everything: nothing to do
    restarted = SensorDriver(settings, instance)
    restarted.cursor = sensor.cursor
    assert restarted.tick().run_requests == []


def test_sensor_and_schedule_are_on_by_default(env):
    settings, _, sensor = env
    sensor_def = sensor.defs.get_repository_def().get_sensor_def(SENSOR_NAME)
    schedule = sensor.defs.get_repository_def().get_schedule_def(SCHEDULE_NAME)
    assert sensor_def.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor_def.minimum_interval_seconds == INTERVAL_SECONDS
    assert sorted(j.name for j in sensor_def.jobs) == ["build_marts", "ingest_wave"]
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert (schedule.cron_schedule, schedule.execution_timezone, schedule.job_name) == (
        "0 5 * * *",
        "Europe/Oslo",
        "build_marts",
    )


def test_waves_built_by_make_run_are_not_ingested_again_by_the_sensor(env):
    from helpers import build
    from waves_helpers import write_second_wave

    settings, instance, sensor = env
    copy_sample_wave(settings.raw_dir)
    assert build(settings, instance) == 0  # `make run` into the same instance
    runs_before = len(instance.get_runs())
    for _ in range(3):  # a first UI start: a fresh cursor, three ticks
        tick = sensor.tick()
        assert tick.run_requests == [] and tick.skip_message == f"{settings.raw_dir}: {UP_TO_DATE}"
    write_second_wave(settings.raw_dir, "2026")
    assert build(settings, instance) == 0  # a wave added with `make run`
    for _ in range(3):
        assert sensor.tick().run_requests == []
    assert len(instance.get_runs()) == runs_before + 2  # make run's two runs (2024 unchanged)
