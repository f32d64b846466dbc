"""Wave fingerprints: a sha256 over everything a wave's staged rows depend on.

- every file in the wave folder (wave.yaml, the export, a SurveyXact labels table found next to it), by name;
- the codebook (schemas/codebook.yaml, its sha256);
- the pseudonym key, as an HMAC of a constant (the key itself is never stored or hashed bare);
- the ingest code: the source of the modules that read, normalise, validate and write a wave, the raw and staging
  SQL, the raw and staging sections of the contract (schemas/marts.yaml: the work database's tables), and the versions
  of the libraries that parse exports (computed once per process).

The ingest step stores the fingerprint in staging.wave_fingerprints in the same transaction as the wave's rows: the
build record, which `python -m pipeline.cli build` and the raw-folder sensor both read (pipeline.warehouse.
read_staged_fingerprints); a wave whose fingerprint differs from the stored one (or has none: new, failed before, or
the work database was deleted) is ingested again. Computing one is cheap: it hashes files.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from importlib import metadata
from pathlib import Path

from pipeline.codebook import Codebook
from pipeline.contract import work_tables_sha256
from pipeline.files import write_atomic
from pipeline.ingest.pseudonym import pseudonym_key
from pipeline.ingest.waves import file_sha256, leaves
from pipeline.settings import PROJECT_ROOT, Settings

# Bump to re-ingest every wave once (e.g. after a change the sources below do not show).
FINGERPRINT_VERSION = 1
# Code whose change can change a wave's raw or staging rows.
INGEST_SOURCES = ("pipeline/ingest/headings.yaml",) + tuple(
    f"pipeline/{name}.py"
    for name in (
        "ingest/headings",
        "ingest/continuity",
        "ingest/readers",
        "ingest/presets",
        "ingest/normalise",
        "ingest/wave",
        "ingest/pseudonym",
        "ingest/privacy",
        "ingest/waves",
        "ingest/fingerprints",
        "staging/stage",
        "staging/validation",
        "codebook",
        "contract",
        "warehouse",
        "defs/assets/ingest",
    )
)
# Libraries that parse exports or validate cells.
INGEST_LIBRARIES = ("polars", "pandera", "duckdb", "fastexcel", "pyreadstat", "pyyaml")
KEY_CONSTANT = b"samskabelse wave fingerprint v1"


@functools.cache
def ingest_code_version(sql_dir: Path) -> str:
    """sha256 over the ingest code, the raw and staging SQL and the library versions (once per process and sql
    folder)."""
    parts: dict[str, str] = {}
    for rel in INGEST_SOURCES:
        path = PROJECT_ROOT / rel
        parts[rel] = file_sha256(path) if path.is_file() else "missing"
    for path in sorted([*(sql_dir / "raw").rglob("*.sql"), *(sql_dir / "staging").rglob("*.sql")]):
        parts[(Path("sql") / path.relative_to(sql_dir)).as_posix()] = file_sha256(path)
    for lib in INGEST_LIBRARIES:
        try:
            parts["lib:" + lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            parts["lib:" + lib] = "missing"
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def key_fingerprint(settings: Settings) -> str:
    """HMAC of a constant under the pseudonym key: changes when the key changes, reveals nothing about it."""
    return hmac.new(pseudonym_key(settings), KEY_CONSTANT, hashlib.sha256).hexdigest()


def folder_files(folder: Path) -> dict[str, str] | None:
    """name -> sha256 of every regular file in the wave folder; None when the folder cannot be read or is a link
    out of the raw folder. A file that links out of the wave folder is never read (its fingerprint says so)."""
    if leaves(folder, folder.parent):
        return None
    try:
        files = sorted(p for p in folder.iterdir() if p.is_file())
        return {p.name: "link outside the wave folder" if leaves(p, folder) else file_sha256(p) for p in files}
    except OSError:
        return None


def build_inputs(settings: Settings, codebook: Codebook) -> dict[str, str]:
    """The parts of every wave's fingerprint that do not depend on the wave."""
    return {
        "version": str(FINGERPRINT_VERSION),
        "codebook": codebook.sha256,
        "pseudonym key": key_fingerprint(settings),
        "ingest code": ingest_code_version(settings.sql_dir),
        "work tables": work_tables_sha256(settings.marts_contract_file),
    }


def wave_fingerprint(settings: Settings, wave: str, common: dict[str, str]) -> str | None:
    """The wave's fingerprint, or None when its folder cannot be read (it is then always ingested, and fails
    with the reader's message)."""
    files = folder_files(settings.raw_dir / wave)
    if files is None:
        return None
    text = json.dumps({"wave": wave, "files": files, **common}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def wave_fingerprints(settings: Settings, codebook: Codebook, waves: list[str]) -> dict[str, str | None]:
    common = build_inputs(settings, codebook)
    return {wave: wave_fingerprint(settings, wave, common) for wave in waves}


# Settings that change what the marts and pages say (the others only say where things are or how fast they go).
OUTPUT_SETTINGS = ("lang", "profile", "min_cell", "min_group")
# Where a successful build records what it published from (marts folder relative): `make run` then skips the whole
# build while nothing differs.
PUBLISHED_RECORD = Path(".build") / "published-from.json"


def _tree_sha256(folder: Path, patterns: tuple[str, ...]) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): file_sha256(path)
        for pattern in patterns
        for path in sorted(folder.rglob(pattern))
        if path.is_file() and "__pycache__" not in path.parts
    }


def outputs_fingerprint(settings: Settings, staged: dict[str, str]) -> str:
    """sha256 over everything the published marts and pages are made from: the staged waves (wave → the input
    fingerprint of its staged rows, every wave in the work database), every file of the SQL and schemas folders, the
    pipeline's code (with the document's typst template), the analyst's text of the document (the report folder's
    Markdown), the locked library versions (uv.lock) and the settings that shape the outputs."""
    parts = {
        "version": FINGERPRINT_VERSION,
        "staged": dict(sorted(staged.items())),
        "sql": _tree_sha256(settings.sql_dir, ("*.sql",)),
        "schemas": _tree_sha256(settings.schemas_dir, ("*",)),
        "code": _tree_sha256(PROJECT_ROOT / "pipeline", ("*.py", "*.yaml", "*.typ")),
        "prose": _tree_sha256(settings.report_dir, ("*.md",)) if settings.report_dir.is_dir() else {},
        "lock": file_sha256(PROJECT_ROOT / "uv.lock") if (PROJECT_ROOT / "uv.lock").is_file() else "missing",
        "settings": {name: getattr(settings, name) for name in OUTPUT_SETTINGS},
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def published_files(settings: Settings) -> dict[str, object]:
    """The published files as the record keeps them: the DuckDB file's size and modification time (a session that
    wrote to it changes them), the manifest's sha256, whether the index page is there."""
    db, manifest = settings.published_db, settings.marts_dir / "manifest.json"
    stat = db.stat() if db.is_file() else None
    return {
        "duckdb": [stat.st_size, stat.st_mtime_ns] if stat else None,
        "manifest": file_sha256(manifest) if manifest.is_file() else None,
        "index": (settings.reports_dir / "index.html").is_file(),
    }


def record_published(settings: Settings, fingerprint: str) -> None:
    """After a build that published everything: what it was made from and what it left."""
    record = {"fingerprint": fingerprint, "files": published_files(settings)}
    write_atomic(settings.marts_dir / PUBLISHED_RECORD, json.dumps(record, sort_keys=True) + "\n")


def published_is_current(settings: Settings, fingerprint: str) -> bool:
    """The published marts and pages were made from exactly these inputs and are as that build left them."""
    path = settings.marts_dir / PUBLISHED_RECORD
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    current = published_files(settings)
    return record == {"fingerprint": fingerprint, "files": current} and current["index"] and bool(current["duckdb"])
