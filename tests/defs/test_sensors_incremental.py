"""Incremental rebuilds. A new wave re-processes its own partition and the cross-wave marts only;
re-running a wave whose input did not change changes nothing (delete + insert per wave)."""

import json

import dagster as dg
import duckdb
import pytest
from helpers import copy_sample_wave, make_settings, query
from waves_helpers import SensorDriver, write_second_wave

from pipeline.cli import QUIET
from pipeline.contract import load_contract
from pipeline.settings import PROJECT_ROOT
from pipeline.warehouse import per_wave_tables

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)

CONTRACT = load_contract(PROJECT_ROOT / "schemas" / "marts.yaml", PROJECT_ROOT / "sql")


def marts(settings) -> dict[str, list[tuple]]:
    return {t.name: query(settings, f'select * from "{t.name}" order by all').rows() for t in CONTRACT}


def work_tables(settings) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(settings.work_db), read_only=True)
    try:
        return {t: con.execute(f"select * from {t} order by all").fetchall() for t in per_wave_tables(con)}
    finally:
        con.close()


def pages(settings) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(settings.reports_dir.glob("*.html"))}


def materialized_partitions(result: dg.ExecuteInProcessResult, key: list[str]) -> list[str]:
    return sorted(e.partition for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(key))


@pytest.fixture
def env(tmp_path):
    settings = make_settings(tmp_path)
    copy_sample_wave(settings.raw_dir)
    write_second_wave(settings.raw_dir, "2026")
    with dg.instance_for_test() as instance:
        sensor = SensorDriver(settings, instance)
        assert all(r.success for _, r in sensor.tick_until_runs())
        yield settings, instance, sensor


def test_a_new_wave_runs_its_own_partition_and_the_cross_wave_marts_only(env):
    settings, instance, sensor = env
    write_second_wave(settings.raw_dir, "2027", fielded="2027-05-03")
    runs = sensor.tick_until_runs()
    assert [(r.job_name, r.partition_key) for r, _ in runs] == [("ingest_wave", "2027"), ("build_marts", None)]
    (_, ingest), (_, marts_run) = runs
    # the run records say which partitions ran
    assert ingest.dagster_run.tags["dagster/partition"] == "2027"
    for key in (["raw", "wave_export"], ["staging", "responses"], ["staging", "quarantine"]):
        assert materialized_partitions(ingest, key) == ["2027"], key
    exported = [
        e for e in ingest.get_asset_materialization_events() if e.asset_key == dg.AssetKey(["raw", "wave_export"])
    ][0]
    assert exported.materialization.metadata["partitions"].value == ["2027"]
    # the cross-wave marts are unpartitioned and rebuilt once, with every wave
    built = {e.asset_key.to_user_string() for e in marts_run.get_asset_materialization_events()}
    assert {"marts/wave_change", "marts/waves", "reports/waves", "publish/samskabelse_duckdb"} <= built
    assert all(e.partition is None for e in marts_run.get_asset_materialization_events())
    assert query(settings, "select distinct wave_from, wave_to from wave_change order by all").rows() == [
        ("2024", "2026"),
        ("2026", "2027"),
    ]
    # 2024 and 2026 were ingested once each, by the first tick that saw them
    ingested = sorted(
        r.tags["dagster/partition"] for r in instance.get_runs(filters=dg.RunsFilter(job_name="ingest_wave"))
    )
    assert ingested == ["2024", "2026", "2027"]


def test_rerunning_a_wave_with_unchanged_input_changes_nothing(env):
    settings, instance, sensor = env
    before = (marts(settings), work_tables(settings), pages(settings))
    manifest = json.loads((settings.marts_dir / "manifest.json").read_text(encoding="utf-8"))
    for _ in range(2):  # as `Materialize` of partition 2024 in the UI would, twice
        for job, partition in (("ingest_wave", "2024"), ("build_marts", None)):
            result = sensor.defs.resolve_job_def(job).execute_in_process(
                instance=instance, partition_key=partition, run_config=QUIET
            )
            assert result.success
    assert marts(settings) == before[0]
    assert work_tables(settings) == before[1]
    assert pages(settings) == before[2]
    again = json.loads((settings.marts_dir / "manifest.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in again.items() if k != "built_at"} == {k: v for k, v in manifest.items() if k != "built_at"}
    assert len(before[1]["raw.waves"]) == 2 and len(before[0]["responses"]) == 360
