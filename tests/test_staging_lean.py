"""The lean ingest (Enum cells, distinct-value validation, masking per distinct text,
pseudonyms from one column) gives exactly what the plain row-by-row way gives: same cells, pseudonyms,
quarantine rows (reasons and order), responses and open answers, on the sample wave and on a wave full
of bad cells. The reference below is the plain way written out (pandera over every cell, one mask call per
answer, one HMAC per row): it must never be "optimised"."""

from __future__ import annotations

import random

import polars as pl
import pytest
from helpers import make_settings, read_sample_rows, write_csv_wave

from pipeline.codebook import load_codebook, normalise_text
from pipeline.ingest.normalise import NormalisedWave
from pipeline.ingest.presets import prepare
from pipeline.ingest.privacy import mask_contact_details
from pipeline.ingest.pseudonym import respondent_pseudonym, row_pseudonym
from pipeline.ingest.readers import read_export
from pipeline.ingest.wave import read_wave
from pipeline.settings import PROJECT_ROOT
from pipeline.staging.stage import _duplicates, _empty_quarantine, _status_complete, stage_wave, unknown_label_reason
from pipeline.staging.validation import (
    candidate_answers,
    failing_rows,
    invalid_rows,
    staging_responses,
    validation_errors,
)

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
STATUSES = ["Fullført"] * 12 + ["Ufullstendig"] * 3 + ["", "Ukjent", " weird ", "test", "Ny", "completed", "Avbrutt "]
BAD = ["Kanskje", "i svært høy grad", "I svært hoy grad", "7", "3.0", "2", "??", "x" * 150, " Vet ikke ",
       "Ja, delvis", "n/a", "nei", "I høy  grad", "\u00a0I noen grad\u3000"]
TEXTS = ["Skriv til ola@example.no for info", "Ring 22 33 44 55 eller +47 912 34 567", "ingen kontakt",
         "Vi har <b>mer</b> & mindre", "Mail: a.b@c.d.no; tlf 12345678", "Linje\nto med 98765432", " mellomrom "]


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


def _reference_stage(wave: NormalisedWave) -> dict[str, pl.DataFrame]:
    """The plain way: every cell through pandera, every open answer masked on its own, joins and sorts."""
    cells = wave.cells.with_columns(
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
    staged = stage_wave(wave, CODEBOOK)
    expected = _reference_stage(wave)
    for name, frame in expected.items():
        got = _as_text(getattr(staged, name))
        assert got.columns == frame.columns, name
        assert got.rows() == frame.rows(), name
    assert validation_errors(staging_responses(CODEBOOK), staged.responses) == []
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
    cells = read.normalised.cells
    assert cells["respondent_key"].to_list() == [cell_keys[r] for r in cells["source_row"].to_list()]


def _export_ids(path):
    import csv

    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))[1:]
    numbered = [(i, r[0]) for i, r in enumerate(rows, start=1) if any(c.strip() for c in r)]
    return [i for i, _ in numbered], [v for _, v in numbered]


def test_cells_are_the_export_cells_row_by_row(tmp_path):
    """Every non-blank item cell, trimmed, in (source_row, item) order, with its header and category."""
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
            expected.append((row["source_row"], c.header, c.target, v, category))
    got = _as_text(n.cells).select("source_row", "column", "item", "value", "category").rows()
    assert got == expected
    assert set(_as_text(n.cells).select("wave", "source_file").unique().rows()) == {("bad", "export.csv")}


def test_staging_from_the_work_database_text_columns_is_the_same(tmp_path):
    """The staging asset reads cells back from DuckDB as plain text: staged exactly as from the Enum cells."""
    settings = make_settings(tmp_path)
    _bad_wave(settings.raw_dir, "bad", n=300)
    n = read_wave(settings, CODEBOOK, "bad").normalised
    as_text = NormalisedWave(respondents=n.respondents, cells=_as_text(n.cells), columns=[])
    _assert_same_as_reference(as_text)
    a, b = stage_wave(n, CODEBOOK), stage_wave(as_text, CODEBOOK)
    for name in ("respondents", "responses", "quarantine", "open_answers"):
        assert _as_text(getattr(a, name)).rows() == _as_text(getattr(b, name)).rows()


def test_sample_wave_stages_exactly_as_the_plain_way(tmp_path):
    from helpers import copy_sample_wave

    settings = make_settings(tmp_path)
    copy_sample_wave(settings.raw_dir)
    staged = _assert_same_as_reference(read_wave(settings, CODEBOOK, "2024").normalised)
    assert (staged.respondents.height, staged.responses.height, staged.quarantine.height) == (10, 180, 0)


def test_invalid_rows_by_distinct_values_equals_pandera_row_by_row():
    """Bad values in every checked column (and nulls) fail the same rows as pandera over the whole frame."""
    frame = pl.DataFrame(
        {
            "wave": ["w", "w", None, "w", "w", "w"],
            "source_file": ["f"] * 6,
            "source_row": [1, 0, 2, 3, 4, 5],
            "respondent_key": [
                "0123456789abcdef",
                "0123456789abcdef",
                "0123456789abcdef",
                "XYZ",
                "0123456789abcdef",
                "0123456789abcdef",
            ],
            "column": ["c"] * 6,
            "item": ["P1", "P1", "P1", "P1", "OP", "P2"],
            "value": ["a"] * 6,
            "category": ["very_high", "very_high", "high", "low", "low", None],
        }
    )
    _, rows = failing_rows(candidate_answers(CODEBOOK), frame)
    assert sorted(rows) == [1, 2, 3, 4, 5]
    assert invalid_rows(candidate_answers(CODEBOOK), frame).arg_true().to_list() == sorted(rows)
    held = frame.with_columns(pl.col("item").cast(pl.Enum(sorted(CODEBOOK.items))))
    assert invalid_rows(candidate_answers(CODEBOOK), held).arg_true().to_list() == sorted(rows)


def test_responses_contract_errors_name_column_value_and_row():
    ok = pl.DataFrame(
        {
            "wave": ["w"] * 3,
            "respondent_key": ["0123456789abcdef"] * 2 + ["fedcba9876543210"],
            "source_row": [1, 1, 2],
            "item": ["P1", "P2", "P1"],
            "category": ["high", "low", "high"],
            "complete": [True, True, False],
        }
    )
    assert validation_errors(staging_responses(CODEBOOK), ok) == []
    held = ok.with_columns(pl.col("item").cast(pl.Enum(sorted(CODEBOOK.items))))
    assert validation_errors(staging_responses(CODEBOOK), held) == []
    bad = pl.concat([ok, ok.head(1)]).with_columns(pl.Series("category", ["high", "maybe", "high", "high"]))
    assert validation_errors(staging_responses(CODEBOOK), bad) == [
        "category: isin(['dont_know', 'high', 'low', 'no', 'not_at_all', 'some', 'very_high', 'yes']) failed for "
        "'maybe' (row 1)",
        "wave, respondent_key, item: multiple_fields_uniqueness failed for "
        '\'{"wave": "w", "respondent_key": "0123456789abcdef", "item": "P1"}\' (row 0)',
        "wave, respondent_key, item: multiple_fields_uniqueness failed for "
        '\'{"wave": "w", "respondent_key": "0123456789abcdef", "item": "P1"}\' (row 3)',
    ]


def test_read_back_from_the_work_database_stages_the_same(tmp_path):
    """ingest.read_normalised (batched, Enum) gives the staging step exactly the wave the raw step wrote."""
    from pipeline.ingest.wave import read_normalised
    from pipeline.warehouse import connect, replace_wave, table_frame

    settings = make_settings(tmp_path)
    _bad_wave(settings.raw_dir, "bad", n=300)
    n = read_wave(settings, CODEBOOK, "bad").normalised
    with connect(tmp_path / "work.duckdb", settings.sql_dir) as con:
        replace_wave(con, "raw.wave_respondents", "bad", n.respondents)
        replace_wave(con, "raw.wave_export", "bad", n.cells)
        assert table_frame(con, "raw.wave_export", "bad").schema["column"] == pl.Utf8
        back = read_normalised(con, "bad", CODEBOOK)
        other = read_normalised(con, "none", CODEBOOK)
    assert _as_text(back.cells).rows() == _as_text(n.cells).rows()
    assert back.respondents.rows() == n.respondents.rows()
    a, b = stage_wave(n, CODEBOOK), stage_wave(back, CODEBOOK)
    for name in ("respondents", "responses", "quarantine", "open_answers"):
        assert _as_text(getattr(a, name)).rows() == _as_text(getattr(b, name)).rows()
    assert other.cells.height == 0 and other.respondents.height == 0


def test_read_back_keeps_headers_that_are_not_one_per_item(tmp_path):
    """Cells written by other means (two headers for one item, two files) are read back as written."""
    from pipeline.ingest.wave import read_normalised
    from pipeline.warehouse import connect, replace_wave

    settings = make_settings(tmp_path)
    _bad_wave(settings.raw_dir, "bad", n=60)
    n = read_wave(settings, CODEBOOK, "bad").normalised
    cells = _as_text(n.cells).with_columns(
        pl.when((pl.col("item") == "P1") & (pl.col("source_row") % 2 == 0))
        .then(pl.lit("Another P1 header"))
        .otherwise(pl.col("column"))
        .alias("column"),
        pl.when(pl.col("source_row") == 3)
        .then(pl.lit("other.csv"))
        .otherwise(pl.col("source_file"))
        .alias("source_file"),
    )
    with connect(tmp_path / "work.duckdb", settings.sql_dir) as con:
        replace_wave(con, "raw.wave_respondents", "bad", n.respondents)
        replace_wave(con, "raw.wave_export", "bad", cells)
        back = read_normalised(con, "bad", CODEBOOK)
    assert _as_text(back.cells).rows() == cells.rows()
    assert "Another P1 header" in back.cells["column"].cast(pl.Utf8).to_list()
