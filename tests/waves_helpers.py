"""Helpers of the issue-4 tests (waves over time): evaluate the raw-folder sensor the way the daemon does
(SensorDefinition.evaluate_tick with an instance ref and the repository's resources) and carry out its result
(add the partitions, then run each requested job with the real instance, in order)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from helpers import read_sample_rows, write_csv_wave
from pipeline.cli import QUIET
from pipeline.codebook import load_codebook, normalise_text
from pipeline.definitions import build_definitions
from pipeline.resources import SurveyPipeline
from pipeline.sensors import SENSOR_NAME
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
            result = job.execute_in_process(instance=self.instance, partition_key=request.partition_key,
                                            tags=tags, run_config=QUIET, raise_on_error=False)
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


def write_second_wave(raw_dir: Path, key: str = "2026", *, invited: int = 14, fielded: str = "2026-05-04",
                      change=None) -> Path:
    """A later wave: the sample answers, changed by `change(headers, rows)` when given."""
    headers, rows = read_sample_rows()
    rows = [list(r) for r in rows]
    if change is not None:
        change(headers, rows)
    return write_csv_wave(raw_dir, key, headers, rows, invited=invited, fielded=fielded,
                          columns={"Tidsstempel": "submitted_at"})


def item_column(headers: list[str], item: str) -> int:
    """Index of the export column of a codebook item (found through the codebook, never by position)."""
    lookup = CODEBOOK.header_lookup()
    hits = [i for i, h in enumerate(headers) if lookup.get(normalise_text(h)) == item]
    assert len(hits) == 1, (item, hits)
    return hits[0]


def label(scale: str, category: str, lang: str = "nb") -> str:
    """The fielded label of a category, from the codebook."""
    return next(c.label[lang] for c in CODEBOOK.scales[scale].categories if c.key == category)
