"""Run configuration, read from environment variables in this one place.

| variable                  | default                      | meaning                                            |
|---------------------------|------------------------------|----------------------------------------------------|
| PIPELINE_RAW_DIR          | data/raw                     | folder of wave folders (<raw>/<wave>/wave.yaml)    |
| PIPELINE_MARTS_DIR        | data/marts                   | where samskabelse.duckdb and reports/ are written  |
| PIPELINE_LANG             | nb                           | report language: nb, da or en                      |
| PIPELINE_PROFILE          | internal                     | internal or public (suppresses small cells)        |
| PIPELINE_MIN_CELL         | 3                            | smallest count shown in the public profile         |
| PIPELINE_MIN_GROUP        | 5                            | smallest group shown by group in the public profile |
| PIPELINE_PSEUDONYM_KEY    | (key file)                   | secret for respondent pseudonyms                   |
| PIPELINE_PSEUDONYM_KEY_FILE | .secrets/pseudonym.key     | key file, created on first run when no key is set  |
| PIPELINE_SCHEMAS_DIR      | schemas                      | codebook and contracts                             |
| PIPELINE_SQL_DIR          | sql                          | SQL models                                         |
| PIPELINE_REPORT_DIR       | report                       | the analyst's text of the document (<lang>/*.md)   |
| PIPELINE_MAX_EXPORT_BYTES | 268435456 (256 MiB)          | largest export read (file, unpacked sheet or data) |
| PIPELINE_DUCKDB_MEMORY_MB | 1024                         | DuckDB's memory limit for the work database (MB)   |

Relative paths are taken from the project root (the folder holding pyproject.toml).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

LANGUAGES = ("nb", "da", "en")
PROFILES = ("internal", "public")
# The public profile's smallest count shown and smallest group shown by group (PIPELINE_MIN_CELL, PIPELINE_MIN_GROUP).
DEFAULT_MIN_CELL = 3
DEFAULT_MIN_GROUP = 5
# Largest export read, in bytes (the same value as pipeline.ingest.readers.MAX_EXPORT_BYTES).
DEFAULT_MAX_EXPORT_BYTES = 256 * 1024 * 1024


# An export is taken once it is unchanged over two looks: shorter than this, a slow copy could be caught half-way.
MIN_SENSOR_INTERVAL = 5
DEFAULT_SENSOR_INTERVAL = 15
AT_LEAST_ONE = "use a whole number of at least 1"
SENSOR_SECONDS = f"use a whole number of seconds, at least {MIN_SENSOR_INTERVAL}"
# DuckDB's memory limit for the work database: what does not fit is spilled to <marts>/.build/duckdb_tmp/.
DEFAULT_DUCKDB_MEMORY_MB = 1024
MIN_DUCKDB_MEMORY_MB = 256
DUCKDB_MEGABYTES = f"use a whole number of megabytes, at least {MIN_DUCKDB_MEMORY_MB}"


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one, as on Linux; else the count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _whole_number(env: dict[str, str], name: str, default: int, rule: str) -> int:
    """A PIPELINE_* variable that must be a whole number (its range is checked in Settings.__post_init__)."""
    text = env.get(name, str(default))
    try:
        return int(text)
    except ValueError:
        raise SettingsError(f"{name}={text!r}: {rule}") from None


class SettingsError(ValueError):
    """A setting has a value the pipeline cannot use."""


def _path(value: str) -> Path:
    p = Path(value)
    return p if p.is_absolute() else PROJECT_ROOT / p


def _max_export_message(value: object) -> str:
    text = repr(value) if isinstance(value, str) else repr(str(value))
    return (
        f"PIPELINE_MAX_EXPORT_BYTES={text}: use a whole number of bytes, e.g. {DEFAULT_MAX_EXPORT_BYTES} "
        "(the default, 256 MiB)"
    )


@dataclass(frozen=True)
class Settings:
    raw_dir: Path
    marts_dir: Path
    schemas_dir: Path = PROJECT_ROOT / "schemas"
    sql_dir: Path = PROJECT_ROOT / "sql"
    report_dir: Path = PROJECT_ROOT / "report"  # the document's prose: report/<lang>/*.md
    lang: str = "nb"
    profile: str = "internal"
    min_cell: int = DEFAULT_MIN_CELL
    min_group: int = DEFAULT_MIN_GROUP
    sensor_interval: int = DEFAULT_SENSOR_INTERVAL  # seconds between two looks of the sensor at the raw folder
    pseudonym_key: str | None = None
    pseudonym_key_file: Path = PROJECT_ROOT / ".secrets" / "pseudonym.key"
    # None: not given (Settings made in code); from_env always sets it (DEFAULT_MAX_EXPORT_BYTES when unset).
    max_export_bytes: int | None = None
    duckdb_memory_mb: int = DEFAULT_DUCKDB_MEMORY_MB

    def __post_init__(self) -> None:
        if self.lang not in LANGUAGES:
            raise SettingsError(f"PIPELINE_LANG={self.lang!r}: use one of {', '.join(LANGUAGES)}")
        if self.profile not in PROFILES:
            raise SettingsError(f"PIPELINE_PROFILE={self.profile!r}: use one of {', '.join(PROFILES)}")
        if self.min_cell < 1:
            raise SettingsError(f"PIPELINE_MIN_CELL={self.min_cell}: {AT_LEAST_ONE}")
        if self.sensor_interval < MIN_SENSOR_INTERVAL:
            raise SettingsError(f"PIPELINE_SENSOR_INTERVAL={self.sensor_interval}: {SENSOR_SECONDS}")
        if self.min_group < 1:
            raise SettingsError(f"PIPELINE_MIN_GROUP={self.min_group}: {AT_LEAST_ONE}")
        if self.duckdb_memory_mb < MIN_DUCKDB_MEMORY_MB:
            raise SettingsError(f"PIPELINE_DUCKDB_MEMORY_MB={self.duckdb_memory_mb}: {DUCKDB_MEGABYTES}")
        if self.max_export_bytes is not None and self.max_export_bytes < 1:
            raise SettingsError(_max_export_message(self.max_export_bytes))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        min_cell_int = _whole_number(env, "PIPELINE_MIN_CELL", DEFAULT_MIN_CELL, AT_LEAST_ONE)
        min_group_int = _whole_number(env, "PIPELINE_MIN_GROUP", DEFAULT_MIN_GROUP, AT_LEAST_ONE)
        interval_int = _whole_number(env, "PIPELINE_SENSOR_INTERVAL", DEFAULT_SENSOR_INTERVAL, SENSOR_SECONDS)
        memory_int = _whole_number(env, "PIPELINE_DUCKDB_MEMORY_MB", DEFAULT_DUCKDB_MEMORY_MB, DUCKDB_MEGABYTES)
        max_export = env.get("PIPELINE_MAX_EXPORT_BYTES", "").strip()
        try:
            max_export_int = int(max_export) if max_export else DEFAULT_MAX_EXPORT_BYTES
        except ValueError:
            raise SettingsError(_max_export_message(max_export)) from None
        return cls(
            raw_dir=_path(env.get("PIPELINE_RAW_DIR", "data/raw")),
            marts_dir=_path(env.get("PIPELINE_MARTS_DIR", "data/marts")),
            schemas_dir=_path(env.get("PIPELINE_SCHEMAS_DIR", "schemas")),
            sql_dir=_path(env.get("PIPELINE_SQL_DIR", "sql")),
            report_dir=_path(env.get("PIPELINE_REPORT_DIR", "report")),
            lang=env.get("PIPELINE_LANG", "nb"),
            profile=env.get("PIPELINE_PROFILE", "internal"),
            min_cell=min_cell_int,
            min_group=min_group_int,
            sensor_interval=interval_int,
            pseudonym_key=env.get("PIPELINE_PSEUDONYM_KEY") or None,
            pseudonym_key_file=_path(env.get("PIPELINE_PSEUDONYM_KEY_FILE", ".secrets/pseudonym.key")),
            max_export_bytes=max_export_int,
            duckdb_memory_mb=memory_int,
        )

    # Handing the settings to Dagster ---------------------------------------------------------
    def to_json(self) -> str:
        """Every setting as JSON, for the Dagster resource's config; the pseudonym key never travels (from_json reads
        it from the environment again)."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "pseudonym_key"}
        return json.dumps(values, default=str, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        """The settings to_json wrote, with the pseudonym key from PIPELINE_PSEUDONYM_KEY."""
        values = json.loads(text)
        for f in dataclasses.fields(cls):
            if f.name in values and values[f.name] is not None and f.type in ("Path", Path):
                values[f.name] = Path(values[f.name])
        return cls(**values, pseudonym_key=os.environ.get("PIPELINE_PSEUDONYM_KEY") or None)

    # Where things are written ---------------------------------------------------------------
    @property
    def build_dir(self) -> Path:
        """Work area of a build; users never read from here."""
        return self.marts_dir / ".build"

    @property
    def work_db(self) -> Path:
        return self.build_dir / "warehouse.duckdb"

    @property
    def published_db(self) -> Path:
        return self.marts_dir / "samskabelse.duckdb"

    @property
    def reports_dir(self) -> Path:
        """The published pages and charts (written by publish/reports, never by a page asset)."""
        return self.marts_dir / "reports"

    @property
    def staged_reports_dir(self) -> Path:
        """Pages and charts as the report assets render them, before publish/reports copies them to reports_dir."""
        return self.build_dir / "reports"

    @property
    def codebook_file(self) -> Path:
        return self.schemas_dir / "codebook.yaml"

    @property
    def marts_contract_file(self) -> Path:
        return self.schemas_dir / "marts.yaml"
