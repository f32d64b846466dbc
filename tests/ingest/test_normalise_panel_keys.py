"""Panel keys (pipeline.ingest.normalise.panel_keys, wave.yaml panel_id): what links the same person across waves, and
what never does (a tool's per-survey response ids and counters)."""

from __future__ import annotations

import pytest
import yaml
from exports import CODEBOOK, PEOPLE, write_wave
from helpers import make_settings

from pipeline.ingest.pseudonym import panel_id_text, panel_pseudonyms
from pipeline.ingest.wave import read_wave
from pipeline.ingest.waves import WaveError


def keys_of(settings, wave: str) -> tuple[list[str | None], list[str]]:
    respondents = read_wave(settings, CODEBOOK, wave).normalised.respondents.sort("source_row")
    return respondents["panel_key"].to_list(), respondents["respondent_key"].to_list()


@pytest.mark.parametrize("kind", ["msforms", "limesurvey"])
def test_response_ids_of_a_tool_never_link_waves(tmp_path, kind):
    """Microsoft Forms (ID 1, 2, 3, …) and LimeSurvey (id 1, 2, 3, …) number the responses of one form: two waves
    with the same numbers are not the same people. Without panel_id no row gets a panel key."""
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "w1", kind)
    write_wave(settings.raw_dir, "w2", kind)
    panel_1, respondents_1 = keys_of(settings, "w1")
    panel_2, respondents_2 = keys_of(settings, "w2")
    assert respondents_1[:10] == respondents_2[:10]  # the same counters…
    assert set(panel_1) == set(panel_2) == {None}  # …link nobody


def test_panel_id_links_the_same_people_and_is_dropped(tmp_path):
    """panel_id: Email on two Microsoft Forms waves: the same 10 panel keys in both, none of them the respondent
    key, and the e-mail column is dropped like personal data."""
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "w1", "msforms", panel_id="Email")
    write_wave(settings.raw_dir, "w2", "msforms", panel_id="email")
    read = read_wave(settings, CODEBOOK, "w1")
    assert "Email" in read.normalised.dropped_headers
    assert [c.target for c in read.normalised.columns if c.header == "Email"] == ["panel_id"]
    panel_1, respondents_1 = keys_of(settings, "w1")
    panel_2, _ = keys_of(settings, "w2")
    assert panel_1 == panel_2 and len(set(panel_1)) == 10 and None not in panel_1
    assert not set(panel_1) & set(respondents_1)
    assert panel_1 == panel_pseudonyms(b"test-key", [p.email for p in PEOPLE[:10]])


def test_panel_ids_compare_without_case_and_spaces():
    assert panel_id_text(" Kari.Nordmann @Bib.NO ") == panel_id_text("kari.nordmann@bib.no") == "kari.nordmann@bib.no"
    assert panel_pseudonyms(b"k", ["A 1"]) == panel_pseudonyms(b"k", ["a1"]) != panel_pseudonyms(b"k", ["a2"])
    assert panel_pseudonyms(b"k", ["a1"]) != panel_pseudonyms(b"other key", ["a1"])


def set_wave_yaml(folder, **changes) -> None:
    path = folder / "wave.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec.update(changes)
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")


def test_panel_id_naming_no_header_stops_the_wave(tmp_path):
    settings = make_settings(tmp_path)
    folder = write_wave(settings.raw_dir, "w1", "msforms", panel_id="E-mail")
    with pytest.raises(WaveError) as err:
        read_wave(settings, CODEBOOK, "w1")
    assert str(err.value) == (
        f"{folder / 'wave.yaml'}: panel_id: 'e-mail' matches no header of Samskaping(1-10).xlsx "
        "(did you mean 'email'?): "
        "no one could be followed across waves. Name the column that identifies the same person in every wave (as "
        "the export writes its header, case and spaces aside); `make inspect` lists the headers"
    )


@pytest.mark.parametrize(
    "value, message",
    [
        (["Email"], "panel_id: ['Email'] must name one header of the export"),
        ("  ", "panel_id: '  ' must name one header of the export"),
    ],
)
def test_panel_id_must_be_one_header(tmp_path, value, message):
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "w1", "msforms", panel_id=value)
    with pytest.raises(WaveError, match=message.replace("[", r"\[").replace("]", r"\]")):
        read_wave(settings, CODEBOOK, "w1")


def test_panel_id_column_cannot_also_be_mapped(tmp_path):
    settings = make_settings(tmp_path)
    folder = write_wave(settings.raw_dir, "w1", "msforms", panel_id="Email", columns={"Email": "drop"})
    with pytest.raises(WaveError) as err:
        read_wave(settings, CODEBOOK, "w1")
    assert str(err.value) == (
        f"{folder / 'wave.yaml'}: panel_id: 'Email' is also mapped in columns (to drop); a panel id column is only "
        "read as the panel id: remove one of them"
    )
