"""Command line: `python -m pipeline.cli build [--force]` (what `make run` calls) and `remove-wave WAVE`.

Exit codes: 0 = everything built and published; 1 = failed (a wave, a step or an ERROR check failed; with a failed
blocking check nothing was published); 2 = wrong command line; 3 = not started (another build is running, runs are
in progress in the Dagster instance, or a PIPELINE_* setting is wrong). Through `make run` every non-zero code
becomes make's own 2, and make's last line names ours: "make: *** [Makefile:…: run] Error 1" (or Error 3).

build: registers every wave folder under PIPELINE_RAW_DIR as a `wave` partition in the project's Dagster
instance (DAGSTER_HOME), ingests the waves that changed, then runs `build_marts` once. Runs appear in the
Dagster UI (`make ui`). A wave that fails is reported and the others still build; the exit code is 1
when any wave, step or ERROR check failed (see Exit codes).

A wave is *unchanged* ("wave X: unchanged, kept") when its fingerprint equals the one stored with its staged
rows in the work database: the sha256 of every file in its folder (wave.yaml, export, labels table), of the
codebook, of the ingest code and staging SQL (with the versions of the libraries that read exports), and an HMAC
of the pseudonym key. Any difference, a wave that failed before, or a deleted work database (<marts>/.build/)
re-ingests the wave. The record of what each wave's staged rows were made from is the work database's
staging.wave_fingerprints, the same record the raw-folder sensor reads. The changed waves are ingested together: one
`ingest_wave` run per stretch of neighbouring `wave` partitions (a partition range), so 20 new waves cost one run,
not 20; a wave that fails is named and the others are kept.
When every wave is unchanged and the published files were made from exactly what the marts would be made from now
(ingest.fingerprints.outputs_fingerprint: staged waves, SQL, schemas, code, uv.lock, output settings) and are as
that build left them, nothing is built ("nothing changed since the last build").
--force re-ingests every wave and rebuilds (e.g. after changing something the fingerprints cannot see).

inspect WAVE: prints how the wave folder would be read (tool and why, encoding, header mapping, values per
item and the category each becomes, quarantine, complete/partial, response rate); builds and writes nothing.

review WAVE: writes <wave folder>/open_answers.review.yaml, each open answer (personal data masked) with a stable id
and a decision for the public profile: publish, redact (with the text to show) or leave_out; new answers are
unreviewed (left out of the public pages, counted). Decisions already taken are kept (pipeline.ingest.review).

remove-wave WAVE: after the wave's folder was moved out of PIPELINE_RAW_DIR, deletes its rows (and its
fingerprint) from the work database and its `wave` partition, then rebuilds and publishes the marts
(`make remove-wave WAVE=2025`).

Runs never overlap: both commands refuse to start (exit code 3) while another build of the same marts
folder runs, or while the Dagster instance has runs queued or in progress (started by the sensor or the
schedule under `make ui`); runs this command started and never finished (the process was killed) are
marked failed.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from pipeline.defs.history import MARTS_DIR_TAG
from pipeline.files import output_folder
from pipeline.ingest.fingerprints import outputs_fingerprint, published_is_current, record_published
from pipeline.ingest.waves import discover_waves, invalid_wave_folders
from pipeline.settings import Settings

if TYPE_CHECKING:  # Dagster is imported where a build runs: the nothing-changed check does without it
    import dagster as dg

CHECK_FAILED = "DagsterAssetCheckFailedError"  # a blocking check failed: named by _failed_checks, not a bug
CHECK_FAILED_TEXT = "a blocking check failed"


def _bug_text(err) -> str:
    """A step failure that is not a dg.Failure is a bug: its message with the stack trace (innermost cause)."""
    if err is None:
        return "failed"
    if err.cls_name == CHECK_FAILED:
        return CHECK_FAILED_TEXT
    while err.cause is not None:
        err = err.cause
    return (
        "unexpected error (a bug, please report it with this trace): "
        + err.message.strip()
        + "\n"
        + "".join(err.stack).rstrip()
    )


def _failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    messages = []
    for event in result.all_events:
        if event.is_step_failure:
            data = event.step_failure_data
            err = data.error
            text = (data.user_failure_data.description if data.user_failure_data else None) or _bug_text(err)
            messages.append(f"{event.step_key}: {text}")
    return messages


def _wave_failures(result: dg.ExecuteInProcessResult, waves: list[str]) -> dict[str, list[str]]:
    """wave -> messages of the steps that failed for it in a run over `waves`. A step that names its failed waves
    (metadata FAILED_WAVES) fails those only, with the wave's own message (file, row, column and what to do: the
    step's name would add nothing for the user); any other step failure fails every wave, named with its step."""
    from pipeline.defs.assets.per_wave import FAILED_WAVES

    out: dict[str, list[str]] = {}
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        data = event.step_failure_data
        meta = data.user_failure_data.metadata if data.user_failure_data else {}
        if FAILED_WAVES in meta:
            for wave, text in meta[FAILED_WAVES].value.items():
                out.setdefault(wave, []).append(text)
        else:
            text = (data.user_failure_data.description if data.user_failure_data else None) or _bug_text(data.error)
            for wave in waves:
                out.setdefault(wave, []).append(f"{event.step_key}: {text}")
    return out


def _failed_checks(result: dg.ExecuteInProcessResult) -> list[str]:
    import dagster as dg

    out = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            ev = event.event_specific_data
            if not ev.passed and ev.severity == dg.AssetCheckSeverity.ERROR:
                desc = ev.description or ""
                out.append(f"{ev.asset_key.to_user_string()} {ev.check_name}: {desc}".strip())
    return out


# Dagster's console log stays quiet: this command prints one line per data error itself (and the stack trace
# only for a bug); the full event log of every run is in the Dagster UI.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
# Runs this command starts carry the marts folder they build into.
CLI_TAG = "samskabelse/cli_marts_dir"
# Exit codes of `python -m pipeline.cli` (build, remove-wave, inspect). `make run` turns any non-zero code into
# its own code 2 (GNU make), and its last line names ours: "make: *** [Makefile:…: run] Error 1" or "Error 3".
OK, FAILED, NOT_STARTED = 0, 1, 3
BUSY = NOT_STARTED  # another build holds the lock, or the instance has runs in progress
# A wave counts as ingested when its staging rows were written (staging/respondents materialized).
STAGED = ("staging", "respondents")  # the path of pipeline.defs.assets.ingest.STAGED, without importing the assets
UNFINISHED = ("QUEUED", "STARTING", "STARTED", "CANCELING")  # DagsterRunStatus


class Busy(RuntimeError):
    """Another build is running; the message says which and what to do."""


@contextmanager
def exclusive_build(settings: Settings, instance: dg.DagsterInstance) -> Iterator[None]:
    """Hold <marts>/.build/run.lock for the whole command; fail runs a killed earlier command left unfinished;
    refuse while the instance has other runs queued or in progress."""
    output_folder(settings.marts_dir)
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.build_dir / "run.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(
                f"another `python -m pipeline.cli` (make run / make remove-wave) is building into "
                f"{settings.marts_dir}; wait until it has finished, then run again"
            ) from None
        try:
            import dagster as dg

            unfinished = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus[s] for s in UNFINISHED]))
            for run in unfinished:
                if run.tags.get(CLI_TAG) == str(settings.marts_dir):
                    instance.report_run_failed(
                        run, "the `python -m pipeline.cli` process running this ended before it finished (killed?)"
                    )
            others = sorted((r for r in unfinished if CLI_TAG not in r.tags), key=lambda r: r.run_id)
            if others:
                listed = ", ".join(f"{r.job_name} {r.run_id[:8]} ({r.status.value.lower()})" for r in others)
                raise Busy(
                    f"the Dagster instance ({instance.root_directory}) has {len(others)} run(s) queued or "
                    f"in progress: {listed}. Wait for them (Dagster UI, Runs) or terminate them there, "
                    "then run again"
                )
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _audit_line(result: dg.ExecuteInProcessResult) -> str | None:
    """The disclosure audit's result for the run summary (a public build): cells hidden, cells audited, the
    narrowest feasible range of an audited cell."""
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation.check_name == "published_cells_are_protected" and "cells hidden" in evaluation.metadata:
                meta = {k: v.value for k, v in evaluation.metadata.items()}
                return (
                    f"samskabelse: disclosure audit {'passed' if evaluation.passed else 'FAILED'}: "
                    f"{meta['cells hidden']} cell(s) hidden, {meta['cells audited']} small one(s) audited, "
                    f"narrowest feasible range {meta['narrowest range']} (each must reach 0 and the minimum)"
                )
    return None


def _publish_notes(result: dg.ExecuteInProcessResult) -> list[str]:
    """Notes the publish step recorded (e.g. a session that still sees the old version)."""
    notes = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            mat = event.event_specific_data.materialization
            if mat.asset_key.path[:1] == ["publish"] and "note" in mat.metadata:
                notes.append(mat.metadata["note"].value)
    return notes


def build(settings: Settings, instance: dg.DagsterInstance, waves: list[str] | None = None, force: bool = False) -> int:
    try:
        with exclusive_build(settings, instance):
            return _build(settings, instance, waves, force=force)
    except Busy as exc:
        print(f"samskabelse: not started: {exc}", file=sys.stderr)
        return BUSY


def _stretches(waves: list[str], order: list[str]) -> list[list[str]]:
    """The waves as stretches of neighbouring partitions in the instance's partition order (a partition range
    covers every partition between its start and end)."""
    index = {w: i for i, w in enumerate(order)}
    out: list[list[str]] = []
    for wave in sorted(waves, key=index.__getitem__):
        if out and index[out[-1][-1]] + 1 == index[wave]:
            out[-1].append(wave)
        else:
            out.append([wave])
    return out


def _run_waves(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    waves: list[str],
    tags: dict[str, str],
    asset_selection: list[dg.AssetKey] | None = None,
) -> dg.ExecuteInProcessResult:
    """One run of `job` over neighbouring wave partitions (a single partition or a partition range)."""
    if len(waves) == 1:
        return job.execute_in_process(
            instance=instance,
            partition_key=waves[0],
            raise_on_error=False,
            run_config=QUIET,
            tags=tags,
            asset_selection=asset_selection,
        )
    tags = {**tags, "dagster/asset_partition_range_start": waves[0], "dagster/asset_partition_range_end": waves[-1]}
    return job.execute_in_process(
        instance=instance, raise_on_error=False, run_config=QUIET, tags=tags, asset_selection=asset_selection
    )


def _staged_partitions(result: dg.ExecuteInProcessResult) -> set[str]:
    return {
        e.partition
        for e in result.get_asset_materialization_events()
        if tuple(e.asset_key.path) == STAGED and e.partition is not None
    }


def ingest_waves(
    defs: dg.Definitions, instance: dg.DagsterInstance, waves: list[str], tags: dict[str, str]
) -> dict[str, list[str]]:
    """Ingest the waves in as few runs as the partition order allows (one per stretch of neighbouring partitions);
    returns wave -> failure messages for the waves that failed (printed as they finish, in partition order)."""
    job = defs.resolve_job_def("ingest_wave")
    order = instance.get_dynamic_partitions("wave")
    failed: dict[str, list[str]] = {}
    for stretch in _stretches(waves, order):
        result = _run_waves(job, instance, stretch, tags)
        problems = _wave_failures(result, stretch)
        staged = _staged_partitions(result)
        for wave in stretch:
            if wave in staged and wave not in problems:
                print(f"  wave {wave}: ingested")
                continue
            failed[wave] = problems.get(wave) or ["failed"]
            for msg in failed[wave]:
                print(f"  wave {wave}: FAILED – {msg}", file=sys.stderr)
    return failed


UNMAPPED_NAMED = 3  # unmapped headers named in a wave's summary line (the count says how many more)


def wave_summary_lines(settings: Settings, waves: list[str]) -> list[str]:
    """Per built wave: tool, rows, complete/partial, quarantined cells (and where to see them), unmapped headers (the
    first few named), then the rule that told complete from partial, the closed items the export lacks (shown as
    not asked on the pages) and the headers left out because wave.yaml's ignore: lists them
    (sql/summaries/wave_summary.sql on the work database)."""
    from pipeline.codebook import load_codebook, normalise_text
    from pipeline.ingest.readers import shorten
    from pipeline.warehouse import bound, connect, query_frame, read_sql

    if not waves or not settings.work_db.exists():
        return []
    codebook = load_codebook(settings.codebook_file)
    closed = [i.code for i in codebook.closed_items()]
    ignore_lists = _ignore_lists(settings, codebook, waves)
    sql = read_sql(settings.sql_dir, "summaries", "wave_summary")
    with connect(settings, read_only=True) as con:
        rows = query_frame(con, sql, bound(sql, {"closed_items": closed})).rows(named=True)
    out = []
    for r in rows:
        if r["wave"] not in waves:
            continue
        fmt, _, tool = r["reader"].partition("/")
        where = " (table quarantine, or `make inspect WAVE=" + r["wave"] + "`)" if r["quarantined_cells"] else ""
        unmapped = f"{r['unmapped_count']} unmapped header(s)"
        if r["unmapped_headers"]:
            named = ", ".join(shorten(h, 60) for h in r["unmapped_headers"][:UNMAPPED_NAMED])
            more = f" and {r['unmapped_count'] - UNMAPPED_NAMED} more" if r["unmapped_count"] > UNMAPPED_NAMED else ""
            unmapped += f": {named}{more}"
        out.append(
            f"  {r['wave']}: {tool} ({fmt}), {r['exported_rows']} rows, {r['complete']} complete / "
            f"{r['partial']} partial, {r['quarantined_cells']} quarantined cell(s){where}, {unmapped}"
        )
        out.append(f"    complete/partial: {r['completion_rule'] or '(not recorded: build again with --force)'}")
        if r["not_asked"]:
            out.append(f"    not asked (no column in the export): {', '.join(r['not_asked'])}")
        ignored = [h for h in r["dropped_headers"] if normalise_text(h) in ignore_lists.get(r["wave"], ())]
        if ignored:
            named = ", ".join(shorten(h, 60) for h in ignored[:UNMAPPED_NAMED])
            more = f" and {len(ignored) - UNMAPPED_NAMED} more" if len(ignored) > UNMAPPED_NAMED else ""
            out.append(f"    left out as wave.yaml's ignore: says: {named}{more}")
    return ["samskabelse: waves in the marts:", *out] if out else []


def _ignore_lists(settings: Settings, codebook, waves: list[str]) -> dict[str, tuple[str, ...]]:
    """Each wave's wave.yaml ignore: list (normalised headers); a folder that no longer reads has none."""
    from pipeline.ingest.waves import WaveError, load_wave

    out = {}
    for wave in waves:
        try:
            out[wave] = load_wave(settings.raw_dir, wave, codebook).ignore
        except (WaveError, OSError):  # the summary reports what was built; the build reports the folder
            out[wave] = ()
    return out


def unchanged_waves(settings: Settings, waves: list[str]) -> list[str]:
    """Waves whose current fingerprint equals the one the build record (the work database's
    staging.wave_fingerprints) holds for their staged rows."""
    from pipeline.codebook import load_codebook
    from pipeline.ingest.fingerprints import wave_fingerprints
    from pipeline.warehouse import read_staged_fingerprints

    current = wave_fingerprints(settings, load_codebook(settings.codebook_file), waves)
    try:
        stored = read_staged_fingerprints(settings) or {}
    except duckdb.Error as exc:
        print(
            f"samskabelse: note – the fingerprints in {settings.work_db} could not be read "
            f"({str(exc).splitlines()[0]}): every wave is ingested again",
            file=sys.stderr,
        )
        return []
    return [w for w in waves if current[w] is not None and stored.get(w) == current[w]]


def _staged_waves(settings: Settings) -> list[str]:
    """The waves whose staged rows are in the work database (each has its fingerprint there)."""
    from pipeline.warehouse import read_staged_fingerprints

    try:
        return sorted(read_staged_fingerprints(settings) or {})
    except duckdb.Error:
        return []


def _outputs(settings: Settings) -> str:
    """The fingerprint of what the marts are made from now (every wave staged in the work database)."""
    from pipeline.warehouse import read_staged_fingerprints

    return outputs_fingerprint(settings, read_staged_fingerprints(settings) or {})


def _print_nothing_changed(settings: Settings, waves: list[str]) -> None:
    print(
        f"samskabelse: nothing changed since the last build: {settings.published_db} and the reports in "
        f"{settings.reports_dir} are up to date (`python -m pipeline.cli build --force` builds everything again)"
    )
    for line in wave_summary_lines(settings, waves):
        print(line)


def up_to_date(settings: Settings) -> bool:
    """The nothing-changed check of a build, before Dagster is imported (its import and instance are most of the
    time of a build that does nothing): under the build lock, every wave folder valid and unchanged since it was
    staged, and the published files made from exactly these inputs, code and settings. Then it prints what the
    build would print and returns True; otherwise (or when another build holds the lock) False, and the build runs
    as usual, which reports a busy instance, registers new waves and says what changed."""
    if not settings.published_db.exists() or not settings.work_db.exists():
        return False
    with open(settings.build_dir / "run.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        try:
            waves = discover_waves(settings.raw_dir)
            if not waves or invalid_wave_folders(settings.raw_dir):
                return False
            if unchanged_waves(settings, waves) != waves or not published_is_current(settings, _outputs(settings)):
                return False
            print(f"samskabelse: {len(waves)} wave(s) under {settings.raw_dir}: {', '.join(waves)}")
            for wave in waves:
                print(f"  wave {wave}: unchanged, kept")
            _print_nothing_changed(settings, waves)
            return True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build(
    settings: Settings, instance: dg.DagsterInstance, waves: list[str] | None = None, force: bool = False
) -> int:
    waves_given = waves
    waves = discover_waves(settings.raw_dir) if waves is None else waves
    print(f"samskabelse: {len(waves)} wave(s) under {settings.raw_dir}: {', '.join(waves) or '(none)'}")
    known = set(instance.get_dynamic_partitions("wave"))
    new = [w for w in waves if w not in known]
    if new:
        instance.add_dynamic_partitions("wave", new)
    skipped = invalid_wave_folders(settings.raw_dir) if waves_given is None else {}
    for message in skipped.values():
        print(f"  {message}", file=sys.stderr)
    tags = {CLI_TAG: str(settings.marts_dir), MARTS_DIR_TAG: str(settings.marts_dir.resolve())}
    kept = [] if force else unchanged_waves(settings, waves)
    for wave in kept:
        print(f"  wave {wave}: unchanged, kept")
    if waves and len(kept) == len(waves) and not skipped and published_is_current(settings, _outputs(settings)):
        _print_nothing_changed(settings, waves)
        return OK
    from pipeline.definitions import build_definitions  # the assets and their libraries: only for a build

    defs = build_definitions(settings)
    failed = ingest_waves(defs, instance, [w for w in waves if w not in kept], tags)
    if failed and not _staged_waves(settings):
        # Nothing to show: marts and pages of no wave would be headings over empty tables.
        print(
            f"samskabelse: nothing published: no wave could be built ({len(failed)} failed, see above), so there are "
            f"no numbers to show; {settings.published_db} and the reports are as they were before this run",
            file=sys.stderr,
        )
        return FAILED
    result = defs.resolve_job_def("build_marts").execute_in_process(
        instance=instance, raise_on_error=False, run_config=QUIET, tags=tags
    )
    checks = _failed_checks(result)
    if not result.success:
        for msg in _failure_messages(result):
            if not msg.endswith(CHECK_FAILED_TEXT):
                print(f"  marts: FAILED – {msg}", file=sys.stderr)
        for msg in checks:
            print(f"  check FAILED – {msg}", file=sys.stderr)
        print(
            f"samskabelse: nothing published: {settings.published_db} and the reports are as they were before this run",
            file=sys.stderr,
        )
        return FAILED
    for msg in checks:
        print(f"  check FAILED – {msg}", file=sys.stderr)
    print(f"samskabelse: marts published to {settings.published_db}")
    for note in _publish_notes(result):
        print(f"samskabelse: note – {note}")
    print(f"samskabelse: reports in {settings.reports_dir / 'index.html'}")
    if settings.profile == "public":
        print(
            f"samskabelse: note – profile public: the pages under {settings.reports_dir} hide small counts; "
            f"{settings.published_db.name} and parquet/ are internal (every count): share the pages only"
        )
        audit = _audit_line(result)
        if audit:
            print(audit)
    for line in wave_summary_lines(settings, [w for w in waves if w not in failed]):
        print(line)
    if not (failed or skipped or checks):
        record_published(settings, _outputs(settings))
    if skipped:
        print(f"samskabelse: {len(skipped)} folder(s) skipped (not a valid wave name), see above", file=sys.stderr)
    if failed:
        print(
            f"samskabelse: {len(failed)} wave(s) failed: {', '.join(sorted(failed))} "
            "(a wave that failed on reading keeps its earlier data; one stopped in staging is left out until fixed)",
            file=sys.stderr,
        )
    return FAILED if failed or skipped or checks else OK


def remove_wave(settings: Settings, instance: dg.DagsterInstance, wave: str) -> int:
    """Delete a wave's rows from the work database and its partition, then rebuild the marts."""
    from pipeline.ingest.waves import WaveError, check_wave_key
    from pipeline.warehouse import connect, delete_wave

    try:
        check_wave_key(wave)
    except WaveError as exc:
        print(f"samskabelse: not started: {exc}", file=sys.stderr)
        return NOT_STARTED
    folder = settings.raw_dir / wave
    if folder.exists():
        print(
            f"samskabelse: not started: {folder} is still there; move it out of {settings.raw_dir} first (the "
            f"sensor and `make run` would ingest it again), then run remove-wave {wave} again",
            file=sys.stderr,
        )
        return NOT_STARTED
    try:
        with exclusive_build(settings, instance):
            with connect(settings) as con:
                delete_wave(con, wave)
            if wave in instance.get_dynamic_partitions("wave"):
                instance.delete_dynamic_partition("wave", wave)
            print(f"samskabelse: wave {wave} removed from the work database; rebuilding marts")
            return _build(settings, instance)
    except Busy as exc:
        print(f"samskabelse: not started: {exc}", file=sys.stderr)
        return BUSY


def inspect(settings: Settings, wave: str) -> int:
    """Print what the build would make of one wave folder; exit 1 (one line) when it would fail to read."""
    from pipeline.codebook import load_codebook
    from pipeline.ingest.readers import ExportError
    from pipeline.ingest.waves import WaveError
    from pipeline.staging.inspect_wave import inspect_wave

    try:
        report = inspect_wave(settings, load_codebook(settings.codebook_file), wave)
    except (WaveError, ExportError) as exc:
        print(f"wave {wave}: would FAIL – {exc}", file=sys.stderr)
        return 1
    print(report.text)
    return 0


def review(settings: Settings, wave: str) -> int:
    """Write (or bring up to date) the wave's open_answers.review.yaml from its open answers as staged (personal data
    masked), keeping every decision taken; exit 1 (one line) when the wave cannot be read."""
    from pipeline.codebook import load_codebook
    from pipeline.ingest.readers import ExportError
    from pipeline.ingest.review import review_path, write_review
    from pipeline.ingest.wave import read_wave
    from pipeline.ingest.waves import WaveError
    from pipeline.staging.stage import stage_wave

    codebook = load_codebook(settings.codebook_file)
    try:
        read = read_wave(settings, codebook, wave)
        staged = stage_wave(read.normalised, codebook, settings, read.spec.values)
        counts = write_review(read.spec.folder, wave, staged.open_answers)
    except (WaveError, ExportError) as exc:
        print(f"wave {wave}: cannot review – {exc}", file=sys.stderr)
        return 1
    print(
        f"{review_path(read.spec.folder)}: {counts['answers']} open answers, {counts['new']} new, "
        f"{counts['changed']} changed since reviewed, {counts['unreviewed']} not yet reviewed (left out of the public "
        "pages until marked publish, redact or leave_out)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.cli", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    bp = sub.add_parser("build", help="ingest the changed waves and build marts, reports and the published database")
    bp.add_argument(
        "--force", action="store_true", help="re-ingest every wave, even those whose fingerprint is unchanged"
    )
    rm = sub.add_parser("remove-wave", help="remove a wave's rows from the marts (after deleting its folder)")
    rm.add_argument("wave")
    ip = sub.add_parser(
        "inspect",
        help="show how a wave folder would be read (tool, headers, values, "
        "quarantine, response rate) without building anything",
    )
    ip.add_argument("wave")
    rv = sub.add_parser(
        "review",
        help="write the wave's open_answers.review.yaml: each open answer with an id and a decision "
        "(publish / redact / leave_out) for the public profile",
    )
    rv.add_argument("wave")
    args = parser.parse_args(argv)  # a wrong command line: argparse's usage message, exit code 2
    from pipeline.settings import SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"samskabelse: not started: {exc}", file=sys.stderr)
        return NOT_STARTED
    if args.command == "inspect":
        return inspect(settings, args.wave)
    if args.command == "review":
        return review(settings, args.wave)
    from pipeline.defs.history import HistoryMismatch, claim

    try:
        if os.environ.get("DAGSTER_HOME"):
            claim(Path(os.environ["DAGSTER_HOME"]), settings.marts_dir)
    except HistoryMismatch as exc:
        print(f"samskabelse: not started: {exc}", file=sys.stderr)
        return NOT_STARTED
    if args.command == "build" and not args.force and up_to_date(settings):
        return OK
    import dagster as dg

    warnings.filterwarnings("ignore", category=dg.BetaWarning) if hasattr(dg, "BetaWarning") else None
    with dg.DagsterInstance.get() as instance:
        if args.command == "build":
            return build(settings, instance, force=args.force)
        return remove_wave(settings, instance, args.wave)


if __name__ == "__main__":
    sys.exit(main())
