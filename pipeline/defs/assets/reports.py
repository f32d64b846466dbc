"""Layer `reports`: great-tables summary pages and charts, rendered into the build area (`<marts>/.build/reports/`)
by pipeline.reports; publish/reports copies them to `<marts>/reports/` after the DuckDB file is published."""

import dagster as dg
import polars as pl

from pipeline.codebook import Codebook
from pipeline.defs.resources import SurveyPipeline
from pipeline.files import write_if_changed
from pipeline.ingest.review import open_answers_for
from pipeline.reports.figures import FigureCache
from pipeline.reports.panel import panel_charts, panel_page, write_panel_report
from pipeline.reports.render import render_reports
from pipeline.reports.waves import waves_page
from pipeline.warehouse import read_marts

# The marts each page is made of (pipeline.reports.render.build_pages and the chart functions). The asset reads exactly
# their union and each page's Dagster deps are exactly its tuple; tests/defs/test_report_reads.py renders every page
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
        dg.AssetSpec(
            ["reports", "index"],
            group_name="reports",
            deps=mart_keys(PAGE_READS["index"]),
            kinds={"html"},
            description="`reports/index.html`: response per wave; overview of every level (items, average "
            "top-2 share, range); every item as a Likert summary with a row group per level; "
            "every level's diverging chart; links to the level pages.",
        ),
        dg.AssetSpec(
            ["reports", "figures"],
            group_name="reports",
            deps=mart_keys(PAGE_READS["figures"]),
            kinds={"svg", "png"},
            description="`reports/figures/<wave>/`: per item a bar chart of the distribution (the report's "
            "Figures 1–17), per level a diverging stacked Likert chart and, for the newest wave, "
            "one per background group, as SVG and PNG (SVG written from Python, PNG by "
            "typst; byte-identical across builds). A chart is redrawn only when its inputs "
            "changed (cache in `<marts>/.build/figure_cache/`).",
        ),
    ] + [
        dg.AssetSpec(
            ["reports", key],
            group_name="reports",
            kinds={"html"},
            deps=mart_keys(PAGE_READS["level"]),
            description=f"`reports/{key}.html`: the {key} level ({level.label['en']}): Likert summary per "
            "item (n, every category as n (pct %), stacked bar, headline share with Wilson "
            "interval, mean), its diverging chart, the item charts, the open answers and, "
            "where the newest wave has background variables, the items by group.",
        )
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
        written = render_reports(
            pipeline.codebook(),
            settings.lang,
            settings.staged_reports_dir,
            marts["item_indicators"],
            marts["item_disclosure"],
            marts["waves"],
            open_answers_for(settings.profile, marts["open_answers"], settings.raw_dir),
            profile=settings.profile,
            min_cell=settings.min_cell,
            cache_dir=cache,
            by_group=marts["item_by_group"],
            min_group=settings.min_group,
        )
        for name, path in written.items():
            published = settings.reports_dir / path.relative_to(settings.staged_reports_dir)
            if path.is_dir():
                files = sorted(p for p in path.rglob("*") if p.is_file())
                metadata = {
                    "path (after publish)": dg.MetadataValue.path(str(published)),
                    "files": len(files),
                    "bytes": sum(p.stat().st_size for p in files),
                }
                metadata["charts drawn"] = len(cache.drawn)
                metadata["charts from cache"] = len(cache.used) - len(cache.drawn)
            else:
                metadata = {"path (after publish)": dg.MetadataValue.path(str(published)), "bytes": path.stat().st_size}
            yield dg.MaterializeResult(
                asset_key=["reports", name],
                metadata={**metadata, "language": settings.lang, "profile": settings.profile},
            )

    return reports


WAVES_READS = ("item_disclosure", "item_indicators", "wave_change", "waves")  # read through read_marts: the deps


@dg.asset(key=dg.AssetKey(["reports", "waves"]), group_name="reports", kinds={"html"}, deps=mart_keys(WAVES_READS))
def waves_report(pipeline: SurveyPipeline) -> dg.MaterializeResult:
    """`reports/waves.html`: response rate per wave, and per item the change in the headline share from each wave
    to the next with Newcombe's 95 % interval (n of both waves shown), the top-3 change and the mean-score
    change (from marts.wave_change)."""
    settings = pipeline.settings
    with pipeline.work_db() as con:
        marts = read_marts(con, WAVES_READS)
    waves, change, disclosure = marts["waves"].sort("wave"), marts["wave_change"], marts["item_disclosure"]
    path = settings.staged_reports_dir / "waves.html"
    text = waves_page(
        pipeline.codebook(),
        settings.lang,
        waves,
        change,
        settings.profile,
        settings.min_cell,
        disclosure,
        marts["item_indicators"],
    )
    write_if_changed(path, text.encode("utf-8"))
    pairs = sorted({f"{a}→{b}" for a, b in zip(change["wave_from"], change["wave_to"])})
    return dg.MaterializeResult(
        metadata={
            "path (after publish)": dg.MetadataValue.path(str(settings.reports_dir / path.name)),
            "bytes": path.stat().st_size,
            "language": settings.lang,
            "waves": dg.MetadataValue.json(waves["wave"].to_list()),
            "wave pairs": dg.MetadataValue.json(pairs),
        },
    )


PANEL_READS = ("panel_change", "panel_retention", "waves")  # read through read_marts: the deps are these


@dg.asset(
    key=dg.AssetKey(["reports", "panel"]),
    group_name="reports",
    kinds={"html", "svg", "png"},
    deps=mart_keys(PANEL_READS),
)
def panel_report(pipeline: SurveyPipeline) -> dg.MaterializeResult:
    """`reports/panel.html`, the same people over time: per consecutive pair of waves who answered again
    (retention, attrition), and per level the paired change of the people who answered both waves (n pairs,
    share before and after, the difference with Newcombe's interval for paired proportions, moved up, same or
    down, the mean change with its t interval), with a dumbbell chart per pair (`reports/panel/`). From
    marts.panel_retention and marts.panel_change; the public profile hides what panel_change decides."""
    settings = pipeline.settings
    codebook = pipeline.codebook()
    with pipeline.work_db() as con:
        marts = read_marts(con, PANEL_READS)
    waves, retention, change = marts["waves"].sort("wave"), marts["panel_retention"], marts["panel_change"]
    charts = panel_charts(codebook, settings.lang, change, settings.profile)
    text = panel_page(codebook, settings.lang, waves, retention, change, charts, settings.profile, settings.min_cell)
    path = write_panel_report(settings.staged_reports_dir, text, charts)
    return dg.MaterializeResult(
        metadata={
            "path (after publish)": dg.MetadataValue.path(str(settings.reports_dir / path.name)),
            "bytes": path.stat().st_size,
            "language": settings.lang,
            "profile": settings.profile,
            "pairs with panel members": int(retention.filter(pl.col("answered_both") > 0).height),
            "items compared": int(change.height),
            "charts": len(charts),
        },
    )
