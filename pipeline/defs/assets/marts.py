"""Layer `marts`: the codebook as tables, then one asset per table of schemas/marts.yaml (`marts/<table>` =
`sql/marts/<table>.sql` = table `marts.<table>` of the work database). Each mart's upstream assets are the tables its
SQL reads, so Dagster builds it after them, and a single mart can be materialised (or retried) from the UI."""

import dagster as dg

from pipeline.codebook import Codebook
from pipeline.contract import MartTable
from pipeline.defs.assets.ingest import RAW, staging_key
from pipeline.defs.metadata import preview
from pipeline.defs.resources import SurveyPipeline
from pipeline.marts.checks import distribution_errors, indicator_errors, pct_sums_off
from pipeline.marts.decisions import audit_disclosure, build_mart
from pipeline.marts.reproduction import compare, load_reference
from pipeline.settings import Settings
from pipeline.warehouse import load_codebook_tables, qualified, query_frame, table_columns

CODEBOOK = dg.AssetKey(["staging", "codebook"])
REFERENCE_FILE = "published_2024.yaml"


@dg.asset(key=CODEBOOK, group_name="staging", kinds={"duckdb", "yaml"})
def codebook_tables(pipeline: SurveyPipeline) -> dg.MaterializeResult:
    """schemas/codebook.yaml checked and written as codebook.levels, codebook.items, codebook.categories,
    codebook.background and codebook.groups: the single source of items, levels, scales, background variables and
    labels for the SQL."""
    codebook = pipeline.codebook()
    with pipeline.work_db() as con:
        counts = load_codebook_tables(con, codebook)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": counts["items"],
            "codebook sha256": codebook.sha256,
            "levels": counts["levels"],
            "items": counts["items"],
            "categories": counts["categories"],
            "background variables": counts["background"],
            "groups": counts["groups"],
        }
    )


def mart_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["marts", name])


def upstream_key(schema: str, table: str, staging_tables: set[str]) -> dg.AssetKey:
    """The asset that writes a table the SQL reads."""
    if schema == "raw":
        return RAW
    if schema == "codebook":
        return CODEBOOK
    if schema == "staging" and table in staging_tables:
        return staging_key(table)
    if schema == "marts":
        return mart_key(table)
    raise ValueError(f"SQL reads {schema}.{table}, which no asset writes")


def build_params(codebook: Codebook, settings: Settings) -> dict[str, object]:
    """The parameters every mart's SQL may bind ($z, $alpha, $small_n_below, $min_cell, $min_group)."""
    return {
        "z": codebook.z,
        "alpha": codebook.alpha,
        "small_n_below": codebook.small_n_below,
        "min_cell": settings.min_cell,
        "min_group": settings.min_group,
    }


def build_mart_asset(table: MartTable, staging_tables: set[str]) -> dg.AssetsDefinition:
    """marts/<table>: create or replace marts.<table> from its SQL, stopping when its columns differ from the
    contract."""
    reads = [(s, n) for s, n in table.reads if not (s == "marts" and n == table.name)]
    deps = sorted({upstream_key(s, n, staging_tables) for s, n in reads}, key=str)

    @dg.asset(
        key=mart_key(table.name),
        description=table.description,
        group_name="marts",
        deps=deps,
        kinds={"duckdb", "sql"},
        metadata={
            "sql": dg.MetadataValue.path(str(table.sql_path)),
            "dagster/column_schema": table.column_schema(),
            "dagster/table_name": f"marts.{table.name}",
        },
    )
    def mart(pipeline: SurveyPipeline) -> dg.MaterializeResult:
        settings = pipeline.settings
        with pipeline.work_db() as con:
            rows, decided = build_mart(con, settings, table, build_params(pipeline.codebook(), settings))
            differences = table.differences(table_columns(con, "marts", table.name))
            if differences:
                raise dg.Failure(
                    description=f"sql/marts/{table.sql_path.name} does not return what schemas/marts.yaml documents "
                    f"for {table.name}: " + "; ".join(differences) + ". Change one so they agree (make docs then "
                    "renews docs/marts.md)"
                )
            head = query_frame(con, "select * from " + qualified("marts." + table.name) + " limit 5")
        return dg.MaterializeResult(metadata={"dagster/row_count": rows, "preview": preview(head), **decided})

    return mart


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            "matches_contract",
            asset=mart_key("item_distribution"),
            description="pandera: counts ≥ 0, pct within 0–100, one row per wave, item and category. "
            "Failing means an error in the SQL of the marts (the metadata lists the rows "
            "that break a rule); the marts are still published, so fix it before reading "
            "them.",
        ),
        dg.AssetCheckSpec(
            "pct_sums_to_100",
            asset=mart_key("item_distribution"),
            description="Per wave and item with a base, the categories' pct add up to 100. Failing means "
            "a category is counted twice or lost; the metadata names each (wave, item, "
            "total).",
        ),
    ],
)
def distribution_checks(pipeline: SurveyPipeline):
    """The checks of marts.item_distribution (pipeline.marts.checks)."""
    with pipeline.work_db() as con:
        distribution = query_frame(con, "select * from marts.item_distribution")
    errors = distribution_errors(distribution)
    yield dg.AssetCheckResult(
        asset_key=mart_key("item_distribution"),
        check_name="matches_contract",
        passed=not errors,
        metadata={"failures": dg.MetadataValue.json(errors)},
    )
    off = pct_sums_off(distribution)
    yield dg.AssetCheckResult(
        asset_key=mart_key("item_distribution"),
        check_name="pct_sums_to_100",
        passed=off.is_empty(),
        metadata={"items off": dg.MetadataValue.json(off.rows())},
    )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            "matches_contract",
            asset=mart_key("item_indicators"),
            description="pandera: shares and intervals within 0–100, mean score within 1–5. Failing "
            "means an error in the SQL of the indicators; the metadata lists the rows.",
        ),
        dg.AssetCheckSpec(
            "reproduces_published_2024",
            asset=mart_key("item_indicators"),
            blocking=True,
            additional_deps=[mart_key("waves")],
            description="Wave 2024 matches every percentage published in the report "
            "(`schemas/published_2024.yaml`) and the response rate 10/12. Blocking: when "
            "it fails nothing is published (pages and the DuckDB file stay as they were); "
            "the metadata lists every mismatch (item, published, built).",
        ),
    ],
)
def indicator_checks(pipeline: SurveyPipeline):
    """The checks of marts.item_indicators: pandera, and the reproduction of every published percentage."""
    with pipeline.work_db() as con:
        indicators = query_frame(con, "select * from marts.item_indicators")
        waves = query_frame(con, "select * from marts.waves")
    errors = indicator_errors(indicators)
    yield dg.AssetCheckResult(
        asset_key=mart_key("item_indicators"),
        check_name="matches_contract",
        passed=not errors,
        metadata={"failures": dg.MetadataValue.json(errors)},
    )
    reference = load_reference(pipeline.settings.schemas_dir / REFERENCE_FILE)
    wave = str(reference["wave"])
    if wave not in waves["wave"].to_list():
        yield dg.AssetCheckResult(
            asset_key=mart_key("item_indicators"),
            check_name="reproduces_published_2024",
            passed=True,
            metadata={"skipped": f"wave {wave} is not among the built waves"},
        )
        return
    compared, mismatches = compare(reference, indicators, waves)
    yield dg.AssetCheckResult(
        asset_key=mart_key("item_indicators"),
        check_name="reproduces_published_2024",
        passed=not mismatches,
        severity=dg.AssetCheckSeverity.ERROR,
        description=None if not mismatches else "; ".join(str(m) for m in mismatches),
        metadata={"figures compared": compared, "mismatches": dg.MetadataValue.json([str(m) for m in mismatches])},
    )


@dg.asset_check(
    # on the last mart the audit reads (wave_change reads panel_change, which reads item_by_group): a blocking check
    # holds back everything downstream of its asset, so it cannot sit on a mart the others it reads come after
    asset=mart_key("wave_change"),
    name="published_cells_are_protected",
    blocking=True,
    additional_deps=[
        mart_key(name)
        for name in ("item_by_group", "item_disclosure", "disclosure", "waves", "panel_change", "panel_retention")
    ],
    description="Public profile: from the figures the public pages publish (marts.item_disclosure, "
    "marts.item_by_group, the panel's figures in marts.panel_change, panel_retention, wave_change and waves; not "
    "the decision) and every relation between them (the groups sum to the overall distribution, the categories to "
    "the base, the headline count to its categories, counts ≥ 0; the pairs of the panel are part of each wave's "
    "respondents; who answered again, dropped out and joined add up to each wave's panel members, at most its "
    "responses), each hidden count below PIPELINE_MIN_CELL keeps a feasible range that reaches 0 and "
    "PIPELINE_MIN_CELL (linear programming, HiGHS). Blocking: it fails when a count can be pinned, which stops the "
    "build before anything is published; the metadata names it, its range and the relations that pin it. Internal "
    "builds publish every count and pass without auditing.",
)
def disclosure_audit(pipeline: SurveyPipeline) -> dg.AssetCheckResult:
    """The audit of the public profile's disclosure decision (pipeline.marts.disclosure.audit_published)."""
    settings = pipeline.settings
    if settings.profile != "public":
        return dg.AssetCheckResult(passed=True, metadata={"audited": "internal profile: every count is published"})
    with pipeline.work_db() as con:
        result = audit_disclosure(con, settings)
    return dg.AssetCheckResult(
        passed=not result.failures,
        severity=dg.AssetCheckSeverity.ERROR,
        description=None
        if not result.failures
        else "; ".join(str(f) for f in result.failures[:5])
        + (f" (and {len(result.failures) - 5} more)" if len(result.failures) > 5 else ""),
        metadata={
            "cells hidden": result.hidden,
            "cells audited": result.audited,
            "narrowest range": result.narrowest if result.narrowest is not None else "none hidden",
            "failures": dg.MetadataValue.json([str(f) for f in result.failures]),
        },
    )


def build_mart_assets(contract: tuple[MartTable, ...], staging_tables: set[str]) -> list[dg.AssetsDefinition]:
    """One asset per mart of the contract."""
    return [build_mart_asset(t, staging_tables) for t in contract]


MART_CHECKS = [distribution_checks, indicator_checks, disclosure_audit]
