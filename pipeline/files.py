"""Writing files that others read while we write: readers see the old or the new version, never half of one.

The one home of atomic writes for every layer (fingerprints, charts, pages, documents, publish).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import yaml

TMP_NAME = re.compile(r"\..+\.[A-Za-z0-9_]+\.tmp\Z")  # write_atomic's temporary files: .<name>.<random>.tmp


def write_atomic_bytes(path: Path, data: bytes) -> None:
    """Write a file so readers see the old or the new version, never half of one; readable by others (0644
    under the usual umask)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: Path, text: str) -> None:
    """write_atomic_bytes for text (UTF-8)."""
    write_atomic_bytes(path, text.encode("utf-8"))


def write_if_changed(path: Path, data: bytes) -> bool:
    """write_atomic_bytes unless the file already holds exactly these bytes; True when written."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    write_atomic_bytes(path, data)
    return True


def remove_stale_tmp(folder: Path) -> list[Path]:
    """Remove temporary files that write_atomic left behind in `folder` and below when a run was killed
    mid-write (the file next to them is whole: the old or the new version); return them."""
    removed = []
    if folder.is_dir():
        for path in sorted(folder.rglob(".*.tmp")):
            if path.is_file() and TMP_NAME.match(path.name):
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


GITIGNORE = "# samskabelse build output (marts, pages, the work database, the Dagster instance): never committed\n*\n"


def output_folder(folder: Path) -> Path:
    """Make a folder the build writes into (a marts folder), with a .gitignore that ignores everything in it: a build
    into any folder inside the repository (`PIPELINE_MARTS_DIR=data/marts-da`) leaves nothing `git add -A` would
    take, row-level Parquet copies included."""
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.is_file():
        write_atomic(ignore, GITIGNORE)
    return folder


def parse_yaml(text: str):
    """YAML as yaml.safe_load reads it, with libyaml's parser when PyYAML has it (~10× faster): for the project's own
    files, read on every build (the codebook, the contract, the tools' headings). The files that arrive with the data
    (wave.yaml, the review files) stay on yaml.safe_load, whose behaviour on hostile input (RecursionError on deep
    nesting) their readers handle and test."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
