"""Sensors: watch the raw folder for new or changed waves (see issue 4)."""

import dagster as dg

sensors: list[dg.SensorDefinition] = []
