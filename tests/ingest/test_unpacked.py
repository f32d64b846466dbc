"""pipeline.ingest.unpacked: a zip-based export measured by unpacking it. The bombs here are real workbooks whose
local and central headers were rewritten to declare 900 bytes for a sheet that unpacks to megabytes."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import fastexcel
import pytest
from hostile import sample_xlsx

from pipeline.ingest.readers import ExportError, read_export
from pipeline.ingest.unpacked import is_zip_export, measure

MIB = 1 << 20
SHEET = "xl/worksheets/sheet1.xml"


def lying_workbook(path: Path, rows: int, declared: int = 900) -> tuple[Path, int]:
    """The sample workbook with `rows` more rows in its sheet (compressing to almost nothing), the sheet's size set to
    `declared` in both its local and its central header; returns the path and the sheet's real size."""
    sample = sample_xlsx(path.with_name("sample.xlsx"))
    with zipfile.ZipFile(sample) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    row = b'<row><c t="inlineStr"><is><t>R</t></is></c><c t="inlineStr"><is><t>I noen grad</t></is></c></row>'
    sheet = members[SHEET].replace(b"</sheetData>", row * rows + b"</sheetData>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, sheet if name == SHEET else data)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(SHEET)
    struct.pack_into("<I", data, info.header_offset + 22, declared)  # local header: uncompressed size
    name = SHEET.encode()
    at = data.find(b"PK\x01\x02")
    while at != -1:  # central directory: the entry of the sheet
        if data[at + 46 : at + 46 + len(name)] == name:
            struct.pack_into("<I", data, at + 24, declared)
            break
        at = data.find(b"PK\x01\x02", at + 4)
    assert at != -1
    path.write_bytes(bytes(data))
    return path, len(sheet)


def test_declared_sizes_are_not_trusted(tmp_path):
    path, real = lying_workbook(tmp_path / "export.xlsx", rows=60_000)
    with zipfile.ZipFile(path) as zf:
        declared = sum(i.file_size for i in zf.infolist())
    assert (path.stat().st_size < 30_000, declared < 20_000, real > 5 * MIB) == (True, True, True)
    # the workbook reader itself trusts nothing either way: it reads every row past the declared 900 bytes
    sheet = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, dtypes="string").to_polars()
    assert sheet.height == 60_011
    unpacked = measure(path, MIB)
    assert unpacked.over_limit and MIB < unpacked.total <= MIB + (1 << 16)  # counting stopped one chunk past
    with pytest.raises(ExportError) as err:
        read_export(path, max_bytes=MIB)
    assert str(err.value) == (
        f"{path}: the workbook unpacks to more than the limit of 1.0 MiB (1048576 bytes) (PIPELINE_MAX_EXPORT_BYTES; "
        "measured by unpacking it, not by the sizes it declares); it was not read. Export only the survey's "
        "responses, or raise the limit if the machine has about 20 times that size in free memory"
    )


def test_a_member_lying_about_its_size_under_the_limit_is_refused(tmp_path):
    path, real = lying_workbook(tmp_path / "export.xlsx", rows=100)
    unpacked = measure(path, MIB)
    assert (unpacked.over_limit, unpacked.lying_member) == (False, SHEET)
    with pytest.raises(ExportError) as err:
        read_export(path, max_bytes=MIB)
    assert str(err.value) == (
        f"{path}: the workbook's part 'xl/worksheets/sheet1.xml' unpacks to another size than it declares (a damaged "
        "or crafted file); it was not read. Save the workbook again from the survey tool or a spreadsheet program"
    )


def test_an_honest_workbook_is_measured_exactly(tmp_path):
    path = sample_xlsx(tmp_path / "export.xlsx")
    with zipfile.ZipFile(path) as zf:
        declared = sum(i.file_size for i in zf.infolist())
    assert measure(path, MIB).total == declared
    assert is_zip_export(path) and not is_zip_export(tmp_path / "missing.xlsx")
    assert read_export(path, max_bytes=MIB).n_rows == 10
