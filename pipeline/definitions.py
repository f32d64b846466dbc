"""The one Dagster `Definitions` of samskabelse (loaded by workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from pipeline.codebook import load_codebook
from pipeline.defs.assets.marts import build_marts_asset
from pipeline.defs.assets.publish import build_publish_assets
from pipeline.defs.assets.raw import wave_export
from pipeline.defs.assets.reports import build_reports_asset, panel_report, waves_report
from pipeline.defs.assets.staging import codebook_tables, staging_wave
from pipeline.defs.jobs import build_marts_job, ingest_wave_job
from pipeline.defs.resources import SurveyPipeline
from pipeline.defs.schedules import schedules
from pipeline.defs.sensors import build_sensors
from pipeline.marts.contract import load_contract
from pipeline.settings import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    codebook = load_codebook(settings.codebook_file)
    contract = load_contract(settings.marts_contract_file, settings.sql_dir)
    reports = [build_reports_asset(codebook), waves_report, panel_report]
    return dg.Definitions(
        assets=[
            wave_export,
            codebook_tables,
            staging_wave,
            build_marts_asset(contract),
            *reports,
            *build_publish_assets(contract, [key for asset in reports for key in asset.keys]),
        ],
        jobs=[ingest_wave_job, build_marts_job],
        sensors=build_sensors(settings.sensor_interval),
        schedules=schedules,
        resources={"pipeline": SurveyPipeline.from_settings(settings)},
        executor=dg.in_process_executor,
    )


defs = build_definitions(Settings.from_env())
