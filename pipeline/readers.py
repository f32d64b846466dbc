"""Readers: one export file → its header row and data rows, every cell as text (blank = null).

The rest of the pipeline never sees the file format: a reader returns an `Export` whose frame has one
text column per export column (named c0, c1, … so duplicate headers survive) and `headers` in file order.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import polars as pl


class ExportError(ValueError):
    """The export cannot be read; the message names the file and what to do."""


@dataclass(frozen=True)
class Export:
    path: Path
    headers: list[str]
    frame: pl.DataFrame  # columns c0..cN, all Utf8; one row per data row, in file order
    format: str

    @property
    def n_rows(self) -> int:
        return self.frame.height


def _sniff_delimiter(sample: str, path: Path) -> str:
    first = sample.splitlines()[0] if sample else ""
    if not first.strip():
        raise ExportError(f"{path}: the first line is empty; the export needs a header row")
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        counts = {d: first.count(d) for d in (",", ";", "\t")}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def read_csv(path: Path) -> Export:
    raw = path.read_bytes()
    if not raw.strip():
        raise ExportError(f"{path}: the file is empty; export the survey again")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExportError(f"{path}: not UTF-8 text (byte {exc.start}); save the export as UTF-8 CSV") from None
    delimiter = _sniff_delimiter(text[:65536], path)
    rows = list(csv.reader(text.splitlines(), delimiter=delimiter))
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if not rows:
        raise ExportError(f"{path}: no header row")
    headers, data = rows[0], rows[1:]
    width = len(headers)
    for i, row in enumerate(data, start=1):
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            raise ExportError(
                f"{path}: data row {i} has {len(row)} fields but the header has {width}; check the delimiter or quoting"
            )
    names = [f"c{i}" for i in range(width)]
    columns = {
        name: [(row[j] if j < len(row) else "") for row in data] for j, name in enumerate(names)
    }
    frame = pl.DataFrame(columns, schema={n: pl.Utf8 for n in names})
    frame = frame.with_columns(pl.when(pl.col(n).str.strip_chars() == "").then(None).otherwise(pl.col(n)).alias(n) for n in names)
    return Export(path=path, headers=[h.strip() for h in headers], frame=frame, format="csv")


READERS = {".csv": read_csv, ".txt": read_csv, ".tsv": read_csv}


def read_export(path: Path) -> Export:
    """Read any supported export by its file ending."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise ExportError(
            f"{path}: files ending in {path.suffix!r} are not supported; export as {', '.join(sorted(READERS))}"
        )
    try:
        return reader(path)
    except ExportError:
        raise
    except (OSError, csv.Error, pl.exceptions.PolarsError) as exc:
        raise ExportError(f"{path}: could not be read ({exc}); check that it is a complete export") from None
