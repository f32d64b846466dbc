"""The report's published percentages (schemas/published_2024.yaml) compared with the marts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

SHARES = {"top2": "top2_pct", "top3": "top3_pct"}


@dataclass(frozen=True)
class Mismatch:
    what: str
    published: float
    built: float | None

    def __str__(self) -> str:
        built = "missing" if self.built is None else f"{self.built:g}"
        return f"{self.what}: published {self.published:g}, marts {built}"


def load_reference(path: Path) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def compare(reference: dict, indicators: pl.DataFrame, waves: pl.DataFrame) -> tuple[int, list[Mismatch]]:
    """(number of published figures compared, mismatches). Marts values are rounded to whole percent."""
    wave = str(reference["wave"])
    mismatches: list[Mismatch] = []
    compared = 0
    w = waves.filter(pl.col("wave") == wave)
    for key, expected in (reference.get("response") or {}).items():
        compared += 1
        built = w[key][0] if w.height else None
        if built != expected:
            mismatches.append(Mismatch(f"wave {wave} {key}", expected, built))
    rows = {r["item"]: r for r in indicators.filter(pl.col("wave") == wave).iter_rows(named=True)}
    for item, figures in (reference.get("items") or {}).items():
        for key, expected in figures.items():
            compared += 1
            column = SHARES.get(key, f"{key}_pct")
            value = rows.get(item, {}).get(column)
            if value is None or round(value) != expected:
                mismatches.append(Mismatch(f"{item} {key}", expected, value))
    return compared, mismatches
