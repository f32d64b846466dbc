"""Staging: a normalised wave → respondents, valid responses, quarantined cells and open answers.

Nothing is dropped silently: a cell is either a response, an open answer, blank, or a quarantine row.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import polars as pl

from pipeline.codebook import NOT_STATED, Codebook, normalise_text
from pipeline.ingest.normalise import NormalisedWave, cell_types
from pipeline.ingest.privacy import mask_contact_details
from pipeline.ingest.readers import shorten
from pipeline.staging.validation import candidate_answers, invalid_rows

QUARANTINE_COLUMNS = ["wave", "source_file", "source_row", "column", "value", "reason"]


@dataclass(frozen=True)
class StagedWave:
    respondents: pl.DataFrame  # wave, respondent_key, source_row, complete, panel_key
    responses: pl.DataFrame  # wave, respondent_key, source_row, item, category, complete
    quarantine: pl.DataFrame  # wave, source_file, source_row, column, value, reason
    open_answers: pl.DataFrame  # wave, item, respondent_key, complete, text
    respondent_groups: pl.DataFrame  # wave, respondent_key, source_row, variable, group, complete
    exact_duplicates: int  # rows collapsed into an identical earlier row
    conflicting_duplicates: int  # rows with a repeated respondent id and different answers


def _empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(
        schema={"wave": pl.Utf8, "source_file": pl.Utf8, "source_row": pl.Int64, "column": pl.Utf8,
                "value": pl.Utf8, "reason": pl.Utf8}
    )


def unknown_label_reason(value: str, item: str, codebook: Codebook,
                         value_maps: dict[str, dict[str, str]] | None = None) -> str:
    """Why a cell of a closed item is quarantined, naming what is allowed: the codebook's labels and default
    codes, or, where wave.yaml `values:` maps the item's scale, the labels and the codes of that map."""
    scale = codebook.scale_of(item)
    labels = [c.label["nb"] for c in scale.categories]
    choices = {normalise_text(t): t for c in scale.categories for t in c.label.values()}
    # Only short values can be a misspelt label (difflib is quadratic; a giant cell would take minutes).
    close = (
        difflib.get_close_matches(normalise_text(value), list(choices), n=1, cutoff=0.5) if len(value) <= 100 else []
    )
    hint = f"; closest: {choices[close[0]]!r}" if close else ""
    mapped = (value_maps or {}).get(scale.key)
    if mapped is not None:
        codes = ", ".join(f"{code} ({cat})" for code, cat in sorted(mapped.items()))
        return (
            f"{shorten(value)} is not an answer of item {item} (scale {scale.key}): allowed are "
            f"{', '.join(labels)} or the codes wave.yaml values: {scale.key} maps: {codes or '(none)'}{hint}. "
            f"Correct the cell or add the code to wave.yaml values: {scale.key}"
        )
    codes = [str(c.code) for c in scale.categories]
    return (
        f"{shorten(value)} is not an answer of item {item} (scale {scale.key}): allowed are "
        f"{', '.join(labels)} or codes {', '.join(codes)} (codes only where the export has no labels of its own)"
        f"{hint}. Correct the cell or map the code in wave.yaml values"
    )


def _status_complete(respondents: pl.DataFrame, codebook: Codebook) -> tuple[pl.DataFrame, pl.DataFrame]:
    """complete = True unless the status column says otherwise; unknown statuses are quarantined (→ partial).

    A blank status counts as complete (exports without a status column list submitted responses only);
    `not_responded` with answers (invited, never finished) counts as partial."""
    complete_values = sorted({normalise_text(v) for v in codebook.status_values.get("complete", ())})
    partial_values = sorted(
        {normalise_text(v) for v in codebook.status_values.get("partial", ())}
        | {normalise_text(v) for v in codebook.status_values.get("not_responded", ())}
        | {"not_responded"}
    )
    statuses = respondents["status"].drop_nulls().unique().to_list()
    norm = {s: normalise_text(s) for s in statuses}
    known = {s: (n in complete_values) for s, n in norm.items() if n in complete_values or n in partial_values}
    respondents = respondents.with_columns(
        pl.when(pl.col("status").is_null())
        .then(True)
        .otherwise(pl.col("status").replace_strict(known, default=False, return_dtype=pl.Boolean))
        .alias("complete")
    )
    unknown = sorted(s for s in statuses if s not in known)
    if not unknown:
        return respondents, _empty_quarantine()
    reasons = {
        s: f"status {shorten(s)} is neither complete ({', '.join(codebook.status_values.get('complete', ()))}) "
        f"nor partial ({', '.join(codebook.status_values.get('partial', ()))}): the row counts as partial. "
        "Map the status in wave.yaml or correct the export"
        for s in unknown
    }
    quarantine = respondents.filter(pl.col("status").is_in(unknown)).select(
        "wave",
        "source_file",
        "source_row",
        pl.col("status_column").alias("column"),
        pl.col("status").alias("value"),
        pl.col("status").replace_strict(reasons, return_dtype=pl.Utf8).alias("reason"),
    )
    return respondents, quarantine.cast(_empty_quarantine().schema)


def _same_person_groups(respondents: pl.DataFrame) -> dict[int, tuple[int, ...]]:
    """Rows that stand for one respondent, as groups of two or more source rows: rows share a respondent when
    their respondent ids are equal (respondent_key) or their panel ids are (panel_key: a panel member answering
    twice in one wave), and, transitively, through a row that shares one with each."""
    has_panel = "panel_key" in respondents.columns
    keys = ["respondent_key"] + (["panel_key"] if has_panel else [])
    suspects = respondents.filter(
        pl.any_horizontal(pl.col(k).is_not_null() & pl.col(k).is_duplicated() for k in keys)
    ).select("source_row", *keys)
    if suspects.is_empty():
        return {}
    parent: dict[int, int] = {}

    def find(row: int) -> int:
        while parent.setdefault(row, row) != row:
            parent[row] = parent[parent[row]]
            row = parent[row]
        return row

    for k in keys:
        first: dict[str, int] = {}
        for row, value in suspects.select("source_row", k).iter_rows():
            if value is None:
                continue
            if value in first:
                a, b = find(first[value]), find(row)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                first[value] = row
    members: dict[int, list[int]] = {}
    for row in suspects["source_row"].to_list():
        members.setdefault(find(row), []).append(row)
    return {row: tuple(sorted(rows)) for rows in members.values() if len(rows) > 1 for row in rows}


def _duplicates(respondents: pl.DataFrame, cells: pl.DataFrame) -> tuple[set[int], set[int], dict[int, list[int]]]:
    """Rows to drop as exact duplicates, rows in conflict, and for each conflicting row its group's rows.

    Rows share a respondent as _same_person_groups says (same respondent id, or same panel id); they are exact
    duplicates when their status and every (item, value) are equal."""
    same = _same_person_groups(respondents)
    if not same:
        return set(), set(), {}
    rows = sorted(same)
    dup = (
        respondents.filter(pl.col("source_row").is_in(rows))
        .select("source_row", "status")
        .with_columns(
            pl.col("source_row")
            .replace_strict({r: g[0] for r, g in same.items()}, return_dtype=pl.Int64)
            .alias("group")
        )
    )
    answers = (
        cells.filter(pl.col("source_row").is_in(rows))
        .sort("source_row", "item", "column")
        .group_by("source_row", maintain_order=True)
        .agg(pl.concat_str(pl.col("item"), pl.col("value"), separator="\x1f").str.join("\x1e").alias("answers"))
    )
    prints = dup.join(answers, on="source_row", how="left").with_columns(
        pl.concat_str(pl.col("status").fill_null("\x00"), pl.col("answers").fill_null(""), separator="\x1d").alias("fp")
    )
    exact_drop: set[int] = set()
    conflict: set[int] = set()
    groups: dict[int, list[int]] = {}
    summary = prints.group_by("group").agg(
        pl.col("source_row").sort().alias("rows"), pl.col("fp").n_unique().alias("variants")
    )
    for group_rows, variants in summary.select("rows", "variants").iter_rows():
        if variants == 1:
            exact_drop.update(group_rows[1:])
        else:
            conflict.update(group_rows)
            for r in group_rows:
                groups[r] = group_rows
    return exact_drop, conflict, groups


def _same_panel_rows(respondents: pl.DataFrame, groups: dict[int, list[int]]) -> set[int]:
    """Rows of conflicting groups whose respondent ids differ: they were grouped by their panel id."""
    if not groups:
        return set()
    keys = dict(
        respondents.filter(pl.col("source_row").is_in(sorted(groups)))
        .select("source_row", "respondent_key")
        .iter_rows()
    )
    return {r for r, rows in groups.items() if len({keys.get(x) for x in rows}) > 1}


def lean_cells(cells: pl.DataFrame, codebook: Codebook) -> pl.DataFrame:
    """Normalised cells with their repeated texts as pl.Enum (normalise.cell_types), sorted by
    (source_row, item): cells read back from the work database arrive as plain text."""
    headers = cells.get_column("column").unique().drop_nulls().cast(pl.Utf8).to_list() if cells.height else []
    wave = cells.get_column("wave").cast(pl.Utf8).unique().drop_nulls().to_list()
    files = cells.get_column("source_file").cast(pl.Utf8).unique().drop_nulls().to_list()
    types = cell_types(codebook, "", "", headers)
    extra_items = set(cells.get_column("item").cast(pl.Utf8).unique().drop_nulls().to_list()) - set(codebook.items)
    types.update(
        wave=pl.Enum(sorted(wave)),
        source_file=pl.Enum(sorted(files)),
        item=pl.Enum(sorted(set(codebook.items) | extra_items)),
    )
    cells = cells.with_columns(
        pl.col(c).cast(pl.Utf8).cast(t) for c, t in types.items() if cells.schema[c] != t and isinstance(t, pl.Enum)
    )
    if (
        cells.height
        and not cells.select(
            (
                pl.col("source_row") * len(types["item"].categories) + pl.col("item").to_physical().cast(pl.Int64)
            ).is_sorted()
        ).item()
    ):
        cells = cells.sort("source_row", "item", maintain_order=True)
    return cells


def unknown_group_reason(
    value: str, variable: str, codebook: Codebook, value_maps: dict[str, dict[str, str]] | None = None
) -> str:
    """Why a background cell is quarantined, naming the groups allowed (or the codes of wave.yaml `values:`)."""
    var = codebook.background[variable]
    labels = ", ".join(g.label["nb"] for g in var.groups)
    mapped = (value_maps or {}).get(variable)
    if mapped is not None:
        codes = ", ".join(f"{code} ({group})" for code, group in sorted(mapped.items())) or "(none)"
        allowed = f"{labels} or the codes wave.yaml values: {variable} maps: {codes}"
    else:
        allowed = f"{labels} or codes {', '.join(str(g.code) for g in var.groups)}"
    return (
        f"{shorten(value)} is not a group of {variable} ({var.label['en']}): allowed are {allowed}. The respondent "
        f"counts as not stated; correct the cell or map it in wave.yaml values: {variable}"
    )


def _with_conflict_reason(cells: pl.DataFrame, conflict_reason: dict[int, str]) -> pl.DataFrame:
    """Cells of conflicting duplicate rows as quarantine rows, each with its row's reason."""
    reason = pl.col("source_row").replace_strict(conflict_reason, default=None, return_dtype=pl.Utf8)
    return cells.select("wave", "source_file", "source_row", "column", "value", reason.alias("reason"))


def _respondent_groups(
    groups: pl.DataFrame,
    respondents: pl.DataFrame,
    conflict_reason: dict[int, str],
    codebook: Codebook,
    value_maps: dict[str, dict[str, str]] | None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """staging.respondent_groups (the kept respondents' groups; an unknown value counts as not_stated) and the
    quarantine rows of background cells: values matching no group, and the cells of conflicting duplicate rows."""
    out_schema = {
        "wave": pl.Utf8,
        "respondent_key": pl.Utf8,
        "source_row": pl.Int64,
        "variable": pl.Utf8,
        "group": pl.Utf8,
        "complete": pl.Boolean,
    }
    if groups.is_empty():
        return pl.DataFrame(schema=out_schema), _empty_quarantine()
    groups = groups.with_columns(pl.col(c).cast(pl.Utf8) for c in ("wave", "source_file", "column", "variable"))
    conflicting = groups.filter(pl.col("source_row").is_in(sorted(conflict_reason)) & pl.col("value").is_not_null())
    conflict_q = _with_conflict_reason(conflicting, conflict_reason)
    kept = groups.join(
        respondents.select("source_row", "complete"), on="source_row", how="inner", maintain_order="left"
    )
    unknown = kept.filter(pl.col("group").is_null())
    if unknown.height:
        pairs = unknown.select("value", "variable").unique().rows()
        reasons = pl.DataFrame(
            {
                "value": [v for v, _ in pairs],
                "variable": [k for _, k in pairs],
                "reason": [unknown_group_reason(v, k, codebook, value_maps) for v, k in pairs],
            },
            schema={"value": pl.Utf8, "variable": pl.Utf8, "reason": pl.Utf8},
        )
        unknown_q = unknown.join(reasons, on=["value", "variable"], how="left", maintain_order="left").select(
            "wave", "source_file", "source_row", "column", "value", "reason"
        )
    else:
        unknown_q = _empty_quarantine()
    schema = _empty_quarantine().schema
    respondent_groups = (
        kept.select(
            "wave",
            "respondent_key",
            "source_row",
            "variable",
            pl.col("group").fill_null(NOT_STATED),
            "complete",
        )
        .cast(out_schema)
        .sort("source_row", "variable")
    )
    return respondent_groups, pl.concat([conflict_q.cast(schema), unknown_q.cast(schema)], how="vertical")


def _panel_key(respondents: pl.DataFrame) -> pl.Expr:
    """The panel_key column (NULL for respondents read before panel keys existed)."""
    if "panel_key" in respondents.columns:
        return pl.col("panel_key").cast(pl.Utf8)
    return pl.lit(None, dtype=pl.Utf8).alias("panel_key")


def _masked_texts(texts: pl.Series, codebook: Codebook) -> pl.Series:
    """mask_contact_details of each text, worked out once per distinct text."""
    email, phone, ip = (codebook.ui[k]["nb"] for k in ("masked_email", "masked_phone", "masked_ip"))
    distinct = texts.drop_nulls().unique().to_list()
    masked = {t: mask_contact_details(t, email, phone, ip) for t in distinct}
    changed = {t: m for t, m in masked.items() if m != t}
    if not changed:
        return texts
    return texts.replace(changed)


def _complete_of(source_rows: pl.Series, respondents: pl.DataFrame) -> pl.Series:
    """`complete` of the respondent of each row, as a left join on source_row gives it: joining only
    the row numbers keeps the cells' other columns out of the join."""
    return (
        source_rows.to_frame("source_row")
        .join(respondents.select("source_row", "complete"), on="source_row", how="left", maintain_order="left")
        .get_column("complete")
    )


def stage_wave(
    wave: NormalisedWave, codebook: Codebook, value_maps: dict[str, dict[str, str]] | None = None
) -> StagedWave:
    """value_maps: the wave's wave.yaml `values:` (scale → code → category), named in quarantine reasons."""
    respondents, status_quarantine = _status_complete(wave.respondents, codebook)
    cells = lean_cells(wave.cells, codebook)
    exact_drop, conflict, groups = _duplicates(respondents, cells)

    conflict_cells = cells.filter(pl.col("source_row").is_in(sorted(conflict)))
    same_panel = _same_panel_rows(respondents, groups)
    conflict_reason = {
        r: ("the panel id" if r in same_panel else "the respondent id")
        + " of this row also stands in row"
        + ("s " if len(rows) > 2 else " ")
        + ", ".join(str(x) for x in rows if x != r)
        + " with different answers: the rows count in neither. Keep one row in the export"
        for r, rows in groups.items()
    }
    conflict_quarantine = _with_conflict_reason(conflict_cells, conflict_reason)
    dropped = exact_drop | conflict
    status_quarantine = status_quarantine.filter(~pl.col("source_row").is_in(sorted(exact_drop)))
    if dropped:
        respondents = respondents.filter(~pl.col("source_row").is_in(sorted(dropped)))
        cells = cells.filter(~pl.col("source_row").is_in(sorted(dropped)))

    text_codes = [i.code for i in codebook.text_items()]
    is_text = cells.get_column("item").is_in(text_codes)
    # A value fails the same checks whichever row holds it: validating all cells and keeping the closed
    # ones gives exactly the closed cells that fail (text cells fail `item`, and are not closed).
    invalid = invalid_rows(candidate_answers(codebook), cells) & ~is_text
    bad = cells.filter(invalid)
    if bad.height:
        pairs = bad.select(pl.col("value"), pl.col("item").cast(pl.Utf8)).unique().rows()
        reasons = pl.DataFrame(
            {
                "value": [v for v, _ in pairs],
                "item": [i for _, i in pairs],
                "reason": [unknown_label_reason(v, i, codebook, value_maps) for v, i in pairs],
            },
            schema={"value": pl.Utf8, "item": pl.Utf8, "reason": pl.Utf8},
        )
        label_quarantine = (
            bad.with_columns(pl.col("item").cast(pl.Utf8))
            .join(
                reasons,
                on=["value", "item"],
                how="left",
                maintain_order="left",
                nulls_equal=True,
            )
            .select("wave", "source_file", "source_row", "column", "value", "reason")
        )
    else:
        label_quarantine = _empty_quarantine()
    responses = cells.filter(~is_text & ~invalid).select("wave", "respondent_key", "source_row", "item", "category")
    responses = responses.with_columns(_complete_of(responses.get_column("source_row"), respondents))
    open_answers = cells.filter(is_text).select(
        "wave", "item", "respondent_key", "source_row", pl.col("value").alias("text")
    )
    open_answers = open_answers.select(
        "wave",
        "item",
        "respondent_key",
        _complete_of(open_answers.get_column("source_row"), respondents),
        _masked_texts(open_answers.get_column("text"), codebook),
    ).sort(pl.col("item").cast(pl.Utf8), "respondent_key")
    schema = _empty_quarantine().schema
    respondent_groups, group_quarantine = _respondent_groups(
        wave.groups, respondents, conflict_reason, codebook, value_maps
    )
    quarantine = pl.concat(
        [
            status_quarantine,
            conflict_quarantine.cast(schema),
            label_quarantine.cast(schema),
            group_quarantine.cast(schema),
        ],
        how="vertical",
    ).sort("source_row", "column", "reason")
    # A cell in the wrong column may hold contact details (an e-mail, a phone number, an IP): masked here, so
    # neither the value nor the reason quoting it reaches a table, a page or the run log.
    quarantine = quarantine.with_columns(
        _masked_texts(quarantine.get_column("value"), codebook),
        _masked_texts(quarantine.get_column("reason"), codebook),
    )
    return StagedWave(
        respondents=respondents.select(
            "wave", "respondent_key", "source_row", "complete", _panel_key(respondents)
        ).sort("source_row"),
        responses=responses,
        quarantine=quarantine,
        open_answers=open_answers,
        respondent_groups=respondent_groups,
        exact_duplicates=len(exact_drop),
        conflicting_duplicates=len(conflict),
    )
