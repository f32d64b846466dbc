"""Layer `reports`: great-tables summary pages and matplotlib charts under <marts>/reports/."""


import dagster as dg

from pipeline.codebook import Codebook
from pipeline.figures import FigureCache
from pipeline.render import render_reports
from pipeline.resources import SurveyPipeline
from pipeline.warehouse import query_frame

PUBLISHED = dg.AssetKey(["publish", "samskabelse_duckdb"])

# item_disclosure: the distribution with the one disclosure decision (what the public profile hides)
READS = ["item_indicators", "item_disclosure", "waves", "open_answers", "item_by_group"]
FIGURE_CACHE = "figure_cache"  # under the build area: <marts>/.build/figure_cache/<key>.svg|.png


def build_reports_asset(codebook: Codebook) -> dg.AssetsDefinition:
    # Pages follow the publish step, so they never show numbers the published database does not hold yet.
    deps = [dg.AssetKey(["marts", name]) for name in READS] + [PUBLISHED]
    specs = [
        dg.AssetSpec(["reports", "index"], group_name="reports", deps=deps, kinds={"html"},
                     description="reports/index.html: response per wave; overview of every level (items, average "
                                 "top-2 share, range); every item as a Likert summary with a row group per level; "
                                 "every level's diverging chart; links to the level pages."),
        dg.AssetSpec(["reports", "figures"], group_name="reports", deps=deps, kinds={"svg", "png"},
                     description="reports/figures/<wave>/: per item a bar chart of the distribution (the report's "
                                 "Figures 1–17) and per level a diverging stacked Likert chart, as SVG and PNG "
                                 "(matplotlib; byte-identical across builds). A chart is redrawn only when its "
                                 "inputs changed (cache in <marts>/.build/figure_cache/)."),
    ] + [
        dg.AssetSpec(["reports", key], group_name="reports", kinds={"html"},
                     deps=[dg.AssetKey(["marts", f"indicators_{key}"]), *deps],
                     description=f"reports/{key}.html: the {key} level ({level.label['en']}): Likert summary per "
                                 "item (n, every category as n (pct %), stacked bar, headline share with Wilson "
                                 "interval, mean), its diverging chart, the item charts, the open answers and, "
                                 "where the newest wave has background variables, the items by group.")
        for key, level in codebook.levels.items()
    ]

    @dg.multi_asset(specs=specs, can_subset=False, name="reports")
    def reports(pipeline: SurveyPipeline):
        """Render the great-tables pages and the charts from the marts in the work database, in the language
        of PIPELINE_LANG; PIPELINE_PROFILE=public hides what marts.item_disclosure decides. Charts whose
        inputs did not change are taken from the chart cache of the build area."""
        settings = pipeline.settings
        cache = FigureCache(settings.build_dir / FIGURE_CACHE)
        with pipeline.work_db() as con:
            indicators = query_frame(con, "select * from marts.item_indicators")
            distribution = query_frame(con, "select * from marts.item_disclosure")
            waves = query_frame(con, "select * from marts.waves")
            open_answers = query_frame(con, "select * from marts.open_answers")
            by_group = query_frame(con, "select * from marts.item_by_group")
        written = render_reports(pipeline.codebook(), settings.lang, settings.reports_dir, indicators,
                                 distribution, waves, open_answers, profile=settings.profile,
                                 min_cell=settings.min_cell, cache_dir=cache, by_group=by_group,
                                 min_group=settings.min_group)
        for name, path in written.items():
            if path.is_dir():
                files = sorted(p for p in path.rglob("*") if p.is_file())
                metadata = {"path": dg.MetadataValue.path(str(path)), "files": len(files),
                            "bytes": sum(p.stat().st_size for p in files)}
                metadata["charts drawn"] = len(cache.drawn)
                metadata["charts from cache"] = len(cache.used) - len(cache.drawn)
            else:
                metadata = {"path": dg.MetadataValue.path(str(path)), "bytes": path.stat().st_size}
            yield dg.MaterializeResult(
                asset_key=["reports", name],
                metadata={**metadata, "language": settings.lang, "profile": settings.profile},
            )

    return reports
