"""Test helpers: write real wave folders and build them with a real Dagster instance and DuckDB file."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import yaml

from pipeline.settings import PROJECT_ROOT, Settings

SAMPLE_WAVE = PROJECT_ROOT / "data" / "raw" / "2024"


def make_settings(root: Path, **overrides) -> Settings:
    """Settings for a build under root/raw → root/marts (schemas and SQL from the project). The pseudonym key
    comes from PIPELINE_PSEUDONYM_KEY, which tests/conftest.py sets to "test-key"."""
    values = dict(
        raw_dir=root / "raw",
        marts_dir=root / "marts",
        pseudonym_key=os.environ.get("PIPELINE_PSEUDONYM_KEY"),
        pseudonym_key_file=root / "secrets" / "pseudonym.key",
    )
    values.update(overrides)
    (root / "raw").mkdir(parents=True, exist_ok=True)
    return Settings(**values)


# The project's schemas and SQL (for staging a wave in memory, which writes nothing); the tests' key, never the
# project's key file
PROJECT_SETTINGS = Settings(
    raw_dir=PROJECT_ROOT / "data" / "raw", marts_dir=PROJECT_ROOT / "data" / "marts", pseudonym_key="test-key"
)


def work_settings(folder: Path) -> Settings:
    """Settings whose work database is <folder>/.build/warehouse.duckdb (schemas and SQL from the project), for tests
    that write the work database's tables themselves."""
    return Settings(
        raw_dir=folder / "raw",
        marts_dir=folder,
        pseudonym_key=os.environ.get("PIPELINE_PSEUDONYM_KEY"),
        pseudonym_key_file=folder / "secrets" / "pseudonym.key",
    )


def copy_sample_wave(raw_dir: Path, key: str = "2024") -> Path:
    target = raw_dir / key
    shutil.copytree(SAMPLE_WAVE, target)
    if key != "2024":
        spec = yaml.safe_load((target / "wave.yaml").read_text(encoding="utf-8"))
        spec["wave"] = key
        (target / "wave.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return target


def read_sample_rows() -> tuple[list[str], list[list[str]]]:
    with open(SAMPLE_WAVE / "export.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    return rows[0], rows[1:]


def write_csv_wave(
    raw_dir: Path,
    key: str,
    headers: list[str],
    rows: list[list[str]],
    *,
    invited: int = 12,
    delimiter: str = ";",
    export: str = "export.csv",
    **wave_yaml,
) -> Path:
    """A wave folder with a CSV export written by the csv module and a wave.yaml."""
    folder = raw_dir / key
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / export, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(headers)
        writer.writerows(rows)
    spec = {"wave": key, "label": f"Wave {key}", "invited": invited, "export": export, **wave_yaml}
    (folder / "wave.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return folder


def build(settings: Settings, instance: dg.DagsterInstance | None = None) -> int:
    """Run the whole build (as `make run` does) into settings.marts_dir; returns the exit code."""
    from pipeline.cli import build as cli_build

    if instance is not None:
        return cli_build(settings, instance)
    with dg.instance_for_test() as inst:
        return cli_build(settings, inst)


def query(settings: Settings, sql: str, params: list | None = None) -> pl.DataFrame:
    """Query the published marts file read-only."""
    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        return pl.from_arrow(con.sql(sql, params=params).to_arrow_table())
    finally:
        con.close()


def run_make(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """make as a user types it in the project folder (its own raw and marts folders, its own Dagster home)."""
    outer_make = ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")
    env = {k: v for k, v in os.environ.items() if k not in outer_make}
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            *args,
            f"PIPELINE_RAW_DIR={tmp_path / 'raw'}",
            f"PIPELINE_MARTS_DIR={tmp_path / 'marts'}",
            f"DAGSTER_HOME={tmp_path / 'home'}",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
