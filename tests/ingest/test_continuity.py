"""pipeline.ingest.continuity: a question reworded between waves stops the wave instead of silently becoming "not
asked". The second wave is the sample export (csv module) with V2's header reworded as a real second wave would; the
other waves' item headers are given as raw.wave_columns holds them (the build reads them from the work database:
tests/test_cli_wave_summary.py)."""

from __future__ import annotations

import pytest
from helpers import make_settings, read_sample_rows, write_csv_wave

from pipeline.codebook import load_codebook
from pipeline.ingest.continuity import check_continuity, look_alikes
from pipeline.ingest.wave import read_wave
from pipeline.ingest.waves import WaveError, load_wave
from pipeline.settings import PROJECT_ROOT

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
V2 = CODEBOOK.items["V2"].question["nb"]  # "Det samskapende arbeidet har gitt biblioteket et større nettverk"
REWORDED = "Samskapingen har gitt biblioteket et større nettverk"
HEADERS, ROWS = read_sample_rows()
# raw.wave_columns of wave 2024 (the sample): every item's column is headed by its nb question
WAVE_2024 = {
    CODEBOOK.header_lookup()[h.casefold()]: [("2024", h)] for h in HEADERS if h.casefold() in CODEBOOK.header_lookup()
}


def _wave_2025(settings, header: str = REWORDED, columns: dict | None = None, **wave_yaml):
    headers = [header if h == V2 else h for h in HEADERS]
    columns = {"Tidsstempel": "submitted_at", **(columns or {})}
    return write_csv_wave(settings.raw_dir, "2025", headers, ROWS, columns=columns, **wave_yaml)


def test_the_sample_s_items_are_all_in_the_other_wave():
    assert len(WAVE_2024) == 21 and WAVE_2024["V2"] == [("2024", V2)]


def test_a_reworded_question_stops_the_wave_naming_header_item_and_what_to_write(tmp_path):
    settings = make_settings(tmp_path)
    folder = _wave_2025(settings)
    with pytest.raises(WaveError) as err:
        read_wave(settings, CODEBOOK, "2025", WAVE_2024)
    assert str(err.value) == (
        f"{folder / 'export.csv'}: header '{REWORDED}' looks like V2 ('{V2}', 84 % alike, question (codebook)): map "
        f"it in `columns:` of wave.yaml ('{REWORDED}': V2) if it is the same question reworded, or list it under "
        "`ignore:` if it is a new one; otherwise the item would show as not asked"
    )


def test_mapped_in_columns_the_reworded_question_is_the_item(tmp_path):
    settings = make_settings(tmp_path)
    _wave_2025(settings, columns={REWORDED: "V2"})
    read = read_wave(settings, CODEBOOK, "2025", WAVE_2024)
    assert "V2" in read.asked_items and len(read.asked_items) == 21
    [column] = [c for c in read.normalised.columns if c.header == REWORDED]
    assert (column.target, column.matched_by) == ("V2", "columns")


def test_ignored_the_reworded_question_is_left_out_and_v2_not_asked(tmp_path):
    settings = make_settings(tmp_path)
    _wave_2025(settings, ignore=[REWORDED])
    read = read_wave(settings, CODEBOOK, "2025", WAVE_2024)
    assert "V2" not in read.asked_items and len(read.asked_items) == 20
    assert read.normalised.unmapped_headers == []
    assert read.waves_row()["dropped_headers"].to_list() == [[REWORDED]]


def test_a_first_wave_has_nothing_to_compare_with(tmp_path):
    settings = make_settings(tmp_path)
    _wave_2025(settings)
    read = read_wave(settings, CODEBOOK, "2025", {})
    assert read.normalised.unmapped_headers == [REWORDED]
    assert "V2" not in read.asked_items


def test_a_header_like_the_item_s_header_in_another_wave_is_found_there():
    """The other wave mapped its own wording (wave.yaml columns): the new header resembles that, not the codebook."""
    others = {"V2": [("2024", "Nettverk: har biblioteket fått et større nettverk?")]}
    [found] = look_alikes(["Nettverk: har biblioteket fått større nettverk?"], set(), CODEBOOK, others)
    assert (found.item, found.source, round(100 * found.ratio)) == ("V2", "header of 2024", 97)
    assert found.message() == (
        "header 'Nettverk: har biblioteket fått større nettverk?' looks like V2 ('Nettverk: har biblioteket fått et "
        "større nettverk?', 97 % alike, header of 2024)"
    )


def test_no_look_alike_for_a_new_question_an_item_this_wave_has_or_an_item_no_wave_had():
    assert look_alikes(["Hvor mange arrangementer hadde biblioteket i fjor?"], set(), CODEBOOK, WAVE_2024) == []
    assert look_alikes([REWORDED], {"V2"}, CODEBOOK, WAVE_2024) == []  # V2 has its column in this wave
    assert look_alikes([REWORDED], set(), CODEBOOK, {"P1": WAVE_2024["P1"]}) == []  # only P1 was asked before


def test_more_than_five_look_alikes_are_counted(tmp_path):
    settings = make_settings(tmp_path)
    write_csv_wave(tmp_path, "w", ["x"], [["y"]])
    spec = load_wave(tmp_path, "w", CODEBOOK)
    items = ["P1", "P2", "P3", "P4", "P5", "C1", "C2"]
    unmapped = [CODEBOOK.items[i].question["nb"] + " nå" for i in items]
    with pytest.raises(WaveError) as err:
        check_continuity(spec, unmapped, set(), CODEBOOK, {i: WAVE_2024[i] for i in items})
    assert str(err.value).count(" looks like ") == 5
    assert "; and 2 more: map it in `columns:`" in str(err.value)
    assert settings.raw_dir.is_dir()
