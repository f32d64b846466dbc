"""Decisions a mart's SQL takes from Python: as in staging, Python decides from small tables of counts and hands the
decision over as a temporary table the mart's SQL joins (schemas/marts.yaml: a table's `decision:`)."""

from __future__ import annotations

import json

import duckdb
import polars as pl

from pipeline.contract import MartTable
from pipeline.files import write_atomic
from pipeline.ingest.pseudonym import pseudonym_key
from pipeline.marts.disclosure import AuditResult, audit_published, decide_cells, disclosure_secret
from pipeline.settings import Settings
from pipeline.warehouse import build_model, query_frame, register_temp_table


def disclosure(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, object]:
    """temp.disclosure_decision for sql/marts/disclosure.sql (pipeline.marts.disclosure), from the counts of
    sql/marts/decide/disclosure_cells.sql; returns what the UI shows of it."""
    cells = _decide_query(con, settings, "disclosure_cells")
    path = settings.build_dir / "disclosure_cache.json"  # block digest → hidden positions (no counts)
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        cached = {}
    used: dict[str, list[int]] = {}
    decision = decide_cells(
        cells,
        min_cell=settings.min_cell,
        min_group=settings.min_group,
        secret=disclosure_secret(pseudonym_key(settings)),
        cache=cached,
        used=used,
    )
    if used != cached:  # the blocks of this build only: a wave removed takes its entries with it
        settings.build_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(used, sort_keys=True))
    register_temp_table(con, "disclosure_decision", decision)
    because = decision.filter(pl.col("hidden")).group_by("hidden_because").len().sort("hidden_because")
    return {"cells decided": decision.height, **{f"hidden: {w}": n for w, n in because.rows()}}


def _decide_query(con: duckdb.DuckDBPyConnection, settings: Settings, name: str) -> pl.DataFrame:
    select = (settings.sql_dir / "marts" / "decide" / (name + ".sql")).read_text(encoding="utf-8")
    return query_frame(con, select.strip().rstrip(";"))


def audit_disclosure(con: duckdb.DuckDBPyConnection, settings: Settings) -> AuditResult:
    """The audit of what a public build publishes (pipeline.marts.disclosure.audit_published): the linked tables'
    counts and the cells the public marts let the pages show (sql/marts/decide/published_cells.sql)."""
    return audit_published(
        _decide_query(con, settings, "disclosure_cells"),
        _decide_query(con, settings, "published_cells"),
        min_cell=settings.min_cell,
        min_group=settings.min_group,
    )


DECISIONS = {"disclosure": disclosure}


def build_mart(
    con: duckdb.DuckDBPyConnection, settings: Settings, table: MartTable, params: dict[str, object]
) -> tuple[int, dict[str, object]]:
    """marts.<table> from its SQL, its decision (schemas/marts.yaml `decision:`) taken first: (rows, what the
    decision reports)."""
    decided = DECISIONS[table.decision](con, settings) if table.decision else {}
    rows = build_model(con, settings.sql_dir, table.name, {**params, **dict(table.params)}, table.sql_path.stem)
    return rows, decided
