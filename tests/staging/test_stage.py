"""The lean ingest and staging (cells unpivoted and staged in DuckDB from decisions on distinct values: categories,
statuses, duplicates, pandera's checks, reasons, masks; pseudonyms from one column) give exactly what the plain
row-by-row way gives: same cells, pseudonyms, quarantine rows (reasons and order), responses and open answers, on
the sample wave and on a wave full of bad cells. The reference below is the plain way written out in polars (pandera
over every cell, one mask call per answer, one HMAC per row): it must never be "optimised"."""

from __future__ import annotations

import random

import polars as pl
import pytest
from helpers import PROJECT_SETTINGS, make_settings, read_sample_rows, write_csv_wave

from pipeline.codebook import Codebook, load_codebook, normalise_text
from pipeline.ingest.normalise import NormalisedWave
from pipeline.ingest.personal import Markers, mask_text
from pipeline.ingest.presets import prepare
from pipeline.ingest.privacy import mask_contact_details
from pipeline.ingest.pseudonym import respondent_pseudonym, row_pseudonym
from pipeline.ingest.readers import read_export, shorten
from pipeline.ingest.wave import read_wave
from pipeline.settings import PROJECT_ROOT
from pipeline.staging.stage import stage_wave, unknown_label_reason
from pipeline.staging.validation import (
    candidate_answers,
    failing_rows,
    failing_values_in,
    staging_responses,
    table_errors,
)

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
STATUSES = ["Fullført"] * 12 + ["Ufullstendig"] * 3 + ["", "Ukjent", " weird ", "test", "Ny", "completed", "Avbrutt "]
BAD = [
    "Kanskje",
    "i svært høy grad",
    "I svært hoy grad",
    "7",
    "3.0",
    "2",
    "??",
    "x" * 150,
    " Vet ikke ",
    "Ja, delvis",
    "n/a",
    "nei",
    "I høy  grad",
    "\u00a0I noen grad\u3000",
]
TEXTS = [
    "Skriv til ola@example.no for info",
    "Ring 22 33 44 55 eller +47 912 34 567",
    "ingen kontakt",
    "Vi har <b>mer</b> & mindre",
    "Mail: a.b@c.d.no; tlf 12345678",
    "Linje\nto med 98765432",
    " mellomrom ",
]


def _bad_wave(raw_dir, key: str, n: int = 600, with_id: bool = True):
    """The sample's rows, seeded: unknown/blank/test statuses, bad and padded cells, missing ids, exact and
    conflicting duplicates (groups of 2 and 3), contact details in free text, a blank row."""
    headers, rows = read_sample_rows()
    rng = random.Random(6)
    out = []
    for i in range(n):
        r = list(rng.choice(rows))
        r[0] = f"R{i:04d}" if rng.random() > 0.05 else ""
        r[1] = rng.choice(STATUSES)
        for j in range(3, 21):
            if rng.random() < 0.01:
                r[j] = rng.choice(BAD)
            elif rng.random() < 0.03:
                r[j] = ""
        for j in range(21, 24):
            r[j] = rng.choice(TEXTS) if rng.random() < 0.3 else ""
        out.append(r)
        if rng.random() < 0.03:
            out.append(list(r))
        if rng.random() < 0.02 and r[0]:
            c = list(r)
            c[5] = "I liten grad" if c[5] != "I liten grad" else "I høy grad"
            out.append(c)
            if rng.random() < 0.5:
                out.append(list(c))
    out.insert(10, [""] * len(headers))
    if not with_id:
        headers, out = headers[1:], [r[1:] for r in out]
    write_csv_wave(raw_dir, key, headers, out, invited=2 * n, columns={"Tidsstempel": "submitted_at"})


# The plain way of deciding statuses and duplicates, row by row in polars (the code staging used before it moved
# into DuckDB).
def _empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "wave": pl.Utf8,
            "source_file": pl.Utf8,
            "source_row": pl.Int64,
            "column": pl.Utf8,
            "value": pl.Utf8,
            "reason": pl.Utf8,
        }
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


def _reference_stage(wave: NormalisedWave) -> dict[str, pl.DataFrame]:
    """The plain way: every cell through pandera, every open answer masked on its own, joins and sorts."""
    cells = wave.cells(PROJECT_SETTINGS).with_columns(
        pl.col(c).cast(pl.Utf8) for c in ("wave", "source_file", "column", "item", "category")
    )
    respondents, status_quarantine = _status_complete(wave.respondents, CODEBOOK)
    exact_drop, conflict, groups = _duplicates(respondents, cells)
    reason = {
        r: "the respondent id of this row also stands in row"
        + ("s " if len(rows) > 2 else " ")
        + ", ".join(str(x) for x in rows if x != r)
        + " with different answers: the rows count in neither. Keep one row in the export"
        for r, rows in groups.items()
    }
    conflict_q = cells.filter(pl.col("source_row").is_in(sorted(conflict))).select(
        "wave",
        "source_file",
        "source_row",
        "column",
        "value",
        pl.col("source_row").replace_strict(reason, default=None, return_dtype=pl.Utf8).alias("reason"),
    )
    status_quarantine = status_quarantine.filter(~pl.col("source_row").is_in(sorted(exact_drop)))
    respondents = respondents.filter(~pl.col("source_row").is_in(sorted(exact_drop | conflict)))
    cells = cells.filter(~pl.col("source_row").is_in(sorted(exact_drop | conflict)))
    complete = respondents.select("source_row", "complete")
    texts = [i.code for i in CODEBOOK.text_items()]
    closed = cells.filter(~pl.col("item").is_in(texts)).with_row_index("_i")
    _, bad_rows = failing_rows(candidate_answers(CODEBOOK), closed.drop("_i"))
    bad = closed.filter(pl.col("_i").is_in(sorted(bad_rows)))
    label_q = pl.DataFrame(
        [
            (w, f, r, c, v, unknown_label_reason(v, i, CODEBOOK))
            for w, f, r, c, v, i in bad.select("wave", "source_file", "source_row", "column", "value", "item").rows()
        ],
        schema=_empty_quarantine().schema,
        orient="row",
    )
    email, phone, ip = (CODEBOOK.ui[k]["nb"] for k in ("masked_email", "masked_phone", "masked_ip"))

    def mask(column: str) -> pl.Expr:
        return pl.col(column).map_elements(lambda t: mask_contact_details(t, email, phone, ip), return_dtype=pl.Utf8)

    schema = _empty_quarantine().schema
    return {
        "respondents": respondents.select("wave", "respondent_key", "source_row", "complete", "panel_key").sort(
            "source_row"
        ),
        "responses": closed.filter(~pl.col("_i").is_in(sorted(bad_rows)))
        .join(complete, on="source_row", how="left")
        .select("wave", "respondent_key", "source_row", "item", "category", "complete")
        .sort("source_row", "item"),
        "quarantine": pl.concat([status_quarantine, conflict_q.cast(schema), label_q])
        .sort("source_row", "column", "reason")
        .with_columns(mask("value"), mask("reason")),
        "open_answers": cells.filter(pl.col("item").is_in(texts))
        .join(complete, on="source_row", how="left")
        .select("wave", "item", "respondent_key", "complete", pl.col("value").alias("text"))
        .with_columns(mask("text"))
        .sort("item", "respondent_key"),
    }


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(c).cast(pl.Utf8) for c, t in frame.schema.items() if isinstance(t, pl.Enum))


def _assert_same_as_reference(wave: NormalisedWave):
    staged = stage_wave(wave, CODEBOOK, PROJECT_SETTINGS)
    expected = _reference_stage(wave)
    for name, frame in expected.items():
        got = _as_text(getattr(staged, name))
        assert got.columns == frame.columns, name
        assert got.rows() == frame.rows(), name
    return staged


@pytest.mark.parametrize("with_id", [True, False])
def test_bad_wave_stages_exactly_as_the_plain_way(tmp_path, with_id):
    settings = make_settings(tmp_path)
    _bad_wave(settings.raw_dir, "bad", with_id=with_id)
    read = read_wave(settings, CODEBOOK, "bad")
    staged = _assert_same_as_reference(read.normalised)
    assert staged.quarantine.height > 40 and staged.open_answers.height > 100
    reasons = staged.quarantine["reason"].to_list()
    assert any(r.startswith("status 'Ukjent'") for r in reasons)
    assert any(r.startswith("'" + "x" * 150 + "' is not an answer") for r in reasons)
    assert any("is not an answer of item" in r for r in reasons)
    if with_id:
        assert staged.conflicting_duplicates > 0 and staged.exact_duplicates > 0
        assert any(r.startswith("the respondent id of this row") for r in reasons)
    text = " ".join(staged.open_answers["text"].to_list())
    assert "@" not in text and "912 34 567" not in text and "12345678" not in text

    # Pseudonyms: one HMAC per row, as pseudonym.py defines them (id trimmed; file and row without an id).
    key = b"test-key"
    respondents = read.normalised.respondents
    if with_id:
        ids = {r: v for r, v in zip(*_export_ids(settings.raw_dir / "bad" / "export.csv"))}
        expected = [
            respondent_pseudonym(key, ids[r]) if ids[r].strip() else row_pseudonym(key, "bad", "export.csv", r)
            for r in respondents["source_row"].to_list()
        ]
    else:
        expected = [row_pseudonym(key, "bad", "export.csv", r) for r in respondents["source_row"].to_list()]
    assert respondents["respondent_key"].to_list() == expected
    cell_keys = dict(zip(respondents["source_row"].to_list(), expected))
    cells = read.normalised.cells(settings)
    assert cells["respondent_key"].to_list() == [cell_keys[r] for r in cells["source_row"].to_list()]


def _export_ids(path):
    import csv

    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))[1:]
    numbered = [(i, r[0]) for i, r in enumerate(rows, start=1) if any(c.strip() for c in r)]
    return [i for i, _ in numbered], [v for _, v in numbered]


def test_cells_are_the_export_cells_row_by_row(tmp_path):
    """Every non-blank item cell, trimmed (and personal data masked), in (source_row, item) order, with its header and
    category."""
    settings = make_settings(tmp_path)
    _bad_wave(settings.raw_dir, "bad", n=200)
    read = read_wave(settings, CODEBOOK, "bad")
    n = read.normalised
    frame = prepare(read_export(read.spec.export_path), read.spec, CODEBOOK).export.frame
    assert read.export.frame.columns == ["source_row"] and read.export.n_rows == frame.height
    items = sorted((c for c in n.columns if c.target in CODEBOOK.items), key=lambda c: c.target)
    expected = []
    for row in frame.filter(pl.col("source_row").is_in(n.respondents["source_row"].to_list())).iter_rows(named=True):
        for c in items:
            v = row[c.name]
            if v is None:
                continue
            v = v.strip()
            scale = CODEBOOK.scale_of(c.target)
            norm = normalise_text(v)
            norm = norm[:-2] if norm.endswith(".0") and norm[:-2].isdigit() else norm
            category = None if scale.is_text else CODEBOOK.category_lookup(scale.key).get(norm)
            # a cell that is no category may be free text: masked before it is written (pipeline.ingest.personal)
            value = v if category is not None else mask_text(v, Markers.of(CODEBOOK))
            expected.append((row["source_row"], c.header, c.target, value, category))
    got = _as_text(n.cells(settings)).select("source_row", "column", "item", "value", "category").rows()
    assert got == expected
    assert set(_as_text(n.cells(settings)).select("wave", "source_file").unique().rows()) == {("bad", "export.csv")}


def test_sample_wave_stages_exactly_as_the_plain_way(tmp_path):
    from helpers import copy_sample_wave

    settings = make_settings(tmp_path)
    copy_sample_wave(settings.raw_dir)
    staged = _assert_same_as_reference(read_wave(settings, CODEBOOK, "2024").normalised)
    assert (staged.respondents.height, staged.responses.height, staged.quarantine.height) == (10, 180, 0)


def _candidates_table(frame: pl.DataFrame):
    import duckdb

    con = duckdb.connect(":memory:")
    con.register("frame_view", frame.to_arrow())
    con.execute("create table cells as select * from frame_view")
    return con


def test_failing_values_by_distinct_values_equals_pandera_row_by_row():
    """Bad values in every checked column (and a NULL category) fail the same rows in DuckDB, checked by distinct
    values, as pandera over the whole frame."""
    frame = pl.DataFrame(
        {
            "wave": ["w"] * 6,
            "source_file": ["f"] * 6,
            "source_row": [1, 0, 2, 3, 4, 5],
            "respondent_key": ["0123456789abcdef"] * 3 + ["XYZ"] + ["0123456789abcdef"] * 2,
            "column": ["c"] * 6,
            "item": ["P1", "P1", "P1", "P1", "OP", "P2"],
            "value": ["a"] * 6,
            "category": ["very_high", "very_high", "high", "low", "low", None],
        }
    )
    _, rows = failing_rows(candidate_answers(CODEBOOK), frame)
    assert sorted(rows) == [1, 3, 4, 5]
    con = _candidates_table(frame)
    failing = failing_values_in(con, candidate_answers(CODEBOOK), "select * from cells")
    assert failing == {
        "source_row": [(0, "greater_than_or_equal_to(1)")],
        "respondent_key": [("XYZ", "str_matches('^[0-9a-f]{16}$')")],
        "item": [("OP", f"isin({[i.code for i in CODEBOOK.closed_items()]})")],
        "category": [(None, "not_nullable")],
    }
    bad = {c: {v for v, _ in values} for c, values in failing.items()}
    by_value = [i for i, r in enumerate(frame.iter_rows(named=True)) if any(r[c] in bad[c] for c in bad)]
    assert by_value == sorted(rows)


def _staging_db(tmp_path, settings, n: int):
    """The bad wave's raw rows in a work database file, as the raw step writes them."""
    from pipeline.warehouse import connect, replace_wave

    _bad_wave(settings.raw_dir, "bad", n=n)
    normalised = read_wave(settings, CODEBOOK, "bad").normalised
    path = settings.work_db
    with connect(settings) as con:
        replace_wave(con, "raw.wave_respondents", "bad", normalised.respondents)
        normalised.answers.write(con, settings.sql_dir)
        normalised.background.write(con, settings.sql_dir)
    return path, normalised


def test_staging_in_the_work_database_equals_staging_in_memory(tmp_path):
    """The staging step's SQL on the work database file gives the rows the in-memory staging gives, and leaves no
    decision table behind; another wave's rows are untouched."""
    from pipeline.contract import load_staging_tables
    from pipeline.staging.stage import stage_in_database
    from pipeline.warehouse import connect, query_frame

    settings = make_settings(tmp_path)
    path, normalised = _staging_db(tmp_path, settings, n=300)
    staged = stage_wave(normalised, CODEBOOK, settings)
    tables = {t.name: t.order for t in load_staging_tables(settings.marts_contract_file) if t.asset}
    with connect(settings) as con:
        con.execute("insert into staging.respondents values ('other', '0123456789abcdef', 1, true, null)")
        result = stage_in_database(con, settings, "bad", CODEBOOK)
        got = {
            t: query_frame(con, f"select * from staging.{t} where wave = 'bad' order by {order}")
            for t, order in tables.items()
        }
        assert con.execute("select count(*) from staging.respondents where wave = 'other'").fetchall() == [(1,)]
        assert con.execute("select count(*) from duckdb_tables() where temporary").fetchall() == [(0,)]
    for table in tables:
        assert got[table].rows() == getattr(staged, table).rows(), table
    assert result == staged.result
    assert result.rows["quarantine"] == staged.quarantine.height > 40
    assert result.cells == normalised.cells(settings).height


def test_a_broken_staging_row_fails_the_responses_contract(tmp_path):
    """pandera's contract of staging.responses, checked in the database by distinct values and a GROUP BY, names
    the column, the value and the source row."""
    from pipeline.contract import load_staging_tables
    from pipeline.staging.stage import stage_in_database
    from pipeline.warehouse import connect

    settings = make_settings(tmp_path)
    path, _ = _staging_db(tmp_path, settings, n=60)
    responses = next(t for t in load_staging_tables(settings.marts_contract_file) if t.name == "responses")
    with connect(settings) as con:
        stage_in_database(con, settings, "bad", CODEBOOK)
        assert table_errors(con, staging_responses(CODEBOOK, responses), "staging.responses", "bad") == []
        row, key = con.execute(
            "select source_row, respondent_key from staging.responses where wave = 'bad' and item = 'P1' "
            "order by source_row limit 1"
        ).fetchall()[0]
        con.execute(
            "update staging.responses set category = 'maybe' where wave = 'bad' and source_row = ? and item = 'P2'",
            [row],
        )
        con.execute("insert into staging.responses values ('bad', ?, ?, 'P1', 'high', true)", [key, row])
        errors = table_errors(con, staging_responses(CODEBOOK, responses), "staging.responses", "bad")
    assert errors == [
        "category: isin(['dont_know', 'high', 'low', 'no', 'not_at_all', 'some', 'very_high', 'yes']) failed for "
        f"'maybe' (source_row {row})",
        "wave, respondent_key, item: multiple_fields_uniqueness failed for "
        f'\'{{"wave": "bad", "respondent_key": "{key}", "item": "P1"}}\' (source_rows {row}, {row})',
    ]
