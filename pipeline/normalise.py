"""From an `Export` to the normalised wave: the tool preset applied (pipeline.presets), headers mapped to
items and roles, personal data dropped, respondents pseudonymised, cells matched to categories (no match
→ category null, quarantined by staging).

Header mapping, first match wins, for each column:
1. wave.yaml `columns:` (any of the column's header texts),
2. the tool preset's own metadata / personal-data columns,
3. a codebook item by code, question text (nb/da/en) or alias — also the text in a trailing
   "[…]" (Google Forms / LimeSurvey grids) or after the last " - " (Qualtrics / SurveyMonkey matrices),
4. the codebook's personal_data_headers, then its metadata_roles,
5. otherwise the header is unmapped: listed in the run metadata, its cells never read.

Rows the tool marks as not being responses (survey previews/tests; invited people who never answered and
hold no answer) are left out and counted in `excluded_rows`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl

from pipeline.codebook import Codebook, normalise_text
from pipeline.presets import NOT_RESPONDED, TEST, Prepared, prepare
from pipeline.pseudonym import pseudonymise_many
from pipeline.readers import ROW, Export, shorten
from pipeline.waves import WaveError, WaveSpec

ROLE_TARGETS = ("respondent_id", "status", "submitted_at")
BRACKET = re.compile(r"\[([^\[\]]+)\]\s*$")
LISTED = 20  # headers named in one message at most


@dataclass(frozen=True)
class ColumnMap:
    index: int
    header: str
    target: str  # item code, a role (respondent_id, submitted_at, status), "drop", "personal_data" or "unmapped"
    matched_by: str  # columns, preset, codebook, personal_data, role, unmapped

    @property
    def name(self) -> str:
        return f"c{self.index}"


@dataclass(frozen=True)
class NormalisedWave:
    respondents: pl.DataFrame  # wave, source_file, source_row, respondent_key, status, status_column, submitted_at
    cells: pl.DataFrame  # wave, source_file, source_row, respondent_key, column, item, value, category
    columns: list[ColumnMap]
    tool: str = "generic"
    exported_rows: int = 0  # data rows of the export (header rows not counted)
    excluded_rows: dict[str, int] = field(default_factory=dict)  # reason → rows left out (not responses)
    notes: tuple[str, ...] = ()

    @property
    def unmapped_headers(self) -> list[str]:
        return [c.header for c in self.columns if c.target == "unmapped"]

    @property
    def dropped_headers(self) -> list[str]:
        return [c.header for c in self.columns if c.target in ("drop", "personal_data")]

    @property
    def personal_data_headers(self) -> list[str]:
        return [c.header for c in self.columns if c.target == "personal_data"]


def item_candidates(texts: tuple[str, ...] | list[str]) -> list[str]:
    """The texts a column's header may match an item by: each text, then grid/matrix parts of it."""
    out = list(texts)
    for t in texts:
        m = BRACKET.search(t)
        if m:
            out.append(m.group(1))
        if " - " in t:
            out.append(t.rsplit(" - ", 1)[1])
    return [t for t in out if t and t.strip()]


def map_headers(headers: list[str], spec: WaveSpec, codebook: Codebook,
                alternates: tuple[tuple[str, ...], ...] | None = None,
                fixed: dict[int, str] | None = None) -> list[ColumnMap]:
    items = codebook.header_lookup()
    roles = codebook.role_lookup()
    personal = {normalise_text(h) for h in codebook.personal_data_headers}
    alternates = alternates or tuple((h,) for h in headers)
    fixed = fixed or {}
    out: list[ColumnMap] = []
    taken: dict[str, str] = {}
    for index, header in enumerate(headers):
        texts = alternates[index]
        norms = [normalise_text(t) for t in texts]
        display = header if header.strip() else (texts[1] if len(texts) > 1 else f"(column {index + 1}, no header)")
        user = next((spec.columns[n] for n in norms if n in spec.columns), None)
        item = next((items[normalise_text(t)] for t in item_candidates(texts) if normalise_text(t) in items), None)
        if user is not None:
            target, how = user, "columns"
        elif index in fixed:
            target, how = fixed[index], "preset"
        elif item is not None:
            target, how = item, "codebook"
        elif any(n in personal for n in norms):
            target, how = "personal_data", "personal_data"
        elif any(n in roles for n in norms):
            target, how = next(roles[n] for n in norms if n in roles), "role"
        else:
            target, how = "unmapped", "unmapped"
        if target in codebook.items or target in ROLE_TARGETS:
            if target in taken:
                raise WaveError(
                    f"{spec.export_path}: headers {shorten(taken[target])} and {shorten(display)} both map to {target}; "
                    f"map one of them to another item or to drop in wave.yaml columns"
                )
            taken[target] = display
        out.append(ColumnMap(index=index, header=display, target=target, matched_by=how))
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


def _status_values(codebook: Codebook, key: str, canonical: str) -> list[str]:
    return sorted({normalise_text(v) for v in codebook.status_values.get(key, ())} | {canonical})


def normalise_export(export: Export, spec: WaveSpec, codebook: Codebook, key: bytes) -> NormalisedWave:
    """Apply the wave's tool preset to a read export, then normalise it."""
    return normalise_prepared(prepare(export, spec, codebook), spec, codebook, key)


def normalise_prepared(prepared: Prepared, spec: WaveSpec, codebook: Codebook, key: bytes) -> NormalisedWave:
    export = prepared.export
    columns = map_headers(prepared.headers, spec, codebook, prepared.alternates, prepared.roles)
    item_cols = [c for c in columns if c.target in codebook.items]
    if not item_cols:
        headers = [c.header for c in columns if c.target == "unmapped"]
        unmapped = ", ".join(shorten(h) for h in headers[:LISTED]) or "(none)"
        if len(headers) > LISTED:
            unmapped += f" and {len(headers) - LISTED} more"
        raise WaveError(
            f"{export.path}: no header matches an item of the codebook. Map these headers in wave.yaml "
            f"columns: {unmapped} (to item codes such as {', '.join(list(codebook.items)[:3])}, or to drop)"
        )
    if export.n_rows == 0:
        raise WaveError(f"{export.path}: the export has a header but no respondent rows; export the responses again")
    if prepared.codes_need_labels:
        coded = [
            c.header for c in item_cols
            if not codebook.scale_of(c.target).is_text and codebook.scale_of(c.target).key not in spec.values
            and export.frame[c.name].str.contains(r"^\s*\d+(?:\.0)?\s*$").any()
        ]
        if coded:
            raise WaveError(
                f"{export.path}: the {prepared.tool} dataset holds answer codes (columns "
                f"{', '.join(map(shorten, coded[:5]))}{', …' if len(coded) > 5 else ''}) but no labels table was found. "
                f"Put the tool's labels file (variable;code;label) in {spec.folder} and name it in wave.yaml "
                "`labels:`, or map the codes to categories in wave.yaml `values:`"
            )

    source_file = export.path.name
    by_role = {c.target: c for c in columns if c.target in ROLE_TARGETS}
    user_status = by_role.get("status") if by_role.get("status") and by_role["status"].matched_by == "columns" else None

    frame = export.frame
    if user_status is None and prepared.status is not None:
        status = prepared.status.alias("status")
        status_column = prepared.status_column
    elif "status" in by_role:
        status = frame[by_role["status"].name].str.strip_chars().alias("status")
        status_column = by_role["status"].header
    else:
        status = pl.Series("status", [None] * frame.height, dtype=pl.Utf8)
        status_column = None
    frame = frame.with_columns(status)

    # Rows that are not responses: previews/tests always; invited-but-never-answered when they hold no answer.
    answered = pl.any_horizontal(pl.col(c.name).str.strip_chars().is_not_null() for c in item_cols)
    status_norm = pl.col("status").str.strip_chars().str.to_lowercase()
    is_test = status_norm.is_in(_status_values(codebook, TEST, TEST))
    is_absent = status_norm.is_in(_status_values(codebook, NOT_RESPONDED, NOT_RESPONDED)) & ~answered
    frame = frame.with_columns(
        pl.when(is_test).then(pl.lit(TEST)).when(is_absent).then(pl.lit(NOT_RESPONDED)).otherwise(None).alias("_excluded")
    )
    excluded = {
        reason: n for reason, n in frame.group_by("_excluded").len().drop_nulls("_excluded").sort("_excluded").rows()
    }
    if excluded:
        frame = frame.filter(pl.col("_excluded").is_null())
    frame = frame.drop("_excluded")
    if frame.height == 0:
        what = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in excluded.items())
        raise WaveError(
            f"{export.path}: none of the {export.n_rows} rows is a response ({what}); export the responses "
            "again (the tool's export of completed and partial responses)"
        )

    # Keyed pseudonyms in row order: of the respondent id, or of file and row where the id is missing.
    rows = frame[ROW].to_list()
    if "respondent_id" in by_role:
        ids = frame[by_role["respondent_id"].name].str.strip_chars().to_list()
    else:
        ids = [None] * len(rows)
    keys = pl.Series(pseudonymise_many(key, [
        "id:" + v if v is not None else f"row:{spec.key}/{source_file}#{r}" for v, r in zip(ids, rows)
    ]), dtype=pl.Utf8)
    frame = frame.with_columns(keys.alias("respondent_key"))

    def role_col(role: str) -> pl.Expr:
        c = by_role.get(role)
        return (pl.col(c.name).str.strip_chars() if c else pl.lit(None, dtype=pl.Utf8)).alias(role)

    base = [pl.lit(spec.key).alias("wave"), pl.lit(source_file).alias("source_file"), ROW, "respondent_key"]
    respondents = frame.select(
        *base,
        pl.col("status").str.strip_chars().alias("status"),
        pl.lit(status_column, dtype=pl.Utf8).alias("status_column"),
        role_col("submitted_at"),
    )

    parts = []
    ordered = sorted(item_cols, key=lambda c: c.target)
    for k, col in enumerate(ordered):
        scale = codebook.scale_of(col.target)
        values = frame[col.name].str.strip_chars()
        part = frame.select(ROW, "respondent_key", values.alias("value")).filter(pl.col("value").is_not_null())
        if scale.is_text:
            part = part.with_columns(pl.lit(None, dtype=pl.Utf8).alias("category"))
        else:
            mapping = _category_map(values, scale.key, spec, codebook)
            part = part.with_columns(
                pl.col("value").replace_strict(mapping, default=None, return_dtype=pl.Utf8).alias("category")
            )
        parts.append(part.with_columns(pl.lit(k, dtype=pl.Int64).alias("_k"), pl.lit(col.header).alias("column"),
                                       pl.lit(col.target).alias("item")))
    # Sorted by (source_row, item) through one integer key: far faster than sorting on text for big exports.
    cells = (
        pl.concat(parts, how="vertical")
        .sort(pl.col(ROW) * len(ordered) + pl.col("_k"))
        .select(pl.lit(spec.key).alias("wave"), pl.lit(source_file).alias("source_file"), ROW, "respondent_key",
                "column", "item", "value", "category")
    )
    return NormalisedWave(respondents=respondents, cells=cells, columns=columns, tool=prepared.tool,
                          exported_rows=export.n_rows, excluded_rows=excluded, notes=prepared.notes)
