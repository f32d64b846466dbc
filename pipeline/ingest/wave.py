"""Reading one wave folder end to end in memory: wave.yaml → export → tool preset → normalised.

Pure functions over files; the Dagster assets in pipeline.defs.assets call these and write the results to the
work database.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl

from pipeline.codebook import Codebook
from pipeline.ingest.normalise import NormalisedWave, normalise_prepared
from pipeline.ingest.presets import prepare
from pipeline.ingest.pseudonym import pseudonym_key
from pipeline.ingest.readers import MAX_EXPORT_BYTES, ROW, Export, read_export, shorten
from pipeline.ingest.waves import WaveSpec, file_sha256, load_wave
from pipeline.settings import Settings


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
                    "completion_rule": self.normalised.completion_rule,
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
                "completion_rule": pl.Utf8,
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


def read_wave(
    settings: Settings, codebook: Codebook, wave: str, others: dict[str, list[tuple[str, str]]] | None = None
) -> ReadWave:
    """others: the item columns of the other waves in the work database (pipeline.ingest.continuity)."""
    spec = load_wave(settings.raw_dir, wave, codebook)
    export = read_export(spec.export_path, sheet=spec.sheet, max_bytes=export_limit(settings))
    prepared = prepare(export, spec, codebook)
    normalised = normalise_prepared(prepared, spec, codebook, pseudonym_key(settings), others)
    asked = sorted({c.target for c in normalised.columns if c.target in codebook.items})
    kept = replace(prepared.export, frame=prepared.export.frame.select(ROW))
    return ReadWave(
        spec=spec, export=kept, normalised=normalised, sha256=file_sha256(spec.export_path), asked_items=asked
    )
