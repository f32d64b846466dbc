"""The one Dagster resource: the run's settings (pipeline.settings), the codebook and the work database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from pipeline.codebook import Codebook, load_codebook
from pipeline.contract import MartTable, load_contract
from pipeline.settings import Settings
from pipeline.warehouse import connect


class SurveyPipeline(dg.ConfigurableResource):
    """Folders, language and profile of this build (every PIPELINE_* setting; the pseudonym key never travels through
    Dagster config); opens the work database once per run."""

    settings_json: str  # pipeline.settings.Settings.to_json()
    _con: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)
    _open: object = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: Settings) -> SurveyPipeline:
        return cls(settings_json=settings.to_json())

    @property
    def settings(self) -> Settings:
        return Settings.from_json(self.settings_json)

    def codebook(self) -> Codebook:
        return load_codebook(self.settings.codebook_file)

    def contract(self) -> tuple[MartTable, ...]:
        return load_contract(self.settings.marts_contract_file, self.settings.sql_dir)

    @contextmanager
    def work_db(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The work database, opened at the first step of a run that needs it and kept open for the run's other steps
        (the in-process executor runs them one after the other; opening it costs ~50 ms). A step that fails inside a
        transaction leaves none open for the next."""
        if self._con is None:
            self._open = connect(self.settings)
            self._con = self._open.__enter__()
        try:
            yield self._con
        except BaseException:
            try:
                self._con.rollback()
            except duckdb.Error:
                pass  # no transaction was open
            raise

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._open is not None:
            self._open.__exit__(None, None, None)
            self._con = self._open = None
