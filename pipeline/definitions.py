"""The one Dagster `Definitions` of samskabelse (loaded by workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from pipeline.codebook import load_codebook
from pipeline.contract import load_contract, load_staging_tables
from pipeline.defs.assets.document import document
from pipeline.defs.assets.ingest import build_ingest_asset
from pipeline.defs.assets.marts import MART_CHECKS, build_mart_assets, codebook_tables
from pipeline.defs.assets.publish import build_publish_assets
from pipeline.defs.assets.reports import build_reports_asset, panel_report, waves_report
from pipeline.defs.jobs import build_marts_job, ingest_wave_job
from pipeline.defs.resources import SurveyPipeline
from pipeline.defs.schedules import schedules
from pipeline.defs.sensors import build_sensors
from pipeline.settings import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    codebook = load_codebook(settings.codebook_file)
    contract = load_contract(settings.marts_contract_file, settings.sql_dir)
    staging_tables = {t.name for t in load_staging_tables(settings.marts_contract_file) if t.asset}
    reports = [build_reports_asset(codebook), waves_report, panel_report, document]
    return dg.Definitions(
        assets=[
            build_ingest_asset(settings),
            codebook_tables,
            *build_mart_assets(contract, staging_tables),
            *reports,
            *build_publish_assets(contract, [key for asset in reports for key in asset.keys]),
        ],
        asset_checks=MART_CHECKS,
        jobs=[ingest_wave_job, build_marts_job],
        sensors=build_sensors(settings.sensor_interval),
        schedules=schedules,
        resources={"pipeline": SurveyPipeline.from_settings(settings)},
        executor=dg.in_process_executor,
    )


defs = build_definitions(Settings.from_env())
