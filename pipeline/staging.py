"""Staging: a normalised wave → respondents, valid responses, quarantined cells and open answers.

Nothing is dropped silently: a cell is either a response, an open answer, blank, or a quarantine row.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import polars as pl

from pipeline.codebook import Codebook, normalise_text
from pipeline.normalise import NormalisedWave
from pipeline.validation import candidate_answers, failing_rows

QUARANTINE_COLUMNS = ["wave", "source_file", "source_row", "column", "value", "reason"]


@dataclass(frozen=True)
class StagedWave:
    respondents: pl.DataFrame  # wave, respondent_key, source_row, complete
    responses: pl.DataFrame  # wave, respondent_key, source_row, item, category, complete
    quarantine: pl.DataFrame  # wave, source_file, source_row, column, value, reason
    open_answers: pl.DataFrame  # wave, item, respondent_key, complete, text
    exact_duplicates: int  # rows collapsed into an identical earlier row
    conflicting_duplicates: int  # rows with a repeated respondent id and different answers


def _empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(
        schema={"wave": pl.Utf8, "source_file": pl.Utf8, "source_row": pl.Int64, "column": pl.Utf8,
                "value": pl.Utf8, "reason": pl.Utf8}
    )


def unknown_label_reason(value: str, item: str, codebook: Codebook) -> str:
    scale = codebook.scale_of(item)
    labels = [c.label["nb"] for c in scale.categories]
    codes = [str(c.code) for c in scale.categories]
    choices = {normalise_text(t): t for c in scale.categories for t in c.label.values()}
    close = difflib.get_close_matches(normalise_text(value), list(choices), n=1, cutoff=0.5)
    hint = f"; closest: {choices[close[0]]!r}" if close else ""
    return (
        f"{value!r} is not an answer of item {item} (scale {scale.key}): allowed are "
        f"{', '.join(labels)} or codes {', '.join(codes)}{hint}. Correct the cell or map the code in wave.yaml values"
    )


def _status_complete(respondents: pl.DataFrame, codebook: Codebook) -> tuple[pl.DataFrame, pl.DataFrame]:
    """complete = True unless the status column says otherwise; unknown statuses are quarantined (→ partial)."""
    complete_values = {normalise_text(v) for v in codebook.status_values.get("complete", ())}
    partial_values = {normalise_text(v) for v in codebook.status_values.get("partial", ())}
    statuses = respondents["status"].to_list()
    complete, bad = [], []
    for row, status in zip(respondents.iter_rows(named=True), statuses):
        if status is None:
            complete.append(True)
            continue
        norm = normalise_text(status)
        if norm in complete_values:
            complete.append(True)
        elif norm in partial_values:
            complete.append(False)
        else:
            complete.append(False)
            bad.append(
                {
                    "wave": row["wave"], "source_file": row["source_file"], "source_row": row["source_row"],
                    "column": row["status_column"], "value": status,
                    "reason": f"status {status!r} is neither complete ({', '.join(codebook.status_values.get('complete', ()))}) "
                    f"nor partial ({', '.join(codebook.status_values.get('partial', ()))}): the row counts as partial. "
                    "Map the status in wave.yaml or correct the export",
                }
            )
    quarantine = pl.DataFrame(bad, schema=_empty_quarantine().schema) if bad else _empty_quarantine()
    return respondents.with_columns(pl.Series("complete", complete, dtype=pl.Boolean)), quarantine


def _duplicates(respondents: pl.DataFrame, cells: pl.DataFrame) -> tuple[set[int], set[int], dict[int, list[int]]]:
    """Rows to drop as exact duplicates, rows in conflict, and for each conflicting row its group's rows."""
    dup_keys = respondents.filter(pl.col("respondent_key").is_duplicated())
    if dup_keys.is_empty():
        return set(), set(), {}
    exact_drop: set[int] = set()
    conflict: set[int] = set()
    groups: dict[int, list[int]] = {}
    for _, group in dup_keys.group_by("respondent_key", maintain_order=True):
        rows = sorted(group["source_row"].to_list())
        fingerprints = []
        for r in rows:
            answers = cells.filter(pl.col("source_row") == r).select("item", "value").sort("item").rows()
            status = group.filter(pl.col("source_row") == r)["status"].item()
            fingerprints.append((tuple(answers), status))
        if all(fp == fingerprints[0] for fp in fingerprints):
            exact_drop.update(rows[1:])
        else:
            conflict.update(rows)
            for r in rows:
                groups[r] = rows
    return exact_drop, conflict, groups


def stage_wave(wave: NormalisedWave, codebook: Codebook) -> StagedWave:
    respondents, status_quarantine = _status_complete(wave.respondents, codebook)
    cells = wave.cells
    exact_drop, conflict, groups = _duplicates(respondents, cells)

    conflict_cells = cells.filter(pl.col("source_row").is_in(sorted(conflict)))
    conflict_quarantine = conflict_cells.select(
        "wave", "source_file", "source_row", "column", "value",
        pl.col("source_row").map_elements(
            lambda r: "the respondent id of this row also stands in rows "
            + ", ".join(str(x) for x in groups[r] if x != r)
            + " with different answers: the rows count in neither. Keep one row in the export",
            return_dtype=pl.Utf8,
        ).alias("reason"),
    )
    dropped = exact_drop | conflict
    respondents = respondents.filter(~pl.col("source_row").is_in(sorted(dropped)))
    cells = cells.filter(~pl.col("source_row").is_in(sorted(dropped)))
    complete = respondents.select("source_row", "complete")

    text_codes = [i.code for i in codebook.text_items()]
    closed = cells.filter(~pl.col("item").is_in(text_codes))
    _, bad_rows = failing_rows(candidate_answers(codebook), closed)
    closed = closed.with_row_index("_i")
    bad = closed.filter(pl.col("_i").is_in(sorted(bad_rows)))
    label_quarantine = bad.select(
        "wave", "source_file", "source_row", "column", "value",
        pl.struct("value", "item").map_elements(
            lambda s: unknown_label_reason(s["value"], s["item"], codebook), return_dtype=pl.Utf8
        ).alias("reason"),
    ) if bad.height else _empty_quarantine()
    responses = (
        closed.filter(~pl.col("_i").is_in(sorted(bad_rows)))
        .join(complete, on="source_row", how="left")
        .select("wave", "respondent_key", "source_row", "item", "category", "complete")
        .sort("source_row", "item")
    )
    open_answers = (
        cells.filter(pl.col("item").is_in(text_codes))
        .join(complete, on="source_row", how="left")
        .select("wave", "item", "respondent_key", "complete", pl.col("value").alias("text"))
        .sort("item", "respondent_key")
    )
    quarantine = pl.concat(
        [status_quarantine, conflict_quarantine.cast(_empty_quarantine().schema), label_quarantine.cast(_empty_quarantine().schema)],
        how="vertical",
    ).sort("source_row", "column")
    return StagedWave(
        respondents=respondents.select("wave", "respondent_key", "source_row", "complete").sort("source_row"),
        responses=responses,
        quarantine=quarantine,
        open_answers=open_answers,
        exact_duplicates=len(exact_drop),
        conflicting_duplicates=len(conflict),
    )
