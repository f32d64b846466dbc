"""The marts contract (schemas/marts.yaml) joined with the SQL models (sql/marts/<table>.sql).

Lineage comes from the SQL itself: the schema-qualified tables a model reads (raw.*, staging.*,
codebook.*, marts.*) become its upstream assets, and the marts it reads fix the build order.
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
class MartTable:
    name: str
    description: str
    columns: dict[str, str]
    sql_path: Path
    reads: tuple[tuple[str, str], ...]  # (schema, table) pairs the SQL reads, sorted

    @property
    def depends_on(self) -> tuple[str, ...]:
        return tuple(t for s, t in self.reads if s == "marts" and t != self.name)


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


@functools.lru_cache(maxsize=4)
def load_contract(path: Path, sql_dir: Path) -> tuple[MartTable, ...]:
    """Mart tables in build order (every table after the marts it reads)."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    tables: dict[str, MartTable] = {}
    for name, spec in (raw.get("tables") or {}).items():
        if not IDENTIFIER.match(name):
            raise ContractError(f"{path}: table name {name!r} is not a valid identifier")
        columns = {str(k): str(v) for k, v in (spec.get("columns") or {}).items()}
        bad = [c for c in columns if not IDENTIFIER.match(c)]
        if bad:
            raise ContractError(f"{path}: {name}: column names {bad} are not valid identifiers")
        sql_path = Path(sql_dir) / "marts" / (name + ".sql")
        if not sql_path.is_file():
            raise ContractError(f"{path}: table {name} has no SQL model at {sql_path}")
        reads = tuple(sorted(set(REFERENCE.findall(_strip_comments(sql_path.read_text(encoding="utf-8"))))))
        tables[name] = MartTable(name, str(spec["description"]), columns, sql_path, reads)
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

Generated from `schemas/marts.yaml` by `make docs` (`python -m pipeline.contract`); a test checks that this file
matches the contract. Every table and column carries the same text as a `COMMENT ON` (see them with
`select table_name, comment from duckdb_tables()`); `data/marts/parquet/<table>.parquet` holds the same tables.

Percentages are 0–100 and unrounded, and each travels with its n. Base of every percentage: complete responses with
a valid, non-blank answer to the item; "Vet ikke" is a category in the base. Headline share: top-2 (*I svært høy
grad* + *I høy grad*) for degree items, *Ja* for yes/no items, with a Wilson 95 % interval.
"""


def contract_markdown(contract: tuple[MartTable, ...]) -> str:
    """docs/marts.md: the contract as Markdown, one section per table (in build order) with its columns."""
    out = [MARTS_DOC_INTRO]
    for t in contract:
        out.append(f"## `{t.name}`\n\n{t.description}\n\nSQL: `sql/marts/{t.name}.sql`\n\n| column | meaning |\n|---|---|")
        out.extend("| `" + c + "` | " + d.replace("|", "\\|") + " |" for c, d in t.columns.items())
        out.append("")
    return "\n".join(out)


def main() -> int:
    """Write docs/marts.md from schemas/marts.yaml."""
    from pipeline.settings import PROJECT_ROOT

    contract = load_contract(PROJECT_ROOT / "schemas" / "marts.yaml", PROJECT_ROOT / "sql")
    path = PROJECT_ROOT / "docs" / "marts.md"
    path.write_text(contract_markdown(contract), encoding="utf-8")
    print(f"wrote {path}: {len(contract)} tables")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
