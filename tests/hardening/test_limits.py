"""Resource limits. An export larger than PIPELINE_MAX_EXPORT_BYTES (default 256 MiB; reading takes
about 20 times the file size in memory) is refused before it is read, with the limit and the size named —
also a workbook or compressed SPSS file that would only unpack to that size."""

from __future__ import annotations

import dataclasses
import resource
import time
import zipfile

import polars as pl
import pyreadstat
import pytest
import xlsxwriter
from hostile import outcome, sparse_file, wave_settings, write_bytes_wave

from pipeline.ingest.readers import MAX_EXPORT_BYTES, ExportError, read_export
from pipeline.ingest.wave import export_limit

GIB = 1 << 30
ADVICE = (
    "it was not read. Export only the survey's responses, or raise the limit if the machine has about 20 "
    "times that size in free memory"
)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("name", ["export.csv", "export.xlsx", "export.sav"])
def test_a_2_gib_export_is_refused_before_it_is_read(tmp_path, name):
    path = sparse_file(tmp_path / name, 2 * GIB)  # 2 GiB of zeros, no disk used
    peak, started = peak_rss_mib(), time.monotonic()
    with pytest.raises(ExportError) as err:
        read_export(path)
    assert str(err.value) == (
        f"{path}: the file is 2.0 GiB (2147483648 bytes), more than the limit of 256.0 MiB "
        f"(268435456 bytes) (PIPELINE_MAX_EXPORT_BYTES); {ADVICE}"
    )
    assert peak_rss_mib() - peak < 64  # nothing of it was loaded
    assert time.monotonic() - started < 5


def test_a_workbook_that_unpacks_beyond_the_limit_is_refused(tmp_path):
    path = tmp_path / "export.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Svar")
    sheet.write_row(0, 0, ["Respondent", "P1", "Kommentar"])
    for r in range(1, 20_001):
        sheet.write_row(r, 0, [f"R{r}", "I svært høy grad", "Samme lange kommentar i hver rad " * 3])
    workbook.close()
    with zipfile.ZipFile(path) as zf:
        unpacked = sum(i.file_size for i in zf.infolist())  # honest sizes: xlsxwriter declares what it wrote
    size = path.stat().st_size
    assert size < 1 << 20 < unpacked  # small on disk, large once unpacked
    with pytest.raises(ExportError) as err:
        read_export(path, max_bytes=1 << 20)
    assert str(err.value) == (
        f"{path}: the workbook unpacks to more than the limit of 1.0 MiB (1048576 bytes) "
        "(PIPELINE_MAX_EXPORT_BYTES; measured by unpacking it, not by the sizes it declares); "
        f"{ADVICE}"
    )
    assert read_export(path, max_bytes=unpacked).n_rows == 20_000
    with pytest.raises(ExportError):
        read_export(path, max_bytes=unpacked - 1)


def test_a_compressed_spss_file_that_unpacks_beyond_the_limit_is_refused(tmp_path):
    path = tmp_path / "export.zsav"
    frame = pl.DataFrame({f"q{i}": [1.0] * 20_000 for i in range(10)})
    pyreadstat.write_sav(frame, str(path), compress=True)
    assert path.stat().st_size < 1 << 20
    with pytest.raises(ExportError) as err:
        read_export(path, max_bytes=1 << 20)
    assert str(err.value) == (
        f"{path}: the SPSS data unpacked is 1.5 MiB (1600000 bytes), more than the limit of "
        f"1.0 MiB (1048576 bytes) (PIPELINE_MAX_EXPORT_BYTES); {ADVICE}"
    )
    assert read_export(path, max_bytes=1_600_000).n_rows == 20_000


def test_the_limit_comes_from_the_settings(tmp_path):
    # PIPELINE_MAX_EXPORT_BYTES is read and checked by Settings.from_env (tests/test_settings_max_export.py)
    settings = wave_settings(tmp_path)
    path = write_bytes_wave(settings.raw_dir, "w", "export.csv", b"P1\nJa\n" * 200)
    assert settings.max_export_bytes is None
    assert export_limit(settings) == MAX_EXPORT_BYTES == 256 * 1024 * 1024
    small = dataclasses.replace(settings, max_export_bytes=1000)
    assert export_limit(small) == 1000
    assert outcome(small, "w") == (
        "error",
        f"{path}: the file is 1.2 KiB (1200 bytes), more than the limit of 1000 bytes "
        f"(PIPELINE_MAX_EXPORT_BYTES); {ADVICE}",
    )
