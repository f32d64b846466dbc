"""Jobs: ingest waves (raw + staging, per partition) and build everything downstream."""

import dagster as dg

from pipeline.defs.assets.marts import CODEBOOK

ingest_wave_job = dg.define_asset_job(
    "ingest_wave",
    selection=dg.AssetSelection.groups("raw", "staging") - dg.AssetSelection.assets(CODEBOOK),
    description="Read, normalise and validate the waves of a partition or a partition range (one transaction per "
    "wave).",
)

build_marts_job = dg.define_asset_job(
    "build_marts",
    selection=dg.AssetSelection.assets(CODEBOOK) | dg.AssetSelection.groups("marts", "reports", "publish"),
    description="Codebook tables, every mart, the report pages, then publish samskabelse.duckdb.",
)
