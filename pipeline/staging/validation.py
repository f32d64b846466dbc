"""pandera (polars backend) schemas, built from the codebook (and the contract's columns) so allowed items and
categories are never hard-coded. `candidate_answers` sorts cells into valid and quarantined; `staging_responses` is
the blocking contract of the staging table (the marts' schemas are in pipeline.marts.checks).

Big tables are validated by their distinct values (`failing_values_in` and `table_errors` in DuckDB,
`validation_errors` for frames): every check of these schemas looks at one value of one column, so a row fails
exactly when one of its values fails, and each column's distinct values are validated once (a million-respondent
wave has 17 million cells but a few hundred distinct answers). A text column of a frame may be held as
pl.Enum/pl.Categorical: its values are validated as text. Frame-wide `unique=` is checked with polars for frames,
with a GROUP BY in DuckDB.
"""

from __future__ import annotations

import json

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from pipeline.codebook import IDENTIFIER, Codebook
from pipeline.contract import TableSpec

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


# pandera dtypes of the contract's DuckDB types (pipeline.contract.TYPE)
DTYPES = {
    "VARCHAR": pl.Utf8,
    "BIGINT": pl.Int64,
    "INTEGER": pl.Int32,
    "DOUBLE": pl.Float64,
    "BOOLEAN": pl.Boolean,
    "DATE": pl.Date,
}


def staging_responses(codebook: Codebook, table: TableSpec) -> pa.DataFrameSchema:
    """The contract of staging.responses: its columns and types from schemas/marts.yaml (`table`), one valid answer
    per wave, respondent and closed item (the contract's `unique`), with the codebook's items and categories."""
    categories = sorted({c.key for s in codebook.scales.values() for c in s.categories})
    checks = {
        "respondent_key": [pa.Check.str_matches(PSEUDONYM)],
        "source_row": [pa.Check.ge(1)],
        "item": [pa.Check.isin([i.code for i in codebook.closed_items()])],
        "category": [pa.Check.isin(categories)],
    }
    return pa.DataFrameSchema(
        {
            name: pa.Column(DTYPES[kind], checks.get(name, []), nullable=name not in table.required)
            for name, kind in table.types.items()
        },
        strict=True,
        unique=list(table.unique) or None,
        name="staging_" + table.name,
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


TEXT_HELD = (pl.Enum, pl.Categorical)
LISTED_ERRORS = 20


def _per_value(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> bool:
    """Whether validating distinct values is exact for this schema and frame: the frame has the schema's
    columns (exactly, when strict) with the declared dtypes (text also as Enum/Categorical), and the
    schema has no frame-wide checks."""
    names = set(schema.columns)
    if not names <= set(frame.columns) or (schema.strict and names != set(frame.columns)):
        return False
    if schema.checks or (schema.unique and not set(schema.unique) <= set(frame.columns)):
        return False
    for name, column in schema.columns.items():
        declared, actual = column.dtype.type if column.dtype is not None else None, frame.schema[name]
        if declared is None or actual == declared:
            continue
        if not (declared == pl.Utf8 and isinstance(actual, TEXT_HELD)):
            return False
    return True


def _failing_values(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """For each column, its distinct failing values with check and failure case: (value, check, failure_case)."""
    out = {}
    for name, column in schema.columns.items():
        values = frame.get_column(name).unique().sort(nulls_last=True)
        shown = values.cast(pl.Utf8) if isinstance(values.dtype, TEXT_HELD) else values
        cases, rows = failing_rows(pa.DataFrameSchema({name: column}), shown.to_frame())
        if not rows:
            continue
        cases = cases.filter(pl.col("index").is_not_null()).select(
            pl.col("index").cast(pl.Int64), pl.col("check").cast(pl.Utf8), pl.col("failure_case").cast(pl.Utf8)
        )
        out[name] = cases.with_columns(
            pl.Series("value", values.gather(cases["index"]).to_list() if cases.height else [], dtype=values.dtype)
        )
    return out


def validation_errors(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> list[str]:
    """Human-readable failures (at most 20), empty when the frame is valid: column, check, the failing
    value and the (first) row holding it."""
    if not _per_value(schema, frame):
        cases, _ = failing_rows(schema, frame)
        if cases.is_empty():
            return []
        return [
            f"{r['column']}: {r['check']} failed for {r['failure_case']!r} (row {r['index']})"
            for r in cases.head(LISTED_ERRORS).iter_rows(named=True)
        ]
    errors = []
    for name, failed in _failing_values(schema, frame).items():
        col = frame.get_column(name)
        for value, check, case in failed.select("value", "check", "failure_case").iter_rows():
            row = (col.is_null() if value is None else col.eq_missing(pl.Series([value], dtype=col.dtype))).arg_true()[
                0
            ]
            errors.append(f"{name}: {check} failed for {case!r} (row {row})")
    if schema.unique:
        # Only rows whose key hashes to a repeated hash can be duplicates; is_duplicated() settles them.
        hashes = frame.select(pl.struct(schema.unique).hash().alias("h")).to_series()
        ordered = hashes.sort()
        repeated = ordered.filter(ordered == ordered.shift(1))
        keys = (
            frame.select(schema.unique).with_row_index("_row").filter(hashes.is_in(repeated.implode()))
            if repeated.len()
            else frame.select(schema.unique).with_row_index("_row").head(0)
        )
        dup = keys.filter(keys.drop("_row").is_duplicated())
        for r in dup.head(LISTED_ERRORS).iter_rows(named=True):
            case = json.dumps({c: r[c] for c in schema.unique}, ensure_ascii=False, default=str)
            errors.append(
                f"{', '.join(schema.unique)}: multiple_fields_uniqueness failed for {case!r} (row {r['_row']})"
            )
    return errors[:LISTED_ERRORS]


def _distinct_values(con, relation: str, names: list[str], params: dict | None) -> dict[str, pl.Series]:
    """Each column's distinct values (sorted, NULL last), all in one scan of the relation (a SELECT)."""
    for name in names:
        if not IDENTIFIER.match(name):
            raise ValueError(f"not a column name: {name!r}")
    lists = ", ".join('list(distinct "' + n + '" order by "' + n + '" nulls last) as "' + n + '"' for n in names)
    row = pl.from_arrow(con.sql("select " + lists + " from (" + relation + ")", params=params).to_arrow_table())
    out = {}
    for name in names:
        column = row.get_column(name)
        out[name] = column[0] if column[0] is not None else pl.Series(name, [], dtype=column.dtype.inner)
    return out


def failing_values_in(con, schema: pa.DataFrameSchema, relation: str, params: dict | None = None) -> dict[str, list]:
    """pandera's column checks over a relation in DuckDB, by each column's distinct values (never its rows):
    column → [(failing distinct value, check)] (value None for a failing NULL). Exact for schemas whose checks each
    look at one value of one column (see the module docstring); frame-wide checks (`unique=`) are for SQL. One scan
    gets every column's distinct values; one validation checks them all (each column padded to the longest with its
    own first value, which adds no value)."""
    values = _distinct_values(con, relation, list(schema.columns), params)
    longest = max((len(v) for v in values.values()), default=0)
    if longest == 0:
        return {}
    padded = pl.DataFrame(
        [
            pl.concat([v, pl.repeat(v[0], longest - len(v), dtype=v.dtype, eager=True)]).alias(name)
            for name, v in values.items()
        ]
    )
    cases, _ = failing_rows(pa.DataFrameSchema(schema.columns), padded)
    out: dict[str, list] = {}
    if cases.is_empty():
        return out
    failed: dict[str, dict[int, str]] = {}
    for column, check, index in cases.filter(pl.col("index").is_not_null()).select("column", "check", "index").rows():
        row = int(index) if int(index) < len(values[column]) else 0  # a padding row repeats the first value
        failed.setdefault(str(column), {}).setdefault(row, str(check))
    for name in schema.columns:
        if name in failed:
            out[name] = [(values[name][i], failed[name][i]) for i in sorted(failed[name])]
    return out


def table_errors(con, schema: pa.DataFrameSchema, table: str, wave: str) -> list[str]:
    """Human-readable failures (at most 20) of one wave's rows of a table in DuckDB against a schema, empty when
    valid: the columns (strict), each column's checks over its distinct values, and `unique=` by a GROUP BY. Each
    failure names the column, the check, the value and the source_row(s) holding it."""
    from pipeline.warehouse import qualified, table_columns

    schema_name, table_name = table.split(".")
    columns = [c for c, _ in table_columns(con, schema_name, table_name)]
    if schema.strict and set(columns) != set(schema.columns):
        return [f"{table}: columns {sorted(columns)} are not the contract's {sorted(schema.columns)}"]
    relation = "select * from " + qualified(table) + " where wave = $wave"
    params = {"wave": wave}
    errors = []
    for name, failed in failing_values_in(con, schema, relation, params).items():
        for value, check in failed:
            where = '"' + name + '"' + (" is null" if value is None else " = $value")
            row = con.sql(
                "select min(source_row) from (" + relation + ") where " + where,
                params=params if value is None else {**params, "value": value},
            ).fetchall()[0][0]
            errors.append(f"{name}: {check} failed for {value!r} (source_row {row})")
    if schema.unique:
        # Grouping by one hash of the key is about twice as fast as by the key's texts; only rows whose hash repeats
        # are then grouped by the key itself.
        keys = ", ".join('"' + c + '"' for c in schema.unique if IDENTIFIER.match(c))
        duplicated = con.sql(
            "with hashed as (select hash(" + keys + ") as key_hash, * from (" + relation + ")), "
            "repeated as (select key_hash from hashed group by key_hash having count(*) > 1) "
            "select " + keys + ", list(source_row order by source_row) as source_rows from hashed "
            "semi join repeated using (key_hash) "
            "group by " + keys + " having count(*) > 1 order by source_rows limit " + str(LISTED_ERRORS),
            params=params,
        ).fetchall()
        for *key, rows in duplicated:
            case = json.dumps(dict(zip(schema.unique, key)), ensure_ascii=False, default=str)
            errors.append(
                f"{', '.join(schema.unique)}: multiple_fields_uniqueness failed for {case!r} (source_rows "
                f"{', '.join(map(str, rows))})"
            )
    return errors[:LISTED_ERRORS]
