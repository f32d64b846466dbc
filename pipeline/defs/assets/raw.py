"""Layer `raw`: each wave's export read as the survey tool wrote it."""


import traceback

import dagster as dg
import polars as pl

from pipeline.defs.assets.per_wave import failure_text, outcome
from pipeline.defs.metadata import preview
from pipeline.defs.partitions import one_run_for_many_waves
from pipeline.defs.resources import SurveyPipeline
from pipeline.ingest.fingerprints import build_inputs, wave_fingerprint
from pipeline.ingest.readers import ExportError
from pipeline.ingest.wave import read_wave, unmapped_summary
from pipeline.ingest.waves import WaveError
from pipeline.warehouse import query_frame, replace_wave

RAW = dg.AssetKey(["raw", "wave_export"])


@one_run_for_many_waves(dg.asset, key=RAW, group_name="raw", kinds={"duckdb", "polars"})
def wave_export(context: dg.AssetExecutionContext, pipeline: SurveyPipeline):
    """The wave's export file (`data/raw/<wave>/`), read and normalised: headers matched to codebook items
    and roles, personal-data columns (e-mail, name, IP) dropped, respondent ids replaced by keyed
    pseudonyms, each distinct value matched to its answer category, background variables (role, library size, …)
    matched to their groups. Written to raw.waves, raw.wave_respondents, raw.wave_export (the item columns handed to
    DuckDB wide and unpivoted there by `sql/raw/wave_export.sql`) and raw.wave_groups in the work database, with
    the wave's input fingerprint (raw.wave_fingerprints).
    One run may read many waves: each is written on its own; a wave that fails is named at the end and
    the others are kept."""
    codebook = pipeline.codebook()
    settings = pipeline.settings
    common = build_inputs(settings, codebook)
    done: dict[str, dict[dg.AssetKey, dict[str, object]]] = {}
    failed: dict[str, str] = {}
    respondents = cells = 0
    with pipeline.work_db() as con:
        for wave in context.partition_keys:
            # Fingerprint before reading: if a file changes while it is read, the next build sees a difference.
            fingerprint = wave_fingerprint(settings, wave, common)
            in_transaction = False
            try:
                read = read_wave(settings, codebook, wave)
                n = read.normalised
                con.begin()
                in_transaction = True
                replace_wave(con, "raw.waves", wave, read.waves_row())
                replace_wave(con, "raw.wave_respondents", wave, n.respondents)
                n_cells = n.answers.write(con, settings.sql_dir)
                n.background.write(con, settings.sql_dir)
                replace_wave(con, "raw.wave_fingerprints", wave,
                             pl.DataFrame({"wave": [wave], "fingerprint": [fingerprint]}) if fingerprint
                             else pl.DataFrame())
                # The staged rows no longer match raw until staging has run: no staging fingerprint till then.
                replace_wave(con, "staging.wave_fingerprints", wave, pl.DataFrame())
                con.commit()
                in_transaction = False
            except Exception as exc:
                if in_transaction:
                    con.rollback()
                failed[wave] = failure_text(exc, (WaveError, ExportError))
                if not isinstance(exc, (WaveError, ExportError)):
                    context.log.error(f"wave {wave}: " + "".join(traceback.format_exception(exc)))
                continue
            respondents += n.respondents.height
            cells += n_cells
            # dagster/row_count: the export's respondents (rows kept), not the answer cells raw.wave_export holds
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
            meta["preview"] = preview(  # not the values: they may be free text
                query_frame(con, "select wave, source_row, item, category from raw.wave_export where wave = ? "
                            "order by source_row, item limit 5", [wave])
            )
            done[wave] = {RAW: meta}
            for note in n.notes:
                if note.startswith("wave.yaml says"):
                    context.log.warning(f"wave {wave}: {note}")
            if n.excluded_rows:
                context.log.info(f"wave {wave}: rows left out (not responses): {n.excluded_rows}")
            if n.unmapped_headers:
                context.log.warning(f"wave {wave}: {unmapped_summary(n.unmapped_headers)}")
    yield from outcome(
        context,
        [RAW],
        done,
        failed,
        {RAW: {"waves read": len(done), "respondents (rows kept)": respondents, "answer cells": cells}},
    )
