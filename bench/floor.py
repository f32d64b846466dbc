"""The floor: one hand-written DuckDB query that reads the synthetic CSV exports and writes the same
`item_distribution` as the pipeline (Parquet), with nothing else — no validation, no quarantine, no
pseudonyms, no other marts, no reports, no orchestration. The pipeline can never beat this; the benchmark
says how far above it the pipeline is.

It knows the synthetic export layout (bench/generate.py: `;`-separated UTF-8, a `Status` column, item
headers = the codebook's nb question text, cells = nb labels or codes). Headers, labels and status values
come from the codebook and are bound as parameters; the SQL names no item.

Same semantics as sql/marts/item_distribution.sql: complete respondents (status empty or one of the
codebook's complete values), valid non-blank answers (cells matching no category are not counted),
every category of every item with zeros, pct = 100·n/base_n.

    python -m bench.floor RAW_DIR OUT.parquet
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from pipeline.codebook import load_codebook, normalise_text
from pipeline.settings import PROJECT_ROOT

# The wave is the name of the folder holding the export (raw/<wave>/export.csv).
FLOOR_SQL = """
copy (
    with source as (
        select * from read_csv($files, delim = ';', quote = '"', escape = '"', header = true,
                               all_varchar = true, filename = true, union_by_name = true)
    ),
    histograms as (  -- one pass over the file: per wave and status, value → count of every item column
        select regexp_extract(filename, '([^/]+)/[^/]+$', 1) as wave, "Status" as status,
               histogram(columns(lambda c: list_contains($headers, c)))
        from source
        group by all
    ),
    per_column as (
        unpivot histograms on columns(* exclude (wave, status)) into name header value counts
    ),
    cells as (
        select wave, status, header, unnest(map_keys(counts)) as value, unnest(map_values(counts)) as n
        from per_column
    ),
    items as (
        select unnest($items, recursive := true)
    ),
    categories as (
        select unnest($categories, recursive := true)
    ),
    answers as (
        select cells.wave, items.item, categories.category, sum(cells.n) as n
        from cells
        join items using (header)
        join categories on categories.scale = items.scale and categories.text = lower(trim(cells.value))
        where cells.status is null or list_contains($complete, lower(trim(cells.status)))
        group by all
    ),
    grid as (
        select waves.wave, items.level, items.item, items.item_order, c.category, c.category_order, c.label
        from (select distinct wave from histograms) waves
        cross join items
        join (select distinct scale, category, category_order, label from categories) c using (scale)
    ),
    counted as (
        select grid.*, coalesce(answers.n, 0)::bigint as n
        from grid
        left join answers using (wave, item, category)
    ),
    final as (
        select *, (sum(n) over (partition by wave, item))::bigint as base_n,
               case when base_n > 0 then 100.0 * n / base_n end as pct
        from counted
    )
    select wave, level, item, item_order, category, category_order, label, n, base_n, pct
    from final
    order by wave, item_order, category_order
) to $out (format parquet)
"""


def parameters(raw_dir: Path, out: Path) -> dict[str, object]:
    """The query's parameters: export files, item headers and category texts, all from the codebook."""
    codebook = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
    files = sorted(str(p) for p in raw_dir.glob("*/export.csv"))
    if not files:
        raise SystemExit(f"{raw_dir}: no */export.csv to read")
    items = [
        {"header": i.question["nb"], "item": i.code, "item_order": i.order, "level": i.level, "scale": i.scale}
        for i in codebook.closed_items()
    ]
    categories = []
    for scale in {i.scale for i in codebook.closed_items()}:
        for c in codebook.scales[scale].categories:
            for text in sorted({normalise_text(t) for t in (*c.label.values(), str(c.code), c.key)}):
                categories.append(
                    {"scale": scale, "text": text, "category": c.key, "category_order": c.order, "label": c.label["nb"]}
                )
    complete = sorted({normalise_text(v) for v in codebook.status_values.get("complete", ())})
    return {
        "files": files,
        "headers": [i["header"] for i in items],
        "items": items,
        "categories": categories,
        "complete": complete,
        "out": str(out),
    }


def run_floor(raw_dir: Path, out: Path, threads: int | None = None) -> None:
    con = duckdb.connect()
    try:
        if threads:
            con.execute("set threads = " + str(int(threads)))
        con.execute(FLOOR_SQL, parameters(raw_dir, out))
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.floor", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("raw_dir", type=Path)
    parser.add_argument("out", type=Path, help="Parquet file for item_distribution")
    args = parser.parse_args(argv)
    run_floor(args.raw_dir, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
