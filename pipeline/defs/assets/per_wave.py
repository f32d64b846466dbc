"""One run, many waves: the per-wave assets (raw, staging) loop over the run's partitions, commit each wave on its
own and keep going when one fails. At the end the step either materializes every partition or, when any wave
failed, records a materialization for each wave that succeeded and fails with one message per failed wave
(metadata FAILED_WAVES: wave -> message, which `python -m pipeline.cli build` prints wave by wave)."""

from __future__ import annotations

import traceback
from collections.abc import Iterator

import dagster as dg

# Metadata key of a step failure: {wave: message} for each wave that failed in the step.
FAILED_WAVES = "failed waves"


def failure_text(exc: BaseException, expected: tuple[type[BaseException], ...]) -> str:
    """The message of an expected error (one line: it names file, row, column and what to do) or, for anything
    else (a bug), the exception with its stack trace, so that it can be reported."""
    if isinstance(exc, expected):
        return str(exc)
    return (
        "unexpected error (a bug, please report it with this trace): "
        + "".join(traceback.format_exception(exc)).strip()
    )  # with any notes the exception carries


def outcome(
    context: dg.AssetExecutionContext,
    keys: list[dg.AssetKey],
    done: dict[str, dict[dg.AssetKey, dict[str, object]]],
    failed: dict[str, str],
    common: dict[dg.AssetKey, dict[str, object]],
    checks: list[dg.AssetCheckResult] = (),
) -> Iterator[dg.MaterializeResult | dg.AssetMaterialization | dg.AssetCheckResult]:
    """Materialize the partitions of `keys`: done maps wave -> asset key -> that partition's metadata, common the
    metadata of every partition. Without failures: one MaterializeResult per key (Dagster records one
    materialization per partition of the run). With failures: one AssetMaterialization per successful wave and
    key, then the check results, then dg.Failure naming every failed wave. The check results come either way, so a
    failed check shows in the UI with the waves and reasons in its metadata."""
    if not failed:
        for wave, per_key in done.items():
            for key, meta in per_key.items():
                context.add_asset_metadata(meta, asset_key=key, partition_key=wave)
        for key in keys:
            yield dg.MaterializeResult(
                asset_key=key, metadata={**common[key], "partitions": dg.MetadataValue.json(list(done))}
            )
        yield from checks
        return
    for wave, per_key in done.items():
        for key in keys:
            yield dg.AssetMaterialization(
                asset_key=key,
                partition=wave,
                metadata={**common[key], "partitions": dg.MetadataValue.json(list(done)), **per_key[key]},
            )
    yield from checks
    waves = sorted(failed)
    raise dg.Failure(
        description="\n".join(f"wave {w}: {failed[w]}" for w in waves) if len(waves) > 1 else failed[waves[0]],
        metadata={
            FAILED_WAVES: dg.MetadataValue.json({w: failed[w] for w in waves}),
            "succeeded": dg.MetadataValue.json(list(done)),
        },
    )
