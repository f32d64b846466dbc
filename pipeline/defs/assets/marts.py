"""Layer `marts`: one table per SQL model in sql/marts/, built in the work database in dependency order."""


import dagster as dg
import polars as pl

from pipeline.defs.assets.staging import CODEBOOK, RAW, STAGING_TABLES
from pipeline.defs.metadata import preview
from pipeline.defs.resources import SurveyPipeline
from pipeline.marts.contract import MartTable
from pipeline.marts.reproduction import compare, load_reference
from pipeline.staging.validation import indicators_schema, item_distribution_schema, validation_errors
from pipeline.warehouse import build_model, qualified, query_frame, table_columns

REFERENCE_FILE = "published_2024.yaml"


def upstream_key(schema: str, table: str) -> dg.AssetKey:
    """The asset that writes a table the SQL reads."""
    if schema == "raw":
        return RAW
    if schema == "codebook":
        return CODEBOOK
    if schema == "staging" and table in STAGING_TABLES:
        return dg.AssetKey(["staging", table])
    if schema == "marts":
        return dg.AssetKey(["marts", table])
    raise ValueError(f"SQL reads {schema}.{table}, which no asset writes")


def build_marts_asset(contract: tuple[MartTable, ...]) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            ["marts", t.name],
            description=t.description,
            group_name="marts",
            deps=sorted({upstream_key(s, n) for s, n in t.reads if not (s == "marts" and n == t.name)}, key=str),
            kinds={"duckdb", "sql"},
            metadata={"sql": dg.MetadataValue.path(str(t.sql_path)), "dagster/column_schema": t.column_schema(),
                      "dagster/table_name": f"marts.{t.name}"},
        )
        for t in contract
    ]
    checks = [
        dg.AssetCheckSpec("matches_contract", asset=["marts", "item_distribution"],
                          description="pandera: counts ≥ 0, pct within 0–100, one row per wave, item and category. "
                                      "Failing means an error in the SQL of the marts (the metadata lists the rows "
                                      "that break a rule); the marts are still published, so fix it before reading "
                                      "them."),
        dg.AssetCheckSpec("pct_sums_to_100", asset=["marts", "item_distribution"],
                          description="Per wave and item with a base, the categories' pct add up to 100. Failing means "
                                      "a category is counted twice or lost; the metadata names each (wave, item, "
                                      "total)."),
        dg.AssetCheckSpec("matches_contract", asset=["marts", "item_indicators"],
                          description="pandera: shares and intervals within 0–100, mean score within 1–5. Failing "
                                      "means an error in the SQL of the indicators; the metadata lists the rows."),
        dg.AssetCheckSpec("reproduces_published_2024", asset=["marts", "item_indicators"], blocking=True,
                          description="Wave 2024 matches every percentage published in the report "
                                      "(`schemas/published_2024.yaml`) and the response rate 10/12. Blocking: when "
                                      "it fails nothing is published (pages and the DuckDB file stay as they were); "
                                      "the metadata lists every mismatch (item, published, built)."),
    ]
    @dg.multi_asset(specs=specs, check_specs=checks, can_subset=False, name="marts")
    def marts(context: dg.AssetExecutionContext, pipeline: SurveyPipeline):
        """Run every SQL model of sql/marts/ (create or replace marts.<table>), then check the results."""
        codebook = pipeline.codebook()
        params = {
            "z": codebook.z,
            "alpha": codebook.alpha,
            "small_n_below": codebook.small_n_below,
            "min_cell": pipeline.settings.min_cell,
            "min_group": pipeline.settings.min_group,
        }
        settings = pipeline.settings
        with pipeline.work_db() as con:
            con.begin()
            frames: dict[str, pl.DataFrame] = {}
            for t in contract:
                rows = build_model(con, settings.sql_dir, t.name, {**params, **dict(t.params)}, t.sql_path.stem)
                frames[t.name] = query_frame(con, "select * from " + qualified("marts." + t.name) + " limit 5")
                differences = t.differences(table_columns(con, "marts", t.name))
                if differences:
                    raise dg.Failure(
                        description=f"sql/marts/{t.name}.sql does not return what schemas/marts.yaml documents: "
                        + "; ".join(differences)
                        + ". Change one so they agree (make docs then renews docs/marts.md)"
                    )
                yield dg.MaterializeResult(
                    asset_key=["marts", t.name],
                    metadata={"dagster/row_count": rows, "preview": preview(frames[t.name])},
                )
            con.commit()
            distribution = query_frame(con, "select * from marts.item_distribution")
            indicators = query_frame(con, "select * from marts.item_indicators")
            waves = query_frame(con, "select * from marts.waves")

        errors = validation_errors(item_distribution_schema(), distribution)
        yield dg.AssetCheckResult(
            asset_key=["marts", "item_distribution"],
            check_name="matches_contract",
            passed=not errors,
            metadata={"failures": dg.MetadataValue.json(errors)},
        )
        sums = (
            distribution.filter(pl.col("base_n") > 0)
            .group_by("wave", "item")
            .agg(pl.col("pct").sum().alias("total"))
            .filter((pl.col("total") - 100).abs() > 1e-9)
            .sort("wave", "item")
        )
        yield dg.AssetCheckResult(
            asset_key=["marts", "item_distribution"],
            check_name="pct_sums_to_100",
            passed=sums.is_empty(),
            metadata={"items off": dg.MetadataValue.json(sums.rows())},
        )
        errors = validation_errors(indicators_schema(), indicators)
        yield dg.AssetCheckResult(
            asset_key=["marts", "item_indicators"],
            check_name="matches_contract",
            passed=not errors,
            metadata={"failures": dg.MetadataValue.json(errors)},
        )

        reference = load_reference(settings.schemas_dir / REFERENCE_FILE)
        wave = str(reference["wave"])
        if wave not in waves["wave"].to_list():
            yield dg.AssetCheckResult(
                asset_key=["marts", "item_indicators"],
                check_name="reproduces_published_2024",
                passed=True,
                metadata={"skipped": f"wave {wave} is not among the built waves"},
            )
        else:
            compared, mismatches = compare(reference, indicators, waves)
            yield dg.AssetCheckResult(
                asset_key=["marts", "item_indicators"],
                check_name="reproduces_published_2024",
                passed=not mismatches,
                severity=dg.AssetCheckSeverity.ERROR,
                description=None if not mismatches else "; ".join(str(m) for m in mismatches),
                metadata={
                    "figures compared": compared,
                    "mismatches": dg.MetadataValue.json([str(m) for m in mismatches]),
                },
            )

    return marts
