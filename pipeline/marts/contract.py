"""The marts contract (schemas/marts.yaml) joined with the SQL models (sql/marts/<table>.sql).

Every table (the marts under `tables:`, the staging tables under `staging:`) lists its columns with their DuckDB
type and meaning: the build stops when a table differs, the published file carries the meanings as COMMENT ON and the
Dagster UI shows them as each asset's column schema. Lineage comes from the SQL itself: the schema-qualified tables a
model reads (raw.*, staging.*, codebook.*, marts.*) become its upstream assets, and the marts it reads fix the build
order.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.codebook import IDENTIFIER

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

    def column_schema(self):
        """The columns as Dagster's table schema (shown as the asset's Columns table)."""
        import dagster as dg

        return dg.TableSchema(columns=[dg.TableColumn(name=c, type=self.types[c], description=d)
                                       for c, d in self.columns.items()])

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


@dataclass(frozen=True)
class MartTable(TableSpec):
    sql_path: Path
    reads: tuple[tuple[str, str], ...]  # (schema, table) pairs the SQL reads, sorted
    params: tuple[tuple[str, str], ...] = ()  # parameters of this table's SQL beyond the build's (the level)

    @property
    def depends_on(self) -> tuple[str, ...]:
        return tuple(t for s, t in self.reads if s == "marts" and t != self.name)


def _columns(path: Path, name: str, spec: dict) -> tuple[dict[str, str], dict[str, str]]:
    columns, types = {}, {}
    for column, value in (spec.get("columns") or {}).items():
        if not IDENTIFIER.match(str(column)):
            raise ContractError(f"{path}: {name}: column name {column!r} is not a valid identifier")
        if not isinstance(value, dict) or not value.get("type") or not value.get("description"):
            raise ContractError(f"{path}: {name}.{column}: write {{type: <DuckDB type>, description: <meaning>}}")
        columns[str(column)] = str(value["description"])
        types[str(column)] = str(value["type"])
    return columns, types


@functools.lru_cache(maxsize=4)
def _contract_yaml(path: Path) -> dict:
    """schemas/marts.yaml parsed once per process (the marts and the staging tables are both read from it)."""
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=4)
def load_staging_tables(path: Path) -> tuple[TableSpec, ...]:
    """The staging tables of the contract (`staging:`), in the order written."""
    raw = _contract_yaml(Path(path))
    return tuple(TableSpec(name, str(spec["description"]), *_columns(path, name, spec))
                 for name, spec in (raw.get("staging") or {}).items())


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
    """Mart tables in build order (every table after the marts it reads)."""
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
        reads = tuple(sorted(set(REFERENCE.findall(_strip_comments(sql_path.read_text(encoding="utf-8"))))))
        if not per_level:
            tables[name] = MartTable(name, str(spec["description"]), columns, types, sql_path, reads)
            continue
        for key, label, about in _levels(Path(path)):
            table = name.replace(PER_LEVEL, key)
            description = str(spec["description"]).format(level=label, about=about)
            tables[table] = MartTable(table, description, columns, types, sql_path, reads, (("level", key),))
    ordered: list[MartTable] = []
    done: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in done:
            return
        if name in trail:
            raise ContractError(f"{path}: the marts read each other in a cycle: {' → '.join(trail + (name,))}")
        if name not in tables:
            raise ContractError(f"sql/marts/{trail[-1]}.sql reads marts.{name}, which schemas/marts.yaml does not list")
        for dep in tables[name].depends_on:
            visit(dep, trail + (name,))
        done.add(name)
        ordered.append(tables[name])

    for name in tables:
        visit(name, ())
    return tuple(ordered)


MARTS_DOC_INTRO = """# The marts: every table of `data/marts/samskabelse.duckdb`

Generated from `schemas/marts.yaml` by `make docs` (`python -m pipeline.marts.contract`); a test checks that this file
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


def contract_markdown(contract: tuple[MartTable, ...], staging: tuple[TableSpec, ...] = ()) -> str:
    """docs/marts.md: the contract as Markdown, one section per table (in build order) with its columns, then the
    staging tables."""
    out = [MARTS_DOC_INTRO]
    for t in contract:
        where = f"SQL: `sql/marts/{t.sql_path.name}`" + "".join(f", with {k} = '{v}'" for k, v in t.params)
        out += _table_markdown(t, where)
    if staging:
        out.append(STAGING_DOC_INTRO)
        for t in staging:
            out += _table_markdown(t, f"Dagster asset: `staging/{t.name}`")
    return "\n".join(out)


def main() -> int:
    """Write docs/marts.md from schemas/marts.yaml."""
    from pipeline.settings import PROJECT_ROOT

    contract_file = PROJECT_ROOT / "schemas" / "marts.yaml"
    contract = load_contract(contract_file, PROJECT_ROOT / "sql")
    path = PROJECT_ROOT / "docs" / "marts.md"
    path.write_text(contract_markdown(contract, load_staging_tables(contract_file)), encoding="utf-8")
    print(f"wrote {path}: {len(contract)} tables")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
