"""Decisions a mart's SQL takes from Python: as in staging, Python decides from small tables of counts and hands the
decision over as a temporary table the mart's SQL joins (schemas/marts.yaml: a table's `decision:`)."""

from __future__ import annotations

import json

import duckdb
import polars as pl

from pipeline.contract import MartTable
from pipeline.files import write_atomic
from pipeline.ingest.pseudonym import pseudonym_key
from pipeline.marts.disclosure import (
    PANEL_DECISION_SCHEMA,
    PANEL_UNITS,
    AuditResult,
    audit_panel_counts,
    audit_published,
    decide_cells,
    decide_panel,
    disclosure_secret,
    published_panel_bounds,
)
from pipeline.settings import Settings
from pipeline.warehouse import bound, build_model, query_frame, read_sql, register_temp_table


def disclosure(con: duckdb.DuckDBPyConnection, settings: Settings, params: dict[str, object]) -> dict[str, object]:
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


def panel_change(con: duckdb.DuckDBPyConnection, settings: Settings, params: dict[str, object]) -> dict[str, object]:
    """temp.panel_decision for sql/marts/panel_change.sql (pipeline.marts.disclosure.decide_panel): the units of
    the paired change the public profile hides beyond the SQL's own rule, because with what the waves' tables publish
    (sql/marts/decide/panel_change_cells.sql, which the audit reads too) they would give back a hidden count. The
    counts and the rule's flags come from panel_change.sql itself, run once with no decision."""
    register_temp_table(con, "panel_decision", pl.DataFrame(schema=PANEL_DECISION_SCHEMA))
    select = read_sql(settings.sql_dir, "marts", "panel_change").strip().rstrip(";")
    panel = query_frame(con, select, bound(select, params))
    decision = decide_panel(
        _decide_query(con, settings, "disclosure_cells"),
        _decide_query(con, settings, "panel_change_cells"),
        panel,
        min_cell=settings.min_cell,
        min_group=settings.min_group,
    )
    register_temp_table(con, "panel_decision", decision)
    return {f"hidden beyond the rule: {unit}": int(decision[f"{unit}_hidden"].sum()) for unit in PANEL_UNITS}


def _decide_query(
    con: duckdb.DuckDBPyConnection, settings: Settings, name: str, params: dict | None = None
) -> pl.DataFrame:
    select = (settings.sql_dir / "marts" / "decide" / (name + ".sql")).read_text(encoding="utf-8")
    return query_frame(con, select.strip().rstrip(";"), params)


def audit_disclosure(con: duckdb.DuckDBPyConnection, settings: Settings) -> AuditResult:
    """The audit of what a public build publishes: the linked tables of each wave and item with the bounds the panel
    figures published beside them set on them (pipeline.marts.disclosure.audit_published: the counts, and the cells
    the public marts let the pages show, sql/marts/decide/panel_change_cells.sql; published_panel_bounds over marts.
    panel_change), and the panel's counts (audit_panel_counts:
    sql/marts/decide/published_panel_counts.sql)."""
    cells = _decide_query(con, settings, "disclosure_cells")
    items = audit_published(
        cells,
        _decide_query(con, settings, "panel_change_cells"),
        min_cell=settings.min_cell,
        min_group=settings.min_group,
        bounds=published_panel_bounds(query_frame(con, "select * from marts.panel_change"), cells),
    )
    panel = audit_panel_counts(
        _decide_query(con, settings, "published_panel_counts", {"min_cell": settings.min_cell}),
        min_cell=settings.min_cell,
    )
    narrowest = [w for w in (items.narrowest, panel.narrowest) if w is not None]
    return AuditResult(
        items.hidden + panel.hidden,
        items.audited + panel.audited,
        min(narrowest) if narrowest else None,
        items.failures + panel.failures,
    )


DECISIONS = {"disclosure": disclosure, "panel_change": panel_change}


def build_mart(
    con: duckdb.DuckDBPyConnection, settings: Settings, table: MartTable, params: dict[str, object]
) -> tuple[int, dict[str, object]]:
    """marts.<table> from its SQL, its decision (schemas/marts.yaml `decision:`) taken first: (rows, what the
    decision reports)."""
    params = {**params, **dict(table.params)}
    decided = DECISIONS[table.decision](con, settings, params) if table.decision else {}
    rows = build_model(con, settings.sql_dir, table.name, params, table.sql_path.stem)
    return rows, decided
