"""What a zip-based export (.xlsx, .xlsm, .ods) really unpacks to, measured by unpacking it — never the sizes the
archive declares, which a crafted file sets to anything (a 7.9 MB workbook declaring 900 bytes unpacked to 126 MB).

Each member's compressed bytes are read from its local header on and inflated in chunks, counting the bytes that come
out; counting stops as soon as the total passes the limit, so a bomb costs at most `limit` bytes of work and a chunk
of memory. A member whose real size differs from the size it declares is refused too: the workbook readers would
trust the declaration."""

from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 16
ZIP_SUFFIXES = (".xlsx", ".xlsm", ".ods")
LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
LOCAL_SIGNATURE = b"PK\x03\x04"


class UnpackError(ValueError):
    """The archive is larger than the limit once unpacked, or lies about its sizes."""


@dataclass(frozen=True)
class Unpacked:
    total: int  # bytes unpacked (up to the first byte past the limit when over it)
    over_limit: bool
    lying_member: str | None = None  # the first member whose real size is not the size it declares


def _inflated(fh, info: zipfile.ZipInfo, budget: int) -> int:
    """Bytes the member really unpacks to, reading at most until `budget` is passed."""
    fh.seek(info.header_offset)
    header = fh.read(LOCAL_HEADER.size)
    if len(header) < LOCAL_HEADER.size or header[:4] != LOCAL_SIGNATURE:
        raise zipfile.BadZipFile("bad local header")
    fields = LOCAL_HEADER.unpack(header)
    fh.seek(info.header_offset + LOCAL_HEADER.size + fields[9] + fields[10])
    if info.compress_type == zipfile.ZIP_STORED:
        return info.compress_size  # stored: the bytes are in the file, which is within the limit already
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise zipfile.BadZipFile(f"compression method {info.compress_type}")
    inflate = zlib.decompressobj(-15)
    out = 0
    while not inflate.eof:
        data = fh.read(CHUNK)
        if not data:
            break  # the stream ends with the file: a truncated member, which the reader reports
        while data and not inflate.eof:
            out += len(inflate.decompress(data, CHUNK))
            data = inflate.unconsumed_tail
            if out > budget:
                return out
    return out


def measure(path: Path, limit: int) -> Unpacked:
    """The bytes the archive at `path` unpacks to, all members counted (stops past `limit`)."""
    total = 0
    with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
        for info in zf.infolist():
            real = _inflated(fh, info, limit - total)
            total += real
            if total > limit:
                return Unpacked(total, True)
            if real != info.file_size:
                return Unpacked(total, False, info.filename)
    return Unpacked(total, False)


def is_zip_export(path: Path) -> bool:
    """An export read as a zip archive (workbooks, OpenDocument spreadsheets) that is a zip file."""
    return path.suffix.lower() in ZIP_SUFFIXES and zipfile.is_zipfile(path)
