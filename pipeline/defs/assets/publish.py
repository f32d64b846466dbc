"""Layer `publish`: what users open, replaced only at the end of a successful build. `publish/samskabelse_duckdb`
copies every mart into the DuckDB file and Parquet; `publish/reports` then copies the rendered pages and charts, so
the pages never show numbers the published database does not hold."""

import dagster as dg

from pipeline.contract import MartTable
from pipeline.defs.resources import SurveyPipeline
from pipeline.publish import publish, publish_reports

PUBLISHED_DB = dg.AssetKey(["publish", "samskabelse_duckdb"])
PUBLISHED_REPORTS = dg.AssetKey(["publish", "reports"])


def build_publish_assets(contract: tuple[MartTable, ...], report_keys: list[dg.AssetKey]) -> list[dg.AssetsDefinition]:
    @dg.asset(
        key=PUBLISHED_DB,
        group_name="publish",
        deps=[dg.AssetKey(["marts", t.name]) for t in contract],
        kinds={"duckdb", "parquet"},
    )
    def samskabelse_duckdb(pipeline: SurveyPipeline) -> dg.MaterializeResult:
        """`<marts>/samskabelse.duckdb` (every mart, with COMMENT ON from `schemas/marts.yaml`), Parquet copies
        under `<marts>/parquet/` and `<marts>/manifest.json`: built aside, then swapped in with os.replace."""
        settings = pipeline.settings
        with pipeline.work_db() as con:
            manifest = publish(con, settings, contract, pipeline.codebook())
        notes = {"note": "; ".join(manifest["notes"])} if manifest["notes"] else {}
        return dg.MaterializeResult(
            metadata={
                **notes,
                "path": dg.MetadataValue.path(str(settings.published_db)),
                "dagster/row_count": sum(manifest["row_counts"].values()),
                "tables": dg.MetadataValue.json(manifest["row_counts"]),
                "inputs": dg.MetadataValue.json(manifest["inputs"]),
            }
        )

    @dg.asset(
        key=PUBLISHED_REPORTS, group_name="publish", deps=[PUBLISHED_DB, *sorted(report_keys, key=str)], kinds={"html"}
    )
    def reports(pipeline: SurveyPipeline) -> dg.MaterializeResult:
        """`<marts>/reports/`: the pages and charts rendered in the build area, copied file by file (each replaced
        atomically, only when its bytes changed; files no longer made are removed) once the DuckDB file holding
        their numbers is published."""
        settings = pipeline.settings
        counts = publish_reports(settings.staged_reports_dir, settings.reports_dir)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(settings.reports_dir)),
                "files written": counts["written"],
                "files unchanged": counts["unchanged"],
                "files removed": counts["removed"],
            }
        )

    return [samskabelse_duckdb, reports]
