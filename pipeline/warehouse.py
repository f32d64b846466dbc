"""The work database: one DuckDB file under <marts>/.build/, never the file users open.

Its raw and staging tables are created from the one registry of tables (schemas/marts.yaml, pipeline.contract);
SQL is loaded from files under sql/; values are bound as parameters; table names come only from the checked
contract (IDENTIFIER).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from pipeline.codebook import IDENTIFIER, LANGUAGES, NOT_STATED, Codebook
from pipeline.contract import qualified, work_table_ddl, work_tables
from pipeline.files import output_folder
from pipeline.settings import Settings

PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
SCHEMAS = ("raw", "staging", "codebook", "marts")
PER_WAVE_SCHEMAS = ("raw", "staging")
# Another process (the raw-folder sensor reading the fingerprints, say) may hold the file for a moment: wait this long.
LOCK_WAIT_SECONDS = 15.0


def sql_literal(text: str) -> str:
    """A SQL string literal, for statements that take no parameters (COMMENT ON)."""
    return "'" + text.replace("'", "''") + "'"


def create_work_tables(con: duckdb.DuckDBPyConnection, contract_file: Path) -> None:
    """The schemas of the work database and, from the contract, its raw and staging tables. A table whose columns
    differ from the contract (a work database of an older version) is made anew: its waves are read again, since
    the contract's raw and staging sections are part of every wave's fingerprint."""
    for schema in SCHEMAS:
        con.execute("create schema if not exists " + qualified(schema))
    for schema, table in work_tables(contract_file):
        existing = table_columns(con, schema, table.name)
        if existing and existing != list(table.types.items()):
            con.execute("drop table " + qualified(schema + "." + table.name))
        con.execute(work_table_ddl(schema, table))


def _open(path: Path, read_only: bool, memory_mb: int) -> duckdb.DuckDBPyConnection:
    """duckdb.connect, waiting up to LOCK_WAIT_SECONDS while another process holds the file."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            return duckdb.connect(
                str(path),
                read_only=read_only,
                config={"memory_limit": f"{memory_mb}MB", "temp_directory": str(path.parent / "duckdb_tmp")},
            )
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextmanager
def connect(settings: Settings, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """The work database (settings.work_db), with DuckDB's memory limit (PIPELINE_DUCKDB_MEMORY_MB; what does not fit
    spills to duckdb_tmp/ next to the file) and, unless read-only, its schemas, tables and macros."""
    path = settings.work_db
    output_folder(settings.marts_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _open(path, read_only, settings.duckdb_memory_mb)
    try:
        if not read_only:
            create_work_tables(con, settings.marts_contract_file)
            for macros in sorted((settings.sql_dir / "macros").glob("*.sql")):  # e.g. wilson_low(k, n, z)
                con.execute(macros.read_text(encoding="utf-8"))
        yield con
    finally:
        con.close()


@contextmanager
def memory_database(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with the work database's tables."""
    con = duckdb.connect(":memory:")
    try:
        create_work_tables(con, settings.marts_contract_file)
        yield con
    finally:
        con.close()


def replace_wave(con: duckdb.DuckDBPyConnection, table: str, wave: str, frame: pl.DataFrame) -> None:
    """Delete the wave's rows from a per-wave table (raw.* or staging.*) and insert the frame (idempotent)."""
    if table.split(".")[0] not in PER_WAVE_SCHEMAS:
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


def per_wave_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every table of the work database written per wave (raw.* and staging.*), as the contract created them."""
    rows = con.execute(
        "select table_schema || '.' || table_name from information_schema.columns where table_catalog = "
        "current_database() and table_schema in ('raw', 'staging') and column_name = 'wave' order by 1"
    ).fetchall()
    return [r[0] for r in rows]


def delete_wave(con: duckdb.DuckDBPyConnection, wave: str) -> None:
    for table in per_wave_tables(con):
        con.execute("delete from " + qualified(table) + " where wave = ?", [wave])


def staged_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The build record: wave -> fingerprint of the inputs its staging rows were made from (waves staged
    successfully only). `make run` and the raw-folder sensor both decide "changed wave" from it."""
    rows = con.execute("select wave, fingerprint from staging.wave_fingerprints order by wave").fetchall()
    return {wave: fingerprint for wave, fingerprint in rows}


def read_staged_fingerprints(settings: Settings, wait: bool = True) -> dict[str, str] | None:
    """staged_fingerprints of the work database, opened read-only; {} when there is none yet. wait=False (the sensor):
    None at once when a build holds the file, instead of waiting for it."""
    if not settings.work_db.exists():
        return {}
    try:
        con = (
            _open(settings.work_db, True, settings.duckdb_memory_mb)
            if wait
            else duckdb.connect(str(settings.work_db), read_only=True)
        )
    except duckdb.IOException as exc:
        if not wait and "lock" in str(exc).lower():
            return None
        raise
    try:
        present = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'staging' "
            "and table_name = 'wave_fingerprints'"
        ).fetchall()[0][0]
        return staged_fingerprints(con) if present else {}
    finally:
        con.close()


def load_codebook_tables(con: duckdb.DuckDBPyConnection, codebook: Codebook) -> dict[str, int]:
    """Write the codebook as tables codebook.levels, codebook.items, codebook.categories, codebook.background (the
    background variables) and codebook.groups (their groups, not_stated last)."""
    levels = pl.DataFrame(
        [
            {
                "level": level.key,
                "level_order": level.order,
                **{f"label_{k}": v for k, v in level.label.items()},
                **{f"description_{k}": v for k, v in level.description.items()},
            }
            for level in codebook.levels.values()
        ]
    )
    items = pl.DataFrame(
        [
            {
                "item": i.code,
                "item_order": i.order,
                "level": i.level,
                "scale": i.scale,
                "figure": i.figure,
                **{f"question_{k}": v for k, v in i.question.items()},
            }
            for i in codebook.items.values()
        ],
        schema_overrides={"figure": pl.Int64},
    )
    categories = pl.DataFrame(
        [
            {
                "scale": s.key,
                "category": c.key,
                "category_order": c.order,
                "code": c.code,
                "score": c.score,
                "top2": c.top2,
                "top3": c.top3,
                "headline": c.headline,
                **{f"label_{k}": v for k, v in c.label.items()},
            }
            for s in codebook.scales.values()
            for c in s.categories
        ],
        schema_overrides={"score": pl.Int64},
    )
    background = pl.DataFrame(
        [
            {
                "variable": v.key,
                "variable_order": v.order,
                "public": v.public,
                **{f"label_{k}": t for k, t in v.label.items()},
                **{f"question_{k}": t for k, t in v.question.items()},
            }
            for v in codebook.background.values()
        ],
        schema={
            "variable": pl.Utf8,
            "variable_order": pl.Int64,
            "public": pl.Boolean,
            **{f"label_{k}": pl.Utf8 for k in LANGUAGES},
            **{f"question_{k}": pl.Utf8 for k in LANGUAGES},
        },
    )
    groups = pl.DataFrame(
        [
            {
                "variable": v.key,
                "group": g.key,
                "group_order": g.order,
                "code": g.code,
                **{f"label_{k}": t for k, t in g.label.items()},
            }
            for v in codebook.background.values()
            for g in v.groups
        ]
        + [
            {
                "variable": v.key,
                "group": NOT_STATED,
                "group_order": len(v.groups) + 1,
                "code": None,
                **{f"label_{k}": codebook.ui["group_not_stated"][k] for k in LANGUAGES},
            }
            for v in codebook.background.values()
        ],
        schema={
            "variable": pl.Utf8,
            "group": pl.Utf8,
            "group_order": pl.Int64,
            "code": pl.Int64,
            **{f"label_{k}": pl.Utf8 for k in LANGUAGES},
        },
    )
    counts = {}
    for name, frame in (
        ("levels", levels),
        ("items", items),
        ("categories", categories),
        ("background", background),
        ("groups", groups),
    ):
        con.register("_codebook_frame", frame.to_arrow())
        try:
            table = qualified("codebook." + name)
            con.execute("create or replace table " + table + " as select * from _codebook_frame")
        finally:
            con.unregister("_codebook_frame")
        counts[name] = frame.height
    return counts


def register_temp_table(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """create or replace temp table <name> from a frame (a decision a SQL model joins)."""
    con.register("_temp_frame", frame.to_arrow())
    try:
        con.execute("create or replace temp table " + qualified(name) + " as select * from _temp_frame")
    finally:
        con.unregister("_temp_frame")


def read_sql(sql_dir: Path, layer: str, name: str) -> str:
    if not IDENTIFIER.match(layer) or not IDENTIFIER.match(name):
        raise ValueError(f"not a valid model name: {layer}/{name}")
    path = sql_dir / layer / (name + ".sql")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing SQL model for table {name} (see schemas/marts.yaml)")
    return path.read_text(encoding="utf-8")


def bound(sql: str, params: dict[str, object]) -> dict[str, object] | None:
    """The parameters a statement names ($name, outside -- comments), from params: DuckDB refuses parameters a
    statement does not use."""
    code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return {p: params[p] for p in sorted(set(PARAM.findall(code)))} or None


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
