"""The Dagster side: assets per layer (assets/), jobs, sensors, schedules, the resource, partitions, the instance per
marts folder and `make ui`."""
