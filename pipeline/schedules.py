"""Schedules: the daily rebuild (see issue 4)."""

import dagster as dg

schedules: list[dg.ScheduleDefinition] = []
