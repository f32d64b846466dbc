"""Layer `raw`: each wave's export read as the survey tool wrote it."""


import dagster as dg

from pipeline.ingest import read_wave
from pipeline.metadata import preview
from pipeline.partitions import wave_partitions
from pipeline.readers import ExportError
from pipeline.resources import SurveyPipeline
from pipeline.warehouse import replace_wave
from pipeline.waves import WaveError


@dg.asset(
    key=["raw", "wave_export"],
    group_name="raw",
    partitions_def=wave_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"duckdb", "polars"},
)
def wave_export(context: dg.AssetExecutionContext, pipeline: SurveyPipeline) -> dg.MaterializeResult:
    """The wave's export file (data/raw/<wave>/), read and normalised: headers matched to codebook items
    and roles, personal-data columns (e-mail, name, IP) dropped, respondent ids replaced by keyed
    pseudonyms, cells matched to answer categories. Written to raw.waves, raw.wave_respondents and
    raw.wave_export in the work database."""
    codebook = pipeline.codebook()
    settings = pipeline.settings
    meta: dict[str, object] = {}
    rows = 0
    with pipeline.work_db() as con:
        for wave in context.partition_keys:
            try:
                read = read_wave(settings, codebook, wave)
            except (WaveError, ExportError) as exc:
                raise dg.Failure(description=str(exc), metadata={"wave": wave}) from None
            n = read.normalised
            con.begin()
            replace_wave(con, "raw.waves", wave, read.waves_row())
            replace_wave(con, "raw.wave_respondents", wave, n.respondents)
            replace_wave(con, "raw.wave_export", wave, n.cells)
            con.commit()
            rows += n.cells.height
            meta[f"{wave}: file"] = dg.MetadataValue.path(str(read.spec.export_path))
            meta[f"{wave}: sha256"] = read.sha256
            meta[f"{wave}: respondent rows"] = read.export.n_rows
            meta[f"{wave}: header mapping"] = dg.MetadataValue.json(
                {c.header: c.target for c in n.columns if c.target != "personal_data"}
            )
            meta[f"{wave}: unmapped headers"] = dg.MetadataValue.json(n.unmapped_headers)
            meta[f"{wave}: dropped headers (personal data / drop)"] = dg.MetadataValue.json(n.dropped_headers)
            meta[f"{wave}: read as"] = dg.MetadataValue.json(read.describe())
            for note in n.notes:
                if note.startswith("wave.yaml says"):
                    context.log.warning(f"wave {wave}: {note}")
            if n.excluded_rows:
                context.log.info(f"wave {wave}: rows left out (not responses): {n.excluded_rows}")
            if n.unmapped_headers:
                context.log.warning(
                    f"wave {wave}: headers that map to nothing (map them in wave.yaml columns or to drop): "
                    + ", ".join(repr(h) for h in n.unmapped_headers)
                )
            meta["preview"] = preview(n.cells.drop("respondent_key"))
    meta["dagster/row_count"] = rows
    meta["partitions"] = dg.MetadataValue.json(list(context.partition_keys))
    return dg.MaterializeResult(metadata=meta)
