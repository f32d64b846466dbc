"""Sensors: watch the raw folder and keep the marts following it, with nobody typing a command.

`raw_folder_sensor` (on by default whenever the Dagster daemon runs, e.g. under `make ui`) looks at every
folder under PIPELINE_RAW_DIR each tick:

- a wave folder is *ready* when its wave.yaml names an export file that is there; its fingerprint is the one
  `make run` uses (pipeline.ingest.fingerprints: every file of the folder, the codebook, the ingest code, the key);
- a ready wave is up to date when its fingerprint equals the one its staged rows were made from — the build record
  in the work database (staging.wave_fingerprints, the same record `make run` reads), whoever staged it (this sensor
  or `make run`): starting `make ui` after `make run` launches nothing. While a run holds the work database the
  tick reads no record and goes by its cursor;
- a ready folder whose fingerprint differs from the last one ingested is run only when the same fingerprint
  was seen on the previous tick too (an export still being copied changes between ticks, so it waits);
- then the sensor adds the `wave` partition (new waves), requests one `ingest_wave` run per new or changed wave
  and one `build_marts` run after them. The instance runs one run at a time, in the order submitted
  (pipeline/defs/dagster.yaml: concurrency.runs.max_concurrent_runs 1), so the marts are built after the ingestion;
- a folder that disappears is reported; its rows stay in the marts until `make remove-wave WAVE=<key>`.

The cursor (JSON) carries all state between ticks: `seen` (fingerprints on the last tick), `ingested`
(fingerprint of the last run requested per wave), `removed` (waves already reported as removed) and
`requests` (a counter that makes run keys unique).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import yaml

from pipeline.defs.history import MARTS_DIR_TAG
from pipeline.defs.jobs import build_marts_job, ingest_wave_job
from pipeline.defs.partitions import wave_partitions
from pipeline.defs.resources import SurveyPipeline
from pipeline.ingest.waves import WAVE_KEY
from pipeline.settings import DEFAULT_SENSOR_INTERVAL
from pipeline.warehouse import read_staged_fingerprints

SENSOR_NAME = "raw_folder_sensor"
UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
# Seconds between ticks (PIPELINE_SENSOR_INTERVAL): a new or changed export is ingested after two ticks with the
# same content.
INTERVAL_SECONDS = DEFAULT_SENSOR_INTERVAL
CURSOR_VERSION = 1
TAG_PREFIX = "samskabelse/"


@dataclass(frozen=True)
class FolderScan:
    """The raw folder as one tick saw it."""

    ready: dict[str, str] = field(default_factory=dict)  # wave -> fingerprint
    waiting: dict[str, str] = field(default_factory=dict)  # wave folder -> why it is not ready (what to do)

    @property
    def present(self) -> set[str]:
        return set(self.ready) | set(self.waiting)


def scan_raw_folder(raw_dir: Path, fingerprint) -> FolderScan:
    """Fingerprint every wave folder under raw_dir that is ready; say why the others are not.
    fingerprint(wave) -> str | None: the wave's fingerprint (pipeline.ingest.fingerprints.wave_fingerprint, as
    `make run` computes it)."""
    scan = FolderScan()
    if not raw_dir.is_dir():
        return scan
    for folder in sorted(p for p in raw_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        key = folder.name
        spec_path = folder / "wave.yaml"
        if not WAVE_KEY.match(key):
            scan.waiting[key] = (
                f"{folder}: the folder name is not a valid wave key; use letters, digits, '-' and '_' (at most 64)"
            )
            continue
        if not spec_path.is_file():
            scan.waiting[key] = f"{spec_path}: missing; add a wave.yaml (see README, 'Adding a wave')"
            continue
        try:
            raw = yaml.safe_load(spec_path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
            scan.waiting[key] = f"{spec_path}: not valid YAML ({str(exc).splitlines()[0]}); fix the file"
            continue
        export = raw.get("export") if isinstance(raw, dict) else None
        if not isinstance(export, str) or not export or "/" in export or "\\" in export or export.startswith("."):
            scan.waiting[key] = f"{spec_path}: export: {export!r} must name the export file inside the wave folder"
            continue
        export_path = folder / export
        try:
            present = export_path.is_file()
        except OSError:  # e.g. a name longer than the file system allows
            present = False
        if not present:
            scan.waiting[key] = f"{export_path}: not there (yet); copy the export named in wave.yaml into {folder}"
            continue
        try:
            fp = fingerprint(key)
        except OSError as exc:  # removed or unreadable while we looked
            fp, why = None, exc.strerror
        else:
            why = "the folder changed while it was read"
        if fp is None:
            scan.waiting[key] = f"{export_path}: cannot be read ({why}); the sensor tries again"
        else:
            scan.ready[key] = fp
    return scan


@dataclass(frozen=True)
class Decision:
    """What one tick does: partitions to add, waves to ingest (with why), the new cursor, and what to report."""

    add_partitions: list[str]
    ingest: dict[str, str]  # wave -> "new" | "changed"
    cursor: dict
    messages: list[str]
    warnings: list[str]

    @property
    def build_marts(self) -> bool:
        return bool(self.ingest)


def load_cursor(text: str | None) -> dict:
    state = {"version": CURSOR_VERSION, "seen": {}, "ingested": {}, "removed": [], "requests": 0}
    if text:
        loaded = json.loads(text)
        if loaded.get("version") == CURSOR_VERSION:
            state.update(loaded)
    return state


def decide(scan: FolderScan, cursor: dict, partitions: set[str], staged: dict[str, str] | None = None) -> Decision:
    """The sensor's logic, free of Dagster: compare this tick's scan with the cursor, the known partitions and the
    fingerprints the waves' staged rows were made from (staged: wave -> fingerprint, by any run)."""
    seen: dict[str, str] = cursor["seen"]
    ingested: dict[str, str] = dict(cursor["ingested"])
    for key, fp in (staged or {}).items():
        if key in partitions and scan.ready.get(key) == fp:
            ingested[key] = fp  # staged from exactly these inputs (e.g. by `make run`): nothing to do
    ingest: dict[str, str] = {}
    add: list[str] = []
    messages: list[str] = []
    warnings: list[str] = []
    for key, fp in sorted(scan.ready.items()):
        known = key in partitions
        if known and ingested.get(key) == fp:
            continue
        reason = "changed" if known else "new"
        if seen.get(key) != fp:
            messages.append(f"wave {key}: {reason} input seen; it is ingested when it is unchanged on the next tick")
            continue
        ingest[key] = reason
        ingested[key] = fp
        if not known:
            add.append(key)
    for key, why in sorted(scan.waiting.items()):
        messages.append(f"wave folder {key} waits: {why}")
    removed = sorted(k for k in partitions if k not in scan.present)
    for key in removed:
        text = (
            f"wave {key}: its folder was removed; its rows stay in the marts until "
            f"`make remove-wave WAVE={key}` removes them"
        )
        (warnings if key not in cursor["removed"] else messages).append(text)
    # A wave removed with `make remove-wave` (partition gone) and without a folder is forgotten.
    ingested = {k: v for k, v in ingested.items() if k in scan.present or k in partitions}
    new_cursor = {
        "version": CURSOR_VERSION,
        "seen": dict(sorted(scan.ready.items())),
        "ingested": dict(sorted(ingested.items())),
        "removed": removed,
        "requests": cursor["requests"] + (1 if ingest else 0),
    }
    return Decision(add_partitions=add, ingest=ingest, cursor=new_cursor, messages=messages, warnings=warnings)


def run_requests(decision: Decision, marts_dir: str = "") -> list[dg.RunRequest]:
    """One ingest_wave run per wave (in wave order), then one build_marts run; each tagged with the marts folder."""
    n = decision.cursor["requests"]
    where = {MARTS_DIR_TAG: marts_dir} if marts_dir else {}
    fps = decision.cursor["ingested"]
    requests = [
        dg.RunRequest(
            run_key=f"ingest_wave:{key}:{fps[key][:12]}:{n}",
            job_name=ingest_wave_job.name,
            partition_key=key,
            tags={TAG_PREFIX + "trigger": f"{reason} wave", TAG_PREFIX + "fingerprint": fps[key][:12], **where},
        )
        for key, reason in sorted(decision.ingest.items())
    ]
    if decision.build_marts:
        waves = ",".join(sorted(decision.ingest))
        requests.append(
            dg.RunRequest(
                run_key=f"build_marts:{n}",
                job_name=build_marts_job.name,
                tags={TAG_PREFIX + "trigger": f"waves ingested: {waves}", **where},
            )
        )
    return requests


def raw_folder_sensor(context: dg.SensorEvaluationContext, pipeline: SurveyPipeline) -> dg.SensorResult:
    """Watches the raw folder: a new wave folder (wave.yaml + export, unchanged between two ticks) adds the
    `wave` partition and runs ingest_wave for it, then build_marts; a changed export or wave.yaml re-runs that
    wave only; a removed folder is reported (its rows stay until `make remove-wave`)."""
    from pipeline.ingest.fingerprints import build_inputs, wave_fingerprint

    settings = pipeline.settings
    raw_dir = settings.raw_dir
    cursor = load_cursor(context.cursor)
    common = build_inputs(settings, pipeline.codebook())
    scan = scan_raw_folder(raw_dir, lambda wave: wave_fingerprint(settings, wave, common))
    partitions = set(context.instance.get_dynamic_partitions(wave_partitions.name))
    busy = context.instance.get_runs(filters=dg.RunsFilter(statuses=UNFINISHED), limit=1)
    staged = None if busy else read_staged_fingerprints(settings, wait=False)
    decision = decide(scan, cursor, partitions, staged)
    for text in decision.warnings:
        context.log.warning(text)
    for text in decision.messages:
        context.log.info(text)
    requests = run_requests(decision, str(settings.marts_dir.resolve()))
    cursor_text = json.dumps(decision.cursor, sort_keys=True)
    if not requests:
        summary = decision.warnings + decision.messages
        return dg.SensorResult(
            cursor=cursor_text,
            skip_reason=f"{raw_dir}: " + ("; ".join(summary) if summary else "every wave is up to date"),
        )
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=(
            [wave_partitions.build_add_request(decision.add_partitions)] if decision.add_partitions else []
        ),
        cursor=cursor_text,
    )


def build_sensors(interval: int = INTERVAL_SECONDS) -> list[dg.SensorDefinition]:
    """The raw-folder sensor, looking every `interval` seconds (PIPELINE_SENSOR_INTERVAL)."""
    sensor = dg.sensor(
        name=SENSOR_NAME,
        jobs=[ingest_wave_job, build_marts_job],
        minimum_interval_seconds=interval,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Watches the raw folder (`PIPELINE_RAW_DIR`) every {interval} s. A new wave folder (`wave.yaml` "
        "and the export it names, unchanged between two ticks) adds the `wave` partition, runs "
        "`ingest_wave` for it and then `build_marts`; a changed export or `wave.yaml` re-runs that wave "
        "only; a folder that disappears is reported (its rows stay until `make remove-wave WAVE=<key>`). "
        "A tick that starts nothing says why in its message: every wave up to date, or which folders "
        "wait and what they need.",
    )
    return [sensor(raw_folder_sensor)]
