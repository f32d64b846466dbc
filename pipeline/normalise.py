"""From an `Export` to the normalised wave: headers mapped to items and roles, personal data dropped,
respondents pseudonymised, cells matched to categories (no match → category null, quarantined by staging).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pipeline.codebook import Codebook, normalise_text
from pipeline.pseudonym import respondent_pseudonym, row_pseudonym
from pipeline.readers import Export
from pipeline.waves import WaveError, WaveSpec


@dataclass(frozen=True)
class ColumnMap:
    index: int
    header: str
    target: str  # item code, a role (respondent_id, submitted_at, status), "drop", "personal_data" or "unmapped"
    matched_by: str  # columns, code/question/alias, role, personal_data, unmapped

    @property
    def name(self) -> str:
        return f"c{self.index}"


@dataclass(frozen=True)
class NormalisedWave:
    respondents: pl.DataFrame  # wave, source_file, source_row, respondent_key, status, submitted_at
    cells: pl.DataFrame  # wave, source_file, source_row, respondent_key, column, item, value, category
    columns: list[ColumnMap]

    @property
    def unmapped_headers(self) -> list[str]:
        return [c.header for c in self.columns if c.target == "unmapped"]

    @property
    def dropped_headers(self) -> list[str]:
        return [c.header for c in self.columns if c.target in ("drop", "personal_data")]


def map_headers(headers: list[str], spec: WaveSpec, codebook: Codebook) -> list[ColumnMap]:
    items = codebook.header_lookup()
    roles = codebook.role_lookup()
    personal = {normalise_text(h) for h in codebook.personal_data_headers}
    out: list[ColumnMap] = []
    taken: dict[str, str] = {}
    for index, header in enumerate(headers):
        norm = normalise_text(header)
        if norm in spec.columns:
            target, how = spec.columns[norm], "columns"
        elif norm in items:
            target, how = items[norm], "codebook"
        elif norm in personal:
            target, how = "personal_data", "personal_data"
        elif norm in roles:
            target, how = roles[norm], "role"
        else:
            target, how = "unmapped", "unmapped"
        if target in codebook.items or target in ("respondent_id", "status", "submitted_at"):
            if target in taken:
                raise WaveError(
                    f"{spec.export_path}: headers {taken[target]!r} and {header!r} both map to {target}; "
                    f"map one of them to another item or to drop in wave.yaml columns"
                )
            taken[target] = header
        out.append(ColumnMap(index=index, header=header, target=target, matched_by=how))
    return out


def _category_map(values: pl.Series, scale: str, spec: WaveSpec, codebook: Codebook) -> dict[str, str | None]:
    """Distinct cell values of one column → category key (None when nothing matches)."""
    lookup = codebook.category_lookup(scale)
    overrides = spec.values.get(scale, {})
    out: dict[str, str | None] = {}
    for value in values.drop_nulls().unique().to_list():
        norm = normalise_text(value)
        if norm.endswith(".0") and norm[:-2].isdigit():
            norm = norm[:-2]
        out[value] = overrides.get(norm) or lookup.get(norm)
    return out


def normalise_export(export: Export, spec: WaveSpec, codebook: Codebook, key: bytes) -> NormalisedWave:
    columns = map_headers(export.headers, spec, codebook)
    item_cols = [c for c in columns if c.target in codebook.items]
    if not item_cols:
        unmapped = ", ".join(repr(c.header) for c in columns if c.target == "unmapped") or "(none)"
        raise WaveError(
            f"{export.path}: no header matches an item of the codebook. Map these headers in wave.yaml "
            f"columns: {unmapped} (to item codes such as {', '.join(list(codebook.items)[:3])}, or to drop)"
        )
    if export.n_rows == 0:
        raise WaveError(f"{export.path}: the export has a header but no respondent rows; export the responses again")

    frame = export.frame.with_row_index("source_row", offset=1).with_columns(pl.col("source_row").cast(pl.Int64))
    source_file = export.path.name
    by_role = {c.target: c for c in columns if c.target in ("respondent_id", "status", "submitted_at")}

    if "respondent_id" in by_role:
        ids = frame[by_role["respondent_id"].name]
        keys = [
            respondent_pseudonym(key, v) if v is not None else row_pseudonym(key, spec.key, source_file, r)
            for v, r in zip(ids.to_list(), frame["source_row"].to_list())
        ]
    else:
        keys = [row_pseudonym(key, spec.key, source_file, r) for r in frame["source_row"].to_list()]
    frame = frame.with_columns(pl.Series("respondent_key", keys, dtype=pl.Utf8))

    def role_col(role: str) -> pl.Expr:
        c = by_role.get(role)
        return (pl.col(c.name).str.strip_chars() if c else pl.lit(None, dtype=pl.Utf8)).alias(role)

    base = [pl.lit(spec.key).alias("wave"), pl.lit(source_file).alias("source_file"), "source_row", "respondent_key"]
    respondents = frame.select(
        *base,
        role_col("status"),
        pl.lit(by_role["status"].header if "status" in by_role else None, dtype=pl.Utf8).alias("status_column"),
        role_col("submitted_at"),
    )

    parts = []
    for col in item_cols:
        scale = codebook.scale_of(col.target)
        values = frame[col.name].str.strip_chars()
        part = frame.select(*base, values.alias("value")).filter(pl.col("value").is_not_null())
        if scale.is_text:
            part = part.with_columns(pl.lit(None, dtype=pl.Utf8).alias("category"))
        else:
            mapping = _category_map(values, scale.key, spec, codebook)
            part = part.with_columns(
                pl.col("value").replace_strict(mapping, default=None, return_dtype=pl.Utf8).alias("category")
            )
        parts.append(
            part.with_columns(pl.lit(col.header).alias("column"), pl.lit(col.target).alias("item")).select(
                "wave", "source_file", "source_row", "respondent_key", "column", "item", "value", "category"
            )
        )
    cells = pl.concat(parts, how="vertical").sort("source_row", "item")
    return NormalisedWave(respondents=respondents, cells=cells, columns=columns)
