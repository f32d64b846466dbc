"""`make bench`: the pipeline against the floor (one DuckDB query) and a plain pandas script, on SYNTHETIC
waves (bench/generate.py). Prints tables and writes bench/results.json. Never part of `make test`.

Scenarios (each program runs in a fresh subprocess; wall time, CPU time and peak RSS are the child's):
  a       one wave of each --sizes (default 1k, 100k, 1M respondents), end to end: ingest, validate,
          marts, reports, publish (`python -m pipeline.cli build` into a fresh marts folder and DAGSTER_HOME)
  b       --waves (default 100) waves × 1k respondents, from scratch
  c       one more 1k wave added to b (same marts folder and Dagster instance): the incremental cost
  sample  `python -m pipeline.cli build` on the project's data/raw twice (cold, then warm instance)

For a, b and c the floor (bench/floor.py) and pandas (bench/pandas_baseline.py) read the same exports, and
the pipeline's published item_distribution is compared with both and with what the generator wrote.
Fixed start-up = the 1k run; marginal cost = T(largest size) − T(1k), for all three programs.

    python -m bench.run                                   # everything (long: the 1M wave)
    python -m bench.run --sizes 1k,100k --scenarios a     # a quick run
    python -m bench.run --scenarios b,c --waves 20

Where the time goes: the Dagster instance of each run records every step's start and end, so each pipeline
measurement is split into process start-up (python, imports, definitions, instance), Dagster run overhead
and the steps (read, validate, SQL marts, render, publish). `python -m bench.profile` adds cProfile detail.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path

import polars as pl

from bench.generate import GENERATOR_VERSION, SyntheticWave, generate_wave, parse_size, size_label, wave_key
from pipeline.codebook import load_codebook
from pipeline.settings import PROJECT_ROOT

BENCH_DIR = PROJECT_ROOT / "bench"
KEY_COLUMNS = ["wave", "item", "category"]
BENCH_PSEUDONYM_KEY = "bench-not-a-secret"

# The goals of issue 13 on a 2-core machine.
TARGET_MARGINAL_VS_FLOOR = 5.0  # T(1M) − T(1k) against the floor's
TARGET_MARGINAL_VS_PANDAS = 0.5  # … and against pandas'
TARGET_RSS_MB_1M = 1024
TARGET_FIRST_1K_S = 4.0  # issue 27: a first build of one 1k wave (scenario a-1k, fresh Dagster instance)
TARGET_SAMPLE_COLD_S = 4.0  # issue 27 (issue 13: 6 s)
TARGET_SAMPLE_UNCHANGED_S = 1.0  # issue 27 (issue 13: 3 s)
TARGET_B_S = 30.0  # 100 waves × 1k from scratch; issue 27 (issue 13: 60 s)
TARGET_INCREMENTAL_VS_1K = 1.2  # c: one 1k wave added to b, against one 1k wave built alone
TARGET_SAMPLE_DOCUMENT_S = 5.0  # issue 24: the document (PDF, Word, Excel) of the sample, its step in the cold build


def step_phase(step_key: str) -> str:
    """The phase a Dagster step (op) belongs to: raw__* read, staging* validate, marts SQL, reports* render,
    publish__* publish (unknown steps keep their own name)."""
    if step_key.startswith("raw"):
        return "read + normalise"
    if step_key == "staging__codebook" or step_key.startswith("marts"):
        return "SQL marts + checks"
    if step_key.startswith("staging"):
        return "validate (staging)"
    if step_key.startswith("reports") or step_key.endswith("report"):
        return "render"
    if step_key.startswith("publish"):
        return "publish"
    return step_key


# Measuring one child process --------------------------------------------------------------------
@dataclass
class Measurement:
    status: str  # ok, failed (exit code ≠ 0), timeout, rss-cap
    wall_s: float
    cpu_s: float  # user + system of the child
    peak_rss_mb: float  # the program's process (its largest, not the sum with helpers it started)
    group_peak_mb: float  # highest sampled sum over its whole process group (PSS), e.g. Dagster's log watchers
    returncode: int | None
    load_before: float  # 1-minute load average when the child started
    log: str
    phases: dict[str, float] = field(default_factory=dict)
    phase_peak_rss_mb: dict[str, float] = field(default_factory=dict)
    note: str = ""
    started: float = 0.0  # epoch seconds
    rss_samples: list[tuple[float, float]] = field(default_factory=list)  # (epoch seconds, MB), every 0.25 s

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "group_peak_mb": round(self.group_peak_mb, 1),
            "returncode": self.returncode,
            "load_before": round(self.load_before, 2),
            "log": self.log,
            "phases": {k: round(v, 3) for k, v in self.phases.items()},
            "phase_peak_rss_mb": {k: round(v) for k, v in self.phase_peak_rss_mb.items()},
            "note": self.note,
        }


# A tiny launcher between the harness and each measured program. A child forked straight from the harness
# would report the harness's own memory as its peak (Linux counts the pre-exec address space in ru_maxrss);
# forked from this launcher (`python -S`, ~10 MB) it reports its own. The launcher writes the child's wall
# time, CPU time, peak RSS and exit code as JSON.
LAUNCHER = r"""
import json, os, sys, time
out, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
with open(out, "w") as fh:
    json.dump({"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "maxrss_kb": usage.ru_maxrss,
               "returncode": code}, fh)
sys.exit(code if code >= 0 else 128 - code)
"""


def _group_usage(pgid: int) -> tuple[float, float]:
    """Memory (MB, proportional set size) and CPU seconds so far of every process in the process group."""
    kb, ticks = 0, 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
            if int(fields[2]) != pgid:  # stat field 5: process group
                continue
            ticks += int(fields[11]) + int(fields[12])  # stat fields 14, 15: utime, stime
            with open(f"/proc/{entry.name}/smaps_rollup", "rb") as fh:
                for line in fh:
                    if line.startswith(b"Pss:"):  # proportional: shared pages are not counted twice
                        kb += int(line.split()[1])
                        break
        except (OSError, IndexError, ValueError):
            continue
    return kb / 1024, ticks / os.sysconf("SC_CLK_TCK")


def measure(cmd: list[str], env: dict[str, str], log_path: Path, timeout_s: float, max_rss_mb: float) -> Measurement:
    """Run cmd (through the launcher) in a new session; stop the whole process group at the timeout or when
    its resident memory passes the cap. Memory is also sampled every 0.25 s (for the phases)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    result_path = log_path.with_suffix(".usage.json")
    result_path.unlink(missing_ok=True)
    load = os.getloadavg()[0]
    started = time.time()
    samples: list[tuple[float, float]] = []
    cpu_seen = 0.0
    start = time.perf_counter()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-S", "-c", LAUNCHER, str(result_path), *cmd],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    status = None
    next_check = 0.0
    while True:
        pid, wait_status, _ = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        elapsed = time.perf_counter() - start
        if status is None and elapsed > timeout_s:
            status = "timeout"
            os.killpg(proc.pid, signal.SIGKILL)
        elif status is None and elapsed >= next_check:  # the cap applies to the whole group
            next_check = elapsed + 0.25
            rss, cpu_seen = _group_usage(proc.pid)
            samples.append((time.time(), rss))
            if rss > max_rss_mb:
                status = "rss-cap"
                os.killpg(proc.pid, signal.SIGKILL)
        time.sleep(0.02)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(wait_status)  # reaped here; tell Popen
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # what the child left behind in its group (e.g. Dagster's watchers)
    except ProcessLookupError:
        pass
    sampled_peak = max((mb for _, mb in samples), default=0.0)
    if result_path.is_file():  # the launcher saw the child finish: its peak RSS, as /usr/bin/time reports it
        usage = json.loads(result_path.read_text(encoding="utf-8"))
        wall, cpu, returncode = usage["wall_s"], usage["cpu_s"], usage["returncode"]
        peak = usage["maxrss_kb"] / 1024
    else:  # stopped: the last samples are what there is
        cpu, returncode, peak = cpu_seen, proc.returncode, sampled_peak
    if status is None:
        status = "ok" if returncode == 0 else "failed"
    note = ""
    if status == "failed":  # the pipeline's own failure lines, else the end of the log
        lines = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        failure = "dagster._core.definitions.events.Failure"
        said = [ln.strip() for ln in lines if "FAILED" in ln or ln.startswith(failure)]
        note = " | ".join(dict.fromkeys(said or lines[-3:]))[:600]
    elif status == "timeout":
        note = f"stopped after {timeout_s:.0f} s"
    elif status == "rss-cap":
        note = f"stopped: resident memory above {max_rss_mb:.0f} MB"
    return Measurement(
        status=status,
        wall_s=wall,
        cpu_s=cpu,
        peak_rss_mb=peak,
        group_peak_mb=sampled_peak,
        returncode=returncode,
        load_before=load,
        log=str(log_path.relative_to(PROJECT_ROOT) if log_path.is_relative_to(PROJECT_ROOT) else log_path),
        note=note,
        started=started,
        rss_samples=samples,
    )


# Where the pipeline's time went ----------------------------------------------------------------------
def dagster_phases(
    dagster_home: Path, since: float, until: float, rss: list[tuple[float, float]]
) -> tuple[dict[str, float], dict[str, float]]:
    """Split a pipeline measurement by the runs and steps its Dagster instance recorded after `since`:
    seconds per phase, and the highest resident memory sampled during each phase."""
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    spans: list[tuple[str, float, float]] = []  # phase, start, end
    run_total = 0.0
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home))) as instance:
        for record in instance.get_run_records():
            if record.start_time is None or record.start_time < since:
                continue
            run_end = record.end_time or until  # no end: stopped (timeout, memory cap) during the run
            run_total += run_end - record.start_time
            steps = 0.0
            for step in instance.get_run_step_stats(record.dagster_run.run_id):
                if step.start_time is None:
                    continue
                name = step_phase(step.step_key) + ("" if step.end_time else " (unfinished)")
                end = step.end_time or until
                spans.append((name, step.start_time, end))
                steps += end - step.start_time
            spans.append(
                (
                    "dagster run overhead",
                    record.start_time,
                    record.start_time + max(run_end - record.start_time - steps, 0.0),
                )
            )
    seconds: dict[str, float] = {}
    peaks: dict[str, float] = {}
    for name, start, end in spans:
        seconds[name] = seconds.get(name, 0.0) + end - start
        if name != "dagster run overhead":
            sampled = [mb for t, mb in rss if start <= t <= end]
            if sampled:
                peaks[name] = max(peaks.get(name, 0.0), max(sampled))
    seconds["process start-up, between runs (python, imports, definitions, partitions)"] = max(
        until - since - run_total, 0.0
    )
    return dict(sorted(seconds.items(), key=lambda kv: -kv[1])), dict(sorted(peaks.items(), key=lambda kv: -kv[1]))


# The programs ----------------------------------------------------------------------------------------
@dataclass
class Context:
    data_dir: Path
    timeout_s: float
    max_rss_mb: float
    repeat: int
    skip: set[str]
    pycache: Path | None  # bytecode cache for the children (None: the environment as it is)

    def env(self, raw: Path | None = None, marts: Path | None = None, home: Path | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_") and k != "DAGSTER_HOME"}
        env["PIPELINE_PSEUDONYM_KEY"] = BENCH_PSEUDONYM_KEY
        env["PYTHONWARNINGS"] = "ignore"
        # The 1M wave's export (~340 MiB) is above the readers' default size limit; the benchmark measures it.
        env["PIPELINE_MAX_EXPORT_BYTES"] = str(8 * 2**30)
        if self.pycache:
            # Compiled bytecode, as a normal install has after the first run (uv does not compile at install
            # and PYTHONDONTWRITEBYTECODE=1 would make every start compile every module again).
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(self.pycache)
        if raw:
            env["PIPELINE_RAW_DIR"] = str(raw)
        if marts:
            env["PIPELINE_MARTS_DIR"] = str(marts)
        if home:
            env["DAGSTER_HOME"] = str(home)
        return env


def warm_up(ctx: Context) -> dict[str, object]:
    """Import everything once so the measured runs start warm (bytecode compiled, files in the page cache);
    the second import's time is the pure start-up of the pipeline's definitions."""
    code = "import pipeline.cli, pipeline.definitions, bench.floor, bench.pandas_baseline, pandas"
    first = measure(
        [sys.executable, "-c", code], ctx.env(), ctx.data_dir / "logs" / "warm-up-1.log", ctx.timeout_s, ctx.max_rss_mb
    )
    second = measure(
        [sys.executable, "-c", "import pipeline.cli, pipeline.definitions"],
        ctx.env(),
        ctx.data_dir / "logs" / "warm-up-2.log",
        ctx.timeout_s,
        ctx.max_rss_mb,
    )
    # The pipeline imports some libraries only where it uses them (typst, python-docx, highspy, the readers): one build
    # of the project's sample compiles and caches them too, so the first scenario (a-1k) does not pay for it.
    shutil.rmtree(ctx.data_dir / "marts" / "warm-up", ignore_errors=True)
    build = measure(
        [sys.executable, "-m", "pipeline.cli", "build"],
        ctx.env(
            PROJECT_ROOT / "data" / "raw",
            ctx.data_dir / "marts" / "warm-up",
            fresh_home(ctx.data_dir / "dagster_home" / "warm-up"),
        ),
        ctx.data_dir / "logs" / "warm-up-3.log",
        ctx.timeout_s,
        ctx.max_rss_mb,
    )
    return {
        "first_import": first.as_dict(),
        "import_pipeline_definitions": second.as_dict(),
        "sample_build": build.as_dict(),
    }


def fresh_home(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "pipeline" / "defs" / "dagster.yaml", path / "dagster.yaml")
    return path


def run_pipeline(ctx: Context, name: str, raw: Path, marts: Path, home: Path) -> Measurement:
    m = measure(
        [sys.executable, "-m", "pipeline.cli", "build"],
        ctx.env(raw, marts, home),
        ctx.data_dir / "logs" / f"{name}-pipeline.log",
        ctx.timeout_s,
        ctx.max_rss_mb,
    )
    try:  # also after a timeout or the RSS cap: the steps that ran are in the event log
        m.phases, m.phase_peak_rss_mb = dagster_phases(home, m.started, m.started + m.wall_s, m.rss_samples)
    except Exception as exc:  # the numbers stand without the split
        m.note = (m.note + f" (no phase split: {exc})").strip()
    return m


def best(samples: list[Measurement]) -> Measurement:
    """The fastest successful sample (least disturbed by other load), else the first."""
    ok = [s for s in samples if s.status == "ok"]
    return min(ok, key=lambda s: s.wall_s) if ok else samples[0]


def run_baseline(ctx: Context, which: str, name: str, raw: Path, out: Path) -> Measurement | None:
    if which in ctx.skip:
        return None
    module = {"floor": "bench.floor", "pandas": "bench.pandas_baseline"}[which]
    samples = []
    for i in range(ctx.repeat):
        out.unlink(missing_ok=True)
        samples.append(
            measure(
                [sys.executable, "-m", module, str(raw), str(out)],
                ctx.env(),
                ctx.data_dir / "logs" / f"{name}-{which}-{i + 1}.log",
                ctx.timeout_s,
                ctx.max_rss_mb,
            )
        )
    return best(samples)


# Checking that all three computed the same item_distribution ---------------------------------------
def differences(expected: pl.DataFrame, got: pl.DataFrame, what: str) -> list[str]:
    """Rows of item_distribution that differ (n and base_n exactly, pct within 1e-9)."""
    cols = KEY_COLUMNS + ["n", "base_n", "pct"]
    a, b = expected.select(cols), got.select(cols)
    joined = a.join(b, on=KEY_COLUMNS, how="full", coalesce=True, suffix="_got")
    bad = joined.filter(
        pl.col("n").is_null()
        | pl.col("n_got").is_null()
        | (pl.col("n") != pl.col("n_got"))
        | (pl.col("base_n") != pl.col("base_n_got"))
        | (pl.col("pct").is_null() != pl.col("pct_got").is_null())
        | ((pl.col("pct") - pl.col("pct_got")).abs() > 1e-9)
    ).sort(KEY_COLUMNS)
    return [f"{what}: {r}" for r in bad.head(5).iter_rows(named=True)] + (
        [f"{what}: … {bad.height} rows differ"] if bad.height > 5 else []
    )


def check_results(
    marts: Path, waves: list[SyntheticWave], floor_out: Path | None, pandas_out: Path | None
) -> dict[str, object]:
    published = marts / "parquet" / "item_distribution.parquet"
    if not published.is_file():
        return {"same": False, "problems": [f"{published} missing"]}
    pipeline = pl.read_parquet(published)
    expected = pl.concat([w.expected_distribution for w in waves])
    problems = differences(expected, pipeline, "pipeline vs generator")
    for label, out in (("floor", floor_out), ("pandas", pandas_out)):
        if out is not None:
            problems += (
                differences(pipeline, pl.read_parquet(out), f"{label} vs pipeline")
                if out.is_file()
                else [f"{label}: no output"]
            )
    quarantine = marts / "parquet" / "quarantine.parquet"
    q_rows = pl.read_parquet(quarantine).height if quarantine.is_file() else None
    q_expected = sum(w.bad_cells for w in waves)
    if q_rows != q_expected:
        problems.append(f"quarantine: {q_rows} rows, the generator wrote {q_expected} bad cells")
    return {"same": not problems, "rows": pipeline.height, "quarantine_rows": q_rows, "problems": problems}


# Scenarios -------------------------------------------------------------------------------------------
def synthetic_raw(
    ctx: Context, label: str, sizes: list[int], fmt: str, seed: int, values: str = "labels"
) -> tuple[Path, list[SyntheticWave]]:
    raw = ctx.data_dir / "raw" / label
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir(parents=True)
    codebook = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
    waves = [
        generate_wave(raw, wave_key(i), n, seed=seed, fmt=fmt, values=values, codebook=codebook)
        for i, n in enumerate(sizes, start=1)
    ]
    return raw, waves


def scenario(
    ctx: Context,
    name: str,
    raw: Path,
    waves: list[SyntheticWave],
    *,
    marts: Path,
    home: Path,
    fresh: bool = True,
    extra: dict | None = None,
) -> dict[str, object]:
    print(f"  {name}: pipeline …", flush=True)
    samples = []
    for i in range(ctx.repeat if fresh else 1):
        if fresh:
            shutil.rmtree(marts, ignore_errors=True)
            fresh_home(home)
        samples.append(run_pipeline(ctx, name if i == 0 else f"{name}-{i + 1}", raw, marts, home))
    pipeline = best(samples)
    outputs = ctx.data_dir / "out"
    outputs.mkdir(parents=True, exist_ok=True)
    print(f"  {name}: floor and pandas …", flush=True)
    floor = run_baseline(ctx, "floor", name, raw, outputs / f"{name}-floor.parquet")
    pandas = run_baseline(ctx, "pandas", name, raw, outputs / f"{name}-pandas.parquet")
    check = (
        check_results(
            marts,
            waves,
            outputs / f"{name}-floor.parquet" if floor else None,
            outputs / f"{name}-pandas.parquet" if pandas else None,
        )
        if pipeline.status == "ok"
        else {"same": None, "problems": [f"pipeline {pipeline.status}: results not compared (log: {pipeline.log})"]}
    )
    result = {
        "name": name,
        "respondents": sum(w.respondents for w in waves),
        "waves": len(waves),
        "export_mb": round(sum(w.export.stat().st_size for w in waves) / 2**20, 1),
        "pipeline": pipeline.as_dict(),
        "pipeline_samples": [s.as_dict() for s in samples],
        "floor": floor.as_dict() if floor else None,
        "pandas": pandas.as_dict() if pandas else None,
        "same_item_distribution": check,
        **(extra or {}),
    }
    result["ratios"] = ratios(result)
    return result


def ratios(result: dict) -> dict[str, float | None]:
    p = result["pipeline"]
    out: dict[str, float | None] = {}
    for other in ("floor", "pandas"):
        o = result.get(other)
        ok = p["status"] == "ok" and o and o["status"] == "ok" and o["wall_s"] > 0
        out[f"pipeline/{other}"] = round(p["wall_s"] / o["wall_s"], 2) if ok else None
    return out


# Machine ---------------------------------------------------------------------------------------------
def machine() -> dict[str, object]:
    def version(pkg: str) -> str | None:
        try:
            return importlib_metadata.version(pkg)
        except importlib_metadata.PackageNotFoundError:
            return None

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--", "pipeline", "sql", "schemas"],
                cwd=PROJECT_ROOT,
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
        )
    except OSError:
        commit, dirty = "", False
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "memory_gb": mem_gb,
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            p: version(p)
            for p in ("duckdb", "polars", "dagster", "pandera", "great-tables", "pandas", "pyarrow", "numpy")
        },
        "git_commit": commit + ("+uncommitted pipeline/sql/schemas changes" if dirty else ""),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


# Summary ---------------------------------------------------------------------------------------------
def marginal(results: list[dict]) -> dict[str, object]:
    """Fixed start-up = the 1k wave; marginal cost = T(largest) − T(1k), per respondent, for each program."""
    singles = {r["respondents"]: r for r in results if r["name"].startswith("a-")}
    if 1000 not in singles or len(singles) < 2:
        return {}
    # T(1M) − T(1k) as the issue asks; when the pipeline did not finish the largest size, the largest it did.
    finished = [n for n, r in singles.items() if n > 1000 and r["pipeline"]["status"] == "ok"]
    big = max(singles) if singles[max(singles)]["pipeline"]["status"] == "ok" or not finished else max(finished)
    out: dict[str, object] = {"from": "1k", "to": size_label(big)}
    if big != max(singles):
        out["note"] = (
            f"the pipeline did not finish {size_label(max(singles))} "
            f"({singles[max(singles)]['pipeline']['status']}): marginal cost measured up to {size_label(big)}"
        )
    for program in ("pipeline", "floor", "pandas"):
        small_m, big_m = singles[1000].get(program), singles[big].get(program)
        if not small_m or not big_m or small_m["status"] != "ok" or big_m["status"] != "ok":
            out[program] = None
            continue
        extra = big_m["wall_s"] - small_m["wall_s"]
        out[program] = {
            "fixed_s": small_m["wall_s"],
            "marginal_s": round(extra, 3),
            "marginal_cpu_s": round(big_m["cpu_s"] - small_m["cpu_s"], 3),
            "us_per_respondent": round(extra / (big - 1000) * 1e6, 3),
        }
    for other in ("floor", "pandas"):
        if out.get("pipeline") and out.get(other) and out[other]["marginal_s"] > 0:
            out[f"pipeline/{other}"] = round(out["pipeline"]["marginal_s"] / out[other]["marginal_s"], 2)
    return out


def targets(results: list[dict], marg: dict) -> list[dict[str, object]]:
    by = {r["name"]: r for r in results}
    rows = []

    def add(target: str, measured: str | None, met: bool | None) -> None:
        rows.append({"target": target, "measured": measured or "not measured", "met": met})

    def wall(m: dict | None, limit: float, label: str) -> None:
        ok = bool(m) and m["status"] == "ok"
        add(
            label,
            f"{m['wall_s']:.1f} s" if ok else (m["status"] if m else None),
            (m["wall_s"] <= limit) if ok else (False if m else None),
        )

    if marg.get("pipeline") and marg.get("floor"):
        ratio = marg.get("pipeline/floor")
        add(
            f"marginal cost ≤ {TARGET_MARGINAL_VS_FLOOR:g}× the floor's ({marg['from']}→{marg['to']})",
            f"{ratio}×" if ratio is not None else None,
            ratio is not None and ratio <= TARGET_MARGINAL_VS_FLOOR,
        )
    else:
        add(f"marginal cost ≤ {TARGET_MARGINAL_VS_FLOOR:g}× the floor's", None, None)
    if marg.get("pipeline") and marg.get("pandas"):
        p, q = marg["pipeline"]["marginal_s"], marg["pandas"]["marginal_s"]
        add(
            f"marginal cost below {TARGET_MARGINAL_VS_PANDAS:g}× pandas'",
            f"{p:.1f} s vs {q:.1f} s",
            p < TARGET_MARGINAL_VS_PANDAS * q,
        )
    else:
        add(f"marginal cost below {TARGET_MARGINAL_VS_PANDAS:g}× pandas'", None, None)
    big = by.get("a-1M", {}).get("pipeline")
    if big and big["status"] in ("ok", "rss-cap", "timeout"):  # a stopped run's peak is a lower bound
        add(
            f"peak RSS at 1M ≤ {TARGET_RSS_MB_1M:.0f} MB",
            f"{big['peak_rss_mb']:.0f} MB" + ("" if big["status"] == "ok" else f" or more ({big['status']})"),
            big["peak_rss_mb"] <= TARGET_RSS_MB_1M if big["status"] == "ok" else False,
        )
    else:
        add(
            f"peak RSS at 1M ≤ {TARGET_RSS_MB_1M:.0f} MB",
            f"not measured: the 1M run {big['status']}" if big else None,
            None,
        )
    wall(
        by.get("a-1k", {}).get("pipeline"), TARGET_FIRST_1K_S, f"a first build of one 1k wave ≤ {TARGET_FIRST_1K_S:g} s"
    )
    sample = by.get("sample", {})
    wall(sample.get("cold"), TARGET_SAMPLE_COLD_S, f"make run on the sample, cold ≤ {TARGET_SAMPLE_COLD_S:g} s")
    wall(
        sample.get("pipeline"),
        TARGET_SAMPLE_UNCHANGED_S,
        f"make run on the sample, nothing changed ≤ {TARGET_SAMPLE_UNCHANGED_S:g} s",
    )
    document = (sample.get("cold") or {}).get("phases", {}).get("document")
    add(
        f"the document of the sample (its step, cold) ≤ {TARGET_SAMPLE_DOCUMENT_S:g} s",
        None if document is None else f"{document:.1f} s",
        None if document is None else document <= TARGET_SAMPLE_DOCUMENT_S,
    )
    wall(by.get("b", {}).get("pipeline"), TARGET_B_S, f"b: 100 waves × 1k from scratch ≤ {TARGET_B_S:g} s")
    one = by.get("a-1k", {}).get("pipeline")
    inc = by.get("c", {}).get("pipeline")
    if inc and one and one["status"] == "ok" and inc["status"] == "ok":
        ratio = inc["wall_s"] / one["wall_s"]
        add(
            f"adding one 1k wave (c) ≤ {TARGET_INCREMENTAL_VS_1K:g}× one 1k wave alone",
            f"{inc['wall_s']:.1f} s = {ratio:.2f}×",
            ratio <= TARGET_INCREMENTAL_VS_1K,
        )
    else:
        add(
            f"adding one 1k wave (c) ≤ {TARGET_INCREMENTAL_VS_1K:g}× one 1k wave alone",
            inc["status"] if inc else None,
            False if inc else None,
        )
    return rows


def _fmt(m: dict | None, key: str, spec: str) -> str:
    if not m:
        return "–"
    if m["status"] != "ok" and key == "wall_s":
        return m["status"]
    return format(m[key], spec)


def print_tables(report: dict) -> None:
    mach = report["machine"]
    print(
        f"\nmachine: {mach['nproc']} cores, {mach['memory_gb']} GB, {mach['cpu']}; python {mach['python']}, "
        f"duckdb {mach['versions']['duckdb']}, polars {mach['versions']['polars']}, dagster "
        f"{mach['versions']['dagster']}; load at start {mach['load_average_at_start']}"
    )
    probe = report.get("warm_up", {}).get("import_pipeline_definitions")
    if probe:
        print(
            f"start-up probe: `import pipeline.cli, pipeline.definitions` {probe['wall_s']:.2f} s wall, "
            f"{probe['cpu_s']:.2f} s CPU, {probe['peak_rss_mb']:.0f} MB ({report['args']['bytecode']})"
        )
    print(
        "\n| scenario | respondents | pipeline s | CPU s | peak RSS MB | floor s | pandas s | pipeline/floor | "
        "pipeline/pandas | same item_distribution |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in report["scenarios"]:
        p = r["pipeline"]
        same = r["same_item_distribution"]["same"]
        who = f"{r['respondents']:,}" if r["respondents"] else "project sample"
        print(
            f"| {r['name']} | {who} | {_fmt(p, 'wall_s', '.1f')} | {_fmt(p, 'cpu_s', '.1f')} | "
            f"{_fmt(p, 'peak_rss_mb', '.0f')} | {_fmt(r['floor'], 'wall_s', '.2f')} | "
            f"{_fmt(r['pandas'], 'wall_s', '.2f')} | {r['ratios']['pipeline/floor'] or '–'} | "
            f"{r['ratios']['pipeline/pandas'] or '–'} | {'yes' if same else ('–' if same is None else 'NO')} |"
        )
    marg = report["marginal"]
    if marg:
        print(f"\nfixed start-up and marginal cost ({marg['from']} → {marg['to']} respondents):")
        print("| program | fixed (1k) s | marginal s | µs / respondent |")
        print("|---|---:|---:|---:|")
        for program in ("pipeline", "floor", "pandas"):
            m = marg.get(program)
            if m:
                print(f"| {program} | {m['fixed_s']:.2f} | {m['marginal_s']:.2f} | {m['us_per_respondent']:.2f} |")
            else:
                print(f"| {program} | – | – | – |")
        print(
            f"marginal ratios: pipeline/floor {marg.get('pipeline/floor', '–')}, "
            f"pipeline/pandas {marg.get('pipeline/pandas', '–')}"
        )
        if marg.get("note"):
            print(f"note: {marg['note']}")
    print(
        "\nwhere the pipeline's time went (s; in brackets the highest memory sampled in the phase, "
        "PSS of the process group):"
    )
    for r in report["scenarios"]:
        phases = r["pipeline"].get("phases") or {}
        if phases:
            peaks = r["pipeline"].get("phase_peak_rss_mb") or {}
            print(
                f"  {r['name']}: "
                + ", ".join(f"{k} {v:.1f}" + (f" ({peaks[k]:.0f} MB)" if k in peaks else "") for k, v in phases.items())
            )
    print("\n| target | measured | met |")
    print("|---|---|---|")
    for t in report["targets"]:
        met = {True: "yes", False: "NO", None: "–"}[t["met"]]
        print(f"| {t['target']} | {t['measured']} | {met} |")
    for r in report["scenarios"]:
        for problem in r["same_item_distribution"].get("problems", []):
            print(f"  {r['name']}: {problem}")
        for which in ("pipeline", "floor", "pandas"):
            m = r.get(which)
            if m and m.get("note"):
                print(f"  {r['name']} {which}: {m['note']}")


# Main ------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenarios", default="a,b,c,sample", help="any of a, b, c, sample (default: all)")
    parser.add_argument("--sizes", default="1k,100k,1M", help="respondents of the single waves of scenario a")
    parser.add_argument("--waves", type=int, default=100, help="waves of 1k respondents in scenario b")
    parser.add_argument(
        "--format",
        choices=("csv",),
        default="csv",
        help="export format of the synthetic waves (the floor and pandas read CSV)",
    )
    parser.add_argument(
        "--values",
        choices=("labels", "codes"),
        default="labels",
        help="cells as nb labels (default) or numeric codes (a third of the file size)",
    )
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per measurement; the fastest successful one counts (default 1)"
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a run is stopped")
    parser.add_argument("--max-rss-gb", type=float, default=8.0, help="resident memory at which a run is stopped")
    parser.add_argument("--skip", default="", help="comma list of baselines to skip: floor, pandas")
    parser.add_argument(
        "--as-is",
        action="store_true",
        help="run the children with the environment's bytecode settings (default: a warm bytecode "
        "cache under <data-dir>/pycache, as a normal install has after its first run)",
    )
    parser.add_argument("--data-dir", type=Path, default=BENCH_DIR / "data", help="work folder (gitignored)")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results.json")
    args = parser.parse_args(argv)

    chosen = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(chosen) - {"a", "b", "c", "sample"}
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(sorted(unknown))}: use a, b, c, sample")
    try:
        sizes = sorted({parse_size(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError as exc:
        parser.error(str(exc))
    if "c" in chosen and "b" not in chosen:
        chosen.insert(chosen.index("c"), "b")  # c adds a wave to b's marts
    if "c" in chosen and 1000 not in sizes:
        sizes.insert(0, 1000)  # c is compared with one 1k wave alone
    if "c" in chosen and "a" not in chosen:
        chosen.insert(0, "a")
        sizes = [1000]
    ctx = Context(
        data_dir=args.data_dir.resolve(),
        timeout_s=args.timeout,
        max_rss_mb=args.max_rss_gb * 1024,
        repeat=max(1, args.repeat),
        skip={s.strip() for s in args.skip.split(",") if s.strip()},
        pycache=None if args.as_is else args.data_dir.resolve() / "pycache",
    )
    ctx.data_dir.mkdir(parents=True, exist_ok=True)
    warm = warm_up(ctx)
    report: dict[str, object] = {
        "machine": machine(),
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "args": {
            "scenarios": chosen,
            "sizes": [size_label(s) for s in sizes],
            "waves": args.waves,
            "format": args.format,
            "values": args.values,
            "seed": args.seed,
            "repeat": ctx.repeat,
            "timeout_s": args.timeout,
            "max_rss_gb": args.max_rss_gb,
            "generator_version": GENERATOR_VERSION,
            "bytecode": "as-is" if args.as_is else "warm cache (PYTHONPYCACHEPREFIX)",
            "python_dont_write_bytecode": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
        },
        "warm_up": warm,
        "scenarios": [],
    }
    results: list[dict] = report["scenarios"]  # type: ignore[assignment]

    def save() -> None:
        report["marginal"] = marginal(results)
        report["targets"] = targets(results, report["marginal"])
        report["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, args.out)

    if "a" in chosen:
        for n in sizes:
            name = f"a-{size_label(n)}"
            print(f"scenario {name}: generating one synthetic wave of {n:,} respondents …", flush=True)
            t = time.perf_counter()
            raw, waves = synthetic_raw(ctx, name, [n], args.format, args.seed, args.values)
            gen_s = time.perf_counter() - t
            results.append(
                scenario(
                    ctx,
                    name,
                    raw,
                    waves,
                    marts=ctx.data_dir / "marts" / name,
                    home=ctx.data_dir / "dagster_home" / name,
                    extra={"generate_s": round(gen_s, 2)},
                )
            )
            save()
    if "b" in chosen:
        print(f"scenario b: generating {args.waves} synthetic waves × 1k respondents …", flush=True)
        t = time.perf_counter()
        raw, waves = synthetic_raw(ctx, "b", [1000] * args.waves, args.format, args.seed, args.values)
        gen_s = time.perf_counter() - t
        marts, home = ctx.data_dir / "marts" / "b", ctx.data_dir / "dagster_home" / "b"
        results.append(scenario(ctx, "b", raw, waves, marts=marts, home=home, extra={"generate_s": round(gen_s, 2)}))
        save()
        if "c" in chosen:
            if results[-1]["pipeline"]["status"] != "ok":
                print("scenario c: skipped, b did not build", flush=True)
            else:
                print("scenario c: adding one 1k wave to b …", flush=True)
                codebook = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
                waves.append(
                    generate_wave(
                        raw,
                        wave_key(args.waves + 1),
                        1000,
                        seed=args.seed,
                        fmt=args.format,
                        values=args.values,
                        codebook=codebook,
                    )
                )
                results.append(scenario(ctx, "c", raw, waves, marts=marts, home=home, fresh=False))
                save()
    if "sample" in chosen:
        print("scenario sample: python -m pipeline.cli build on data/raw (cold, then nothing changed) …", flush=True)
        marts, home = ctx.data_dir / "marts" / "sample", fresh_home(ctx.data_dir / "dagster_home" / "sample")
        shutil.rmtree(marts, ignore_errors=True)
        raw = PROJECT_ROOT / "data" / "raw"
        cold = run_pipeline(ctx, "sample-cold", raw, marts, home)
        warm = [run_pipeline(ctx, f"sample-warm-{i + 1}", raw, marts, home) for i in range(ctx.repeat)]
        results.append(
            {
                "name": "sample",
                "respondents": None,
                "waves": len(list(raw.glob("*/wave.yaml"))),
                "pipeline": best(warm).as_dict(),
                "pipeline_samples": [s.as_dict() for s in warm],
                "cold": cold.as_dict(),
                "floor": None,
                "pandas": None,
                "same_item_distribution": {"same": None, "problems": []},
                "ratios": {"pipeline/floor": None, "pipeline/pandas": None},
            }
        )
        save()
    save()
    print_tables(report)
    print(f"\nwritten: {args.out}")
    print(
        "Numbers from a shared machine are provisional: compare CPU s and the load average before trusting wall times."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
