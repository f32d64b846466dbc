"""Publishing: copy the marts from the work database into a new DuckDB file, then os.replace() it over
<marts>/samskabelse.duckdb. Readers holding the old file keep reading it; a failed or killed publish
leaves the published file as it was. Parquet copies and manifest.json are swapped in the same way."""

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
from pipeline.render import write_atomic
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


def publish(con: duckdb.DuckDBPyConnection, settings: Settings, contract: tuple[MartTable, ...],
            codebook: Codebook) -> dict[str, object]:
    """Publish every mart table; return the manifest written next to it."""
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    new_db = settings.build_dir / f"publish-{os.getpid()}.duckdb"
    new_db.unlink(missing_ok=True)
    new_parquet = settings.build_dir / f"parquet-{os.getpid()}"
    shutil.rmtree(new_parquet, ignore_errors=True)
    new_parquet.mkdir(parents=True)
    counts: dict[str, int] = {}
    try:
        con.execute("attach " + sql_literal(str(new_db)) + " as publish_target (storage_version "
                    + sql_literal(PUBLISHED_STORAGE_VERSION) + ")")
        for t in contract:
            source = qualified("marts." + t.name)
            target = qualified("publish_target." + t.name)
            con.execute("create table " + target + " as select * from " + source)
            con.execute("comment on table " + target + " is " + sql_literal(t.description))
            for column, text in t.columns.items():
                con.execute("comment on column " + target + "." + qualified(column) + " is " + sql_literal(text))
            counts[t.name] = scalar(con, "select count(*) from " + target)
            parquet = new_parquet / (t.name + ".parquet")
            con.execute("copy " + source + " to " + sql_literal(str(parquet)) + " (format parquet)")
        con.execute("checkpoint publish_target")
        con.execute("detach publish_target")
        _fsync(new_db)
        inputs = con.execute("select wave, source_file, source_sha256 from raw.waves order by wave").fetchall()
        manifest = {
            "package": "samskabelse",
            "version": importlib_metadata.version("samskabelse"),
            "codebook_sha256": codebook.sha256,
            "inputs": [{"wave": w, "file": f, "sha256": h} for w, f, h in inputs],
            "tables": counts,
            "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
        settings.marts_dir.mkdir(parents=True, exist_ok=True)
        os.replace(new_db, settings.published_db)
        old_parquet = settings.build_dir / f"parquet-old-{os.getpid()}"
        live_parquet = settings.marts_dir / "parquet"
        if live_parquet.exists():
            os.replace(live_parquet, old_parquet)
        os.replace(new_parquet, live_parquet)
        shutil.rmtree(old_parquet, ignore_errors=True)
        write_atomic(settings.marts_dir / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        return manifest
    finally:
        try:
            con.execute("detach if exists publish_target")
        except duckdb.Error:
            pass
        new_db.unlink(missing_ok=True)
        Path(str(new_db) + ".wal").unlink(missing_ok=True)
        shutil.rmtree(new_parquet, ignore_errors=True)
