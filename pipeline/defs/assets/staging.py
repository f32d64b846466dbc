"""Layer `staging`: the codebook as tables, and each wave validated into respondents, responses,
quarantine and open answers."""


import traceback

import dagster as dg

from pipeline.defs.assets.per_wave import failure_text, outcome
from pipeline.defs.metadata import preview
from pipeline.defs.partitions import one_run_for_many_waves, wave_partitions
from pipeline.defs.resources import SurveyPipeline
from pipeline.ingest.fingerprints import INPUT_FINGERPRINT
from pipeline.marts.contract import load_staging_tables
from pipeline.settings import PROJECT_ROOT
from pipeline.staging.stage import TooMuchQuarantined, check_quarantine_limit, stage_in_database
from pipeline.staging.validation import staging_responses, table_errors
from pipeline.warehouse import (
    delete_wave,
    load_codebook_tables,
    qualified,
    query_frame,
    replace_wave,
    scalar,
    table_frame,
)

RAW = dg.AssetKey(["raw", "wave_export"])
CODEBOOK = dg.AssetKey(["staging", "codebook"])
# The staging tables, their descriptions and column schemas: schemas/marts.yaml (`staging:`).
STAGING_TABLES = {t.name: t for t in load_staging_tables(PROJECT_ROOT / "schemas" / "marts.yaml")}


@dg.asset(key=CODEBOOK, group_name="staging", kinds={"duckdb", "yaml"})
def codebook_tables(pipeline: SurveyPipeline) -> dg.MaterializeResult:
    """schemas/codebook.yaml checked and written as codebook.levels, codebook.items, codebook.categories,
    codebook.background and codebook.groups: the single source of items, levels, scales, background variables and
    labels for the SQL."""
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
            "background variables": counts["background"],
            "groups": counts["groups"],
        }
    )


def wave_value_maps(settings, wave: str, codebook) -> dict[str, dict[str, str]] | None:
    """The wave.yaml `values:` maps (for quarantine reasons); None when the wave folder cannot be read now."""
    from pipeline.ingest.waves import WaveError, load_wave

    try:
        return load_wave(settings.raw_dir, wave, codebook).values
    except (WaveError, OSError):
        return None


@one_run_for_many_waves(
    dg.multi_asset,
    specs=[
        dg.AssetSpec(
            ["staging", name],
            description=table.description,
            group_name="staging",
            deps=[RAW],
            partitions_def=wave_partitions,
            kinds={"duckdb", "pandera"},
            metadata={"dagster/column_schema": table.column_schema(), "dagster/table_name": f"staging.{name}"},
        )
        for name, table in STAGING_TABLES.items()
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "matches_contract",
            asset=["staging", "responses"],
            blocking=True,
            description="pandera: every row of staging.responses names a wave, a respondent and a codebook "
            "item, with a category of the item's scale, once per respondent and item. "
            "Failing means a bug in staging, not bad data: the wave named in the metadata is "
            "left out of the work database, and the marts are not built.",
        ),
        dg.AssetCheckSpec(
            "quarantine_below_limit",
            asset=["staging", "quarantine"],
            blocking=True,
            description="At most 20 % of a wave's answer cells are quarantined. Failing means a wrong "
            "mapping (wave.yaml columns or values, a wrong respondent or panel id): the waves "
            "named in the metadata, with the reason, are left out and the marts are not "
            "built; fix wave.yaml and run again.",
        ),
    ],
    can_subset=False,
    name="staging_wave",
)
def staging_wave(context: dg.AssetExecutionContext, pipeline: SurveyPipeline):
    """Stage each wave inside DuckDB (`sql/staging/<table>.sql` over raw.* and small decision tables made from
    distinct values): valid answers → staging.responses, cells that match no category, unknown statuses and
    conflicting duplicate respondents → staging.quarantine; pandera then checks staging.responses in the database.
    Each wave is written in one transaction with its input fingerprint (staging.wave_fingerprints); a wave that
    fails is taken out of the work database whole and named at the end, the others are kept."""
    codebook = pipeline.codebook()
    keys = [dg.AssetKey(["staging", name]) for name in STAGING_TABLES]
    done: dict[str, dict[dg.AssetKey, dict[str, object]]] = {}
    failed: dict[str, str] = {}
    shares: dict[str, float] = {}
    broken: dict[str, list[str]] = {}  # wave -> pandera failures of staging.responses
    over_limit: dict[str, str] = {}  # wave -> why too much of it would be quarantined
    with pipeline.work_db() as con:
        for wave in context.partition_keys:
            in_transaction = False
            try:
                source = scalar(con, "select min(source_file) from raw.wave_respondents where wave = ?", [wave])
                con.begin()
                in_transaction = True
                staged = stage_in_database(
                    con, pipeline.settings.sql_dir, wave, codebook, wave_value_maps(pipeline.settings, wave, codebook)
                )
                check_quarantine_limit(staged, f"{wave}/{source or wave}")
                errors = table_errors(con, staging_responses(codebook), "staging.responses", wave)
                if errors:
                    broken[wave] = errors
                    raise ValueError(f"wave {wave}: staging.responses breaks its contract: " + "; ".join(errors))
                fingerprint = table_frame(con, "raw.wave_fingerprints", wave)
                replace_wave(con, "staging.wave_fingerprints", wave, fingerprint)
                con.commit()
                in_transaction = False
            except Exception as exc:
                if in_transaction:
                    con.rollback()
                # raw.* already holds this version of the wave: take the wave out of the work database
                # entirely (fingerprints too), so the marts never mix its new raw rows with older staging rows
                # and the next build tries it again.
                delete_wave(con, wave)
                if isinstance(exc, TooMuchQuarantined):
                    over_limit[wave] = str(exc)
                failed[wave] = (
                    failure_text(exc, (TooMuchQuarantined, ValueError))
                    + ". The wave is left out of the marts until this is fixed."
                )
                if not isinstance(exc, (TooMuchQuarantined, ValueError)):
                    context.log.error(f"wave {wave}: " + "".join(traceback.format_exception(exc)))
                continue
            if staged.exact_duplicates:
                context.log.warning(f"wave {wave}: {staged.exact_duplicates} exact duplicate row(s) collapsed")
            done[wave] = {
                dg.AssetKey(["staging", name]): {
                    "dagster/row_count": staged.rows[name],
                    "preview": preview(
                        query_frame(con, "select * from " + qualified("staging." + name) + " where wave = ? limit 5",
                                    [wave])
                    ),
                }
                for name in STAGING_TABLES
            }
            # The record of what this wave's staged rows were made from, for the raw-folder sensor and `make run`.
            if fingerprint.height:
                done[wave][dg.AssetKey(["staging", "respondents"])][INPUT_FINGERPRINT] = fingerprint["fingerprint"][0]
            shares[wave] = staged.quarantine_share
    totals = {
        key: {"rows (all waves of this run)": sum(int(m[key]["dagster/row_count"]) for m in done.values())}
        for key in keys
    }
    checks = [
        dg.AssetCheckResult(
            asset_key=["staging", "responses"],
            check_name="matches_contract",
            passed=not broken,
            metadata={
                "waves checked": dg.MetadataValue.json(sorted(shares) + sorted(broken)),
                "failures": dg.MetadataValue.json(broken),
            },
        ),
        dg.AssetCheckResult(
            asset_key=["staging", "quarantine"],
            check_name="quarantine_below_limit",
            passed=not over_limit,
            metadata={
                "largest share (waves staged)": max(shares.values(), default=0.0),
                "share per wave": dg.MetadataValue.json(shares),
                "waves over the limit": dg.MetadataValue.json(over_limit),
            },
        ),
    ]
    yield from outcome(context, keys, done, failed, totals, checks)
