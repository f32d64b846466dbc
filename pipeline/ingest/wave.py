"""Reading one wave folder end to end in memory: wave.yaml → export → tool preset → normalised → staged.

Pure functions over files; the Dagster assets in pipeline.defs.assets call these and write the results to the
work database.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl

from pipeline.codebook import Codebook
from pipeline.ingest.normalise import GROUP_SCHEMA, NormalisedWave, normalise_prepared
from pipeline.ingest.presets import prepare
from pipeline.ingest.pseudonym import pseudonym_key
from pipeline.ingest.readers import MAX_EXPORT_BYTES, ROW, Export, read_export, shorten
from pipeline.ingest.waves import WaveError, WaveSpec, file_sha256, load_wave
from pipeline.settings import Settings
from pipeline.staging.stage import StagedWave, stage_wave

# More than this share of a wave's cells quarantined means a wrong mapping, not bad luck: the wave stops.
MAX_QUARANTINE_SHARE = 0.20


@dataclass(frozen=True)
class ReadWave:
    spec: WaveSpec
    export: Export  # the export as the tool preset prepared it, its frame cut to source_row (the cells are in
    # normalised: keeping every text column of a big export as well would double the memory of a wave)
    normalised: NormalisedWave
    sha256: str
    asked_items: list[str]

    @property
    def tool(self) -> str:
        return self.normalised.tool

    @property
    def reader(self) -> str:
        """File format and tool preset, e.g. "csv/qualtrics", "xlsx/msforms", "sav/generic"."""
        return f"{self.export.format}/{self.normalised.tool}"

    def describe(self) -> dict[str, object]:
        """How the export was read, for the run metadata (no cell values)."""
        e = self.export
        out: dict[str, object] = {"tool": self.tool, "format": e.format, "respondent rows": e.n_rows}
        if e.encoding:
            out["encoding"] = e.encoding
        if e.delimiter:
            out["delimiter"] = {",": "comma", ";": "semicolon", "\t": "tab"}.get(e.delimiter, e.delimiter)
        if e.sheet:
            out["sheet"] = e.sheet
        if self.normalised.excluded_rows:
            out["rows left out (not responses)"] = dict(self.normalised.excluded_rows)
        if self.normalised.notes:
            out["notes"] = list(self.normalised.notes)
        return out

    def waves_row(self) -> pl.DataFrame:
        """The wave's row of raw.waves."""
        return pl.DataFrame(
            [
                {
                    "wave": self.spec.key,
                    "label": self.spec.label,
                    "fielded": self.spec.fielded,
                    "reconstruction": self.spec.reconstruction,
                    "invited": self.spec.invited,
                    "source_file": self.spec.export,
                    "source_sha256": self.sha256,
                    "reader": self.reader,
                    "exported_rows": self.export.n_rows,
                    "asked_items": self.asked_items,
                    "unmapped_headers": self.normalised.unmapped_headers,
                    "dropped_headers": self.normalised.dropped_headers,
                }
            ],
            schema={
                "wave": pl.Utf8,
                "label": pl.Utf8,
                "fielded": pl.Date,
                "reconstruction": pl.Boolean,
                "invited": pl.Int32,
                "source_file": pl.Utf8,
                "source_sha256": pl.Utf8,
                "reader": pl.Utf8,
                "exported_rows": pl.Int32,
                "asked_items": pl.List(pl.Utf8),
                "unmapped_headers": pl.List(pl.Utf8),
                "dropped_headers": pl.List(pl.Utf8),
            },
        )


UNMAPPED_NAMED = 5  # unmapped headers named in a log line; the full list is in the run metadata


def unmapped_summary(headers: list[str]) -> str:
    """One short line about the headers that map to nothing: the count and the first few (a LimeSurvey export
    can have 600; the full list is in the run metadata, "unmapped headers")."""
    named = ", ".join(shorten(h, 60) for h in headers[:UNMAPPED_NAMED])
    more = (
        f" and {len(headers) - UNMAPPED_NAMED} more (all in the run metadata)" if len(headers) > UNMAPPED_NAMED else ""
    )
    return (
        f"{len(headers)} header(s) map to nothing: {named}{more}; map them in wave.yaml columns (to an item "
        "or to drop) if they hold answers"
    )


def export_limit(settings: Settings) -> int:
    """The largest export read, in bytes: settings.max_export_bytes (PIPELINE_MAX_EXPORT_BYTES, checked in
    Settings), else readers.MAX_EXPORT_BYTES for Settings made in code."""
    return settings.max_export_bytes if settings.max_export_bytes is not None else MAX_EXPORT_BYTES


def read_wave(settings: Settings, codebook: Codebook, wave: str) -> ReadWave:
    spec = load_wave(settings.raw_dir, wave, codebook)
    export = read_export(spec.export_path, sheet=spec.sheet, max_bytes=export_limit(settings))
    prepared = prepare(export, spec, codebook)
    normalised = normalise_prepared(prepared, spec, codebook, pseudonym_key(settings))
    asked = sorted({c.target for c in normalised.columns if c.target in codebook.items})
    _stop_early_when_mostly_unmatched(normalised, codebook, f"{wave}/{spec.export}", spec.values)
    kept = replace(prepared.export, frame=prepared.export.frame.select(ROW))
    return ReadWave(
        spec=spec, export=kept, normalised=normalised, sha256=file_sha256(spec.export_path), asked_items=asked
    )


def _stop_early_when_mostly_unmatched(
    normalised: NormalisedWave, codebook: Codebook, export_name: str, value_maps: dict[str, dict[str, str]]
) -> None:
    """Cells matching no category are the bulk of any quarantine: when they alone pass the limit, stage now
    (same check and message as the staging step) so the wave fails before anything of it is written."""
    cells = normalised.cells
    closed = [i.code for i in codebook.closed_items()]
    unmatched = cells.select((pl.col("category").is_null() & pl.col("item").is_in(closed)).sum()).item()
    if cells.height and unmatched / cells.height > MAX_QUARANTINE_SHARE:
        stage(normalised, codebook, export_name, value_maps)


READ_BACK_ROWS = 1 << 20  # cells fetched from the work database at a time by read_normalised


def read_normalised(con, wave: str, codebook: Codebook) -> NormalisedWave:
    """A wave's normalised respondents and cells as the raw step wrote them to the work database
    (raw.wave_respondents, raw.wave_export), for staging. The cells are fetched in batches of
    READ_BACK_ROWS and each batch's repeated texts become pl.Enum (staging.lean_cells) at once, so the
    17 million cells of a million respondents never sit in memory as plain text columns."""
    from pipeline.staging.stage import lean_cells
    from pipeline.warehouse import qualified, query_frame, table_frame

    respondents = table_frame(con, "raw.wave_respondents", wave).sort("source_row")
    table = qualified("raw.wave_export")
    texts = query_frame(con, 'select distinct source_file, "column", item from ' + table + " where wave = ?", [wave])
    types = {
        "wave": pl.Enum([wave]),
        "source_file": pl.Enum(sorted(set(texts["source_file"].drop_nulls().to_list()))),
        "column": pl.Enum(sorted(set(texts["column"].drop_nulls().to_list()))),
        "item": pl.Enum(sorted(set(codebook.items) | set(texts["item"].drop_nulls().to_list()))),
        "category": pl.Enum(sorted({c.key for s in codebook.scales.values() for c in s.categories})),
    }
    # The raw step writes one file and one header per item: then file and header are not fetched per cell
    # (the header is the longest text of a cell) but set from the item.
    by_item = (
        texts.height == texts["item"].n_unique()
        and texts["source_file"].n_unique() <= 1
        and texts.null_count().sum_horizontal().item() == 0
    )
    fetched = ["source_row", "respondent_key", "item", "value", "category"]
    if not by_item:
        fetched += ["source_file", "column"]
    # No ORDER BY: the rows come in the order they were written (sorted); lean_cells sorts them if not.
    reader = con.sql(
        "select " + ", ".join('"' + c + '"' for c in fetched) + " from " + table + " where wave = $wave",
        params={"wave": wave},
    ).to_arrow_reader(READ_BACK_ROWS)
    parts = []
    for batch in reader:
        part = pl.from_arrow(batch)
        if isinstance(part, pl.DataFrame) and part.height:
            parts.append(part.with_columns(pl.col(c).cast(pl.Utf8).cast(types[c]) for c in fetched if c in types))
    schema = {
        "wave": types["wave"],
        "source_file": types["source_file"],
        "source_row": pl.Int64,
        "respondent_key": pl.Utf8,
        "column": types["column"],
        "item": types["item"],
        "value": pl.Utf8,
        "category": types["category"],
    }
    cells = (
        pl.concat(parts, how="vertical", rechunk=False)
        if parts
        else pl.DataFrame(schema={c: schema[c] for c in fetched})
    )
    if by_item:
        header = dict(zip(texts["item"].to_list(), texts["column"].to_list()))
        files = texts["source_file"].to_list()
        cells = cells.with_columns(
            pl.lit(files[0] if files else None, dtype=types["source_file"]).alias("source_file"),
            pl.col("item")
            .cast(pl.Utf8)
            .replace_strict(header, default=None, return_dtype=types["column"])
            .alias("column"),
        )
    cells = cells.with_columns(pl.lit(wave, dtype=types["wave"]).alias("wave")).select(list(schema))
    groups = (
        table_frame(con, "raw.wave_groups", wave)
        .select(list(GROUP_SCHEMA))
        .cast(GROUP_SCHEMA)
        .sort("source_row", "variable")
    )
    return NormalisedWave(respondents=respondents, cells=lean_cells(cells, codebook), columns=[], groups=groups)


def quarantine_share(staged: StagedWave, n_cells: int) -> float:
    return staged.quarantine.height / n_cells if n_cells else 0.0


class TooMuchQuarantined(WaveError):
    """More than MAX_QUARANTINE_SHARE of a wave's cells would be quarantined: the wave stops."""


def stage(
    normalised: NormalisedWave,
    codebook: Codebook,
    export_name: str,
    value_maps: dict[str, dict[str, str]] | None = None,
) -> StagedWave:
    staged = stage_wave(normalised, codebook, value_maps)
    n_cells = normalised.cells.height
    share = quarantine_share(staged, n_cells)
    if share > MAX_QUARANTINE_SHARE:
        duplicated = staged.conflicting_duplicates
        if duplicated:
            reasons = staged.quarantine.get_column("reason")
            dup_cells = reasons.str.starts_with("the respondent id of this row").sum()
            panel_cells = reasons.str.starts_with("the panel id of this row").sum()
            if panel_cells * 2 >= staged.quarantine.height:
                raise TooMuchQuarantined(
                    f"{export_name}: {duplicated} rows share a panel id with another row but differ in their answers "
                    f"({panel_cells} of the {staged.quarantine.height} cells that would be quarantined): the column "
                    "named in wave.yaml panel_id probably does not identify a person (e.g. a library or a department). "
                    "Name the column that identifies each person; the wave was not updated"
                )
            if dup_cells * 2 >= staged.quarantine.height:
                raise TooMuchQuarantined(
                    f"{export_name}: {duplicated} rows share a respondent id with another row but differ in their "
                    f"answers ({dup_cells} of the {staged.quarantine.height} cells that would be quarantined): the "
                    "column read as the respondent id is probably not one (e.g. a school or a form counter). Name "
                    "the tool's respondent-id column in wave.yaml columns (`<header>: respondent_id`), or map that "
                    "column to drop; the wave was not updated"
                )
        sample = staged.quarantine.head(3)
        examples = "; ".join(
            f"row {r['source_row']}, column {shorten(r['column'])}: {shorten(r['value'])}"
            for r in sample.iter_rows(named=True)
        )
        raise TooMuchQuarantined(
            f"{export_name}: {staged.quarantine.height} of {n_cells} cells ({share:.0%}) would be quarantined, "
            f"more than {MAX_QUARANTINE_SHARE:.0%}: the headers or codes are probably mapped wrongly "
            f"(e.g. {examples}). Check wave.yaml columns/values; the wave was not updated"
        )
    return staged
