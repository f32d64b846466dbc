"""Layer `reports`: great-tables summary pages under <marts>/reports/."""


import dagster as dg

from pipeline.codebook import Codebook
from pipeline.render import render_reports
from pipeline.resources import SurveyPipeline
from pipeline.warehouse import query_frame

READS = ["item_indicators", "item_distribution", "waves"]


def build_reports_asset(codebook: Codebook) -> dg.AssetsDefinition:
    deps = [dg.AssetKey(["marts", name]) for name in READS]
    specs = [
        dg.AssetSpec(["reports", "index"], group_name="reports", deps=deps, kinds={"html"},
                     description="reports/index.html: overview of every level (items, average top-2 share, range) "
                                 "with response rate per wave, and links to the level pages."),
    ] + [
        dg.AssetSpec(["reports", key], group_name="reports", kinds={"html"},
                     deps=[dg.AssetKey(["marts", f"indicators_{key}"]), *deps],
                     description=f"reports/{key}.html: summary table of the {key} level ({level.label['en']}): "
                                 "per item n, distribution, headline share with Wilson interval, mean.")
        for key, level in codebook.levels.items()
    ]

    @dg.multi_asset(specs=specs, can_subset=False, name="reports")
    def reports(pipeline: SurveyPipeline):
        """Render the great-tables pages from the marts in the work database."""
        settings = pipeline.settings
        with pipeline.work_db() as con:
            indicators = query_frame(con, "select * from marts.item_indicators")
            distribution = query_frame(con, "select * from marts.item_distribution")
            waves = query_frame(con, "select * from marts.waves")
        written = render_reports(pipeline.codebook(), settings.lang, settings.reports_dir, indicators,
                                 distribution, waves)
        for name, path in written.items():
            yield dg.MaterializeResult(
                asset_key=["reports", name],
                metadata={"path": dg.MetadataValue.path(str(path)), "bytes": path.stat().st_size,
                          "language": settings.lang},
            )

    return reports
