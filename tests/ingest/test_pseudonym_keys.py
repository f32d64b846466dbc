"""Respondent keys (keyed pseudonyms), the key file, and the wave.yaml keys for tools."""

from __future__ import annotations

import os
import re
import stat
import subprocess

import pytest
from exports import write_wave
from helpers import copy_sample_wave, make_settings, read_sample_rows

from pipeline.codebook import load_codebook
from pipeline.ingest.pseudonym import pseudonym_key, respondent_pseudonym
from pipeline.ingest.wave import read_wave
from pipeline.ingest.waves import TOOLS, WaveError, load_wave
from pipeline.settings import PROJECT_ROOT

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
HEX16 = re.compile(r"^[0-9a-f]{16}$")


def _keys(settings, wave):
    return read_wave(settings, CODEBOOK, wave).normalised.respondents["respondent_key"].to_list()


def test_key_file_is_created_on_first_run_outside_git(tmp_path):
    settings = make_settings(tmp_path, pseudonym_key=None)
    assert not settings.pseudonym_key_file.exists()
    key = pseudonym_key(settings)
    assert re.fullmatch(rb"[0-9a-f]{64}", key)
    assert stat.S_IMODE(os.stat(settings.pseudonym_key_file).st_mode) == 0o600
    assert pseudonym_key(settings) == key  # the second run reads the same key
    copy_sample_wave(settings.raw_dir, "a")
    with_file = _keys(settings, "a")
    with_env = _keys(make_settings(tmp_path, pseudonym_key="test-key"), "a")
    assert len(set(with_file)) == 10 and not set(with_file) & set(with_env)
    # The default key file lies in a folder git ignores.
    ignored = subprocess.run(["git", "check-ignore", "-q", ".secrets/pseudonym.key"], cwd=PROJECT_ROOT)
    assert ignored.returncode == 0


def test_same_id_and_key_give_the_same_key_in_every_wave_and_format(tmp_path):
    settings = make_settings(tmp_path, pseudonym_key="test-key")
    copy_sample_wave(settings.raw_dir, "a")
    write_wave(settings.raw_dir, "b", "sav")
    write_wave(settings.raw_dir, "c", "csv_utf16_tab")
    a, b, c = _keys(settings, "a"), _keys(settings, "b"), _keys(settings, "c")
    _, rows = read_sample_rows()
    assert a == b == c == [respondent_pseudonym(b"test-key", row[0]) for row in rows]
    assert all(HEX16.match(k) for k in a) and len(set(a)) == 10
    assert not {row[0] for row in rows} & set(a)
    other = _keys(make_settings(tmp_path, pseudonym_key="another-key"), "a")
    assert not set(other) & set(a)


def test_without_an_id_column_the_key_is_stable_per_file_and_row(tmp_path):
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "g1", "googleforms")
    write_wave(settings.raw_dir, "g2", "googleforms")
    first, again, other = _keys(settings, "g1"), _keys(settings, "g1"), _keys(settings, "g2")
    assert first == again and len(set(first)) == 10 and all(HEX16.match(k) for k in first)
    assert not set(first) & set(other)


def test_wave_yaml_tool_sheet_and_labels_are_checked(tmp_path):
    settings = make_settings(tmp_path)
    folder = write_wave(settings.raw_dir, "w", "msforms")
    yaml_path = folder / "wave.yaml"
    base = "label: W\ninvited: 12\nexport: Samskaping(1-10).xlsx\n"
    yaml_path.write_text(base + "tool: Forms\n", encoding="utf-8")
    with pytest.raises(WaveError) as err:
        load_wave(settings.raw_dir, "w", CODEBOOK)
    assert str(err.value) == f"{yaml_path}: tool: 'Forms' is not a known survey tool; use one of {', '.join(TOOLS)}"
    yaml_path.write_text(base + "labels: labels.csv\n", encoding="utf-8")
    with pytest.raises(WaveError) as err:
        load_wave(settings.raw_dir, "w", CODEBOOK)
    assert str(err.value) == (
        f"{yaml_path}: labels: 'labels.csv' is not in {folder}; copy the labels file there or correct the name"
    )
    yaml_path.write_text(base + "tool: MSForms\nsheet: Sheet1\n", encoding="utf-8")
    spec = load_wave(settings.raw_dir, "w", CODEBOOK)
    assert (spec.tool, spec.sheet, spec.labels) == ("msforms", "Sheet1", None)
    read = read_wave(settings, CODEBOOK, "w")
    assert (read.reader, read.export.sheet) == ("xlsx/msforms", "Sheet1")
    # A tool named in wave.yaml that the headers contradict is noted in the run metadata.
    yaml_path.write_text(base + "tool: googleforms\n", encoding="utf-8")
    read = read_wave(settings, CODEBOOK, "w")
    assert read.describe()["notes"] == ["wave.yaml says tool: googleforms, but the headers look like a msforms export"]
