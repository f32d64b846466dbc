"""Command line: `python -m pipeline.cli build` (what `make run` calls) and `remove-wave WAVE`.

build: registers every wave folder under PIPELINE_RAW_DIR as a `wave` partition in the project's Dagster
instance (DAGSTER_HOME), runs `ingest_wave` once per wave, then `build_marts` once. Runs appear in the
Dagster UI (`make ui`). A wave that fails is reported and the others still build; the exit code is 1
when any wave, step or ERROR check failed.

remove-wave WAVE: after the wave's folder was moved out of PIPELINE_RAW_DIR, deletes its rows from the work
database and its `wave` partition, then rebuilds and publishes the marts (`make remove-wave WAVE=2025`).

Runs never overlap: both commands refuse to start (exit code 2) while another build of the same marts
folder runs, or while the Dagster instance has runs queued or in progress (started by the sensor or the
schedule under `make ui`); runs this command started and never finished (the process was killed) are
marked failed.
"""

from __future__ import annotations

import argparse
import fcntl
import sys
import warnings
from contextlib import contextmanager
from typing import Iterator

import dagster as dg

from pipeline.settings import Settings
from pipeline.waves import discover_waves, invalid_wave_folders


def _failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    messages = []
    for event in result.all_events:
        if event.is_step_failure:
            data = event.step_failure_data
            err = data.error
            text = (data.user_failure_data.description if data.user_failure_data else None) or (
                err.message.strip() if err else "failed")
            messages.append(f"{event.step_key}: {text}")
    return messages


def _failed_checks(result: dg.ExecuteInProcessResult) -> list[str]:
    out = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            ev = event.event_specific_data
            if not ev.passed and ev.severity == dg.AssetCheckSeverity.ERROR:
                desc = ev.description or ""
                out.append(f"{ev.asset_key.to_user_string()} {ev.check_name}: {desc}".strip())
    return out


QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
# Runs this command starts carry the marts folder they build into.
CLI_TAG = "samskabelse/cli_marts_dir"
BUSY = 2
UNFINISHED = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
              dg.DagsterRunStatus.CANCELING]


class Busy(RuntimeError):
    """Another build is running; the message says which and what to do."""


@contextmanager
def exclusive_build(settings: Settings, instance: dg.DagsterInstance) -> Iterator[None]:
    """Hold <marts>/.build/run.lock for the whole command; fail runs a killed earlier command left unfinished;
    refuse while the instance has other runs queued or in progress."""
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.build_dir / "run.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(f"another `python -m pipeline.cli` (make run / make remove-wave) is building into "
                       f"{settings.marts_dir}; wait until it has finished, then run again") from None
        try:
            unfinished = instance.get_runs(filters=dg.RunsFilter(statuses=UNFINISHED))
            for run in unfinished:
                if run.tags.get(CLI_TAG) == str(settings.marts_dir):
                    instance.report_run_failed(
                        run, "the `python -m pipeline.cli` process running this ended before it finished (killed?)")
            others = sorted((r for r in unfinished if CLI_TAG not in r.tags), key=lambda r: r.run_id)
            if others:
                listed = ", ".join(f"{r.job_name} {r.run_id[:8]} ({r.status.value.lower()})" for r in others)
                raise Busy(f"the Dagster instance ({instance.root_directory}) has {len(others)} run(s) queued or "
                           f"in progress: {listed}. Wait for them (Dagster UI, Runs) or terminate them there, "
                           "then run again")
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _publish_notes(result: dg.ExecuteInProcessResult) -> list[str]:
    """Notes the publish step recorded (e.g. a session that still sees the old version)."""
    notes = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            mat = event.event_specific_data.materialization
            if mat.asset_key.path[:1] == ["publish"] and "note" in mat.metadata:
                notes.append(mat.metadata["note"].value)
    return notes


def build(settings: Settings, instance: dg.DagsterInstance, waves: list[str] | None = None) -> int:
    try:
        with exclusive_build(settings, instance):
            return _build(settings, instance, waves)
    except Busy as exc:
        print(f"samskabelse: not started: {exc}", file=sys.stderr)
        return BUSY


def _build(settings: Settings, instance: dg.DagsterInstance, waves: list[str] | None = None) -> int:
    from pipeline.definitions import build_definitions

    defs = build_definitions(settings)
    waves_given = waves
    waves = discover_waves(settings.raw_dir) if waves is None else waves
    print(f"samskabelse: {len(waves)} wave(s) under {settings.raw_dir}: {', '.join(waves) or '(none)'}")
    known = set(instance.get_dynamic_partitions("wave"))
    new = [w for w in waves if w not in known]
    if new:
        instance.add_dynamic_partitions("wave", new)
    failed = []
    skipped = invalid_wave_folders(settings.raw_dir) if waves_given is None else {}
    for message in skipped.values():
        print(f"  {message}", file=sys.stderr)
    tags = {CLI_TAG: str(settings.marts_dir)}
    ingest = defs.resolve_job_def("ingest_wave")
    for wave in waves:
        result = ingest.execute_in_process(instance=instance, partition_key=wave, raise_on_error=False,
                                           run_config=QUIET, tags=tags)
        if result.success:
            print(f"  wave {wave}: ingested")
        else:
            for msg in _failure_messages(result) or ["failed"]:
                print(f"  wave {wave}: FAILED – {msg}", file=sys.stderr)
            failed.append(wave)
    result = defs.resolve_job_def("build_marts").execute_in_process(instance=instance, raise_on_error=False,
                                                                    run_config=QUIET, tags=tags)
    if not result.success:
        for msg in _failure_messages(result):
            print(f"  marts: FAILED – {msg}", file=sys.stderr)
        return 1
    checks = _failed_checks(result)
    for msg in checks:
        print(f"  check FAILED – {msg}", file=sys.stderr)
    print(f"samskabelse: marts published to {settings.published_db}")
    for note in _publish_notes(result):
        print(f"samskabelse: note – {note}")
    print(f"samskabelse: reports in {settings.reports_dir / 'index.html'}")
    if skipped:
        print(f"samskabelse: {len(skipped)} folder(s) skipped (not a valid wave name), see above", file=sys.stderr)
    if failed:
        print(f"samskabelse: {len(failed)} wave(s) failed: {', '.join(failed)} (their earlier data, if any, are kept)",
              file=sys.stderr)
    return 1 if failed or skipped or checks else 0


def remove_wave(settings: Settings, instance: dg.DagsterInstance, wave: str) -> int:
    """Delete a wave's rows from the work database and its partition, then rebuild the marts."""
    from pipeline.warehouse import connect, delete_wave
    from pipeline.waves import WaveError, check_wave_key

    try:
        check_wave_key(wave)
    except WaveError as exc:
        print(f"samskabelse: {exc}", file=sys.stderr)
        return 1
    folder = settings.raw_dir / wave
    if folder.exists():
        print(f"samskabelse: {folder} is still there; move it out of {settings.raw_dir} first (the sensor and "
              f"`make run` would ingest it again), then run remove-wave {wave} again", file=sys.stderr)
        return 1
    try:
        with exclusive_build(settings, instance):
            with connect(settings.work_db, settings.sql_dir) as con:
                delete_wave(con, wave)
            if wave in instance.get_dynamic_partitions("wave"):
                instance.delete_dynamic_partition("wave", wave)
            print(f"samskabelse: wave {wave} removed from the work database; rebuilding marts")
            return _build(settings, instance)
    except Busy as exc:
        print(f"samskabelse: not started: {exc}", file=sys.stderr)
        return BUSY


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", category=dg.BetaWarning) if hasattr(dg, "BetaWarning") else None
    parser = argparse.ArgumentParser(prog="python -m pipeline.cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="ingest every wave and build marts, reports and the published database")
    rm = sub.add_parser("remove-wave", help="remove a wave's rows from the marts (after deleting its folder)")
    rm.add_argument("wave")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    with dg.DagsterInstance.get() as instance:
        if args.command == "build":
            return build(settings, instance)
        return remove_wave(settings, instance, args.wave)


if __name__ == "__main__":
    sys.exit(main())
