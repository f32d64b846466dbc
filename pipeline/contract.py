"""The one registry of tables (schemas/marts.yaml), joined with the SQL models (sql/marts/<table>.sql).

Every table — the marts under `tables:`, the work database's raw tables under `raw:` and staging tables under
`staging:` — is declared there once, with its columns' DuckDB types and meanings. Everything else derives from it: the
work database's tables are created from it (`work_table_ddl`), the staging step builds and reads back the staging
tables in its order, the Dagster assets of staging and marts are made per entry, the build stops when a mart differs
from it, the published file carries the meanings as COMMENT ON, and docs/marts.md is generated from it. Lineage
comes from the SQL itself: the schema-qualified tables a model reads (raw.*, staging.*, codebook.*, marts.*) become
its upstream assets.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.codebook import IDENTIFIER
from pipeline.files import parse_yaml

REFERENCE = re.compile(r"\b(raw|staging|codebook|marts)\.([A-Za-z_][A-Za-z0-9_]*)\b")


class ContractError(ValueError):
    pass


@dataclass(frozen=True)
class TableSpec:
    """A table of the contract: what it holds, and per column its meaning and DuckDB type."""

    name: str
    description: str
    columns: dict[str, str]  # column -> meaning
    types: dict[str, str]  # column -> DuckDB type (information_schema.columns.data_type)
    required: frozenset[str] = frozenset()  # columns that are NOT NULL (work database tables)
    key: tuple[str, ...] = ()  # primary key (work database tables)
    order: str = ""  # the order a wave's rows are read back in (staging tables; a list of its columns, or rowid)
    asset: bool = True  # a Dagster asset of its own (staging tables)
    unique: tuple[str, ...] = ()  # columns that identify a row (checked by pandera, not indexed: staging tables)
    defaults: tuple[tuple[str, bool | int], ...] = ()  # column → default value (work database tables)

    def column_schema(self):
        """The columns as Dagster's table schema (shown as the asset's Columns table)."""
        import dagster as dg

        return dg.TableSchema(
            columns=[dg.TableColumn(name=c, type=self.types[c], description=d) for c, d in self.columns.items()]
        )

    def differences(self, actual: list[tuple[str, str]]) -> list[str]:
        """What a DuckDB table's (column, type) list has that the contract does not say, and the reverse."""
        expected = list(self.types.items())
        if actual == expected:
            return []
        got, want = dict(actual), self.types
        out = [f"column {c} ({t}) is not in schemas/marts.yaml" for c, t in actual if c not in want]
        out += [f"column {c} ({t}) is missing" for c, t in expected if c not in got]
        out += [f"column {c} is {got[c]}, schemas/marts.yaml says {t}" for c, t in expected if c in got and got[c] != t]
        if not out:
            out.append(f"columns in the order {[c for c, _ in actual]}, schemas/marts.yaml has {list(want)}")
        return out


# A contract entry named with this placeholder is one table per level of the codebook, from one SQL file.
PER_LEVEL = "<level>"


@dataclass(frozen=True, kw_only=True)
class MartTable(TableSpec):
    sql_path: Path
    reads: tuple[tuple[str, str], ...]  # (schema, table) pairs the SQL reads, sorted
    params: tuple[tuple[str, str], ...] = ()  # parameters of this table's SQL beyond the build's (the level)
    decision: str | None = None  # a decision taken in Python first (pipeline.marts.decisions), joined by the SQL

    @property
    def depends_on(self) -> tuple[str, ...]:
        return tuple(t for s, t in self.reads if s == "marts" and t != self.name)


TYPE = re.compile(r"^(VARCHAR|BIGINT|INTEGER|DOUBLE|BOOLEAN|DATE|TIMESTAMP)(\[\])?\Z")
ORDER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(, [A-Za-z_][A-Za-z0-9_]*)*\Z")


def _columns(path: Path, name: str, spec: dict) -> tuple[dict[str, str], dict[str, str]]:
    columns, types = {}, {}
    for column, value in (spec.get("columns") or {}).items():
        if not IDENTIFIER.match(str(column)):
            raise ContractError(f"{path}: {name}: column name {column!r} is not a valid identifier")
        if not isinstance(value, dict) or not value.get("type") or not value.get("description"):
            raise ContractError(f"{path}: {name}.{column}: write {{type: <DuckDB type>, description: <meaning>}}")
        if not TYPE.match(str(value["type"])):
            raise ContractError(f"{path}: {name}.{column}: type {value['type']!r} is not one the pipeline uses")
        columns[str(column)] = str(value["description"])
        types[str(column)] = str(value["type"])
    return columns, types


def _work_table(path: Path, section: str, name: str, spec: dict) -> TableSpec:
    """A raw or staging table of the work database, checked."""
    if not IDENTIFIER.match(name):
        raise ContractError(f"{path}: {section}: table name {name!r} is not a valid identifier")
    columns, types = _columns(path, f"{section}.{name}", spec)
    required = {c for c, v in spec["columns"].items() if isinstance(v, dict) and v.get("required")}
    key = tuple(spec.get("key") or ())
    unique = tuple(spec.get("unique") or ())
    order = str(spec.get("order") or "")
    if not (set(key) | set(unique)) <= set(columns) or (order and not ORDER.match(order)):
        raise ContractError(f"{path}: {section}.{name}: key, unique and order must name its columns")
    if "wave" not in columns:
        raise ContractError(f"{path}: {section}.{name}: every work database table is written per wave: add `wave`")
    defaults = []
    for column, value in spec["columns"].items():
        if isinstance(value, dict) and "default" in value:
            if not isinstance(value["default"], (bool, int)):
                raise ContractError(f"{path}: {section}.{name}.{column}: a default is true, false or a whole number")
            defaults.append((column, value["default"]))
    return TableSpec(
        name,
        str(spec["description"]),
        columns,
        types,
        frozenset(required),
        key,
        order,
        bool(spec.get("asset", True)),
        unique,
        tuple(defaults),
    )


@functools.lru_cache(maxsize=4)
def _contract_yaml(path: Path) -> dict:
    """schemas/marts.yaml parsed once per process (the marts and the staging tables are both read from it)."""
    return parse_yaml(Path(path).read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=4)
def load_staging_tables(path: Path) -> tuple[TableSpec, ...]:
    """The staging tables of the contract (`staging:`), in the order they are built."""
    raw = _contract_yaml(Path(path))
    return tuple(_work_table(path, "staging", name, spec) for name, spec in (raw.get("staging") or {}).items())


@functools.lru_cache(maxsize=4)
def load_raw_tables(path: Path) -> tuple[TableSpec, ...]:
    """The raw tables of the contract (`raw:`), in the order written."""
    raw = _contract_yaml(Path(path))
    return tuple(_work_table(path, "raw", name, spec) for name, spec in (raw.get("raw") or {}).items())


def work_tables(path: Path) -> tuple[tuple[str, TableSpec], ...]:
    """(schema, table) of every table of the work database written per wave: raw, then staging."""
    return tuple([("raw", t) for t in load_raw_tables(path)] + [("staging", t) for t in load_staging_tables(path)])


def qualified(name: str) -> str:
    """A checked, quoted identifier: schema.table, table or column."""
    parts = name.split(".")
    if not 1 <= len(parts) <= 2 or not all(IDENTIFIER.match(p) for p in parts):
        raise ValueError(f"not a valid table name: {name!r}")
    return ".".join('"' + p + '"' for p in parts)


def work_table_ddl(schema: str, table: TableSpec) -> str:
    """create table if not exists <schema>.<table> (…) from the contract (identifiers checked, types from TYPE)."""
    defaults = {c: str(v).lower() for c, v in table.defaults}  # true, false or a whole number (checked on loading)
    columns = [
        qualified(c)
        + " "
        + t
        + (" not null" if c in table.required else "")
        + (" default " + defaults[c] if c in defaults else "")
        for c, t in table.types.items()
    ]
    if table.key:
        columns.append("primary key (" + ", ".join(qualified(c) for c in table.key) + ")")
    return "create table if not exists " + qualified(schema + "." + table.name) + " (" + ", ".join(columns) + ")"


def work_tables_sha256(path: Path) -> str:
    """sha256 of the raw and staging sections (what a wave's rows in the work database are shaped by)."""
    raw = _contract_yaml(Path(path))
    text = json.dumps({k: raw.get(k) for k in ("raw", "staging")}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _levels(contract_path: Path) -> list[tuple[str, str, str]]:
    """(key, English label, English description) of each level of the codebook next to the contract
    (schemas/codebook.yaml), in the codebook's order, lower-cased to stand inside a sentence."""
    from pipeline.codebook import load_codebook

    codebook = load_codebook(contract_path.parent / "codebook.yaml")
    out = []
    for key, level in codebook.levels.items():
        about = level.description["en"].rstrip(".")
        out.append((key, level.label["en"].lower(), about[:1].lower() + about[1:]))
    return out


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


@functools.lru_cache(maxsize=4)
def load_contract(path: Path, sql_dir: Path) -> tuple[MartTable, ...]:
    """The mart tables, in the contract's order (Dagster builds each after the marts its SQL reads)."""
    raw = _contract_yaml(Path(path))
    tables: dict[str, MartTable] = {}
    for name, spec in (raw.get("tables") or {}).items():
        per_level = name.endswith("_" + PER_LEVEL)
        stem = name.replace(PER_LEVEL, "level") if per_level else name
        if not IDENTIFIER.match(stem):
            raise ContractError(f"{path}: table name {name!r} is not a valid identifier")
        columns, types = _columns(path, name, spec)
        sql_path = Path(sql_dir) / "marts" / (stem + ".sql")
        if not sql_path.is_file():
            raise ContractError(f"{path}: table {name} has no SQL model at {sql_path}")
        sources = [sql_path]
        if spec.get("decision"):  # what the Python decision reads (decide/<decision>_*.sql) is the table's upstream too
            sources += sorted((Path(sql_dir) / "marts" / "decide").glob(str(spec["decision"]) + "_*.sql"))
        reads = tuple(
            sorted({r for src in sources for r in REFERENCE.findall(_strip_comments(src.read_text(encoding="utf-8")))})
        )
        if not per_level:
            tables[name] = MartTable(
                name=name,
                description=str(spec["description"]),
                columns=columns,
                types=types,
                sql_path=sql_path,
                reads=reads,
                decision=spec.get("decision"),
            )
            continue
        for key, label, about in _levels(Path(path)):
            table = name.replace(PER_LEVEL, key)
            description = str(spec["description"]).format(level=label, about=about)
            tables[table] = MartTable(
                name=table,
                description=description,
                columns=columns,
                types=types,
                sql_path=sql_path,
                reads=reads,
                params=(("level", key),),
            )
    for table in tables.values():
        for dep in table.depends_on:
            if dep not in tables:
                raise ContractError(f"{table.sql_path.name} reads marts.{dep}, which schemas/marts.yaml does not list")
    return tuple(tables.values())


MARTS_DOC_INTRO = """# The marts: every table of `data/marts/samskabelse.duckdb`

Generated from `schemas/marts.yaml` by `make docs` (`python -m pipeline.contract`); a test checks that this file
matches the contract. Every table and column carries the same text as a `COMMENT ON` (see them with
`select table_name, comment from duckdb_tables()`); `data/marts/parquet/<table>.parquet` holds the same tables.

Percentages are 0–100 and unrounded, and each travels with its n. Base of every percentage: complete responses with
a valid, non-blank answer to the item; "Vet ikke" is a category in the base. Headline share: top-2 (*I svært høy
grad* + *I høy grad*) for degree items, *Ja* for yes/no items, with a Wilson 95 % interval.
"""


def _table_markdown(t: TableSpec, where: str) -> list[str]:
    out = [f"## `{t.name}`\n\n{t.description}\n\n{where}\n\n| column | type | meaning |\n|---|---|---|"]
    out.extend(f"| `{c}` | {t.types[c]} | " + d.replace("|", "\\|") + " |" for c, d in t.columns.items())
    out.append("")
    return out


STAGING_DOC_INTRO = """# Staging tables of the work database

Not published: `<marts>/.build/warehouse.duckdb` holds them (open it read-only while no build runs). The marts are
made from them.
"""

RAW_DOC_INTRO = """# Raw tables of the work database

Not published: each wave's export as read, written per wave by the raw step; staging reads them.
"""


def contract_markdown(
    contract: tuple[MartTable, ...], staging: tuple[TableSpec, ...] = (), raw: tuple[TableSpec, ...] = ()
) -> str:
    """docs/marts.md: the contract as Markdown, one section per table (in build order) with its columns, then the
    staging and raw tables."""
    out = [MARTS_DOC_INTRO]
    for t in contract:
        where = f"SQL: `sql/marts/{t.sql_path.name}`" + "".join(f", with {k} = '{v}'" for k, v in t.params)
        out += _table_markdown(t, where)
    if staging:
        out.append(STAGING_DOC_INTRO)
        for t in staging:
            where = f"Dagster asset: `staging/{t.name}`" if t.asset else "Written by the staging step with each wave"
            out += _table_markdown(t, where)
    if raw:
        out.append(RAW_DOC_INTRO)
        for t in raw:
            out += _table_markdown(t, "Written by the raw step (Dagster asset `raw/wave_export`)")
    return "\n".join(out)


def main() -> int:
    """Write docs/marts.md from schemas/marts.yaml."""
    from pipeline.settings import PROJECT_ROOT, Settings

    settings = Settings.from_env()
    contract_file = settings.marts_contract_file
    contract = load_contract(contract_file, settings.sql_dir)
    path = PROJECT_ROOT / "docs" / "marts.md"
    path.write_text(
        contract_markdown(contract, load_staging_tables(contract_file), load_raw_tables(contract_file)),
        encoding="utf-8",
    )
    print(f"wrote {path}: {len(contract)} tables")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
