"""Layer `staging`: the codebook as tables, and each wave validated into respondents, responses,
quarantine and open answers."""


import dagster as dg
import polars as pl

from pipeline.ingest import TooMuchQuarantined, stage
from pipeline.metadata import preview
from pipeline.normalise import NormalisedWave
from pipeline.partitions import wave_partitions
from pipeline.resources import SurveyPipeline
from pipeline.validation import staging_responses, validation_errors
from pipeline.warehouse import delete_wave, load_codebook_tables, replace_wave, table_frame

RAW = dg.AssetKey(["raw", "wave_export"])
CODEBOOK = dg.AssetKey(["staging", "codebook"])
STAGING_TABLES = {
    "respondents": "Respondents of each wave, one row per export row kept, with complete/partial status.",
    "responses": "Valid answers to closed items, one row per respondent and item (validated by pandera).",
    "quarantine": "Rejected cells with file, row, column, value and the reason; nothing is dropped silently.",
    "open_answers": "Free-text answers as written.",
}


@dg.asset(key=CODEBOOK, group_name="staging", kinds={"duckdb", "yaml"})
def codebook_tables(pipeline: SurveyPipeline) -> dg.MaterializeResult:
    """schemas/codebook.yaml checked and written as codebook.levels, codebook.items and
    codebook.categories: the single source of items, levels, scales and labels for the SQL."""
    codebook = pipeline.codebook()
    with pipeline.work_db() as con:
        counts = load_codebook_tables(con, codebook)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": counts["items"],
            "codebook sha256": codebook.sha256,
            "levels": counts["levels"],
            "items": counts["items"],
            "categories": counts["categories"],
        }
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["staging", name], description=desc, group_name="staging", deps=[RAW],
                     partitions_def=wave_partitions, kinds={"duckdb", "pandera"})
        for name, desc in STAGING_TABLES.items()
    ],
    check_specs=[
        dg.AssetCheckSpec("matches_contract", asset=["staging", "responses"], blocking=True,
                          description="pandera: staging.responses has one valid category per respondent and item."),
        dg.AssetCheckSpec("quarantine_below_limit", asset=["staging", "quarantine"], blocking=True,
                          description="At most 20 % of a wave's cells are quarantined (more means a wrong mapping)."),
    ],
    partitions_def=wave_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    can_subset=False,
    name="staging_wave",
)
def staging_wave(context: dg.AssetExecutionContext, pipeline: SurveyPipeline):
    """Validate each wave's normalised cells with pandera: valid answers → staging.responses, cells that
    match no category, unknown statuses and conflicting duplicate respondents → staging.quarantine."""
    codebook = pipeline.codebook()
    totals = {name: 0 for name in STAGING_TABLES}
    previews = {}
    shares = []
    with pipeline.work_db() as con:
        for wave in context.partition_keys:
            normalised = NormalisedWave(
                respondents=table_frame(con, "raw.wave_respondents", wave).sort("source_row"),
                cells=table_frame(con, "raw.wave_export", wave).sort("source_row", "item"),
                columns=[],
            )
            source = normalised.respondents["source_file"][0] if normalised.respondents.height else wave
            try:
                staged = stage(normalised, codebook, f"{wave}/{source}")
                errors = validation_errors(staging_responses(codebook), staged.responses)
                if errors:
                    raise ValueError(f"wave {wave}: staging.responses breaks its contract: " + "; ".join(errors))
            except (TooMuchQuarantined, ValueError) as exc:
                # raw.* already holds this version of the wave: take the wave out of the work database
                # entirely, so the marts never mix its new raw rows with older staging rows.
                delete_wave(con, wave)
                raise dg.Failure(
                    description=f"{exc}. The wave is left out of the marts until this is fixed.",
                    metadata={"wave": wave},
                ) from None
            if staged.exact_duplicates:
                context.log.warning(f"wave {wave}: {staged.exact_duplicates} exact duplicate row(s) collapsed")
            frames = {
                "respondents": staged.respondents, "responses": staged.responses,
                "quarantine": staged.quarantine, "open_answers": staged.open_answers,
            }
            con.begin()
            for name, frame in frames.items():
                replace_wave(con, "staging." + name, wave, frame)
                totals[name] += frame.height
                previews[name] = frame
            con.commit()
            shares.append(staged.quarantine.height / max(normalised.cells.height, 1))
    for name in STAGING_TABLES:
        yield dg.MaterializeResult(
            asset_key=["staging", name],
            metadata={"dagster/row_count": totals[name], "preview": preview(previews[name] if name in previews else pl.DataFrame())},
        )
    yield dg.AssetCheckResult(asset_key=["staging", "responses"], check_name="matches_contract", passed=True)
    yield dg.AssetCheckResult(
        asset_key=["staging", "quarantine"], check_name="quarantine_below_limit", passed=True,
        metadata={"largest share": max(shares, default=0.0)},
    )
