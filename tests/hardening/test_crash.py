"""Kill -9 at several points of a real `python -m pipeline.cli build`, one run after the other on the
same folders, with no clean-up in between. After every kill the files users read (samskabelse.duckdb,
parquet/, manifest.json) are byte-identical to before that run, or — when the kill came after the swap —
the complete new version; the run after the last kill succeeds and leaves nothing behind.

tests/test_publish_atomic.py pauses the build inside named functions (ingest, marts, publish before the
swap); this test kills unpatched runs at points found by watching the marts folder, including during the
imports, while the Parquet copies are written and after publishing while the reports are rendered.
`make fuzz` (FUZZ_EXAMPLES set) adds a kill with the ingest transaction open and kills at random times."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from helpers import build, copy_sample_wave, make_settings
from waves_helpers import write_second_wave

from pipeline.cli import CLI_TAG
from pipeline.settings import PROJECT_ROOT

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)


def snapshot(marts: Path) -> dict[str, str]:
    files = [marts / "samskabelse.duckdb", marts / "manifest.json", *sorted((marts / "parquet").glob("*"))]
    return {str(p.relative_to(marts)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.exists()}


def published_waves(marts: Path) -> list[str]:
    con = duckdb.connect(str(marts / "samskabelse.duckdb"), read_only=True)
    try:
        return [w for (w,) in con.execute("select wave from waves order by wave").fetchall()]
    finally:
        con.close()


def consistent(marts: Path, waves: list[str]) -> bool:
    """Database, Parquet copies and manifest are one version holding these waves."""
    manifest = json.loads((marts / "manifest.json").read_text(encoding="utf-8"))
    if [i["wave"] for i in manifest["inputs"]] != waves or published_waves(marts) != waves:
        return False
    con = duckdb.connect(str(marts / "samskabelse.duckdb"), read_only=True)
    try:
        counts = {t: con.execute(f'select count(*) from "{t}"').fetchall()[0][0] for t in manifest["tables"]}
    finally:
        con.close()
    parquet = {p.stem: pl.read_parquet(p).height for p in (marts / "parquet").glob("*.parquet")}
    return counts == manifest["tables"] == parquet


# When to kill: a predicate on the marts folder (and the pid of the run), checked every 5 ms.
def after(seconds: float):
    start = time.monotonic()
    return lambda marts, pid: time.monotonic() - start >= seconds


def ingest_transaction(marts: Path, pid: int) -> bool:
    return (marts / ".build" / "warehouse.duckdb.wal").exists()


def parquet_half_written(marts: Path, pid: int) -> bool:
    folder = marts / ".build" / f"parquet-{pid}"
    return folder.is_dir() and len(list(folder.iterdir())) >= 3


def published(before: dict[str, str]):
    return lambda marts, pid: snapshot(marts).get("manifest.json") != before.get("manifest.json")


def cli_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_")}
    return {
        **env,
        "PIPELINE_RAW_DIR": str(root / "raw"),
        "PIPELINE_MARTS_DIR": str(root / "marts"),
        "DAGSTER_HOME": str(root / "home"),
        "PIPELINE_PSEUDONYM_KEY": "test-key",
        "PIPELINE_PSEUDONYM_KEY_FILE": str(root / "secrets" / "pseudonym.key"),
    }


def kill_when(root: Path, name: str, ready, may_finish: bool = False) -> None:
    """Start a build, SIGKILL its process group as soon as ready(marts, pid) holds (may_finish: a build that
    succeeds before that is fine too)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "build"],
        cwd=PROJECT_ROOT,
        env=cli_env(root),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not ready(root / "marts", proc.pid):
            if proc.poll() is not None:
                if may_finish and proc.returncode == 0:
                    return
                pytest.fail(
                    f"{name}: the build ended (exit {proc.returncode}) before the kill point:\n"
                    + proc.stdout.read().decode()
                )
            assert time.monotonic() < deadline, f"{name}: the kill point never came"
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL or (may_finish and proc.returncode == 0), name


@pytest.fixture
def built_once(tmp_path):
    """Wave 2024 built and published (in this process, same Dagster instance folder as the cli runs), then
    wave 2026 dropped in."""
    root = tmp_path
    (root / "home").mkdir()
    shutil.copy(PROJECT_ROOT / "pipeline" / "defs" / "dagster.yaml", root / "home" / "dagster.yaml")
    settings = make_settings(root, pseudonym_key="test-key")
    copy_sample_wave(settings.raw_dir)
    with dg.DagsterInstance.from_config(str(root / "home")) as instance:
        assert build(settings, instance) == 0
    write_second_wave(settings.raw_dir, "2026")
    return root


@pytest.mark.fuzz
def test_kill_9_at_several_points_then_the_next_run_succeeds(built_once):
    root = built_once
    marts = root / "marts"
    # (where, kill point, what users see after the kill: the old version, the new one, or either)
    points = [
        ("during the imports", lambda before: after(random.Random(7).uniform(0.3, 1.5)), "old"),
        ("parquet copies half written", lambda before: parquet_half_written, "old"),
        ("published, reports rendering", published, "new"),
    ]
    if "FUZZ_EXAMPLES" in os.environ:  # make fuzz: also with the ingest transaction open and at random times
        rng = random.Random()
        points += [("ingest transaction open", lambda before: ingest_transaction, "either")]
        points += [
            (f"at {t:.1f} s", lambda before, t=t: after(t), "either")
            for t in sorted(rng.uniform(0, 25) for _ in range(4))
        ]
    assert published_waves(marts) == ["2024"]
    for name, point, expect in points:
        before = snapshot(marts)
        kill_when(root, name, point(before), may_finish=expect == "either")
        now = snapshot(marts)
        if now == before:
            assert expect in ("old", "either"), f"{name}: nothing was published"
        else:  # only ever the complete new version
            assert expect in ("new", "either"), f"{name}: the published files changed"
            assert consistent(marts, ["2024", "2026"]), name
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "build"],
        cwd=PROJECT_ROOT,
        env=cli_env(root),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert consistent(marts, ["2024", "2026"])
    assert sorted(p.name for p in (marts / ".build").iterdir()) == [
        "disclosure_cache.json",
        "figure_cache",
        "published-from.json",
        "reports",
        "run.lock",
        "warehouse.duckdb",
    ]
    cached = sorted(p.name for p in (marts / ".build" / "figure_cache").iterdir())
    assert cached and not [name for name in cached if name.startswith(".")]  # no temporary file left over
    with dg.DagsterInstance.from_config(str(root / "home")) as instance:
        runs = [r for r in instance.get_runs() if r.tags.get(CLI_TAG)]
        assert not [r for r in runs if r.status not in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE)]
