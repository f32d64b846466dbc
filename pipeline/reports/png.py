"""`make png` (python -m pipeline.reports.png): PNG copies of every report table, via great-tables' GT.gtsave().

Reads the published marts (<marts>/samskabelse.duckdb, read-only) and writes
<marts>/reports/png/<table>.png for the tables of the pages (overview, items, level-<level>, open-<level>
or, with several waves, open-<level>-<wave>; waves-response and waves-change of waves.html; panel-retention and
panel-<level> of panel.html when waves share panel members),
in the language and profile of PIPELINE_LANG / PIPELINE_PROFILE. GT.gtsave() drives a headless Chrome or
Chromium (Debian: `make browser`); running as root, Chromium needs --no-sandbox, so a small wrapper is passed
through CHROME_PATH. The HTML pages never depend on this.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

import duckdb
import polars as pl

from pipeline.codebook import load_codebook
from pipeline.ingest.review import open_answers_for
from pipeline.reports.data import ReportData
from pipeline.reports.panel import panel_tables
from pipeline.reports.render import build_tables
from pipeline.reports.tables import to_gt
from pipeline.reports.waves import waves_tables
from pipeline.settings import Settings

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
VIEWPORT_WIDTH = 1400


class PngError(RuntimeError):
    """PNG copies cannot be made; the message says what to do."""


def find_browser() -> str | None:
    """CHROME_PATH if it is a file, else the first Chrome/Chromium on PATH."""
    env = os.environ.get("CHROME_PATH")
    if env and Path(env).is_file():
        return env
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _wrapper(browser: str, folder: Path) -> str:
    """A script that starts the browser with --no-sandbox (Chromium refuses to run as root without it)."""
    script = folder / "chromium-no-sandbox"
    script.write_text(f'#!/bin/sh\nexec "{browser}" --no-sandbox --disable-dev-shm-usage "$@"\n', encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(script)


def _read(db: Path, table: str) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return pl.from_arrow(con.sql("select * from " + '"' + table + '"').to_arrow_table())
    finally:
        con.close()


def write_pngs(settings: Settings, browser: str | None = None) -> dict[str, Path]:
    """Write reports/png/<table>.png for every table; return table id → path."""
    browser = browser or find_browser()
    if browser is None:
        raise PngError(
            "no Chrome or Chromium found: install Debian chromium with `make browser` "
            "(apt-get install chromium) or set CHROME_PATH to a Chrome binary"
        )
    if not settings.published_db.is_file():
        raise PngError(f"{settings.published_db} does not exist: build the marts first with `make run`")
    codebook = load_codebook(settings.codebook_file)
    tables_in = {
        name: _read(settings.published_db, name)
        for name in ("item_indicators", "item_disclosure", "waves", "open_answers")
    }
    data = ReportData(
        codebook,
        settings.lang,
        tables_in["item_indicators"],
        tables_in["item_disclosure"],
        tables_in["waves"],
        open_answers_for(settings.profile, tables_in["open_answers"], settings.raw_dir),
        settings.profile,
        settings.min_cell,
    )
    tables = build_tables(data)
    tables.update(
        waves_tables(
            codebook,
            settings.lang,
            tables_in["waves"],
            _read(settings.published_db, "wave_change"),
            settings.profile,
            settings.min_cell,
            tables_in["item_disclosure"],
            tables_in["item_indicators"],
        )
    )
    tables.update(
        panel_tables(
            codebook,
            settings.lang,
            tables_in["waves"],
            _read(settings.published_db, "panel_retention"),
            _read(settings.published_db, "panel_change"),
            settings.profile,
            settings.min_cell,
        )
    )
    out_dir = settings.reports_dir / "png"
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    import nokap

    previous = os.environ.get("CHROME_PATH")
    with tempfile.TemporaryDirectory(prefix="samskabelse-png-") as tmp:
        os.environ["CHROME_PATH"] = _wrapper(browser, Path(tmp)) if os.geteuid() == 0 else browser
        try:
            for name, table in sorted(tables.items()):
                target = out_dir / f"{name}.png"
                part = out_dir / f".{name}.part.png"
                try:
                    to_gt(table, settings.lang).gtsave(part, vwidth=VIEWPORT_WIDTH, expand=10)
                    part.chmod(0o644)
                    os.replace(part, target)
                finally:
                    part.unlink(missing_ok=True)
                written[name] = target
        finally:
            nokap.close()
            if previous is None:
                os.environ.pop("CHROME_PATH", None)
            else:
                os.environ["CHROME_PATH"] = previous
    for old in out_dir.glob("*.png"):
        if old.stem not in written and not old.name.startswith("."):
            old.unlink()
    return written


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    try:
        written = write_pngs(settings)
    except PngError as exc:
        print(f"samskabelse png: {exc}", file=sys.stderr)
        return 2
    for name, path in written.items():
        print(f"  {name}: {path}")
    print(f"samskabelse png: {len(written)} table(s) in {settings.reports_dir / 'png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
