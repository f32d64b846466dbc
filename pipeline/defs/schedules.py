"""Schedules: the daily rebuild of marts, report pages and the published database."""

import dagster as dg

from pipeline.defs.jobs import build_marts_job

SCHEDULE_NAME = "daily_rebuild"

daily_rebuild = dg.ScheduleDefinition(
    name=SCHEDULE_NAME,
    job=build_marts_job,
    cron_schedule="0 5 * * *",
    execution_timezone="Europe/Oslo",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 05:00 (Oslo): rebuild every mart from the ingested waves, render the report pages "
    "and publish samskabelse.duckdb (waves are ingested by raw_folder_sensor when their files change).",
)

schedules: list[dg.ScheduleDefinition] = [daily_rebuild]
