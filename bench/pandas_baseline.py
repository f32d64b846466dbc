"""The pandas baseline: a plain pandas script, as an analyst would write it, that reads the synthetic CSV
exports and writes the same `item_distribution` as the pipeline (Parquet). No validation, quarantine,
pseudonyms, other marts or reports: the benchmark compares the pipeline's marginal cost with this one's.

Same semantics as bench/floor.py and sql/marts/item_distribution.sql (complete respondents, valid non-blank
answers, every category with zeros, pct = 100·n/base_n). Items, labels and status values come from the
codebook.

    python -m bench.pandas_baseline RAW_DIR OUT.parquet
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from pipeline.codebook import load_codebook, normalise_text
from pipeline.settings import PROJECT_ROOT

STATUS = "Status"


def item_distribution(raw_dir: Path) -> pd.DataFrame:
    codebook = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
    complete_values = {normalise_text(v) for v in codebook.status_values.get("complete", ())}
    closed = codebook.closed_items()
    lookups = {}
    for item in closed:
        scale = codebook.scale_of(item.code)
        lookups[item.code] = {
            normalise_text(t): c.key for c in scale.categories for t in (*c.label.values(), str(c.code), c.key)
        }
    rows = []
    files = sorted(raw_dir.glob("*/export.csv"))
    if not files:
        raise SystemExit(f"{raw_dir}: no */export.csv to read")
    for path in files:
        wave = path.parent.name
        df = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, na_values=[""])
        status = df[STATUS].str.strip().str.lower()
        complete = status.isna() | status.isin(complete_values)
        answers = df.loc[complete]
        for item in closed:
            header = item.question["nb"]
            categories = codebook.scale_of(item.code).categories
            if header in answers.columns:
                counts = answers[header].dropna().str.strip().str.lower().map(lookups[item.code]).value_counts()
            else:
                counts = pd.Series(dtype="int64")
            base = int(sum(int(counts.get(c.key, 0)) for c in categories))
            for c in categories:
                n = int(counts.get(c.key, 0))
                rows.append(
                    {
                        "wave": wave,
                        "level": item.level,
                        "item": item.code,
                        "item_order": item.order,
                        "category": c.key,
                        "category_order": c.order,
                        "label": c.label["nb"],
                        "n": n,
                        "base_n": base,
                        "pct": 100.0 * n / base if base else None,
                    }
                )
    out = pd.DataFrame(rows)
    return out.sort_values(["wave", "item_order", "category_order"], kind="stable").reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.pandas_baseline",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("raw_dir", type=Path)
    parser.add_argument("out", type=Path, help="Parquet file for item_distribution")
    args = parser.parse_args(argv)
    item_distribution(args.raw_dir).to_parquet(args.out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
