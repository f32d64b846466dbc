"""From an `Export` to the normalised wave: the tool preset applied (pipeline.ingest.presets), headers mapped to
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

import difflib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from pipeline.codebook import NOT_STATED, Codebook, normalise_text
from pipeline.ingest.continuity import check_continuity
from pipeline.ingest.personal import mask_personal_data
from pipeline.ingest.presets import COMPLETE, GENERIC, NOT_RESPONDED, PARTIAL, PRESETS, TEST, Prepared, prepare
from pipeline.ingest.pseudonym import panel_pseudonyms, pseudonymise_many
from pipeline.ingest.readers import ROW, Export, shorten
from pipeline.ingest.waves import WaveError, WaveSpec
from pipeline.settings import Settings

ROLE_TARGETS = ("respondent_id", "status", "submitted_at", "panel_id")
GROUP_SCHEMA = {
    "wave": pl.Utf8,
    "source_file": pl.Utf8,
    "source_row": pl.Int64,
    "respondent_key": pl.Utf8,
    "column": pl.Utf8,
    "variable": pl.Utf8,
    "value": pl.Utf8,
    "group": pl.Utf8,
}
BRACKET = re.compile(r"\[([^\[\]]+)\]\s*$")
LISTED = 20  # headers named in one message at most
GENERIC_STATUS = GENERIC.completion.describe  # a status column's rule, whichever tool wrote it


@dataclass(frozen=True)
class ColumnMap:
    index: int
    header: str
    target: str  # item code, a role (respondent_id, submitted_at, status, panel_id), "drop", "personal_data" or
    # "unmapped"
    matched_by: str  # panel_id, columns, preset, codebook, personal_data, role, unmapped

    @property
    def name(self) -> str:
        return f"c{self.index}"


@dataclass(frozen=True)
class AnswerCells:
    """A wave's item cells as they go to DuckDB: still wide (one column per item column of the export), with the
    decisions made from metadata only. `write` unpivots them into raw.wave_export inside DuckDB
    (sql/raw/wave_export.sql), so the long table of cells (17 million rows for a million respondents) never exists
    in Python."""

    wave: str
    source_file: str
    # source_row, respondent_key, then a0, a1, …: the item columns (sorted by item), cells trimmed, NULL where blank
    wide: pl.DataFrame
    columns: pl.DataFrame  # name (a0, …), header, item
    categories: pl.DataFrame  # name, value, category: the values of closed items' columns that match a category

    @property
    def count(self) -> int:
        """Non-blank item cells (rows of raw.wave_export)."""
        names = self.columns.get_column("name").to_list()
        return (
            int(self.wide.select(pl.sum_horizontal(pl.col(n).is_not_null().sum() for n in names)).item())
            if names
            else 0
        )

    def unmatched(self, closed_items: list[str]) -> int:
        """Non-blank cells of closed items whose value matches no category."""
        out = 0
        for name, item in self.columns.select("name", "item").iter_rows():
            if item not in closed_items:
                continue
            matched = self.categories.filter(pl.col("name") == name).get_column("value")
            column = self.wide.get_column(name)
            out += int((column.is_not_null() & ~column.is_in(matched.implode())).sum())
        return out

    def write(self, con, sql_dir: Path) -> int:
        """Replace the wave's rows of raw.wave_export (the cells) and raw.wave_columns (file and header of each
        item's column) with these; returns the cells written."""
        from pipeline.warehouse import replace_wave

        con.execute("delete from raw.wave_export where wave = ?", [self.wave])
        replace_wave(
            con,
            "raw.wave_columns",
            self.wave,
            self.columns.select(
                pl.lit(self.wave).alias("wave"),
                pl.lit(self.source_file).alias("source_file"),
                "item",
                pl.col("header").alias("column"),
            ),
        )
        if self.columns.is_empty():
            return 0
        views = {"answers_wide": self.wide, "answer_columns": self.columns, "answer_categories": self.categories}
        _insert_from_frames(con, sql_dir, "wave_export", views, {"wave": self.wave})
        return con.execute("select count(*) from raw.wave_export where wave = ?", [self.wave]).fetchall()[0][0]


def _insert_from_frames(con, sql_dir: Path, table: str, views: dict[str, pl.DataFrame], params: dict) -> None:
    """insert into raw.<table> the rows of sql/raw/<table>.sql, which reads the frames (registered under their names
    for this statement only)."""
    from pipeline.warehouse import bound, qualified, read_sql

    for name, frame in views.items():
        con.register(name, frame.to_arrow())
    try:
        select = read_sql(sql_dir, "raw", table).strip().rstrip(";")
        con.execute("insert into " + qualified("raw." + table) + " by name " + select, bound(select, params))
    finally:
        for name in views:
            con.unregister(name)


@dataclass(frozen=True)
class BackgroundCells:
    """A wave's background columns (role, library size, …) as they go to DuckDB, wide, with each distinct value's
    group decided once; `write` makes raw.wave_groups from them (sql/raw/wave_groups.sql)."""

    wave: str
    source_file: str
    # source_row, respondent_key, then b0, b1, …: the background columns (codebook order), trimmed, NULL where blank
    wide: pl.DataFrame
    columns: pl.DataFrame  # name (b0, …), header, variable
    groups: pl.DataFrame  # name, value, group: the values that match a group of the column's variable

    def write(self, con, sql_dir: Path) -> None:
        """Replace the wave's rows of raw.wave_groups."""
        con.execute("delete from raw.wave_groups where wave = ?", [self.wave])
        if self.columns.is_empty():
            return
        views = {"groups_wide": self.wide, "group_columns": self.columns, "group_values": self.groups}
        _insert_from_frames(
            con,
            sql_dir,
            "wave_groups",
            views,
            {"wave": self.wave, "source_file": self.source_file, "not_stated": NOT_STATED},
        )


@dataclass(frozen=True)
class NormalisedWave:
    respondents: pl.DataFrame  # wave, source_file, source_row, respondent_key, panel_key, status, status_column,
    # submitted_at
    answers: AnswerCells
    columns: list[ColumnMap]
    background: BackgroundCells
    tool: str = "generic"
    exported_rows: int = 0  # data rows of the export (header rows not counted)
    excluded_rows: dict[str, int] = field(default_factory=dict)  # reason → rows left out (not responses)
    notes: tuple[str, ...] = ()
    completion_rule: str = ""  # how complete / partial was decided (completion_status), stated

    def cells(self, settings: Settings) -> pl.DataFrame:
        """The long table of cells (wave, source_file, source_row, respondent_key, column, item, value, category),
        sorted by (source_row, item), as raw.wave_export and raw.wave_columns hold it: written by the same SQL into an
        in-memory DuckDB. For inspecting a wave and for tests; the build writes AnswerCells straight to the work
        database."""
        from pipeline.warehouse import memory_database, query_frame

        with memory_database(settings) as con:
            self.answers.write(con, settings.sql_dir)
            return query_frame(
                con,
                'select cells.wave, columns.source_file, cells.source_row, cells.respondent_key, columns."column", '
                "cells.item, cells.value, cells.category from raw.wave_export as cells join raw.wave_columns as "
                "columns using (wave, item) order by cells.source_row, cells.item",
            )

    def groups(self, settings: Settings) -> pl.DataFrame:
        """raw.wave_groups of the wave (GROUP_SCHEMA: one row per respondent and background variable the export holds;
        value NULL and group not_stated when blank, group NULL when the value matches no group), sorted by
        (source_row, variable): written by the same SQL into an in-memory DuckDB, for inspecting a wave and tests."""
        from pipeline.warehouse import memory_database, query_frame

        with memory_database(settings) as con:
            self.background.write(con, settings.sql_dir)
            return query_frame(con, "select * from raw.wave_groups order by source_row, variable").cast(GROUP_SCHEMA)

    @property
    def unmapped_headers(self) -> list[str]:
        return [c.header for c in self.columns if c.target == "unmapped"]

    @property
    def dropped_headers(self) -> list[str]:
        return [c.header for c in self.columns if c.target in ("drop", "personal_data", "panel_id")]

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


def compact(text: str) -> str:
    """A header's form for personal-data matching: normalised, without spaces, hyphens, dots or underscores, so that
    "E-Mail-Adresse", "E-mail adresse" and "Email adres" compare as one spelling each way they are written."""
    return re.sub(r"[\s\-_.]+", "", normalise_text(text))


def names_code(label: str, code: str) -> bool:
    """A label that names the item code as a word of its own ("Item P1", "P1. Spørsmål", "Spm (P1)"): it confirms
    that the column headed by the code is that item."""
    return re.search(rf"(?<![\w]){re.escape(code)}(?![\w])", label) is not None


ID_WORDS = re.compile(r"(?:^|[\s_\-.])id$|^(?:respondent|response|submission|record|external)\s*_?id\b")


def looks_like_id(norm: str) -> bool:
    """A normalised header or label that names an identifier: "id", "school id", "… - id", "responseid"."""
    return bool(ID_WORDS.search(norm)) or norm in ("respondentid", "responseid", "recordid")


def _with_close_matches(keys: list[str], seen) -> str:
    """wave.yaml keys that match no header, each with the closest header ("did you mean …?") where one is close."""
    described = []
    for k in keys:
        close = difflib.get_close_matches(k, sorted(seen), n=1, cutoff=0.6)
        described.append(shorten(k, 80) + (f" (did you mean {shorten(close[0], 80)}?)" if close else ""))
    return ", ".join(described)


def map_headers(
    headers: list[str],
    spec: WaveSpec,
    codebook: Codebook,
    alternates: tuple[tuple[str, ...], ...] | None = None,
    fixed: dict[int, str] | None = None,
    option_of: dict[int, str] | None = None,
) -> list[ColumnMap]:
    """Each column's target and the rule that decided it (ColumnMap.matched_by):

    panel_id (wave.yaml) > columns (wave.yaml) > preset (the tool's own metadata/personal columns) > personal_data (any
    of its texts is a personal-data header of the codebook) > role (a metadata header of the codebook) > codebook (a
    question text or alias, in any of its texts) > code (the header is exactly an item code, case and all,
    and no label of the column says otherwise) > id (a text names an identifier: kept out as personal data) >
    unmapped. A column whose header is an item code but whose label says something else is unmapped
    (matched_by "code, label differs") and shown by `make inspect`. option_of: columns that are one option of a
    question written one column per option (SurveyMonkey); mapping one of them to an item stops the wave."""
    items = codebook.header_lookup()
    backgrounds = codebook.background_lookup()
    roles = codebook.role_lookup()
    personal = {compact(h) for h in codebook.personal_data_headers}
    alternates = alternates or tuple((h,) for h in headers)
    fixed = fixed or {}
    out: list[ColumnMap] = []
    taken: dict[str, str] = {}
    for index, header in enumerate(headers):
        texts = alternates[index]
        norms = [normalise_text(t) for t in texts]
        display = header if header.strip() else (texts[1] if len(texts) > 1 else f"(column {index + 1}, no header)")
        user = next((spec.columns[n] for n in norms if n in spec.columns), None)
        candidates = item_candidates(texts)
        item = next((items[normalise_text(t)] for t in candidates if normalise_text(t) in items), None)
        background = next(
            (backgrounds[normalise_text(t)] for t in texts if normalise_text(t) in backgrounds), None
        ) or next((codebook.background_of_code(t) for t in texts if codebook.background_of_code(t)), None)
        # An item code in a label (label row, variable label) says what the column is; a code that is only the
        # header counts unless a label says something else: a label that names the code itself ("Item P1",
        # "P1 Spørsmål 1") confirms it, any other text (another question, a role, personal data) wins over it.
        in_label = next(
            (codebook.item_of_code(t) for t in item_candidates(texts[1:]) if codebook.item_of_code(t)), None
        )
        header_code = next((codebook.item_of_code(t) for t in candidates if codebook.item_of_code(t)), None)
        by_code = in_label or header_code
        named = bool(header_code) and not in_label and any(names_code(t, header_code) for t in texts[1:])
        labelled = (
            []
            if in_label or named
            else [
                t
                for t in texts[1:]
                if t.strip() and normalise_text(t) != normalise_text(texts[0]) and not codebook.item_of_code(t)
            ]
        )
        if spec.panel_id is not None and spec.panel_id in norms:
            target, how = "panel_id", "panel_id"
        elif user is not None:
            target, how = user, "columns"
        elif any(n in spec.ignore for n in norms):
            target, how = "drop", "ignore"
        elif index in fixed:
            target, how = fixed[index], "preset"
        elif any(compact(t) in personal for t in candidates):
            target, how = "personal_data", "personal_data"
        elif any(n in roles for n in norms):
            target, how = next(roles[n] for n in norms if n in roles), "role"
        elif item is not None:
            target, how = item, "codebook"
        elif background is not None:
            target, how = background, "background"
        elif by_code is not None and not labelled:
            target, how = by_code, "code, named by its label" if named else "code"
        elif any(looks_like_id(n) for n in norms):
            target, how = "personal_data", "id"
        elif by_code is not None:
            target, how = "unmapped", "code, label differs"
        elif any(t.strip().upper() in codebook.items and t.strip() not in codebook.items for t in candidates):
            target, how = "unmapped", "code, case differs"
        else:
            target, how = "unmapped", "unmapped"
        if target in codebook.items and index in (option_of or {}):
            question = option_of[index]
            raise WaveError(
                f"{spec.export_path}: column {shorten(display)} is one option of the question {shorten(question)}, "
                f"which the export writes as one column per option: it holds only the people who chose that option, "
                f"so {target} would be counted wrongly. Map the question itself in wave.yaml columns "
                f"({shorten(question)}: {target}): it is read as one column holding the chosen option"
            )
        if target in codebook.items or target in ROLE_TARGETS or target in codebook.background:
            if target in taken:
                raise WaveError(
                    f"{spec.export_path}: headers {shorten(taken[target])} and {shorten(display)} both map to "
                    f"{target}; "
                    f"map one of them to another item or to drop in wave.yaml columns"
                )
            taken[target] = display
        out.append(ColumnMap(index=index, header=display, target=target, matched_by=how))
    seen = {normalise_text(t) for texts in alternates for t in texts}
    if spec.panel_id is not None and spec.panel_id not in seen:
        close = difflib.get_close_matches(spec.panel_id, sorted(seen), n=1, cutoff=0.6)
        raise WaveError(
            f"{spec.yaml_path}: panel_id: {shorten(spec.panel_id, 80)} matches no header of {spec.export}"
            + (f" (did you mean {shorten(close[0], 80)}?)" if close else "")
            + ": no one could be followed across waves. Name the column that identifies the same person in every "
            "wave (as the export writes its header, case and spaces aside); `make inspect` lists the headers"
        )
    missing = [k for k in spec.columns if k not in seen]
    unknown_ignored = [k for k in spec.ignore if k not in seen]
    if unknown_ignored:
        raise WaveError(
            f"{spec.yaml_path}: ignore: {_with_close_matches(unknown_ignored, seen)} match(es) no header of "
            f"{spec.export}. Correct the "
            "header text (as the export writes it, case and spaces aside) or remove the line; `make inspect` lists "
            "the headers"
        )
    if missing:
        raise WaveError(
            f"{spec.yaml_path}: columns: {_with_close_matches(missing, seen)} match(es) no header of "
            f"{spec.export}: the mapping "
            "would be ignored. Correct the header text (as the export writes it, case and spaces aside) or remove "
            "the line; `make inspect` lists the headers"
        )
    return out


def _category_map(
    values: pl.Series, scale: str, spec: WaveSpec, codebook: Codebook, code_of_label: dict[str, str] | None = None
) -> dict[str, str | None]:
    """Distinct cell values of one column → category key (None when nothing matches). code_of_label: the
    column's value labels reversed (label → the tool's code), so wave.yaml `values:` may name either."""
    # A wave.yaml map of the scale replaces the default codes: a code it leaves out matches nothing
    # (quarantined), never the codebook's default code of the same number. So does a labels table of the
    # tool (SPSS value labels, SurveyXact labels): its codes mean what its labels say, and a label that is a
    # bare number ("2" between "I liten grad" and "I stor grad") is not the codebook's code 2.
    lookup = codebook.category_lookup(scale, codes=scale not in spec.values and code_of_label is None)
    return _value_map(values, spec.values.get(scale, {}), lookup, code_of_label)


def _value_map(
    values: pl.Series, overrides: dict[str, str], lookup: dict[str, str], code_of_label: dict[str, str] | None
) -> dict[str, str | None]:
    """Distinct cell values → key (category or group; None when nothing matches): by wave.yaml `values:`
    (`overrides`, normalised code or label → key; also by the tool's code of a labelled value), then by `lookup`
    (normalised label / key / code → key). "2.0" counts as the code 2."""
    out: dict[str, str | None] = {}
    for value in values.drop_nulls().unique().to_list():
        norm = normalise_text(value)
        if norm.endswith(".0") and norm[:-2].isdigit():
            norm = norm[:-2]
        code = (code_of_label or {}).get(value.strip())
        out[value] = overrides.get(norm) or (overrides.get(normalise_text(code)) if code else None) or lookup.get(norm)
    return out


def declared_missing_texts(export: Export, col: ColumnMap, spec: WaveSpec, codebook: Codebook) -> dict[str, str]:
    """The cell texts of a column that the file declares user-missing (SPSS), and not mapped by wave.yaml
    `values:` (by code or label) to a category: text → the code. Such cells count as unanswered."""
    codes = export.missing_values.get(col.index)
    if not codes or col.target not in codebook.items:
        return {}
    scale = codebook.scale_of(col.target).key
    mapped = spec.values.get(scale, {})
    labels = export.value_labels.get(col.index, {})
    out = {}
    for code in sorted(codes):
        label = labels.get(code)
        if normalise_text(code) in mapped or (label is not None and normalise_text(label) in mapped):
            continue
        out[label if label is not None else code] = code
    return out


# A cell that is a date or a time stamp (2024-05-23 10:00:00, 23.05.2024, 5/23/2024 9:41 AM): a column of them
# mapped to `status` is a submission time, not a status.
DATE_CELL = r"^\s*\d{1,4}[-./]\d{1,2}[-./]\d{1,4}(?:[ T,]|$)"


def _holds_dates(frame: pl.DataFrame, col: ColumnMap) -> bool:
    values = frame.get_column(col.name).drop_nulls()
    return values.len() > 0 and bool(values.str.contains(DATE_CELL).all())


def completion_status(
    prepared: Prepared, columns: list[ColumnMap], spec: WaveSpec, frame: pl.DataFrame
) -> tuple[pl.Series, str | None, str]:
    """Per row the status (complete, partial, not_responded, test, the status as written, or NULL: complete), the
    header it comes from, and the rule, stated. The rule works from roles, whichever preset read the export:

    1. wave.yaml `completion: all`: every row (the user states that the export holds only completed responses);
    2. a column mapped in wave.yaml `columns:` to status: its values decide (a column of dates: filled = complete);
    3. the tool's own completion field as its preset derived it (SurveyXact status, Qualtrics Finished);
    4. a tool whose rule is "submitted_at filled" (LimeSurvey): the column whose role is submitted_at (wave.yaml
       `columns:`, else the tool's heading in any language): filled = complete, empty = partial;
    5. a status column found by its heading (the preset's or the codebook's metadata_roles): its values;
    6. a column mapped in wave.yaml `columns:` to submitted_at: filled = complete, empty = partial;
    7. a tool whose export normally carries a completion field and none was found: the wave stops (WaveError naming
       what to map); a tool without one (Google and Microsoft Forms, Nettskjema, SurveyMonkey, a generic export):
       every row, with the tool's reason."""
    preset = PRESETS[prepared.tool][0]
    rule = preset.completion
    found = {c.target: c for c in columns if c.target in ("status", "submitted_at")}
    status_col, submitted = found.get("status"), found.get("submitted_at")
    blank = pl.Series("status", [None] * frame.height, dtype=pl.Utf8)

    def filled(col: ColumnMap, text: str) -> tuple[pl.Series, str, str]:
        series = frame.select(
            pl.when(pl.col(col.name).is_null()).then(pl.lit(PARTIAL)).otherwise(pl.lit(COMPLETE)).alias("status")
        ).to_series()
        return series, col.header, text

    def values(col: ColumnMap, text: str) -> tuple[pl.Series, str, str]:
        return frame.get_column(col.name).str.strip_chars().alias("status"), col.header, text

    if spec.completion == "all":
        return blank, None, "every row: wave.yaml completion: all (the export holds only completed responses)"
    if status_col is not None and status_col.matched_by == "columns":
        if _holds_dates(frame, status_col):
            return filled(
                status_col,
                f"`{status_col.header}` filled = complete, empty = partial (wave.yaml columns: status; it holds dates)",
            )
        return values(
            status_col,
            f"`{status_col.header}` (wave.yaml columns: status): its values decide (codebook status_values; a blank "
            "status counts as complete)",
        )
    if prepared.status is not None:
        return (
            prepared.status.alias("status"),
            prepared.status_column,
            rule.describe.format(column=prepared.status_column),
        )
    if rule.field == "submitted_at" and submitted is not None:
        how = " (wave.yaml columns: submitted_at)" if submitted.matched_by == "columns" else ""
        return filled(submitted, rule.describe.format(column=submitted.header) + how)
    if status_col is not None:
        if _holds_dates(frame, status_col):
            return filled(status_col, f"`{status_col.header}` filled = complete, empty = partial (it holds dates)")
        return values(status_col, GENERIC_STATUS.format(column=status_col.header))
    if submitted is not None and submitted.matched_by == "columns":
        return filled(
            submitted, f"`{submitted.header}` filled = complete, empty = partial (wave.yaml columns: submitted_at)"
        )
    if rule.expected:
        raise WaveError(
            f"{spec.export_path}: no completion field: a {preset.name} export carries {rule.field_names}, and this "
            "one has none, so complete and partial responses cannot be told apart. Map the column that says it in "
            "wave.yaml columns (`<header>: submitted_at` for a submission date, `<header>: status` for a status), "
            "or, if the export holds only completed responses, write `completion: all` in wave.yaml; the wave was "
            "not read"
        )
    return blank, None, rule.without


def _status_values(codebook: Codebook, key: str, canonical: str) -> list[str]:
    return sorted({normalise_text(v) for v in codebook.status_values.get(key, ())} | {canonical})


def normalise_export(export: Export, spec: WaveSpec, codebook: Codebook, key: bytes) -> NormalisedWave:
    """Apply the wave's tool preset to a read export, then normalise it."""
    return normalise_prepared(prepare(export, spec, codebook), spec, codebook, key)


def normalise_prepared(
    prepared: Prepared,
    spec: WaveSpec,
    codebook: Codebook,
    key: bytes,
    others: dict[str, list[tuple[str, str]]] | None = None,
) -> NormalisedWave:
    """others: item → [(wave, header)] of the other waves already built (pipeline.ingest.continuity): an unmapped
    header resembling an item they have and this export lacks stops the wave."""
    export = prepared.export
    columns = map_headers(prepared.headers, spec, codebook, prepared.alternates, prepared.roles, prepared.option_of)
    if others:
        check_continuity(
            spec,
            [c.header for c in columns if c.target == "unmapped"],
            {c.target for c in columns if c.target in codebook.items},
            codebook,
            others,
        )
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
    if prepared.codes_need_labels or prepared.labels_source:
        # The tool's codes mean what its labels table says, never the codebook's default codes.
        coded = [
            c.header
            for c in item_cols
            if not codebook.scale_of(c.target).is_text
            and codebook.scale_of(c.target).key not in spec.values
            and c.index not in export.value_labels
            and export.frame[c.name].str.contains(r"^\s*\d+(?:\.0)?\s*$").any()
        ]
        if coded and prepared.labels_source:
            raise WaveError(
                f"{export.path}: columns {', '.join(map(shorten, coded[:5]))}{', …' if len(coded) > 5 else ''} hold "
                f"answer codes, but the labels table ({prepared.labels_source}) has no labels for them. Export the "
                "labels table again with these variables, or map the codes to categories in wave.yaml `values:`"
            )
        if coded:
            raise WaveError(
                f"{export.path}: the {prepared.tool} dataset holds answer codes (columns "
                f"{', '.join(map(shorten, coded[:5]))}{', …' if len(coded) > 5 else ''}) "
                "but no labels table was found. "
                f"Put the tool's labels file (variable;code;label) in {spec.folder} and name it in wave.yaml "
                "`labels:`, or map the codes to categories in wave.yaml `values:`"
            )

    # Declared user-missing codes (SPSS "DK" = 8, "NA" = 9, …) are unanswered unless wave.yaml maps them.
    missing_notes = []
    blanks = []
    for c in item_cols:
        texts = declared_missing_texts(export, c, spec, codebook)
        if texts:
            hits = export.frame.select(pl.col(c.name).str.strip_chars().is_in(list(texts)).sum()).item()
            if hits:
                missing_notes.append(
                    f"{c.header}: {hits} cell(s) declared missing in the file "
                    f"({', '.join(f'{t} = {k}' if t != k else k for t, k in texts.items())}) "
                    "counted as unanswered"
                )
            blanks.append(
                pl.when(pl.col(c.name).str.strip_chars().is_in(list(texts)))
                .then(None)
                .otherwise(pl.col(c.name))
                .alias(c.name)
            )
    if blanks:
        export = replace(export, frame=export.frame.with_columns(blanks))

    source_file = export.path.name
    by_role = {c.target: c for c in columns if c.target in ROLE_TARGETS}

    frame = export.frame
    status, status_column, completion_rule = completion_status(prepared, columns, spec, frame)
    frame = frame.with_columns(status)

    # Rows that are not responses: previews/tests always; invited-but-never-answered when they hold no answer.
    answered = pl.any_horizontal(pl.col(c.name).is_not_null() for c in item_cols)  # trimming never makes a NULL
    status_norm = pl.col("status").str.strip_chars().str.to_lowercase()
    is_test = status_norm.is_in(_status_values(codebook, TEST, TEST))
    is_absent = status_norm.is_in(_status_values(codebook, NOT_RESPONDED, NOT_RESPONDED)) & ~answered
    # A separate column, not one more column of the frame: adding a column to the frame as read copies all of it.
    reasons = frame.select(
        pl.when(is_test).then(pl.lit(TEST)).when(is_absent).then(pl.lit(NOT_RESPONDED)).otherwise(None).alias("reason")
    ).to_series()
    excluded = {reason: n for reason, n in reasons.drop_nulls().value_counts().sort("reason").rows()}
    if excluded:
        frame = frame.filter(reasons.is_null())
    if frame.height == 0:
        what = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in excluded.items())
        raise WaveError(
            f"{export.path}: none of the {export.n_rows} rows is a response ({what}); export the responses "
            "again (the tool's export of completed and partial responses)"
        )

    # Keyed pseudonyms in row order: of the respondent id, or of file and row where the id is missing.
    if "respondent_id" in by_role:
        ids = pl.col(by_role["respondent_id"].name).str.strip_chars()
        messages = pl.when(ids.is_not_null()).then(pl.lit("id:") + ids)
    else:
        messages = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.Utf8))
    messages = messages.otherwise(pl.concat_str(pl.lit(f"row:{spec.key}/{source_file}#"), pl.col(ROW).cast(pl.Utf8)))
    keys = pl.Series(
        "respondent_key", pseudonymise_many(key, frame.select(messages).to_series().to_list()), dtype=pl.Utf8
    )
    frame = frame.with_columns(keys, panel_keys(frame, by_role, prepared.tool, key))

    def role_col(role: str) -> pl.Expr:
        c = by_role.get(role)
        return (pl.col(c.name).str.strip_chars() if c else pl.lit(None, dtype=pl.Utf8)).alias(role)

    base = [
        pl.lit(spec.key).alias("wave"),
        pl.lit(source_file).alias("source_file"),
        ROW,
        "respondent_key",
        "panel_key",
    ]
    respondents = frame.select(
        *base,
        pl.col("status").str.strip_chars().alias("status"),
        pl.lit(status_column, dtype=pl.Utf8).alias("status_column"),
        role_col("submitted_at"),
    )
    answers = _answers(
        frame, sorted(item_cols, key=lambda c: c.target), spec, source_file, codebook, export.value_labels
    )
    group_cols = sorted(
        (c for c in columns if c.target in codebook.background), key=lambda c: codebook.background[c.target].order
    )
    background = _background(frame, group_cols, spec, source_file, codebook, export.value_labels)
    wave = NormalisedWave(
        respondents=respondents,
        answers=answers,
        columns=columns,
        background=background,
        tool=prepared.tool,
        exported_rows=export.n_rows,
        excluded_rows=excluded,
        notes=(*prepared.notes, *missing_notes),
        completion_rule=completion_rule,
    )
    return mask_personal_data(wave, frame, codebook)  # before anything of the wave is written


def panel_keys(frame: pl.DataFrame, by_role: dict[str, ColumnMap], tool: str, key: bytes) -> pl.Series:
    """Per row, the keyed pseudonym that links the same person across waves (NULL where nothing links):
    of the wave.yaml `panel_id` column; without one, of the respondent id only where the tool's preset says its
    ids name the person in every survey (Preset.id_scope "person"); a per-survey response id or counter never
    links waves. Blank ids link nothing."""
    column = by_role.get("panel_id")
    if column is None and PRESETS[tool][0].id_scope == "person":
        column = by_role.get("respondent_id")
    if column is None:
        return pl.Series("panel_key", [None] * frame.height, dtype=pl.Utf8)
    ids = frame.get_column(column.name).str.strip_chars()
    present = ids.drop_nulls().filter(ids.drop_nulls() != "")
    distinct = present.unique().sort().to_list()
    mapping = dict(zip(distinct, panel_pseudonyms(key, distinct)))
    return ids.replace_strict(mapping, default=None, return_dtype=pl.Utf8).alias("panel_key")


def _background(
    frame: pl.DataFrame,
    group_cols: list[ColumnMap],
    spec: WaveSpec,
    source_file: str,
    codebook: Codebook,
    value_labels: dict[int, dict[str, str]] | None = None,
) -> BackgroundCells:
    """The background columns as BackgroundCells: each cell trimmed (blank: NULL), and each distinct value's group by
    the variable's labels, keys and codes, or the wave.yaml `values:` map of the variable (which replaces the codes)."""
    names = [f"b{k}" for k in range(len(group_cols))]
    values, groups = [], []
    for name, col in zip(names, group_cols):
        var = codebook.background[col.target]
        labels = (value_labels or {}).get(col.index)
        lookup = var.group_lookup(codes=var.key not in spec.values and not labels)
        code_of_label = {lab: code for code, lab in labels.items()} if labels else None
        trimmed = pl.col(col.name).str.strip_chars()
        values.append(pl.when(trimmed == "").then(None).otherwise(trimmed).alias(name))
        distinct = frame.get_column(col.name).drop_nulls().unique().str.strip_chars()
        mapping = _value_map(distinct.filter(distinct != ""), spec.values.get(var.key, {}), lookup, code_of_label)
        groups += [(name, value, group) for value, group in sorted(mapping.items()) if group is not None]
    return BackgroundCells(
        wave=spec.key,
        source_file=source_file,
        wide=frame.select(ROW, "respondent_key", *values),
        columns=pl.DataFrame(
            {"name": names, "header": [c.header for c in group_cols], "variable": [c.target for c in group_cols]},
            schema={"name": pl.Utf8, "header": pl.Utf8, "variable": pl.Utf8},
        ),
        groups=pl.DataFrame(groups, schema={"name": pl.Utf8, "value": pl.Utf8, "group": pl.Utf8}, orient="row"),
    )


EDGE_SPACE = r"^\s|\s$"  # whitespace (as str.strip_chars() strips it) at the start or the end


def _answers(
    frame: pl.DataFrame,
    ordered: list[ColumnMap],
    spec: WaveSpec,
    source_file: str,
    codebook: Codebook,
    value_labels: dict[int, dict[str, str]] | None = None,
) -> AnswerCells:
    """The item columns of the wide frame (sorted by item code) as AnswerCells: each cell trimmed, and for each
    closed item's column the category of each distinct value (by the scale's labels and codes, the tool's value labels
    and wave.yaml `values:`)."""
    names = [f"a{k}" for k in range(len(ordered))]
    values, categories = [], []
    for name, col in zip(names, ordered):
        raw = pl.col(col.name)
        # Only cells with whitespace at an end are stripped (a stripped copy of every cell costs memory).
        values.append(pl.when(raw.str.contains(EDGE_SPACE)).then(raw.str.strip_chars()).otherwise(raw).alias(name))
        scale = codebook.scale_of(col.target)
        if scale.is_text:
            continue
        labels = (value_labels or {}).get(col.index)
        code_of_label = {lab: code for code, lab in labels.items()} if labels else None
        mapping = _category_map(
            frame.get_column(col.name).drop_nulls().unique().str.strip_chars(),
            scale.key,
            spec,
            codebook,
            code_of_label,
        )
        categories += [(name, value, category) for value, category in sorted(mapping.items()) if category is not None]
    return AnswerCells(
        wave=spec.key,
        source_file=source_file,
        wide=frame.select(ROW, "respondent_key", *values),
        columns=pl.DataFrame(
            {"name": names, "header": [c.header for c in ordered], "item": [c.target for c in ordered]},
            schema={"name": pl.Utf8, "header": pl.Utf8, "item": pl.Utf8},
        ),
        categories=pl.DataFrame(
            categories, schema={"name": pl.Utf8, "value": pl.Utf8, "category": pl.Utf8}, orient="row"
        ),
    )
