"""The checks of the marts, free of Dagster: pandera schemas of the indicator tables, the distribution's percentages
adding up to 100, and the columns every mart must have (schemas/marts.yaml)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from pipeline.staging.validation import validation_errors


def item_distribution_schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "n": pa.Column(pl.Int64, pa.Check.ge(0)),
            "base_n": pa.Column(pl.Int64, pa.Check.ge(0)),
            "pct": pa.Column(pl.Float64, pa.Check.in_range(0, 100), nullable=True),
        },
        unique=["wave", "item", "category"],
        name="item_distribution",
    )


def indicators_schema() -> pa.DataFrameSchema:
    pct = pa.Column(pl.Float64, pa.Check.in_range(0, 100), nullable=True)
    return pa.DataFrameSchema(
        {
            "n": pa.Column(pl.Int64, pa.Check.ge(0)),
            "n_missing": pa.Column(pl.Int64, pa.Check.ge(0)),
            "headline_pct": pct,
            "ci_low": pct,
            "ci_high": pct,
            "top2_pct": pct,
            "top3_pct": pct,
            "mean_score": pa.Column(pl.Float64, pa.Check.in_range(1, 5), nullable=True),
        },
        unique=["wave", "item"],
        name="item_indicators",
    )


def distribution_errors(distribution: pl.DataFrame) -> list[str]:
    """pandera's failures of marts.item_distribution (counts ≥ 0, pct within 0–100, one row per wave, item and
    category)."""
    return validation_errors(item_distribution_schema(), distribution)


def indicator_errors(indicators: pl.DataFrame) -> list[str]:
    """pandera's failures of marts.item_indicators (shares and intervals within 0–100, mean score within 1–5)."""
    return validation_errors(indicators_schema(), indicators)


def pct_sums_off(distribution: pl.DataFrame) -> pl.DataFrame:
    """(wave, item, total) of every wave and item with a base whose categories' pct do not add up to 100."""
    return (
        distribution.filter(pl.col("base_n") > 0)
        .group_by("wave", "item")
        .agg(pl.col("pct").sum().alias("total"))
        .filter((pl.col("total") - 100).abs() > 1e-9)
        .sort("wave", "item")
    )
