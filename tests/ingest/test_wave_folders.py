"""pipeline.ingest.waves: nothing outside a wave folder is read. A link that leaves it (the export, wave.yaml, the
labels table, the wave folder itself) is refused with a message naming the link, never quoting its target."""

from __future__ import annotations

import shutil

import pytest
from helpers import SAMPLE_WAVE, copy_sample_wave, make_settings

from pipeline.codebook import load_codebook
from pipeline.ingest.fingerprints import folder_files
from pipeline.ingest.wave import read_wave
from pipeline.ingest.waves import WaveError, file_sha256, load_wave
from pipeline.settings import PROJECT_ROOT

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
SECRET = "root:$6$c2VjcmV0$hash:19000:0:99999:7:::\n"


@pytest.fixture
def outside(tmp_path):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "shadow").write_text(SECRET, encoding="utf-8")
    return folder


def test_an_export_linking_outside_is_refused_unread(tmp_path, outside):
    settings = make_settings(tmp_path)
    wave = copy_sample_wave(settings.raw_dir)
    (wave / "export.csv").unlink()
    (wave / "export.csv").symlink_to(outside / "shadow")
    with pytest.raises(WaveError) as err:
        read_wave(settings, CODEBOOK, "2024")
    assert str(err.value) == (
        f"{wave / 'export.csv'}: the export file is a link to a place outside {wave}; it was "
        "not read. Copy the file itself into the folder"
    )
    assert folder_files(wave)["export.csv"] == "link outside the wave folder"


def test_a_wave_yaml_linking_outside_is_refused_unread(tmp_path, outside):
    settings = make_settings(tmp_path)
    wave = copy_sample_wave(settings.raw_dir)
    (wave / "wave.yaml").unlink()
    (wave / "wave.yaml").symlink_to(outside / "shadow")
    with pytest.raises(WaveError) as err:
        load_wave(settings.raw_dir, "2024", CODEBOOK)
    assert str(err.value) == (
        f"{wave / 'wave.yaml'}: the wave.yaml is a link to a place outside {wave}; it was not read. Copy the file "
        "itself into the folder"
    )
    assert "$6$" not in str(err.value) and "shadow" not in str(err.value)


def test_a_wave_folder_linking_outside_is_refused(tmp_path, outside):
    settings = make_settings(tmp_path)
    shutil.copytree(SAMPLE_WAVE, outside / "2024")
    (settings.raw_dir / "2024").symlink_to(outside / "2024")
    with pytest.raises(WaveError) as err:
        load_wave(settings.raw_dir, "2024", CODEBOOK)
    assert str(err.value) == (
        f"{settings.raw_dir / '2024'}: the wave folder is a link to a place outside {settings.raw_dir}; it was not "
        f"read. Copy the folder itself into {settings.raw_dir}"
    )
    assert folder_files(settings.raw_dir / "2024") is None


def test_links_inside_the_wave_folder_and_a_linked_raw_folder_are_read(tmp_path):
    settings = make_settings(tmp_path)
    wave = copy_sample_wave(settings.raw_dir)
    (wave / "export.csv").rename(wave / "original.csv")
    (wave / "export.csv").symlink_to("original.csv")
    assert read_wave(settings, CODEBOOK, "2024").normalised.respondents.height == 10
    linked = tmp_path / "raw-link"
    linked.symlink_to(settings.raw_dir)  # the raw folder itself may live elsewhere
    assert load_wave(linked, "2024", CODEBOOK).export == "export.csv"
    assert folder_files(wave)["export.csv"] == file_sha256(wave / "original.csv")
