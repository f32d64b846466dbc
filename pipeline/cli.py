"""Command line: `python -m pipeline.cli build` (what `make run` calls) and `remove-wave WAVE`.

build: registers every wave folder under PIPELINE_RAW_DIR as a `wave` partition in the project's Dagster
instance (DAGSTER_HOME), runs `ingest_wave` once per wave, then `build_marts` once. Runs appear in the
Dagster UI (`make ui`). A wave that fails is reported and the others still build; the exit code is 1
when any wave, step or ERROR check failed.
"""

from __future__ import annotations

import argparse
import sys
import warnings

import dagster as dg

from pipeline.settings import Settings
from pipeline.waves import discover_waves


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


def build(settings: Settings, instance: dg.DagsterInstance, waves: list[str] | None = None) -> int:
    from pipeline.definitions import build_definitions

    defs = build_definitions(settings)
    waves = discover_waves(settings.raw_dir) if waves is None else waves
    print(f"samskabelse: {len(waves)} wave(s) under {settings.raw_dir}: {', '.join(waves) or '(none)'}")
    known = set(instance.get_dynamic_partitions("wave"))
    new = [w for w in waves if w not in known]
    if new:
        instance.add_dynamic_partitions("wave", new)
    failed = []
    ingest = defs.resolve_job_def("ingest_wave")
    for wave in waves:
        result = ingest.execute_in_process(instance=instance, partition_key=wave, raise_on_error=False,
                                           run_config=QUIET)
        if result.success:
            print(f"  wave {wave}: ingested")
        else:
            for msg in _failure_messages(result) or ["failed"]:
                print(f"  wave {wave}: FAILED – {msg}", file=sys.stderr)
            failed.append(wave)
    result = defs.resolve_job_def("build_marts").execute_in_process(instance=instance, raise_on_error=False,
                                                                    run_config=QUIET)
    if not result.success:
        for msg in _failure_messages(result):
            print(f"  marts: FAILED – {msg}", file=sys.stderr)
        return 1
    checks = _failed_checks(result)
    for msg in checks:
        print(f"  check FAILED – {msg}", file=sys.stderr)
    print(f"samskabelse: marts published to {settings.published_db}")
    print(f"samskabelse: reports in {settings.reports_dir / 'index.html'}")
    if failed:
        print(f"samskabelse: {len(failed)} wave(s) failed: {', '.join(failed)} (their earlier data, if any, are kept)",
              file=sys.stderr)
    return 1 if failed or checks else 0


def remove_wave(settings: Settings, instance: dg.DagsterInstance, wave: str) -> int:
    """Delete a wave's rows from the work database and its partition, then rebuild the marts."""
    from pipeline.warehouse import connect, delete_wave
    from pipeline.waves import check_wave_key

    check_wave_key(wave)
    with connect(settings.work_db, settings.sql_dir) as con:
        delete_wave(con, wave)
    if wave in instance.get_dynamic_partitions("wave"):
        instance.delete_dynamic_partition("wave", wave)
    print(f"samskabelse: wave {wave} removed from the work database; rebuilding marts")
    return build(settings, instance, waves=[w for w in discover_waves(settings.raw_dir) if w != wave])


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
