"""Where the pipeline's time goes, function by function: `python -m pipeline.cli build` under cProfile.

    python -m bench.profile --respondents 100k            # a fresh synthetic wave, built once under cProfile
    python -m bench.profile --raw data/raw                # the project's sample data

Writes <data-dir>/profile-<label>.prof (open with `python -m pstats` or snakeviz) and prints: the import
time of the pipeline's definitions, the whole build, and the pipeline functions and libraries that take the
most time (cumulative, i.e. including what they call). cProfile slows Python-heavy code more than code in
Rust/C++ (polars, DuckDB), so read shares, not absolute seconds, and take wall times from `make bench`.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import time
from pathlib import Path

from pipeline.settings import PROJECT_ROOT

BENCH_DIR = PROJECT_ROOT / "bench"

# (file fragment, function or a|b) → what it is; cumulative seconds are reported for each that ran.
WATCH = [
    ("pipeline/cli.py", "_build", "whole build (after imports)"),
    ("pipeline/definitions.py", "build_definitions", "build Dagster definitions"),
    ("dagster/_core/definitions/job_definition.py", "execute_in_process", "Dagster runs (execute_in_process)"),
    ("pipeline/ingest/readers.py", "read_export", "read the export"),
    (
        "pipeline/ingest/normalise.py",
        "normalise_export|normalise_prepared",
        "normalise (headers, pseudonyms, categories)",
    ),
    ("pipeline/ingest/pseudonym.py", "pseudonymise|pseudonymise_many", "HMAC pseudonyms"),
    ("pipeline/staging/stage.py", "stage_in_database", "stage in DuckDB (decisions + sql/staging)"),
    (
        "pipeline/staging/validation.py",
        "failing_rows|failing_values_in|table_errors|validation_errors",
        "pandera validation (all calls)",
    ),
    ("pipeline/warehouse.py", "replace_wave", "DuckDB writes (replace_wave)"),
    ("pipeline/warehouse.py", "table_frame", "DuckDB reads (table_frame)"),
    ("pipeline/warehouse.py", "query_frame", "DuckDB reads (query_frame)"),
    ("pipeline/warehouse.py", "build_model", "SQL marts (build_model)"),
    ("pipeline/reports/render.py", "render_reports", "render the report pages"),
    ("pipeline/reports/waves.py", "waves_page", "render waves.html"),
    ("pipeline/reports/figures.py", "", "figures (any function)"),
    ("great_tables/", "as_raw_html", "great-tables as_raw_html"),
    ("pipeline/publish.py", "publish", "publish (DuckDB file, Parquet, manifest)"),
    ("pipeline/defs/metadata.py", "preview", "Dagster metadata previews"),
]


def _cumulative(stats: pstats.Stats, fragment: str, func: str) -> tuple[float, int]:
    total, calls = 0.0, 0
    for (filename, _line, name), (_cc, nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if fragment in filename and (not func or name in func.split("|")):
            if func:
                total += ct
            else:
                total = max(total, ct)  # any function of the module: the outermost one
            calls += nc
    return total, calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--raw", type=Path, help="a raw folder to build (default: one fresh synthetic wave)")
    parser.add_argument("--respondents", default="100k", help="size of the synthetic wave (default 100k)")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--data-dir", type=Path, default=BENCH_DIR / "data")
    parser.add_argument("--top", type=int, default=25, help="functions listed by own time")
    args = parser.parse_args(argv)

    data = args.data_dir.resolve()
    if args.raw:
        raw, label = args.raw.resolve(), args.raw.name
    else:
        from bench.generate import generate_wave, parse_size, wave_key

        label = f"synthetic-{args.respondents}"
        raw = data / "raw" / f"profile-{args.respondents}"
        shutil.rmtree(raw, ignore_errors=True)
        generate_wave(raw, wave_key(1), parse_size(args.respondents), seed=args.seed)
    marts, home = data / "marts" / f"profile-{label}", data / "dagster_home" / f"profile-{label}"
    shutil.rmtree(marts, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "pipeline" / "defs" / "dagster.yaml", home / "dagster.yaml")
    for name in [n for n in os.environ if n.startswith("PIPELINE_")]:
        del os.environ[name]
    os.environ.update(
        PIPELINE_RAW_DIR=str(raw),
        PIPELINE_MARTS_DIR=str(marts),
        DAGSTER_HOME=str(home),
        PIPELINE_PSEUDONYM_KEY="bench-not-a-secret",
        PIPELINE_MAX_EXPORT_BYTES=str(8 * 2**30),  # as bench.run: a 1M wave's CSV is 369 MiB
    )

    t0 = time.perf_counter()
    import dagster  # noqa: F401

    t_dagster = time.perf_counter() - t0
    import pipeline.cli as cli
    import pipeline.definitions  # noqa: F401  (what `make run` imports: every module of the pipeline)

    t_imports = time.perf_counter() - t0
    profiler = cProfile.Profile()
    t1 = time.perf_counter()
    profiler.enable()
    code = cli.main(["build"])
    profiler.disable()
    t_build = time.perf_counter() - t1
    out = data / f"profile-{label}.prof"
    profiler.dump_stats(out)

    stats = pstats.Stats(str(out))
    print(f"\nprofile of `python -m pipeline.cli build` on {raw} (exit code {code})")
    print(f"  import dagster                       {t_dagster:7.2f} s (not profiled)")
    print(f"  import pipeline.cli + definitions    {t_imports:7.2f} s (not profiled, dagster included)")
    print(f"  build under cProfile                 {t_build:7.2f} s")
    print("\ncumulative seconds (including callees; nested rows overlap):")
    for fragment, func, what in WATCH:
        total, calls = _cumulative(stats, fragment, func)
        if calls:
            print(f"  {what:48s} {total:8.2f} s  ({calls} calls)")
    print(f"\ntop {args.top} functions by own time:")
    stats.sort_stats("tottime").print_stats(args.top)
    print(f"written: {out}")
    return code


if __name__ == "__main__":
    sys.exit(main())
