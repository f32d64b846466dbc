"""Small helpers for asset metadata shown in the Dagster UI."""

from __future__ import annotations

import html

import dagster as dg
import polars as pl


def preview(frame: pl.DataFrame, rows: int = 5) -> dg.MetadataValue:
    """The first rows of a frame as a Markdown table."""
    head = frame.head(rows)
    if not head.columns:
        return dg.MetadataValue.md("(no columns)")

    def cell(v: object) -> str:
        text = "" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v))
        return html.escape(text[:60], quote=False).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in head.iter_rows()]
    return dg.MetadataValue.md("\n".join(lines))
