"""pipeline.settings: every PIPELINE_* variable read and checked in one place."""

import pytest

from pipeline.settings import Settings, SettingsError, usable_cores


def test_the_sensor_interval_is_read_and_checked():
    assert Settings.from_env({}).sensor_interval == 15
    assert Settings.from_env({"PIPELINE_SENSOR_INTERVAL": "5"}).sensor_interval == 5
    for value, text in (("4", "PIPELINE_SENSOR_INTERVAL=4"), ("soon", "PIPELINE_SENSOR_INTERVAL='soon'")):
        with pytest.raises(SettingsError) as err:
            Settings.from_env({"PIPELINE_SENSOR_INTERVAL": value})
        assert str(err.value) == f"{text}: use a whole number of seconds, at least 5"


def test_the_sensor_follows_the_setting():
    from pipeline.definitions import build_definitions

    settings = Settings.from_env({"PIPELINE_SENSOR_INTERVAL": "7"})
    sensor = build_definitions(settings).get_repository_def().get_sensor_def("raw_folder_sensor")
    assert sensor.minimum_interval_seconds == 7
    assert sensor.description.startswith("Watches the raw folder (`PIPELINE_RAW_DIR`) every 7 s.")


def test_the_duckdb_memory_limit_is_read_checked_and_applied(tmp_path):
    from pipeline.warehouse import connect

    assert Settings.from_env({}).duckdb_memory_mb == 1024
    settings = Settings.from_env({"PIPELINE_DUCKDB_MEMORY_MB": "300", "PIPELINE_MARTS_DIR": str(tmp_path)})
    assert settings.duckdb_memory_mb == 300
    for value, text in (("255", "PIPELINE_DUCKDB_MEMORY_MB=255"), ("1GB", "PIPELINE_DUCKDB_MEMORY_MB='1GB'")):
        with pytest.raises(SettingsError) as err:
            Settings.from_env({"PIPELINE_DUCKDB_MEMORY_MB": value})
        assert str(err.value) == f"{text}: use a whole number of megabytes, at least 256"
    with connect(settings) as con:
        limit, temp = con.execute(
            "select current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchall()[0]
    assert (limit, temp) == ("286.1 MiB", str(tmp_path / ".build" / "duckdb_tmp"))


def test_usable_cores_are_the_affinity_where_there_is_one_else_the_count(monkeypatch):
    import os

    assert usable_cores() == len(os.sched_getaffinity(0))  # Linux: the cores this process may use
    monkeypatch.delattr(os, "sched_getaffinity")  # macOS and Windows have no affinity call
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert usable_cores() == 6
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert usable_cores() == 1
