"""The one Dagster `Definitions` of samskabelse (loaded by workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from pipeline.assets.marts import build_marts_asset
from pipeline.assets.panel_report import panel_report
from pipeline.assets.publish import build_publish_assets
from pipeline.assets.raw import wave_export
from pipeline.assets.reports import build_reports_asset
from pipeline.assets.staging import codebook_tables, staging_wave
from pipeline.assets.wave_reports import waves_report
from pipeline.codebook import load_codebook
from pipeline.contract import load_contract
from pipeline.jobs import build_marts_job, ingest_wave_job
from pipeline.resources import SurveyPipeline
from pipeline.schedules import schedules
from pipeline.sensors import sensors
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
        sensors=sensors,
        schedules=schedules,
        resources={"pipeline": SurveyPipeline.from_settings(settings)},
        executor=dg.in_process_executor,
    )


defs = build_definitions(Settings.from_env())
