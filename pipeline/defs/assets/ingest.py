"""Layers `raw` and `staging`, per wave: the export read as the survey tool wrote it (raw/wave_export), then validated
into respondents, responses, quarantine, open answers and background groups (staging/<table>, one asset per staging
table of schemas/marts.yaml). Both are written in one step, one transaction per wave."""

import traceback

import dagster as dg
import polars as pl

from pipeline.contract import load_staging_tables
from pipeline.defs.assets.per_wave import failure_text, outcome
from pipeline.defs.metadata import preview
from pipeline.defs.partitions import one_run_for_many_waves, wave_partitions
from pipeline.defs.resources import SurveyPipeline
from pipeline.ingest.continuity import other_wave_columns
from pipeline.ingest.fingerprints import build_inputs, wave_fingerprint
from pipeline.ingest.readers import ExportError
from pipeline.ingest.wave import read_wave, unmapped_summary
from pipeline.ingest.waves import WaveError, load_wave
from pipeline.settings import Settings
from pipeline.staging.stage import (
    TooMuchQuarantined,
    check_quarantine_limit,
    stage_in_database,
    stop_when_mostly_unmatched,
)
from pipeline.staging.validation import staging_responses, table_errors
from pipeline.warehouse import delete_wave, qualified, query_frame, replace_wave

RAW = dg.AssetKey(["raw", "wave_export"])
# A wave counts as ingested when its staging rows were written (staging/respondents materialized).
STAGED = dg.AssetKey(["staging", "respondents"])


def staging_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["staging", name])


def _raw_metadata(read, n, n_cells: int, fingerprint: str | None, wave: str, con) -> dict[str, object]:
    """What the UI shows of a wave's raw rows (no cell values: they may be free text)."""
    meta: dict[str, object] = {"dagster/row_count": n.respondents.height}
    meta[f"{wave}: file"] = dg.MetadataValue.path(str(read.spec.export_path))
    meta[f"{wave}: sha256"] = read.sha256
    meta[f"{wave}: rows in the export"] = read.export.n_rows
    meta[f"{wave}: respondents (rows kept)"] = n.respondents.height
    meta[f"{wave}: rows left out (not responses)"] = sum(n.excluded_rows.values())
    meta[f"{wave}: answer cells (raw.wave_export)"] = n_cells
    meta[f"{wave}: header mapping"] = dg.MetadataValue.json(
        {c.header: c.target for c in n.columns if c.target != "personal_data"}
    )
    meta[f"{wave}: unmapped headers"] = dg.MetadataValue.json(n.unmapped_headers)
    meta[f"{wave}: dropped headers (personal data / drop)"] = dg.MetadataValue.json(n.dropped_headers)
    meta[f"{wave}: read as"] = dg.MetadataValue.json(read.describe())
    meta[f"{wave}: input fingerprint"] = fingerprint or "(folder unreadable)"
    meta["preview"] = preview(
        query_frame(
            con,
            "select wave, source_row, item, category from raw.wave_export where wave = ? "
            "order by source_row, item limit 5",
            [wave],
        )
    )
    return meta


def wave_value_maps(settings: Settings, wave: str, codebook) -> dict[str, dict[str, str]] | None:
    """The wave.yaml `values:` maps (for quarantine reasons); None when the wave folder cannot be read now."""
    try:
        return load_wave(settings.raw_dir, wave, codebook).values
    except (WaveError, OSError):
        return None


def build_ingest_asset(settings: Settings) -> dg.AssetsDefinition:
    """The ingest step: raw/wave_export and one staging/<table> asset per staging table of the contract."""
    tables = [t for t in load_staging_tables(settings.marts_contract_file) if t.asset]
    responses = next(t for t in tables if t.name == "responses")
    specs = [
        dg.AssetSpec(
            RAW,
            group_name="raw",
            partitions_def=wave_partitions,
            kinds={"duckdb", "polars"},
            description="The wave's export file (`data/raw/<wave>/`), read and normalised: headers matched to "
            "codebook items and roles, personal-data columns (e-mail, name, IP) dropped, respondent ids "
            "replaced by keyed pseudonyms, each distinct value matched to its answer category, background "
            "variables (role, library size, …) matched to their groups. Written to raw.waves, "
            "raw.wave_respondents, raw.wave_export (the item columns handed to DuckDB wide and unpivoted "
            "there by `sql/raw/wave_export.sql`) and raw.wave_groups in the work database, with the wave's "
            "input fingerprint (raw.wave_fingerprints).",
        ),
        *(
            dg.AssetSpec(
                staging_key(t.name),
                description=t.description,
                group_name="staging",
                deps=[RAW],
                partitions_def=wave_partitions,
                kinds={"duckdb", "pandera"},
                metadata={"dagster/column_schema": t.column_schema(), "dagster/table_name": f"staging.{t.name}"},
            )
            for t in tables
        ),
    ]
    checks = [
        dg.AssetCheckSpec(
            "matches_contract",
            asset=staging_key("responses"),
            blocking=True,
            description="pandera: every row of staging.responses names a wave, a respondent and a codebook item, "
            "with a category of the item's scale, once per respondent and item. Failing means a bug in staging, not "
            "bad data: the wave named in the metadata is left out of the work database, and the marts are not built.",
        ),
        dg.AssetCheckSpec(
            "quarantine_below_limit",
            asset=staging_key("quarantine"),
            blocking=True,
            description="At most 20 % of a wave's answer cells are quarantined. Failing means a wrong mapping "
            "(wave.yaml columns or values, a wrong respondent or panel id): the waves named in the metadata, with the "
            "reason, are left out and the marts are not built; fix wave.yaml and run again.",
        ),
    ]

    @one_run_for_many_waves(dg.multi_asset, specs=specs, check_specs=checks, can_subset=False, name="raw_and_staging")
    def raw_and_staging(context: dg.AssetExecutionContext, pipeline: SurveyPipeline):
        """Per wave of the run: read the export (pipeline.ingest), write its raw rows, stage it inside DuckDB
        (`sql/staging/<table>.sql` over raw.* and small decision tables made from distinct values: valid answers →
        staging.responses, cells that match no category, unknown statuses and conflicting duplicate respondents →
        staging.quarantine), check staging.responses with pandera, and commit it with its input fingerprint
        (staging.wave_fingerprints) — one transaction per wave. A wave that cannot be read keeps its earlier rows; one
        stopped in staging is taken out of the work database whole; either is named at the end, the others are
        kept."""
        codebook = pipeline.codebook()
        settings = pipeline.settings
        common = build_inputs(settings, codebook)
        keys = [RAW, *(staging_key(t.name) for t in tables)]
        done: dict[str, dict[dg.AssetKey, dict[str, object]]] = {}
        failed: dict[str, str] = {}
        shares: dict[str, float] = {}
        broken: dict[str, list[str]] = {}  # wave -> pandera failures of staging.responses
        over_limit: dict[str, str] = {}  # wave -> why too much of it would be quarantined
        respondents = cells = 0
        with pipeline.work_db() as con:
            for wave in context.partition_keys:
                # Fingerprint before reading: if a file changes while it is read, the next build sees a difference.
                fingerprint = wave_fingerprint(settings, wave, common)
                read_ok = False
                try:
                    read = read_wave(settings, codebook, wave, other_wave_columns(con, settings.sql_dir, wave))
                    n = read.normalised
                    # cells matching no category alone over the limit: stop before anything of the wave is written
                    stop_when_mostly_unmatched(n, codebook, settings, f"{wave}/{read.spec.export}", read.spec.values)
                    read_ok = True
                    con.begin()
                    replace_wave(con, "raw.waves", wave, read.waves_row())
                    replace_wave(con, "raw.wave_respondents", wave, n.respondents)
                    n_cells = n.answers.write(con, settings.sql_dir)
                    n.background.write(con, settings.sql_dir)
                    stamp = (
                        pl.DataFrame({"wave": [wave], "fingerprint": [fingerprint]}) if fingerprint else pl.DataFrame()
                    )
                    replace_wave(con, "raw.wave_fingerprints", wave, stamp)
                    staged = stage_in_database(con, settings, wave, codebook, wave_value_maps(settings, wave, codebook))
                    check_quarantine_limit(staged, f"{wave}/{read.spec.export}")
                    errors = table_errors(con, staging_responses(codebook, responses), "staging.responses", wave)
                    if errors:
                        broken[wave] = errors
                        raise ValueError(f"wave {wave}: staging.responses breaks its contract: " + "; ".join(errors))
                    replace_wave(con, "staging.wave_fingerprints", wave, stamp)
                    con.commit()
                except Exception as exc:
                    try:
                        con.rollback()
                    except Exception:
                        pass  # nothing was begun: the export could not be read
                    if read_ok:
                        # Read but stopped in staging: the wave is taken out whole, so the marts never show an older
                        # version of it as if it were current, and the next build tries it again.
                        delete_wave(con, wave)
                    if isinstance(exc, TooMuchQuarantined):
                        over_limit[wave] = str(exc)
                    expected = (TooMuchQuarantined, ValueError) if read_ok else (WaveError, ExportError)
                    failed[wave] = failure_text(exc, expected) + (
                        ". The wave is left out of the marts until this is fixed." if read_ok else ""
                    )
                    if not isinstance(exc, expected):
                        context.log.error(f"wave {wave}: " + "".join(traceback.format_exception(exc)))
                    continue
                respondents += n.respondents.height
                cells += n_cells
                done[wave] = {RAW: _raw_metadata(read, n, n_cells, fingerprint, wave, con)}
                for t in tables:
                    done[wave][staging_key(t.name)] = {
                        "dagster/row_count": staged.rows[t.name],
                        "preview": preview(
                            query_frame(
                                con,
                                "select * from " + qualified("staging." + t.name) + " where wave = ? limit 5",
                                [wave],
                            )
                        ),
                    }
                shares[wave] = staged.quarantine_share
                for note in n.notes:
                    if note.startswith("wave.yaml says"):
                        context.log.warning(f"wave {wave}: {note}")
                if n.excluded_rows:
                    context.log.info(f"wave {wave}: rows left out (not responses): {n.excluded_rows}")
                if n.unmapped_headers:
                    context.log.warning(f"wave {wave}: {unmapped_summary(n.unmapped_headers)}")
                if staged.exact_duplicates:
                    context.log.warning(f"wave {wave}: {staged.exact_duplicates} exact duplicate row(s) collapsed")
        common_meta: dict[dg.AssetKey, dict[str, object]] = {
            RAW: {"waves read": len(done), "respondents (rows kept)": respondents, "answer cells": cells},
        }
        for t in tables:
            common_meta[staging_key(t.name)] = {
                "rows (all waves of this run)": sum(
                    int(m[staging_key(t.name)]["dagster/row_count"]) for m in done.values()
                )
            }
        check_results = [
            dg.AssetCheckResult(
                asset_key=staging_key("responses"),
                check_name="matches_contract",
                passed=not broken,
                metadata={
                    "waves checked": dg.MetadataValue.json(sorted(shares) + sorted(broken)),
                    "failures": dg.MetadataValue.json(broken),
                },
            ),
            dg.AssetCheckResult(
                asset_key=staging_key("quarantine"),
                check_name="quarantine_below_limit",
                passed=not over_limit,
                metadata={
                    "largest share (waves staged)": max(shares.values(), default=0.0),
                    "share per wave": dg.MetadataValue.json(shares),
                    "waves over the limit": dg.MetadataValue.json(over_limit),
                },
            ),
        ]
        yield from outcome(context, keys, done, failed, common_meta, check_results)

    return raw_and_staging
