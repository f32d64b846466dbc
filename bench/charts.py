"""Time the charts of a built marts folder (never part of make test): every chart's SVG drawn, then every PNG
rasterised in one typst compile, as a build without a chart cache does (pipeline.reports.figures.render).

    .venv/bin/python -m bench.charts data/marts                 # the sample, after make run
    .venv/bin/python -m bench.charts /tmp/marts --repeat 3      # best of 3 (the first includes typst's start)
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import duckdb

from pipeline.codebook import load_codebook
from pipeline.settings import PROJECT_ROOT
from pipeline.warehouse import query_frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("marts", type=Path, help="a marts folder holding samskabelse.duckdb")
    parser.add_argument("--lang", default="nb")
    parser.add_argument("--profile", default="internal", choices=("internal", "public"))
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    from pipeline.reports.data import ReportData
    from pipeline.reports.figures import charts
    from pipeline.reports.svg import png_pages

    imported = time.perf_counter() - start
    codebook = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
    with duckdb.connect(str(args.marts / "samskabelse.duckdb"), read_only=True) as con:
        frames = {
            name: query_frame(con, f"select * from {name}")
            for name in ("item_indicators", "item_disclosure", "waves", "open_answers", "item_by_group")
        }
    data = ReportData(
        codebook,
        args.lang,
        frames["item_indicators"],
        frames["item_disclosure"],
        frames["waves"],
        frames["open_answers"],
        args.profile,
        3,
        frames["item_by_group"],
        5,
    )
    print(f"import of the chart code: {1000 * imported:.0f} ms")
    for run in range(1, args.repeat + 1):
        t0 = time.perf_counter()
        every = charts(codebook, args.lang, data.chart_views, data.group_views)
        t1 = time.perf_counter()
        drawings, each = [], []
        for chart in every:
            t = time.perf_counter()
            drawings.append(chart.draw())
            each.append((time.perf_counter() - t, chart.paths["svg"]))
        t2 = time.perf_counter()
        pngs = png_pages([(d.svg, d.width, d.height) for d in drawings])
        t3 = time.perf_counter()
        n = len(every)
        slowest_s, slowest = max(each)
        print(
            f"run {run}: {n} charts; keys {1000 * (t1 - t0):.0f} ms, SVG {1000 * (t2 - t1):.0f} ms "
            f"({1000 * (t2 - t1) / n:.2f} ms a chart, slowest {1000 * slowest_s:.1f} ms: {slowest}), "
            f"PNG {1000 * (t3 - t2):.0f} ms ({1000 * (t3 - t2) / n:.1f} ms a chart); "
            f"total {t3 - t0:.2f} s; SVG {sum(len(d.svg) for d in drawings) // 1024} KB, "
            f"PNG {sum(map(len, pngs)) // 1024} KB"
        )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
