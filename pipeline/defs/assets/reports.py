"""Layer `reports`: great-tables summary pages and matplotlib charts, rendered into the build area
(`<marts>/.build/reports/`); publish/reports copies them to `<marts>/reports/` after the DuckDB file is published."""


import dagster as dg

from pipeline.codebook import Codebook
from pipeline.defs.resources import SurveyPipeline
from pipeline.reports.figures import FigureCache
from pipeline.reports.render import render_reports
from pipeline.warehouse import read_marts

# The marts each page is made of (pipeline.reports.render.build_pages and the chart functions). The asset reads exactly
# their union and each page's Dagster deps are exactly its tuple; tests/test_reports_reads.py renders every page
# with each mart emptied and checks that a page changes only when one of its own marts does.
PAGE_READS: dict[str, tuple[str, ...]] = {
    "index": ("item_disclosure", "item_indicators", "waves"),
    "figures": ("item_by_group", "item_disclosure", "waves"),
    "level": ("item_by_group", "item_disclosure", "item_indicators", "open_answers", "waves"),
}
READS = tuple(sorted({name for names in PAGE_READS.values() for name in names}))
FIGURE_CACHE = "figure_cache"  # under the build area: <marts>/.build/figure_cache/<key>.svg|.png


def mart_keys(names: tuple[str, ...]) -> list[dg.AssetKey]:
    return [dg.AssetKey(["marts", name]) for name in names]


def build_reports_asset(codebook: Codebook) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(["reports", "index"], group_name="reports", deps=mart_keys(PAGE_READS["index"]), kinds={"html"},
                     description="`reports/index.html`: response per wave; overview of every level (items, average "
                                 "top-2 share, range); every item as a Likert summary with a row group per level; "
                                 "every level's diverging chart; links to the level pages."),
        dg.AssetSpec(["reports", "figures"], group_name="reports", deps=mart_keys(PAGE_READS["figures"]),
                     kinds={"svg", "png"},
                     description="`reports/figures/<wave>/`: per item a bar chart of the distribution (the report's "
                                 "Figures 1–17), per level a diverging stacked Likert chart and, for the newest wave, "
                                 "one per background group, as SVG and PNG (matplotlib; byte-identical across "
                                 "builds). A chart is redrawn only when its inputs changed (cache in "
                                 "`<marts>/.build/figure_cache/`)."),
    ] + [
        dg.AssetSpec(["reports", key], group_name="reports", kinds={"html"}, deps=mart_keys(PAGE_READS["level"]),
                     description=f"`reports/{key}.html`: the {key} level ({level.label['en']}): Likert summary per "
                                 "item (n, every category as n (pct %), stacked bar, headline share with Wilson "
                                 "interval, mean), its diverging chart, the item charts, the open answers and, "
                                 "where the newest wave has background variables, the items by group.")
        for key, level in codebook.levels.items()
    ]

    @dg.multi_asset(specs=specs, can_subset=False, name="reports")
    def reports(pipeline: SurveyPipeline):
        """Render the great-tables pages and the charts from the marts in the work database into the build area,
        in the language of PIPELINE_LANG; PIPELINE_PROFILE=public hides what marts.item_disclosure decides.
        Charts whose inputs did not change are taken from the chart cache of the build area."""
        settings = pipeline.settings
        cache = FigureCache(settings.build_dir / FIGURE_CACHE)
        with pipeline.work_db() as con:
            marts = read_marts(con, READS)
        written = render_reports(pipeline.codebook(), settings.lang, settings.staged_reports_dir,
                                 marts["item_indicators"], marts["item_disclosure"], marts["waves"],
                                 marts["open_answers"], profile=settings.profile, min_cell=settings.min_cell,
                                 cache_dir=cache, by_group=marts["item_by_group"], min_group=settings.min_group)
        for name, path in written.items():
            published = settings.reports_dir / path.relative_to(settings.staged_reports_dir)
            if path.is_dir():
                files = sorted(p for p in path.rglob("*") if p.is_file())
                metadata = {"path (after publish)": dg.MetadataValue.path(str(published)), "files": len(files),
                            "bytes": sum(p.stat().st_size for p in files)}
                metadata["charts drawn"] = len(cache.drawn)
                metadata["charts from cache"] = len(cache.used) - len(cache.drawn)
            else:
                metadata = {"path (after publish)": dg.MetadataValue.path(str(published)),
                            "bytes": path.stat().st_size}
            yield dg.MaterializeResult(
                asset_key=["reports", name],
                metadata={**metadata, "language": settings.lang, "profile": settings.profile},
            )

    return reports
