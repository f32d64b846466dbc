"""Dagster assets, one module per layer: raw → staging → marts → reports, then publish."""
