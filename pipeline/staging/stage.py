"""Staging: a wave's raw rows in the work database → staging.respondents, responses, open_answers,
respondent_groups and quarantine (`sql/staging/<table>.sql`, one file per table).

The cells never leave DuckDB. Python decides from metadata only, and each decision becomes a small temporary
table the SQL joins (queries under `sql/staging/decide/`):
- staging_status: each distinct status → complete / partial, or unknown (a reason: quarantined, counts as partial);
- staging_duplicates: rows that stand for one respondent (same respondent id or panel id, transitively): exact copies
  of an earlier row are collapsed, rows with different answers are in conflict (all their cells quarantined);
- staging_bad_values / staging_invalid_cells: pandera's candidate checks over each column's distinct values, then the
  closed-item cells holding a failing value;
- staging_label_reasons, staging_group_reasons: one reason per distinct bad value;
- staging_masks: contact details masked once per distinct text that can reach a table.

Nothing is dropped silently: a cell is either a response, an open answer, blank, or a quarantine row.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipeline.codebook import NOT_STATED, Codebook, normalise_text
from pipeline.contract import load_staging_tables
from pipeline.ingest.normalise import NormalisedWave
from pipeline.ingest.personal import Markers, mask_text
from pipeline.ingest.readers import shorten
from pipeline.ingest.waves import WaveError
from pipeline.settings import Settings
from pipeline.staging.validation import candidate_answers, failing_values_in
from pipeline.warehouse import bound, memory_database, qualified, query_frame, read_sql, replace_wave, scalar

DECISIONS = (
    "staging_status",
    "staging_duplicates",
    "staging_bad_values",
    "staging_invalid_cells",
    "staging_label_reasons",
    "staging_group_reasons",
    "staging_masks",
)
# More than this share of a wave's cells quarantined means a wrong mapping, not bad luck: the wave stops.
MAX_QUARANTINE_SHARE = 0.20
BY_RESPONDENT_ID = "the respondent id of this row"
BY_PANEL_ID = "the panel id of this row"


@dataclass(frozen=True)
class StagingResult:
    """What staging one wave did; its rows are in the staging tables."""

    rows: dict[str, int]  # staging table → the wave's rows in it
    cells: int  # the wave's answer cells in raw.wave_export
    exact_duplicates: int  # rows collapsed into an identical earlier row
    conflicting_duplicates: int  # rows with a repeated respondent id or panel id and different answers
    quarantined_by_respondent_id: int  # quarantine rows of conflicts found by the respondent id
    quarantined_by_panel_id: int  # … by the panel id
    first_quarantined: tuple[tuple[int, str | None, str | None], ...]  # (source_row, column, value) of the first 3

    @property
    def quarantine_share(self) -> float:
        return self.rows["quarantine"] / self.cells if self.cells else 0.0


@dataclass(frozen=True)
class StagedWave:
    """A wave staged in memory (stage_wave): the staging tables' rows as frames."""

    respondents: pl.DataFrame  # wave, respondent_key, source_row, complete, panel_key
    responses: pl.DataFrame  # wave, respondent_key, source_row, item, category, complete
    quarantine: pl.DataFrame  # wave, source_file, source_row, column, value, reason
    open_answers: pl.DataFrame  # wave, item, respondent_key, complete, text
    respondent_groups: pl.DataFrame  # wave, respondent_key, source_row, variable, group, complete
    result: StagingResult

    @property
    def exact_duplicates(self) -> int:
        return self.result.exact_duplicates

    @property
    def conflicting_duplicates(self) -> int:
        return self.result.conflicting_duplicates


def unknown_label_reason(
    value: str, item: str, codebook: Codebook, value_maps: dict[str, dict[str, str]] | None = None
) -> str:
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


def status_reason(status: str, codebook: Codebook) -> str:
    return (
        f"status {shorten(status)} is neither complete ({', '.join(codebook.status_values.get('complete', ()))}) "
        f"nor partial ({', '.join(codebook.status_values.get('partial', ()))}): the row counts as partial. "
        "Map the status in wave.yaml or correct the export"
    )


def status_decisions(statuses: list[str], codebook: Codebook) -> pl.DataFrame:
    """staging_status: each distinct status → complete (True), partial (False), or unknown (False, with the
    reason it is quarantined for). `not_responded` with answers (invited, never finished) counts as partial; a
    blank status (no row here) counts as complete: exports without a status column list submitted responses only."""
    complete = {normalise_text(v) for v in codebook.status_values.get("complete", ())}
    partial = (
        {normalise_text(v) for v in codebook.status_values.get("partial", ())}
        | {normalise_text(v) for v in codebook.status_values.get("not_responded", ())}
        | {"not_responded"}
    )
    rows = []
    for status in statuses:
        norm = normalise_text(status)
        known = norm in complete or norm in partial
        rows.append((status, norm in complete, None if known else status_reason(status, codebook)))
    return pl.DataFrame(rows, schema={"status": pl.Utf8, "complete": pl.Boolean, "reason": pl.Utf8}, orient="row")


def same_person_groups(suspects: pl.DataFrame) -> dict[int, tuple[int, ...]]:
    """Rows that stand for one respondent, as groups of two or more source rows: rows share a respondent when
    their respondent ids are equal (respondent_key) or their panel ids are (panel_key: a panel member answering
    twice in one wave), and, transitively, through a row that shares one with each. suspects: source_row,
    respondent_key, panel_key of the rows whose key is on another row too."""
    parent: dict[int, int] = {}

    def find(row: int) -> int:
        while parent.setdefault(row, row) != row:
            parent[row] = parent[parent[row]]
            row = parent[row]
        return row

    for key in ("respondent_key", "panel_key"):
        first: dict[str, int] = {}
        for row, value in suspects.select("source_row", key).iter_rows():
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


def duplicate_decisions(suspects: pl.DataFrame) -> pl.DataFrame:
    """staging_duplicates (source_row, kind, reason): of each group of rows standing for one respondent, the rows
    after the first are `exact` copies when every row has the same fingerprint (status and every answer), else every
    row of the group is in `conflict`, with the reason naming the other rows and whether the respondent id or the
    panel id joined them."""
    same = same_person_groups(suspects)
    fingerprint = dict(suspects.select("source_row", "fingerprint").iter_rows())
    respondent = dict(suspects.select("source_row", "respondent_key").iter_rows())
    rows = []
    for group in sorted(set(same.values())):
        if len({fingerprint[r] for r in group}) == 1:
            rows += [(r, "exact", None) for r in group[1:]]
            continue
        by = BY_PANEL_ID if len({respondent[r] for r in group}) > 1 else BY_RESPONDENT_ID
        for r in group:
            others = [x for x in group if x != r]
            rows.append(
                (
                    r,
                    "conflict",
                    f"{by} also stands in row{'s' if len(others) > 1 else ''} "
                    f"{', '.join(map(str, others))} with different answers: the rows count in neither. Keep "
                    "one row in the export",
                )
            )
    return pl.DataFrame(sorted(rows), schema={"source_row": pl.Int64, "kind": pl.Utf8, "reason": pl.Utf8}, orient="row")


def _masks(texts: list[str], codebook: Codebook) -> pl.DataFrame:
    """staging_masks (text, masked): the texts mask_text changes (contact details, identity numbers, bidirectional
    controls; the raw step masked them already, this keeps staging safe on its own), each worked out once."""
    markers = Markers.of(codebook)
    changed = []
    for text in sorted(set(texts)):
        masked = mask_text(text, markers)
        if masked != text:
            changed.append((text, masked))
    return pl.DataFrame(changed, schema={"text": pl.Utf8, "masked": pl.Utf8}, orient="row")


def _decide_sql(sql_dir: Path, name: str) -> str:
    return (sql_dir / "staging" / "decide" / f"{name}.sql").read_text(encoding="utf-8").strip().rstrip(";")


def _query(con: duckdb.DuckDBPyConnection, sql_dir: Path, name: str, params: dict[str, object]) -> pl.DataFrame:
    select = _decide_sql(sql_dir, name)
    return pl.from_arrow(con.sql(select, params=bound(select, params)).to_arrow_table())


def _temp_table(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    con.register("_decision", frame.to_arrow())
    try:
        con.execute("create or replace temp table " + qualified(name) + " as select * from _decision")
    finally:
        con.unregister("_decision")


def _drop_decisions(con: duckdb.DuckDBPyConnection) -> None:
    for name in DECISIONS:
        con.execute("drop table if exists temp." + qualified(name))


def stage_in_database(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    wave: str,
    codebook: Codebook,
    value_maps: dict[str, dict[str, str]] | None = None,
) -> StagingResult:
    """Stage one wave inside the database: its raw rows (raw.wave_respondents, raw.wave_export, raw.wave_groups)
    → the staging tables of the contract that have SQL of their own (sql/staging/<table>.sql), in the contract's
    order (the wave's rows replaced). Run it in the caller's transaction. value_maps: the wave's wave.yaml `values:`
    (scale → code → category), named in quarantine reasons."""
    sql_dir = settings.sql_dir
    params: dict[str, object] = {
        "wave": wave,
        "closed_items": [i.code for i in codebook.closed_items()],
        "text_items": [i.code for i in codebook.text_items()],
        "not_stated": NOT_STATED,
    }
    try:
        statuses = status_decisions(_query(con, sql_dir, "statuses", params)["status"].to_list(), codebook)
        _temp_table(con, "staging_status", statuses)
        duplicates = duplicate_decisions(_query(con, sql_dir, "duplicate_suspects", params))
        _temp_table(con, "staging_duplicates", duplicates)

        closed_cells = _decide_sql(sql_dir, "closed_cells")
        failing = failing_values_in(con, candidate_answers(codebook), closed_cells, bound(closed_cells, params))
        bad_values = pl.DataFrame(
            [(column, str(v)) for column, values in sorted(failing.items()) for v, _ in values if v is not None],
            schema={"column_name": pl.Utf8, "value": pl.Utf8},
            orient="row",
        )
        _temp_table(con, "staging_bad_values", bad_values)
        invalid = _decide_sql(sql_dir, "invalid_cells")
        con.execute("create or replace temp table staging_invalid_cells as " + invalid, bound(invalid, params))

        labels = _query(con, sql_dir, "unknown_label_values", params)
        label_reasons = labels.with_columns(
            pl.Series(
                "reason", [unknown_label_reason(v, i, codebook, value_maps) for i, v in labels.rows()], dtype=pl.Utf8
            )
        )
        _temp_table(con, "staging_label_reasons", label_reasons)
        groups = _query(con, sql_dir, "unknown_group_values", params)
        group_reasons = groups.with_columns(
            pl.Series(
                "reason", [unknown_group_reason(v, k, codebook, value_maps) for k, v in groups.rows()], dtype=pl.Utf8
            )
        )
        _temp_table(con, "staging_group_reasons", group_reasons)

        texts = _query(con, sql_dir, "mask_candidates", params)["text"].drop_nulls().to_list()
        texts += statuses["status"].to_list() + labels["value"].to_list() + groups["value"].to_list()
        for frame in (statuses, duplicates, label_reasons, group_reasons):
            texts += frame["reason"].drop_nulls().to_list()
        _temp_table(con, "staging_masks", _masks(texts, codebook))

        rows = {}
        for table in staged_tables(settings):
            target = qualified("staging." + table)
            select = read_sql(sql_dir, "staging", table).strip().rstrip(";")
            con.execute("delete from " + target + " where wave = ?", [wave])
            con.execute("insert into " + target + " by name " + select, bound(select, params))
            rows[table] = scalar(con, "select count(*) from " + target + " where wave = ?", [wave])
        cells = scalar(con, "select count(*) from raw.wave_export where wave = ?", [wave])
        by_reason = dict(
            con.execute(
                "select starts_with(reason, ?) as by_panel, count(*) from staging.quarantine where wave = ? and "
                "(starts_with(reason, ?) or starts_with(reason, ?)) group by all",
                [BY_PANEL_ID, wave, BY_RESPONDENT_ID, BY_PANEL_ID],
            ).fetchall()
        )
        first = con.execute(
            'select source_row, "column", value from staging.quarantine where wave = ? order by rowid limit 3', [wave]
        ).fetchall()
    finally:
        try:
            _drop_decisions(con)
        except duckdb.TransactionException:
            pass  # the statement that failed aborted the caller's transaction: its rollback drops them
    kinds = duplicates["kind"].to_list()
    return StagingResult(
        rows=rows,
        cells=cells,
        exact_duplicates=kinds.count("exact"),
        conflicting_duplicates=kinds.count("conflict"),
        quarantined_by_respondent_id=by_reason.get(False, 0),
        quarantined_by_panel_id=by_reason.get(True, 0),
        first_quarantined=tuple(first),
    )


def staged_tables(settings: Settings) -> tuple[str, ...]:
    """The staging tables the staging SQL builds (every staging table of the contract that is an asset), in order."""
    return tuple(t.name for t in load_staging_tables(settings.marts_contract_file) if t.asset)


class TooMuchQuarantined(WaveError):
    """More than MAX_QUARANTINE_SHARE of a wave's cells would be quarantined: the wave stops."""


def check_quarantine_limit(result: StagingResult, export_name: str) -> None:
    """Stop the wave (TooMuchQuarantined) when more than MAX_QUARANTINE_SHARE of its cells would be quarantined:
    that means a wrong mapping, not bad luck. The message says which: a panel id or a respondent id that does not
    identify a person (when their conflicts are at least half the quarantine), else headers or codes."""
    share = result.quarantine_share
    if share <= MAX_QUARANTINE_SHARE:
        return
    quarantined, duplicated = result.rows["quarantine"], result.conflicting_duplicates
    if duplicated and result.quarantined_by_panel_id * 2 >= quarantined:
        raise TooMuchQuarantined(
            f"{export_name}: {duplicated} rows share a panel id with another row but differ in their answers "
            f"({result.quarantined_by_panel_id} of the {quarantined} cells that would be quarantined): the column "
            "named in wave.yaml panel_id probably does not identify a person (e.g. a library or a department). "
            "Name the column that identifies each person; the wave was not updated"
        )
    if duplicated and result.quarantined_by_respondent_id * 2 >= quarantined:
        raise TooMuchQuarantined(
            f"{export_name}: {duplicated} rows share a respondent id with another row but differ in their "
            f"answers ({result.quarantined_by_respondent_id} of the {quarantined} cells that would be quarantined): "
            "the column read as the respondent id is probably not one (e.g. a school or a form counter). Name "
            "the tool's respondent-id column in wave.yaml columns (`<header>: respondent_id`), or map that "
            "column to drop; the wave was not updated"
        )
    examples = "; ".join(
        f"row {row}, column {shorten(column)}: {shorten(value)}" for row, column, value in result.first_quarantined
    )
    raise TooMuchQuarantined(
        f"{export_name}: {quarantined} of {result.cells} cells ({share:.0%}) would be quarantined, "
        f"more than {MAX_QUARANTINE_SHARE:.0%}: the headers or codes are probably mapped wrongly "
        f"(e.g. {examples}). Check wave.yaml columns/values; the wave was not updated"
    )


def stage_wave(
    wave: NormalisedWave,
    codebook: Codebook,
    settings: Settings,
    value_maps: dict[str, dict[str, str]] | None = None,
) -> StagedWave:
    """Stage a wave read in memory (read_wave) the way the build stages it in the work database: the same SQL, in an
    in-memory DuckDB; for `make inspect`, the early stop of the ingest step and the tests."""
    key = wave.respondents.get_column("wave").cast(pl.Utf8)[0] if wave.respondents.height else ""
    order = {t.name: t.order for t in load_staging_tables(settings.marts_contract_file) if t.asset}
    with memory_database(settings) as con:
        replace_wave(con, "raw.wave_respondents", key, wave.respondents)
        wave.answers.write(con, settings.sql_dir)
        wave.background.write(con, settings.sql_dir)
        result = stage_in_database(con, settings, key, codebook, value_maps)
        frames = {
            table: query_frame(con, "select * from " + qualified("staging." + table) + " order by " + by)
            for table, by in order.items()
        }
    return StagedWave(**frames, result=result)


def stage(
    wave: NormalisedWave,
    codebook: Codebook,
    settings: Settings,
    export_name: str,
    value_maps: dict[str, dict[str, str]] | None = None,
) -> StagedWave:
    """stage_wave, stopping the wave when too much of it would be quarantined (check_quarantine_limit)."""
    staged = stage_wave(wave, codebook, settings, value_maps)
    check_quarantine_limit(staged.result, export_name)
    return staged


def stop_when_mostly_unmatched(
    normalised: NormalisedWave,
    codebook: Codebook,
    settings: Settings,
    export_name: str,
    value_maps: dict[str, dict[str, str]],
) -> None:
    """Cells matching no category are the bulk of any quarantine: when they alone pass the limit, stage in memory now
    (same check and message as the staging step) so the wave fails before anything of it is written."""
    cells = normalised.answers.count
    unmatched = normalised.answers.unmatched([i.code for i in codebook.closed_items()])
    if cells and unmatched / cells > MAX_QUARANTINE_SHARE:
        stage(normalised, codebook, settings, export_name, value_maps)
