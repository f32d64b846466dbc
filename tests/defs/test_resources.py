"""The Dagster resource carries every setting of the build into the assets (the secret key aside, read from the
environment in the run)."""

from pathlib import Path

from pipeline.defs.resources import SurveyPipeline
from pipeline.settings import Settings


def test_every_setting_survives_the_resource(monkeypatch, tmp_path):
    monkeypatch.setenv("PIPELINE_PSEUDONYM_KEY", "the-key")
    settings = Settings(
        raw_dir=tmp_path / "raw",
        marts_dir=tmp_path / "marts",
        schemas_dir=Path("schemas"),
        sql_dir=Path("sql"),
        report_dir=tmp_path / "prose",
        lang="da",
        profile="public",
        min_cell=4,
        min_group=7,
        pseudonym_key="the-key",
        pseudonym_key_file=tmp_path / "key",
        max_export_bytes=1234,
        duckdb_memory_mb=512,
    )
    assert SurveyPipeline.from_settings(settings).settings == settings
