"""Helpers of the issue-4 tests (waves over time): evaluate the raw-folder sensor the way the daemon does
(SensorDefinition.evaluate_tick with an instance ref and the repository's resources) and carry out its result
(add the partitions, then run each requested job with the real instance, in order)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import dagster as dg
from helpers import read_sample_rows, write_csv_wave

from pipeline.cli import QUIET
from pipeline.codebook import load_codebook, normalise_text
from pipeline.definitions import build_definitions
from pipeline.defs.resources import SurveyPipeline
from pipeline.defs.sensors import SENSOR_NAME
from pipeline.settings import PROJECT_ROOT, Settings

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")


class SensorDriver:
    """Ticks raw_folder_sensor against a real instance, keeping its cursor between ticks like the daemon."""

    def __init__(self, settings: Settings, instance: dg.DagsterInstance):
        self.settings = settings
        self.instance = instance
        self.defs = build_definitions(settings)
        self.sensor = self.defs.get_repository_def().get_sensor_def(SENSOR_NAME)
        self.cursor: str | None = None

    def tick(self):
        """One evaluation; returns the SensorExecutionData (run_requests, dynamic_partitions_requests,
        skip_message, cursor) and keeps the cursor."""
        with dg.build_sensor_context(
            instance_ref=self.instance.get_ref(),
            cursor=self.cursor,
            repository_def=self.defs.get_repository_def(),
            resources={"pipeline": SurveyPipeline.from_settings(self.settings)},
            sensor_name=SENSOR_NAME,
        ) as context:
            data = self.sensor.evaluate_tick(context)
        self.cursor = data.cursor
        return data

    def carry_out(self, data) -> list[tuple[dg.RunRequest, dg.ExecuteInProcessResult]]:
        """What the daemon does with a tick: add the partitions, then the runs in the order requested (the
        instance runs one at a time, in submission order)."""
        for request in data.dynamic_partitions_requests:
            self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        results = []
        for request in data.run_requests:
            job = self.defs.resolve_job_def(request.job_name)
            tags = {k: v for k, v in request.tags.items() if not k.startswith("dagster/partition")}
            tags["dagster/run_key"] = request.run_key
            result = job.execute_in_process(
                instance=self.instance,
                partition_key=request.partition_key,
                tags=tags,
                run_config=QUIET,
                raise_on_error=False,
            )
            results.append((request, result))
        return results

    def tick_until_runs(self, max_ticks: int = 3):
        """Tick until a tick requests runs (a new or changed wave needs two), carry them out; return the
        requests and results."""
        for _ in range(max_ticks):
            data = self.tick()
            if data.run_requests:
                return self.carry_out(data)
        raise AssertionError(f"no run requested in {max_ticks} ticks; last: {data.skip_message}")


def summary(data) -> list[tuple[str, str | None]]:
    """(job, partition) of each run request of a tick."""
    return [(r.job_name, r.partition_key) for r in data.run_requests]


def write_second_wave(
    raw_dir: Path, key: str = "2026", *, invited: int = 14, fielded: str = "2026-05-04", change=None
) -> Path:
    """A later wave: the sample answers, changed by `change(headers, rows)` when given."""
    headers, rows = read_sample_rows()
    rows = [list(r) for r in rows]
    if change is not None:
        change(headers, rows)
    return write_csv_wave(
        raw_dir, key, headers, rows, invited=invited, fielded=fielded, columns={"Tidsstempel": "submitted_at"}
    )


def item_column(headers: list[str], item: str) -> int:
    """Index of the export column of a codebook item (found through the codebook, never by position)."""
    lookup = CODEBOOK.header_lookup()
    hits = [i for i, h in enumerate(headers) if lookup.get(normalise_text(h)) == item]
    assert len(hits) == 1, (item, hits)
    return hits[0]


def label(scale: str, category: str, lang: str = "nb") -> str:
    """The fielded label of a category, from the codebook."""
    return next(c.label[lang] for c in CODEBOOK.scales[scale].categories if c.key == category)


class DagsterDev:
    """`make ui` (dg dev: UI + daemon) on 127.0.0.1 and a free port, in a session of its own, with its own
    DAGSTER_HOME and PIPELINE_* folders; stdout and stderr in files of their own (`stderr` tells what a user sees as
    warnings). stop() ends it with SIGINT (a clean shutdown), then SIGKILLs whatever of its process group is left,
    and checks that no process of the group remains."""

    def __init__(self, root: Path, raw_dir: Path, marts_dir: Path):
        import shutil
        import socket

        self.home = root / "dagster_home"
        self.home.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_ROOT / "pipeline" / "defs" / "dagster.yaml", self.home / "dagster.yaml")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        make_vars = ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in make_vars},
            "DAGSTER_HOME": str(self.home),
            "PIPELINE_RAW_DIR": str(raw_dir),
            "PIPELINE_MARTS_DIR": str(marts_dir),
            "PIPELINE_PSEUDONYM_KEY": "test-key",
            "PIPELINE_PSEUDONYM_KEY_FILE": str(root / "secrets" / "pseudonym.key"),
        }
        self.log = root / "dagster_dev.log"
        self.err = root / "dagster_dev.err"
        self.proc: subprocess.Popen | None = None

    @property
    def stderr(self) -> str:
        return self.err.read_text(errors="replace") if self.err.exists() else ""

    def start(self, timeout: float = 240) -> DagsterDev:
        with open(self.log, "wb") as log, open(self.err, "wb") as err:
            self.proc = subprocess.Popen(
                ["make", "--no-print-directory", "ui", f"PORT={self.port}", f"DAGSTER_HOME={self.home}"],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=err,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, self.log.read_text(errors="replace")[-3000:] + self.stderr[-3000:]
            try:
                data = self.graphql(LOCATION_QUERY)
                entries = data["workspaceOrError"]["locationEntries"]
                if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                    errors = [e for e in entries if e["locationOrLoadError"]["__typename"] != "RepositoryLocation"]
                    assert not errors, errors
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, KeyError, TypeError):
                pass
            assert time.monotonic() < deadline, "dagster dev did not load the code location in time"
            time.sleep(0.5)

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.loads(response.read())
        assert "errors" not in payload, payload["errors"]
        return payload["data"]

    def group_pids(self) -> list[int]:
        """Processes of the session's process group still alive (zombies excluded)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) == self.proc.pid and fields[0] != "Z":
                pids.append(int(entry.name))
        return pids

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        deadline = time.monotonic() + 30
        while self.group_pids() and time.monotonic() < deadline:
            time.sleep(0.5)
        if self.group_pids():
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        while self.group_pids() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert self.group_pids() == [], "processes of dagster dev still running"

    def __enter__(self) -> DagsterDev:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


LOCATION_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
    locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""
