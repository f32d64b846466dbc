"""Publishing: copy the marts from the work database into a new DuckDB file in <marts>/.build/, checkpoint
and fsync it, then os.replace() it over <marts>/samskabelse.duckdb. Readers holding the old file keep
reading it (and never block this); a failed or killed publish leaves the published file byte-identical.
Each Parquet copy under <marts>/parquet/ and manifest.json are swapped in the same way, right after the
database. What a killed publish leaves in <marts>/.build/ is deleted by the next one."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from importlib import metadata as importlib_metadata
from pathlib import Path

import duckdb

from pipeline.codebook import Codebook
from pipeline.contract import MartTable
from pipeline.files import remove_stale_tmp, write_atomic, write_if_changed
from pipeline.ingest.privacy import strip_bidi
from pipeline.settings import Settings
from pipeline.warehouse import qualified, scalar, sql_literal

# The published file is written in a storage format the DuckDB CLI (`make sql`, PyPI duckdb-cli 1.5)
# can read; the pipeline's own duckdb 2.0 would otherwise write a newer format the CLI refuses.
PUBLISHED_STORAGE_VERSION = "v1.4.0"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(build_dir: Path) -> list[Path]:
    """Delete what a killed publish left in the build folder (publish-<pid>.duckdb[.wal], parquet-<pid>/)
    when process <pid> is gone; return what was deleted."""
    removed = []
    if not build_dir.is_dir():
        return removed
    for path in sorted(build_dir.iterdir()):
        name = path.name
        if not (name.startswith("publish-") or name.startswith("parquet-")):
            continue
        pid_text = name.split("-")[-1].split(".")[0]
        if not pid_text.isdigit() or (int(pid_text) != os.getpid() and _pid_alive(int(pid_text))):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _swap_parquet(new_dir: Path, live_dir: Path, names: set[str]) -> None:
    """Move each new parquet file over the live one (os.replace: a reader sees the old or the new file, never
    half of one), then delete live files of tables no longer in the contract."""
    live_dir.mkdir(parents=True, exist_ok=True)
    for name in sorted(names):
        os.replace(new_dir / name, live_dir / name)
    for path in sorted(live_dir.glob("*.parquet")):
        if path.name not in names:
            path.unlink(missing_ok=True)


# What the published database and Parquet copies are, whatever the profile: the pages are what may be shared.
INTERNAL_NOTE = (
    "internal: samskabelse.duckdb and parquet/ hold every count, unsuppressed, and the row-level "
    "tables (responses, open_answers, quarantine) in every profile; PIPELINE_PROFILE=public changes the "
    "pages and charts under reports/ only, as marts.item_disclosure decides. Share reports/, never "
    "these files"
)


# Text that a spreadsheet would run as a formula (OWASP "CSV injection"): neutralised in the Parquet copies only.
FORMULA_PREFIX = "^[=+\\-@\t\r]"
APOSTROPHE = sql_literal("'")


def _parquet_select(table: MartTable) -> str:
    """select of a mart for its Parquet copy: text starting like a formula gets a leading apostrophe. The column types
    are the contract's (the marts step has checked that the table has exactly these)."""
    columns = []
    for column in table.columns:
        name = qualified(column)
        if table.types[column] == "VARCHAR":
            columns.append(
                "case when regexp_matches("
                + name
                + ", "
                + sql_literal(FORMULA_PREFIX)
                + ") then "
                + APOSTROPHE
                + " || "
                + name
                + " else "
                + name
                + " end as "
                + name
            )
        else:
            columns.append(name)
    return "select " + ", ".join(columns) + " from " + qualified("marts." + table.name)


def _open_elsewhere(path: Path) -> bool:
    """True when another process holds the published file open read-write (a DuckDB CLI session, say)."""
    if not path.exists():
        return False
    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.IOException as exc:
        return "lock" in str(exc).lower()
    return False


def publish(
    con: duckdb.DuckDBPyConnection, settings: Settings, contract: tuple[MartTable, ...], codebook: Codebook
) -> dict[str, object]:
    """Publish every mart table; return the manifest written next to it."""
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    remove_stale(settings.build_dir)
    new_db = settings.build_dir / f"publish-{os.getpid()}.duckdb"
    new_db.unlink(missing_ok=True)
    new_parquet = settings.build_dir / f"parquet-{os.getpid()}"
    shutil.rmtree(new_parquet, ignore_errors=True)
    new_parquet.mkdir(parents=True)
    counts: dict[str, int] = {}
    try:
        con.execute(
            "attach "
            + sql_literal(str(new_db))
            + " as publish_target (storage_version "
            + sql_literal(PUBLISHED_STORAGE_VERSION)
            + ")"
        )
        for t in contract:
            source = qualified("marts." + t.name)
            target = qualified("publish_target." + t.name)
            con.execute("create table " + target + " as select * from " + source)
            con.execute("comment on table " + target + " is " + sql_literal(t.description))
            for column, text in t.columns.items():
                con.execute("comment on column " + target + "." + qualified(column) + " is " + sql_literal(text))
            counts[t.name] = scalar(con, "select count(*) from " + target)
            parquet = new_parquet / (t.name + ".parquet")
            con.execute("copy (" + _parquet_select(t) + ") to " + sql_literal(str(parquet)) + " (format parquet)")
        con.execute("checkpoint publish_target")
        con.execute("detach publish_target")
        _fsync(new_db)
        inputs = con.execute("select wave, source_file, source_sha256 from raw.waves order by wave").fetchall()
        manifest = {
            "package": "samskabelse",
            "version": importlib_metadata.version("samskabelse"),
            "codebook_sha256": codebook.sha256,
            "inputs": [{"wave": w, "file": f, "sha256": h} for w, f, h in inputs],
            # a public build's manifest names the tables without their row counts: the number of panel members of a
            # wave, of responses, of groups of a variable the profile keeps out could be read off them
            "tables": counts if settings.profile != "public" else sorted(counts),
            "profile": settings.profile,
            "contents": INTERNAL_NOTE,
            "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        settings.marts_dir.mkdir(parents=True, exist_ok=True)
        notes = []
        if _open_elsewhere(settings.published_db):
            notes.append(
                f"{settings.published_db} is open in another DuckDB session: the new version is published, "
                "and that session still sees the old version until it reconnects"
            )
        os.replace(new_db, settings.published_db)
        _swap_parquet(new_parquet, settings.marts_dir / "parquet", {t.name + ".parquet" for t in contract})
        write_atomic(settings.marts_dir / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        return {**manifest, "notes": notes, "row_counts": counts}
    finally:
        try:
            con.execute("detach if exists publish_target")
        except duckdb.Error:
            pass
        new_db.unlink(missing_ok=True)
        Path(str(new_db) + ".wal").unlink(missing_ok=True)
        shutil.rmtree(new_parquet, ignore_errors=True)


# Written under <marts>/reports/ by `make png`, not by a build: publish_reports leaves it alone.
NOT_FROM_BUILD = ("png",)


# Published text files: bidirectional control characters are stripped from them on the way out (pipeline.ingest.privacy)
TEXT_SUFFIXES = (".html", ".svg", ".json", ".typ", ".txt", ".md", ".csv", ".xml")


def without_bidi(data: bytes, rel: Path) -> bytes:
    """A published file's bytes without bidirectional control characters when it is text (a U+202E in an answer,
    a label or a header would reorder what a reader sees); other files as they are."""
    if rel.suffix.lower() not in TEXT_SUFFIXES:
        return data
    text = data.decode("utf-8", errors="surrogateescape")
    stripped = strip_bidi(text)
    return data if stripped == text else stripped.encode("utf-8", errors="surrogateescape")


def publish_reports(staged: Path, published: Path) -> dict[str, int]:
    """Copy the pages and charts the report assets rendered into the build area (staged) to the folder users read
    (published): each file whose bytes changed is replaced atomically, files the build no longer makes are removed
    (except what `make png` writes), empty folders too. Returns counts of written, unchanged and removed files."""
    remove_stale_tmp(published)
    entries = sorted(staged.rglob("*")) if staged.is_dir() else []
    files = [p.relative_to(staged) for p in entries if p.is_file() and not p.name.endswith(".tmp")]
    folders = {p.relative_to(staged) for p in entries if p.is_dir()}
    counts = {"written": 0, "unchanged": 0, "removed": 0}
    for rel in sorted(folders):  # a folder the build makes is there even while empty (figures/ before any chart)
        (published / rel).mkdir(parents=True, exist_ok=True)
    for rel in files:
        changed = write_if_changed(published / rel, without_bidi((staged / rel).read_bytes(), rel))
        counts["written" if changed else "unchanged"] += 1
    keep = set(files)
    if published.is_dir():
        for path in sorted(published.rglob("*"), reverse=True):
            rel = path.relative_to(published)
            if rel.parts[0] in NOT_FROM_BUILD:
                continue
            if path.is_file() and rel not in keep:
                path.unlink()
                counts["removed"] += 1
            elif path.is_dir() and rel not in folders and not any(path.iterdir()):
                path.rmdir()
    published.mkdir(parents=True, exist_ok=True)
    return counts
