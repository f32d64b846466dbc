"""Partitions: one dynamic partition per wave folder (added by `make run` and by the raw-folder sensor)."""

import dagster as dg

wave_partitions = dg.DynamicPartitionsDefinition(name="wave")
