"""The one Dagster resource: run settings (from the environment, see pipeline.settings), the codebook and
the work database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from pipeline.codebook import Codebook, load_codebook
from pipeline.marts.contract import MartTable, load_contract
from pipeline.settings import Settings
from pipeline.warehouse import connect


class SurveyPipeline(dg.ConfigurableResource):
    """Folders, language and profile of this build; opens the work database."""

    raw_dir: str
    marts_dir: str
    schemas_dir: str
    sql_dir: str
    lang: str = "nb"
    profile: str = "internal"
    min_cell: int = 3
    min_group: int = 5
    pseudonym_key_file: str
    max_export_bytes: int | None = None
    duckdb_memory_mb: int = 1024

    @classmethod
    def from_settings(cls, s: Settings) -> SurveyPipeline:
        return cls(
            raw_dir=str(s.raw_dir), marts_dir=str(s.marts_dir), schemas_dir=str(s.schemas_dir),
            sql_dir=str(s.sql_dir), lang=s.lang, profile=s.profile, min_cell=s.min_cell,
            min_group=s.min_group, pseudonym_key_file=str(s.pseudonym_key_file), max_export_bytes=s.max_export_bytes,
            duckdb_memory_mb=s.duckdb_memory_mb,
        )

    @property
    def settings(self) -> Settings:
        from pathlib import Path

        return Settings(
            raw_dir=Path(self.raw_dir), marts_dir=Path(self.marts_dir), schemas_dir=Path(self.schemas_dir),
            sql_dir=Path(self.sql_dir), lang=self.lang, profile=self.profile, min_cell=self.min_cell,
            min_group=self.min_group,
            # The secret never travels through Dagster config: it is read from the environment here.
            pseudonym_key=os.environ.get("PIPELINE_PSEUDONYM_KEY") or None,
            pseudonym_key_file=Path(self.pseudonym_key_file), max_export_bytes=self.max_export_bytes,
            duckdb_memory_mb=self.duckdb_memory_mb,
        )

    def codebook(self) -> Codebook:
        return load_codebook(self.settings.codebook_file)

    def contract(self) -> tuple[MartTable, ...]:
        return load_contract(self.settings.marts_contract_file, self.settings.sql_dir)

    @contextmanager
    def work_db(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        s = self.settings
        with connect(s.work_db, s.sql_dir, read_only=read_only, memory_mb=s.duckdb_memory_mb) as con:
            yield con
