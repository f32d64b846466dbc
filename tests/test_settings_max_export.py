"""PIPELINE_MAX_EXPORT_BYTES is a Settings field like the others (read once, checked with a clear message)."""

import pytest

from pipeline.ingest.readers import MAX_EXPORT_BYTES
from pipeline.settings import DEFAULT_MAX_EXPORT_BYTES, Settings, SettingsError


def test_the_default_is_256_mib_as_in_the_readers():
    assert Settings.from_env({}).max_export_bytes == DEFAULT_MAX_EXPORT_BYTES == MAX_EXPORT_BYTES == 268435456


def test_the_limit_comes_from_the_environment():
    assert Settings.from_env({"PIPELINE_MAX_EXPORT_BYTES": "1000"}).max_export_bytes == 1000
    assert Settings.from_env({"PIPELINE_MAX_EXPORT_BYTES": " 8589934592 "}).max_export_bytes == 8 * 2**30
    assert Settings.from_env({"PIPELINE_MAX_EXPORT_BYTES": ""}).max_export_bytes == DEFAULT_MAX_EXPORT_BYTES


@pytest.mark.parametrize("bad", ["2GB", "0", "-5", "1e9"])
def test_a_bad_limit_is_named(bad):
    with pytest.raises(SettingsError) as err:
        Settings.from_env({"PIPELINE_MAX_EXPORT_BYTES": bad})
    assert str(err.value) == (
        f"PIPELINE_MAX_EXPORT_BYTES={bad!r}: use a whole number of bytes, e.g. 268435456 (the default, 256 MiB)"
    )


def test_settings_made_in_code_leave_it_unset(tmp_path):
    assert Settings(raw_dir=tmp_path, marts_dir=tmp_path).max_export_bytes is None
    with pytest.raises(SettingsError, match=r"PIPELINE_MAX_EXPORT_BYTES='0': use a whole number of bytes"):
        Settings(raw_dir=tmp_path, marts_dir=tmp_path, max_export_bytes=0)


def test_the_limit_reaches_the_dagster_runs(tmp_path):
    from pipeline.defs.resources import SurveyPipeline

    settings = Settings.from_env(
        {
            "PIPELINE_RAW_DIR": str(tmp_path / "raw"),
            "PIPELINE_MARTS_DIR": str(tmp_path / "m"),
            "PIPELINE_MAX_EXPORT_BYTES": "8589934592",
        }
    )
    assert SurveyPipeline.from_settings(settings).settings.max_export_bytes == 8 * 2**30
