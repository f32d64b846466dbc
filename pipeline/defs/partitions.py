"""Partitions: one dynamic partition per wave folder (added by `make run` and by the raw-folder sensor)."""

import warnings

import dagster as dg

wave_partitions = dg.DynamicPartitionsDefinition(name="wave")


def one_run_for_many_waves(decorator, **kwargs):
    """`decorator(**kwargs)` (dg.asset or dg.multi_asset) with BackfillPolicy.single_run(): a backfill or partition
    range over many waves is one run, which the per-wave assets loop over (pipeline.defs.assets.per_wave). Dagster 1.13
    still flags the backfill_policy parameter as beta; the warning is silenced here only, for this parameter."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=dg.BetaWarning, message="Parameter `backfill_policy`")
        return decorator(**kwargs, partitions_def=wave_partitions, backfill_policy=dg.BackfillPolicy.single_run())
