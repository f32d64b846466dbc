"""The work database: one DuckDB file under <marts>/.build/, never the file users open.

SQL is loaded from files under sql/; values are bound as parameters; table names come only from
constants here or from the checked marts contract (IDENTIFIER).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from pipeline.codebook import IDENTIFIER, LANGUAGES, NOT_STATED, Codebook
from pipeline.settings import DEFAULT_DUCKDB_MEMORY_MB

PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")

# Tables written per wave, and the schema of each.
WAVE_TABLES = (
    "raw.waves",
    "raw.wave_respondents",
    "raw.wave_export",
    "raw.wave_columns",
    "raw.wave_groups",
    "staging.respondents",
    "staging.respondent_groups",
    "staging.responses",
    "staging.quarantine",
    "staging.open_answers",
    "raw.wave_fingerprints",
    "staging.wave_fingerprints",
)


def qualified(name: str) -> str:
    """A checked, quoted schema.table name."""
    parts = name.split(".")
    if not 1 <= len(parts) <= 2 or not all(IDENTIFIER.match(p) for p in parts):
        raise ValueError(f"not a valid table name: {name!r}")
    return ".".join('"' + p + '"' for p in parts)


def sql_literal(text: str) -> str:
    """A SQL string literal, for statements that take no parameters (COMMENT ON)."""
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def connect(
    path: Path, sql_dir: Path, read_only: bool = False, memory_mb: int = DEFAULT_DUCKDB_MEMORY_MB
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The work database, with DuckDB's memory limit (memory_mb; what does not fit spills to duckdb_tmp/ next to
    the file) and, unless read-only, its schemas, tables and macros."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        str(path),
        read_only=read_only,
        config={"memory_limit": f"{memory_mb}MB", "temp_directory": str(path.parent / "duckdb_tmp")},
    )
    try:
        if not read_only:
            con.execute((sql_dir / "staging" / "_tables.sql").read_text(encoding="utf-8"))
            for macros in sorted((sql_dir / "macros").glob("*.sql")):  # e.g. wilson_low(k, n, z) for the marts
                con.execute(macros.read_text(encoding="utf-8"))
        yield con
    finally:
        con.close()


@contextmanager
def memory_database(sql_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with the work database's tables (sql/staging/_tables.sql)."""
    con = duckdb.connect(":memory:")
    try:
        con.execute((sql_dir / "staging" / "_tables.sql").read_text(encoding="utf-8"))
        yield con
    finally:
        con.close()


def replace_wave(con: duckdb.DuckDBPyConnection, table: str, wave: str, frame: pl.DataFrame) -> None:
    """Delete the wave's rows from a per-wave table and insert the frame (idempotent)."""
    if table not in WAVE_TABLES:
        raise ValueError(f"{table} is not a per-wave table")
    target = qualified(table)
    con.execute("delete from " + target + " where wave = ?", [wave])
    if frame.height:
        con.register("_wave_frame", frame.to_arrow())
        try:
            columns = ", ".join('"' + c + '"' for c in frame.columns if IDENTIFIER.match(c))
            con.execute("insert into " + target + " (" + columns + ") select " + columns + " from _wave_frame")
        finally:
            con.unregister("_wave_frame")


def delete_wave(con: duckdb.DuckDBPyConnection, wave: str) -> None:
    for table in WAVE_TABLES:
        con.execute("delete from " + qualified(table) + " where wave = ?", [wave])


def staged_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """wave -> fingerprint of the inputs its staging rows were made from (waves staged successfully only)."""
    rows = con.execute("select wave, fingerprint from staging.wave_fingerprints order by wave").fetchall()
    return {wave: fingerprint for wave, fingerprint in rows}


def load_codebook_tables(con: duckdb.DuckDBPyConnection, codebook: Codebook) -> dict[str, int]:
    """Write the codebook as tables codebook.levels, codebook.items, codebook.categories, codebook.background (the
    background variables) and codebook.groups (their groups, not_stated last)."""
    levels = pl.DataFrame(
        [
            {"level": level.key, "level_order": level.order,
             **{f"label_{k}": v for k, v in level.label.items()},
             **{f"description_{k}": v for k, v in level.description.items()}}
            for level in codebook.levels.values()
        ]
    )
    items = pl.DataFrame(
        [
            {"item": i.code, "item_order": i.order, "level": i.level, "scale": i.scale, "figure": i.figure,
             **{f"question_{k}": v for k, v in i.question.items()}}
            for i in codebook.items.values()
        ],
        schema_overrides={"figure": pl.Int64},
    )
    categories = pl.DataFrame(
        [
            {"scale": s.key, "category": c.key, "category_order": c.order, "code": c.code, "score": c.score,
             "top2": c.top2, "top3": c.top3, "headline": c.headline,
             **{f"label_{k}": v for k, v in c.label.items()}}
            for s in codebook.scales.values() for c in s.categories
        ],
        schema_overrides={"score": pl.Int64},
    )
    background = pl.DataFrame(
        [
            {"variable": v.key, "variable_order": v.order, "public": v.public,
             **{f"label_{k}": t for k, t in v.label.items()}, **{f"question_{k}": t for k, t in v.question.items()}}
            for v in codebook.background.values()
        ],
        schema={"variable": pl.Utf8, "variable_order": pl.Int64, "public": pl.Boolean,
                **{f"label_{k}": pl.Utf8 for k in LANGUAGES}, **{f"question_{k}": pl.Utf8 for k in LANGUAGES}},
    )
    groups = pl.DataFrame(
        [
            {"variable": v.key, "group": g.key, "group_order": g.order, "code": g.code,
             **{f"label_{k}": t for k, t in g.label.items()}}
            for v in codebook.background.values() for g in v.groups
        ] + [
            {"variable": v.key, "group": NOT_STATED, "group_order": len(v.groups) + 1, "code": None,
             **{f"label_{k}": codebook.ui["group_not_stated"][k] for k in LANGUAGES}}
            for v in codebook.background.values()
        ],
        schema={"variable": pl.Utf8, "group": pl.Utf8, "group_order": pl.Int64, "code": pl.Int64,
                **{f"label_{k}": pl.Utf8 for k in LANGUAGES}},
    )
    counts = {}
    for name, frame in (("levels", levels), ("items", items), ("categories", categories), ("background", background),
                        ("groups", groups)):
        con.register("_codebook_frame", frame.to_arrow())
        try:
            table = qualified("codebook." + name)
            con.execute("create or replace table " + table + " as select * from _codebook_frame")
        finally:
            con.unregister("_codebook_frame")
        counts[name] = frame.height
    return counts


def read_sql(sql_dir: Path, layer: str, name: str) -> str:
    if not IDENTIFIER.match(layer) or not IDENTIFIER.match(name):
        raise ValueError(f"not a valid model name: {layer}/{name}")
    path = sql_dir / layer / (name + ".sql")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing SQL model for table {name} (see schemas/marts.yaml)")
    return path.read_text(encoding="utf-8")


def bound(sql: str, params: dict[str, object]) -> dict[str, object] | None:
    """The parameters a statement names ($name), from params: DuckDB refuses parameters a statement does not use."""
    return {p: params[p] for p in sorted(set(PARAM.findall(sql)))} or None


def build_model(
    con: duckdb.DuckDBPyConnection, sql_dir: Path, name: str, params: dict[str, object], sql_name: str | None = None
) -> int:
    """create or replace marts.<name> from sql/marts/<sql_name or name>.sql, binding the parameters it names."""
    select = read_sql(sql_dir, "marts", sql_name or name).strip().rstrip(";")
    con.execute("create or replace table " + qualified("marts." + name) + " as " + select, bound(select, params))
    return scalar(con, "select count(*) from " + qualified("marts." + name))


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> object:
    """The single value of a one-row, one-column query (fetching the whole result, as DuckDB 2.0 wants)."""
    return con.execute(sql, params).fetchall()[0][0]


def query_frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> pl.DataFrame:
    """Run a query and return its result as a polars frame."""
    return pl.from_arrow(con.sql(sql, params=params).to_arrow_table())


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    """(column, DuckDB type) of a table of the open database, in column order."""
    return con.execute(
        "select column_name, data_type from information_schema.columns where table_catalog = current_database() "
        "and table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()


def read_marts(con: duckdb.DuckDBPyConnection, names: tuple[str, ...] | list[str]) -> dict[str, pl.DataFrame]:
    """Every named mart of the work database as a polars frame (rows in the order the mart's SQL wrote them).
    Report assets read the marts only through this, from the same tuple their Dagster deps are made of, so the
    lineage the UI draws is what the code reads."""
    return {name: query_frame(con, "select * from marts." + qualified(name)) for name in names}


def table_frame(con: duckdb.DuckDBPyConnection, table: str, where_wave: str | None = None) -> pl.DataFrame:
    if where_wave is None:
        return query_frame(con, "select * from " + qualified(table))
    return query_frame(con, "select * from " + qualified(table) + " where wave = ?", [where_wave])
