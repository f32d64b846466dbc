"""Presets, readers and header mapping on the layouts real survey tools write (tests/exports.py reproduces the
structure of the public packages' own fixtures with the real writers): exact counts, or a loud stop.

The whole-build checks (same distribution as the sample for every layout, no personal data anywhere) are in
test_ingest_presets.py; here each defect is pinned on the pure functions, without Dagster."""

from __future__ import annotations

import polars as pl
import pytest
import yaml
from exports import CLOSED, QUESTION, label_of, write_wave
from helpers import make_settings, write_csv_wave

from pipeline.codebook import load_codebook
from pipeline.ingest.normalise import map_headers
from pipeline.ingest.presets import _parse_structure, detect
from pipeline.ingest.readers import ExportError, read_export
from pipeline.ingest.wave import read_wave, unmapped_summary
from pipeline.ingest.waves import WaveError, WaveSpec, load_wave
from pipeline.settings import PROJECT_ROOT
from pipeline.staging.stage import TooMuchQuarantined, stage

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")


def _staged(settings, wave):
    read = read_wave(settings, CODEBOOK, wave)
    spec = load_wave(settings.raw_dir, wave, CODEBOOK)
    return read, stage(read.normalised, CODEBOOK, settings, wave, spec.values)


def _counts(staged, item, complete=True):
    responses = staged.responses.filter((pl.col("item").cast(pl.Utf8) == item) & (pl.col("complete") == complete))
    return dict(responses.group_by(pl.col("category").cast(pl.Utf8)).len().rows())


# SurveyXact ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["surveyxact_cp1252", "surveyxact_utf16"])
def test_surveyxact_without_respondentid_uses_labels_status_and_structure(kind, tmp_path):
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "sx", kind)
    read, staged = _staged(settings, "sx")
    assert read.tool == "surveyxact"
    assert read.export.encoding == {"surveyxact_cp1252": "windows-1252", "surveyxact_utf16": "utf-16"}[kind]
    assert read.normalised.excluded_rows == {"not_responded": 2}
    assert staged.respondents["complete"].to_list().count(True) == 10
    assert staged.respondents["complete"].to_list().count(False) == 1
    # codes numbered the other way round than the codebook: the labels table decides, never the default codes
    assert _counts(staged, "P1") == {"very_high": 5, "high": 4, "some": 1}
    assert _counts(staged, "V4") == {"yes": 4, "no": 4, "dont_know": 2}
    assert _counts(staged, "P1", complete=False) == {"very_high": 1}
    # the question texts come from structure.csv's questionText column; `id` holds school names: dropped
    mapping = {c.header: (c.target, c.matched_by) for c in read.normalised.columns}
    assert mapping["s_1"] == ("P1", "codebook") and mapping[f"s_{CLOSED.index('V4') + 1}"] == ("V4", "codebook")
    assert mapping["id"] == ("personal_data", "id") and mapping["forn"] == ("personal_data", "preset")
    assert staged.quarantine.height == 0 and staged.conflicting_duplicates == 0


def test_surveyxact_is_detected_by_its_status_dummies_alone(tmp_path):
    folder = write_wave(tmp_path, "sx", "surveyxact_cp1252")
    assert detect(read_export(folder / "dataset.csv")) == "surveyxact"


def test_labels_named_in_wave_yaml_but_not_used_stop_the_wave(tmp_path):
    settings = make_settings(tmp_path)
    folder = write_wave(settings.raw_dir, "ns", "nettskjema")
    (folder / "labels.csv").write_text("P1;1;I svært høy grad\n", encoding="utf-8")
    spec = yaml.safe_load((folder / "wave.yaml").read_text(encoding="utf-8"))
    (folder / "wave.yaml").write_text(yaml.safe_dump({**spec, "labels": "labels.csv"}), encoding="utf-8")
    with pytest.raises(WaveError) as err:
        read_wave(settings, CODEBOOK, "ns")
    assert str(err.value) == (
        f"{folder / 'wave.yaml'}: labels: 'labels.csv' names a SurveyXact labels table, but the export is read as "
        "nettskjema (detected), which would not use it. Set `tool: surveyxact` if this is a SurveyXact dataset, or "
        "remove `labels:`; the wave was not read"
    )


def test_a_labels_file_makes_a_dataset_without_signature_a_surveyxact_one(tmp_path):
    settings = make_settings(tmp_path)
    rows = [["2", "1"], ["1", "3"], ["1", "1"], ["", ""]]
    write_csv_wave(settings.raw_dir, "sx", ["P1", "V4"], rows, invited=4, labels="labels.csv")
    (settings.raw_dir / "sx" / "labels.csv").write_text(
        "P1;1;I liten grad\nP1;2;I stor grad\nV4;1;Ja\nV4;3;Nei\n", encoding="utf-8"
    )
    read, staged = _staged(settings, "sx")
    assert read.tool == "surveyxact"
    assert _counts(staged, "P1") == {"low": 2}  # "I stor grad" is no codebook label: quarantined, not code 2
    assert _counts(staged, "V4") == {"yes": 2, "no": 1}
    assert staged.quarantine.select("source_row", "value").rows() == [(1, "I stor grad")]


def test_structure_question_texts_come_from_question_text():
    rows = [
        ["questionName", "variableName", "questionType", "subType", "questionText", "choiceValue", "choiceText"],
        ["s_2", "s_2", "Closed", "Single", "Hvilket program går du på? ", "", ""],
        ["v_1", "v_1_14", "Closed", "Multiple", "Hvilke valgfag?", "16", "Design"],
    ]
    assert _parse_structure(rows) == {"s_2": "Hvilket program går du på? ", "v_1_14": "Hvilke valgfag? - Design"}


# Item codes ---------------------------------------------------------------------------------------
def test_item_codes_match_headers_only_exactly_and_yield_to_labels(tmp_path):
    spec = WaveSpec(key="w", folder=tmp_path, label="w", fielded=None, invited=1, export="x.sav")
    headers = ["P1", "p2", "v3", "V3", "V4", "Q1", "ID", "Skole-ID"]
    alternates = (
        ("P1",),
        ("p2",),
        ("v3", "The staff were slow in responding"),
        ("V3", "The staff were slow in responding"),
        ("V4", "V4"),
        ("Q1", "P5"),
        ("ID",),
        ("Skole-ID",),
    )
    columns = map_headers(headers, spec, CODEBOOK, alternates)
    assert [(c.target, c.matched_by) for c in columns] == [
        ("P1", "code"),
        ("unmapped", "code, case differs"),
        ("unmapped", "code, case differs"),
        ("unmapped", "code, label differs"),
        ("V4", "code"),
        ("P5", "code"),
        ("personal_data", "id"),
        ("personal_data", "id"),
    ]


def test_legacy_qualtrics_tags_v1_to_v10_are_metadata_not_items(tmp_path):
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "q", "qualtrics_legacy")
    read, staged = _staged(settings, "q")
    mapping = {c.header: c.target for c in read.normalised.columns}
    assert [
        mapping[h]
        for h in (
            "ResponseID",
            "ResponseSet",
            "Name",
            "ExternalDataReference",
            "EmailAddress",
            "IPAddress",
            "Status",
            "StartDate",
            "EndDate",
            "Finished",
        )
    ] == [
        "respondent_id",
        "drop",
        "personal_data",
        "personal_data",
        "personal_data",
        "personal_data",
        "drop",
        "drop",
        "submitted_at",
        "drop",
    ]
    assert mapping[QUESTION["V1"]] == "V1" and "(column 35, no header)" not in mapping
    assert read.normalised.notes[0] == "legacy layout (V1…V10 tags + label row); 1 extra header row(s) read"
    assert staged.respondents["complete"].to_list().count(True) == 10 and staged.respondents.height == 11
    assert _counts(staged, "V4") == {"yes": 4, "no": 4, "dont_know": 2}
    assert not read.normalised.cells(settings).filter(pl.col("value").str.contains(r"^\d+\.\d+\.\d+\.\d+$")).height


def test_qualtrics_label_row_in_german_is_a_header_row(tmp_path):
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "q", "qualtrics_german")
    read, staged = _staged(settings, "q")
    assert read.tool == "qualtrics" and read.export.n_rows == 12
    assert read.normalised.excluded_rows == {"test": 1}
    assert staged.respondents["complete"].to_list().count(True) == 10 and staged.respondents.height == 11
    assert _counts(staged, "P1") == {"very_high": 5, "high": 4, "some": 1}
    assert staged.quarantine.height == 0


# SPSS user-missing --------------------------------------------------------------------------------
def test_spss_user_missing_codes_count_when_wave_yaml_maps_them(tmp_path):
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "s", "sav_user_missing")
    read, staged = _staged(settings, "s")
    assert read.export.format == "sav"
    assert _counts(staged, "V4") == {"yes": 4, "no": 4, "dont_know": 2}
    assert _counts(staged, "C4") == {"very_high": 1, "high": 3, "some": 3, "low": 2, "dont_know": 1}


def test_spss_user_missing_codes_are_unanswered_without_a_map(tmp_path):
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "s", "sav_user_missing", values={})
    read, staged = _staged(settings, "s")
    assert _counts(staged, "V4") == {"yes": 4, "no": 4}  # base 8: yes 50 %, not 40 %
    v4 = f"v{CLOSED.index('V4') + 1}"
    assert f"{v4}: 2 cell(s) declared missing in the file (DK = 8) counted as unanswered" in read.normalised.notes
    assert staged.quarantine.height == 0


# SurveyMonkey, Nettskjema -------------------------------------------------------------------------
def test_surveymonkey_nul_placeholders_and_old_headers(tmp_path):
    settings = make_settings(tmp_path)
    folder = write_wave(settings.raw_dir, "sm", "surveymonkey_nul")
    assert (folder / "Sheet_1.csv").read_bytes().count(b"\x00") == 9
    read, staged = _staged(settings, "sm")
    assert read.tool == "surveymonkey" and read.export.n_rows == 10  # the option row is not a respondent
    assert staged.respondents.height == 10 and staged.respondents["complete"].all()
    assert _counts(staged, "P3") == {"high": 3, "some": 6, "low": 1}


def test_nul_bytes_that_are_not_placeholder_cells_still_stop(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"a,b\n1,2\n3\x004,5\n")
    with pytest.raises(ExportError, match="line 3 holds a NUL byte"):
        read_export(path)


def test_nettskjema_older_export_and_its_contact_fields(tmp_path):
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "n", "nettskjema_2018")
    read, staged = _staged(settings, "n")
    assert read.tool == "nettskjema" and read.export.delimiter == "\t" and read.export.encoding == "windows-1252"
    mapping = {c.header: c.target for c in read.normalised.columns}
    assert mapping["NR"] == "respondent_id" and mapping["Opprettet"] == "submitted_at"
    assert {h for h, t in mapping.items() if t == "personal_data"} == {
        "E-post",
        "Fornavn",
        "Etternavn",
        "Bursdag",
        "Epost",
        "Telefon",
        "Adresse",
        "Sted",
        "Postnummer",
    }
    assert _counts(staged, "V4") == {"yes": 4, "no": 4, "dont_know": 2}


# values:, wave.yaml keys, messages ----------------------------------------------------------------
def test_a_partial_values_map_is_not_completed_with_the_default_codes(tmp_path):
    settings = make_settings(tmp_path)
    rows = [[str(i), c] for i, c in enumerate(["1", "2", "3", "1", "2", "1", "1", "2", "1", "2"], start=1)]
    write_csv_wave(
        settings.raw_dir,
        "w",
        ["Respondent", "P1"],
        rows,
        invited=10,
        values={"degree": {"1": "very_high", "2": "high"}},
    )
    _, staged = _staged(settings, "w")
    assert _counts(staged, "P1") == {"very_high": 5, "high": 4}  # "3" is not the default code for "some"
    assert staged.quarantine.select("source_row", "value", "reason").rows() == [
        (
            3,
            "3",
            (
                "'3' is not an answer of item P1 (scale degree): allowed are "
                + ", ".join(c.label["nb"] for c in CODEBOOK.scales["degree"].categories)
                + " or the codes wave.yaml values: degree maps: 1 (very_high), 2 (high). Correct the cell or add "
                "the code to wave.yaml values: degree"
            ),
        )
    ]


def test_unknown_wave_yaml_keys_stop_the_wave(tmp_path):
    settings = make_settings(tmp_path)
    write_csv_wave(settings.raw_dir, "w", ["P1"], [["1"]], colums={"x": "P2"})
    with pytest.raises(WaveError) as err:
        load_wave(settings.raw_dir, "w", CODEBOOK)
    assert str(err.value).endswith(
        "wave.yaml: unknown key(s) 'colums' (did you mean 'columns'?); the keys wave.yaml may hold are wave, label, "
        "fielded, invited, export, tool, sheet, labels, columns, values, reconstruction, panel_id, ignore, completion. "
        "Correct or remove "
        "them; the wave was not read"
    )


def test_unmapped_headers_are_summed_up_in_one_short_line():
    headers = [f"Question time: q{n:03d}" for n in range(600)]
    line = unmapped_summary(headers)
    assert line == (
        "600 header(s) map to nothing: 'Question time: q000', 'Question time: q001', 'Question time: "
        "q002', 'Question time: q003', 'Question time: q004' and 595 more (all in the run metadata); map "
        "them in wave.yaml columns (to an item or to drop) if they hold answers"
    )


def test_conflicting_duplicates_that_stop_a_wave_are_named(tmp_path):
    settings = make_settings(tmp_path)
    schools = ["Bryne", "Sandnes", "Bryne", "Sandnes", "Bryne"]
    rows = [[s, label_of("P1", k)] for s, k in zip(schools, ["high", "low", "some", "high", "very_high"])]
    write_csv_wave(settings.raw_dir, "w", ["Respondent", "P1"], rows, invited=5)
    with pytest.raises(TooMuchQuarantined) as err:
        _staged(settings, "w")
    assert str(err.value) == (
        "w: 5 rows share a respondent id with another row but differ in their answers (5 of the 5 cells that would "
        "be quarantined): the column read as the respondent id is probably not one (e.g. a school or a form "
        "counter). Name the tool's respondent-id column in wave.yaml columns (`<header>: respondent_id`), or map "
        "that column to drop; the wave was not updated"
    )


# Found in review, on the real files -----------------------------------------------------------------
def test_surveyxact_single_status_column_in_norwegian_without_respondentid(tmp_path):
    settings = make_settings(tmp_path)
    states = ["Gjennomført"] * 3 + ["Noen svar", "Distribuert", "Distribuert"]
    rows = [[s, a] for s, a in zip(states, ["I høy grad", "Ja", "I høy grad", "I liten grad", "", ""])]
    rows[1][1] = "I høy grad"
    write_csv_wave(settings.raw_dir, "sx", ["statoverall", "P1"], rows, invited=6)
    read, staged = _staged(settings, "sx")
    assert read.tool == "surveyxact" and read.normalised.excluded_rows == {"not_responded": 2}
    assert _counts(staged, "P1") == {"high": 3} and _counts(staged, "P1", complete=False) == {"low": 1}
    assert staged.quarantine.height == 0


def _surveymonkey(folder, top, sub, rows):
    import csv

    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "Sheet_1.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([top, sub, *rows])


def test_surveymonkey_one_column_per_option_is_read_as_one_question(tmp_path):
    settings = make_settings(tmp_path)
    question = QUESTION["V4"]
    top = ["RespondentID", "CollectorID", question, "", ""]
    sub = ["\x00", "\x00", "Ja", "Nei", "Vet ikke<br />Forklar gjerne"]
    rows = [
        ["1", "9", "Ja", "", ""],
        ["2", "9", "", "Nei", ""],
        ["3", "9", "Ja", "", ""],
        ["4", "9", "", "", "ikke sikker"],
        ["5", "9", "Ja", "Nei", ""],
        ["6", "9", "", "", ""],
    ]
    folder = settings.raw_dir / "sm"
    _surveymonkey(folder, top, sub, rows)
    (folder / "wave.yaml").write_text("label: sm\ninvited: 6\nexport: Sheet_1.csv\n", encoding="utf-8")
    read, staged = _staged(settings, "sm")
    mapping = {c.header: (c.target, c.matched_by) for c in read.normalised.columns}
    assert mapping[question] == ("V4", "codebook") and mapping[f"{question} - Nei"] == ("unmapped", "unmapped")
    assert _counts(staged, "V4") == {"yes": 2, "no": 1, "dont_know": 1}
    # two options ticked in a one-choice question: quarantined, not counted twice
    assert staged.quarantine.select("source_row", "value").rows() == [(5, "Ja + Nei")]

    (folder / "wave.yaml").write_text(
        f"label: sm\ninvited: 6\nexport: Sheet_1.csv\ncolumns:\n  '{question} - Ja': V4\n", encoding="utf-8"
    )
    with pytest.raises(
        WaveError,
        match="is one option of the question .* which the export writes as one column "
        "per option: it holds only the people who chose that option",
    ):
        read_wave(settings, CODEBOOK, "sm")


def test_contact_details_in_closed_items_are_masked_in_the_quarantine(tmp_path):
    settings = make_settings(tmp_path)
    rows = [[str(i), "Ja"] for i in range(1, 19)] + [["19", "ola.nordmann@example.no"]]
    rows += [["20", "7137661111"], ["21", "130.92.34.66"]]
    write_csv_wave(settings.raw_dir, "w", ["Respondent", QUESTION["V4"]], rows, invited=21)
    _, staged = _staged(settings, "w")
    assert staged.quarantine["value"].to_list() == [
        "[e-post fjernet]",
        "[telefonnummer fjernet]",
        "[IP-adresse fjernet]",
    ]
    assert not any(
        secret in "".join(staged.quarantine["reason"].to_list())
        for secret in ("ola.nordmann", "7137661111", "130.92.34.66")
    )


def test_nul_placeholders_quoted_or_below_a_multi_line_question_are_blank(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b'RespondentID,CollectorID,"Line one\nline two"\r\n"\x00","\x00",Response\r\n1,2,Ja\r\n')
    export = read_export(path)
    assert export.headers == ["RespondentID", "CollectorID", "Line one\nline two"]
    assert export.frame.rows() == [(None, None, "Response", 1), ("1", "2", "Ja", 2)]


def test_a_columns_line_that_matches_no_header_stops_the_wave_and_yes_no_may_be_unquoted(tmp_path):
    settings = make_settings(tmp_path)
    folder = write_csv_wave(settings.raw_dir, "w", ["Q7", "P1"], [["1", "1"], ["2", "2"]], invited=2)
    (folder / "wave.yaml").write_text(
        "label: w\ninvited: 2\nexport: export.csv\ncolumns: {Q07: V4}\nvalues: {yes_no: {1: yes, 2: no}}\n",
        encoding="utf-8",
    )
    with pytest.raises(WaveError) as err:
        read_wave(settings, CODEBOOK, "w")
    assert str(err.value) == (
        f"{folder / 'wave.yaml'}: columns: 'q07' (did you mean 'q7'?) match(es) no header of export.csv: the mapping "
        "would be ignored. Correct the header text (as the export writes it, case and spaces aside) or remove the "
        "line; `make inspect` lists the headers"
    )
    assert load_wave(settings.raw_dir, "w", CODEBOOK).values["yes_no"] == {"1": "yes", "2": "no"}
