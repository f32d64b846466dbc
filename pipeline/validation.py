"""pandera (polars backend) schemas, built from the codebook so allowed items and categories are never
hard-coded. `candidate_answers` sorts cells into valid and quarantined; `staging_responses` is the
blocking contract of the staging table; the mart schemas check the published tables.
"""

from __future__ import annotations

import polars as pl
import pandera.polars as pa
from pandera.errors import SchemaErrors

from pipeline.codebook import Codebook

PSEUDONYM = r"^[0-9a-f]{16}$"


def candidate_answers(codebook: Codebook) -> pa.DataFrameSchema:
    """Closed-item cells after matching; a failing row is a cell for the quarantine."""
    categories = sorted({c.key for s in codebook.scales.values() for c in s.categories})
    return pa.DataFrameSchema(
        {
            "wave": pa.Column(pl.Utf8),
            "source_file": pa.Column(pl.Utf8),
            "source_row": pa.Column(pl.Int64, pa.Check.ge(1)),
            "respondent_key": pa.Column(pl.Utf8, pa.Check.str_matches(PSEUDONYM)),
            "column": pa.Column(pl.Utf8),
            "item": pa.Column(pl.Utf8, pa.Check.isin([i.code for i in codebook.closed_items()])),
            "value": pa.Column(pl.Utf8),
            "category": pa.Column(pl.Utf8, pa.Check.isin(categories), nullable=False),
        },
        strict=True,
        name="candidate_answers",
    )


def staging_responses(codebook: Codebook) -> pa.DataFrameSchema:
    """The contract of staging.responses: one valid answer per wave, respondent and closed item."""
    categories = sorted({c.key for s in codebook.scales.values() for c in s.categories})
    return pa.DataFrameSchema(
        {
            "wave": pa.Column(pl.Utf8),
            "respondent_key": pa.Column(pl.Utf8, pa.Check.str_matches(PSEUDONYM)),
            "source_row": pa.Column(pl.Int64, pa.Check.ge(1)),
            "item": pa.Column(pl.Utf8, pa.Check.isin([i.code for i in codebook.closed_items()])),
            "category": pa.Column(pl.Utf8, pa.Check.isin(categories)),
            "complete": pa.Column(pl.Boolean),
        },
        strict=True,
        unique=["wave", "respondent_key", "item"],
        name="staging_responses",
    )


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


def failing_rows(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> tuple[pl.DataFrame, set[int]]:
    """Validate lazily; return the failure cases and the row indices that failed."""
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as err:
        cases = err.failure_cases
        rows = {int(i) for i in cases["index"].drop_nulls().to_list()}
        return cases, rows
    return pl.DataFrame(), set()


def validation_errors(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> list[str]:
    """Human-readable failures (at most 20), empty when the frame is valid."""
    cases, _ = failing_rows(schema, frame)
    if cases.is_empty():
        return []
    return [
        f"{r['column']}: {r['check']} failed for {r['failure_case']!r} (row {r['index']})"
        for r in cases.head(20).iter_rows(named=True)
    ]
