"""`make inspect WAVE=<wave>` (pipeline.staging.inspect_wave, pipeline.cli inspect, the Makefile): headers in full so
that a mapping can be checked, the rule each header was mapped by, the completion rule, the counts, and messages for
people (a typo in the wave's name, no WAVE=). Real files (csv module, pyreadstat), nothing built."""

from __future__ import annotations

import pytest
from exports import write_wave
from helpers import copy_sample_wave, make_settings, read_sample_rows, run_make

from pipeline.cli import main
from pipeline.codebook import load_codebook
from pipeline.ingest.waves import WaveError
from pipeline.settings import PROJECT_ROOT
from pipeline.staging.inspect_wave import inspect_wave

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")


def _lines(settings, wave: str) -> list[str]:
    return inspect_wave(settings, CODEBOOK, wave).text.splitlines()


def test_headers_are_shown_in_full_wrapped_so_that_p1_to_p5_read_apart(tmp_path):
    settings = make_settings(tmp_path)
    copy_sample_wave(settings.raw_dir)
    out = _lines(settings, "2024")
    start = out.index("headers (in full):")
    assert out[start + 1 : start + 6] == [
        "  'Respondent' → role respondent_id   [metadata header (codebook)]",
        "  'Status' → role status   [metadata header (codebook)]",
        "  'Tidsstempel' → role submitted_at   [wave.yaml columns]",
        "  'Kompetansen og erfaringen fra Biblioteket som samskaper gjør at det er blitt lettere for meg å",
        "    jobbe samskapende med innbyggerne' → item P1   [question text / alias (codebook)]",
    ]
    joined = " ".join(line.strip() for line in out[start + 1 :])
    headers, _ = read_sample_rows()
    for header in headers:  # every header in full, none cut
        assert f"'{header}' → " in joined, header
    assert not [line for line in out if "…" in line]


def test_inspect_states_the_completion_rule_and_the_other_waves(tmp_path):
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "de", "limesurvey_de")
    out = _lines(settings, "de")
    assert out[2] == (
        "tool: limesurvey (tool: auto; detected limesurvey: "
        + out[2].split("detected limesurvey: ", 1)[1]  # the detector's own words
    )
    assert out[4] == "rows: 11 under the header row; 0 more header row(s) of the tool; 11 data rows"
    assert out[5] == (
        "complete/partial: LimeSurvey: `Datum Abgeschickt` filled = complete (1980-01-01 too: a submitted response of "
        "an anonymised survey), empty = partial"
    )
    assert out[6] == "other waves: no work database yet: headers not compared with other waves"
    assert "  'Datum Abgeschickt' → role submitted_at   [tool preset]" in out
    assert "  'IP-Adresse' → PERSONAL DATA (dropped)   [tool preset]" in out
    assert "  'Weiterleitungs-URL' → PERSONAL DATA (dropped)   [tool preset]" in out
    assert "respondents: 11 (10 complete, 1 partial); response rate 10/12 = 83.3 %" in out


def test_inspect_says_by_what_rule_spss_item_codes_with_generic_labels_map(tmp_path):
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "sav", "sav_item_codes")
    out = _lines(settings, "sav")
    start = out.index("headers (in full):")
    assert out[start + 1 : start + 5] == [
        "  'respnr' → role respondent_id   [metadata header (codebook)]",
        "  'epost' → PERSONAL DATA (dropped)   [personal-data header]",
        "  'P1' → item P1   [item code, exactly; its label names the same code]",
        "  'P2' → item P2   [item code, exactly; its label names the same code]",
    ]
    assert sum("[item code, exactly; its label names the same code]" in line for line in out) == 21
    assert "  'P1' = P1, 10 answered cell(s):" in out
    assert "respondents: 10 (10 complete, 0 partial); response rate 10/12 = 83.3 %" in out


def test_a_wave_name_with_a_typo_names_the_folders_there_are(tmp_path):
    settings = make_settings(tmp_path)
    copy_sample_wave(settings.raw_dir)
    copy_sample_wave(settings.raw_dir, "2025")
    with pytest.raises(WaveError) as err:
        inspect_wave(settings, CODEBOOK, "2O25")
    assert str(err.value) == f"no wave folder named '2O25' under {settings.raw_dir}; the folders are 2024, 2025"


def test_cli_inspect_of_a_missing_wave_is_one_line(tmp_path, monkeypatch, capsys):
    settings = make_settings(tmp_path)
    copy_sample_wave(settings.raw_dir)
    monkeypatch.setenv("PIPELINE_RAW_DIR", str(settings.raw_dir))
    monkeypatch.setenv("PIPELINE_MARTS_DIR", str(settings.marts_dir))
    assert main(["inspect", "2025"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"wave 2025: would FAIL – no wave folder named '2025' under {settings.raw_dir}; the folders are 2024\n"
    )


def test_make_inspect_without_wave_prints_its_own_usage_and_the_wave_folders(tmp_path):
    copy_sample_wave(tmp_path / "raw")
    copy_sample_wave(tmp_path / "raw", "2025")
    result = run_make(tmp_path, "inspect")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == (
        f"usage: make inspect WAVE=<wave>   (the wave folders under {tmp_path / 'raw'}: 2024 2025 )"
    )
