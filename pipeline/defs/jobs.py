"""Jobs: ingest one wave (raw + staging, per partition) and build everything downstream."""

import dagster as dg

from pipeline.defs.assets.staging import CODEBOOK

ingest_wave_job = dg.define_asset_job(
    "ingest_wave",
    selection=dg.AssetSelection.groups("raw", "staging") - dg.AssetSelection.assets(CODEBOOK),
    description="Read, normalise and validate one wave's export (one run per wave partition).",
)

build_marts_job = dg.define_asset_job(
    "build_marts",
    selection=dg.AssetSelection.assets(CODEBOOK) | dg.AssetSelection.groups("marts", "reports", "publish"),
    description="Codebook tables, every mart, the report pages, then publish samskabelse.duckdb.",
)
