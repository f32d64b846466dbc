"""One Dagster instance (run history, partitions, sensor cursor) per marts folder.

Asset keys are the same whichever marts folder a build writes (`data/marts`, a Danish public build in
`data/marts-da`, …): in one shared instance an asset's "latest materialization" could be another folder's. So the
instance lives with the data it describes: make sets DAGSTER_HOME to `<marts>/.dagster_home`, and the first build or
`make ui` writes the marts folder (relative to the instance) into it (`samskabelse-marts-dir.txt`); a later build
or UI whose PIPELINE_MARTS_DIR is another folder stops with a message instead of mixing the two histories. Every
run is also tagged with its marts folder (MARTS_DIR_TAG)."""

from __future__ import annotations

import os
from pathlib import Path

MARKER = "samskabelse-marts-dir.txt"
HOME_IN_MARTS = ".dagster_home"
MARTS_DIR_TAG = "samskabelse/marts_dir"


class HistoryMismatch(RuntimeError):
    pass


def default_home(marts_dir: Path) -> Path:
    """Where make puts the instance of a marts folder."""
    return Path(marts_dir).resolve() / HOME_IN_MARTS


def claim(dagster_home: Path, marts_dir: Path) -> None:
    """Record that this instance describes marts_dir, or stop when it already describes another folder. The marts
    folder is recorded relative to the instance, so a project folder moved or copied whole (instance and marts
    together) still matches."""
    home, marts = Path(dagster_home).resolve(), Path(marts_dir).resolve()
    marker = home / MARKER
    relative = os.path.relpath(marts, home)
    try:
        recorded = marker.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        home.mkdir(parents=True, exist_ok=True)
        marker.write_text(relative + "\n", encoding="utf-8")
        return
    if recorded != relative:
        raise HistoryMismatch(
            f"DAGSTER_HOME {home} holds the run history of the marts folder {os.path.normpath(home / recorded)}, "
            f"not of {marts} (PIPELINE_MARTS_DIR). Each marts folder keeps its own history: run through make (it "
            f"sets DAGSTER_HOME to {default_home(marts)}) or set DAGSTER_HOME to that folder"
        )
