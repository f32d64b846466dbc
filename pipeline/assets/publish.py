"""Layer `publish`: the file users open, replaced atomically at the end of a successful build."""


import dagster as dg

from pipeline.contract import MartTable
from pipeline.publish import publish
from pipeline.resources import SurveyPipeline


def build_publish_asset(contract: tuple[MartTable, ...]) -> dg.AssetsDefinition:
    @dg.asset(
        key=["publish", "samskabelse_duckdb"],
        group_name="publish",
        deps=[dg.AssetKey(["marts", t.name]) for t in contract],
        kinds={"duckdb", "parquet"},
    )
    def samskabelse_duckdb(pipeline: SurveyPipeline) -> dg.MaterializeResult:
        """<marts>/samskabelse.duckdb (every mart, with COMMENT ON from schemas/marts.yaml), Parquet copies
        under <marts>/parquet/ and <marts>/manifest.json: built aside, then swapped in with os.replace."""
        settings = pipeline.settings
        with pipeline.work_db() as con:
            manifest = publish(con, settings, contract, pipeline.codebook())
        notes = {"note": "; ".join(manifest["notes"])} if manifest["notes"] else {}
        return dg.MaterializeResult(
            metadata={
                **notes,
                "path": dg.MetadataValue.path(str(settings.published_db)),
                "dagster/row_count": sum(manifest["tables"].values()),
                "tables": dg.MetadataValue.json(manifest["tables"]),
                "inputs": dg.MetadataValue.json(manifest["inputs"]),
            }
        )

    return samskabelse_duckdb
