"""Each tool's completeness rule, on small exports written with the csv module."""

from __future__ import annotations

import csv

import yaml
from helpers import make_settings

from pipeline.codebook import load_codebook
from pipeline.ingest.wave import read_wave
from pipeline.settings import PROJECT_ROOT
from pipeline.staging.stage import stage

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")


def _wave(settings, key, name, rows, **spec):
    folder = settings.raw_dir / key
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / name, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=spec.pop("delimiter", ",")).writerows(rows)
    (folder / "wave.yaml").write_text(
        yaml.safe_dump({"label": key, "invited": 5, "export": name, **spec}), encoding="utf-8"
    )
    staged = stage(read_wave(settings, CODEBOOK, key).normalised, CODEBOOK, settings, key)
    return read_wave(settings, CODEBOOK, key), staged


def test_qualtrics_numeric_export_finished_and_preview_codes(tmp_path):
    settings = make_settings(tmp_path)
    rows = [
        ["StartDate", "Status", "Finished", "ResponseId", "Q1", "Q2"],
        ["Start Date", "Response Type", "Finished", "Response ID", "P1", "V4"],
        [
            '{"ImportId":"startDate"}',
            '{"ImportId":"status"}',
            '{"ImportId":"finished"}',
            '{"ImportId":"_recordId"}',
            '{"ImportId":"QID1"}',
            '{"ImportId":"QID2"}',
        ],
        ["2024-05-13", "1", "1", "R_a", "5", "1"],  # Status 1 = survey preview: not a response
        ["2024-05-13", "0", "1", "R_b", "1", "1"],
        ["2024-05-13", "0", "0", "R_c", "2", ""],
        ["2024-05-13", "0", "maybe", "R_d", "3", "2"],
    ]
    read, staged = _wave(settings, "q", "q.csv", rows)
    assert read.tool == "qualtrics" and read.normalised.excluded_rows == {"test": 1}
    assert staged.respondents.select("source_row", "complete").rows() == [(2, True), (3, False), (4, False)]
    assert staged.quarantine.rows() == [
        (
            "q",
            "q.csv",
            4,
            "Finished",
            "maybe",
            "status 'maybe' is neither complete ("
            + ", ".join(CODEBOOK.status_values["complete"])
            + ") nor partial ("
            + ", ".join(CODEBOOK.status_values["partial"])
            + "): the row counts as partial. Map the status in wave.yaml or correct the export",
        )
    ]
    assert staged.responses.select("source_row", "item", "category").rows() == [
        (2, "P1", "very_high"),
        (2, "V4", "yes"),
        (3, "P1", "high"),
        (4, "P1", "some"),
        (4, "V4", "no"),
    ]


def test_surveyxact_single_status_column_with_danish_labels(tmp_path):
    settings = make_settings(tmp_path)
    rows = [
        ["respondentid", "statoverall", "P1"],
        ["1", "Gennemført", "1"],
        ["2", "Ny", ""],
        ["3", "Nogen svar", "2"],
        ["4", "5", "3"],
        ["5", "Distribueret", "4"],
    ]
    folder = settings.raw_dir / "sx"
    folder.mkdir(parents=True)
    (folder / "labels.csv").write_text(
        "P1;1;I meget høj grad \nP1;2;I høj grad\nP1;3;I nogen grad\nP1;4;I lav grad\n", encoding="utf-8"
    )
    read, staged = _wave(settings, "sx", "data.csv", rows, delimiter=";")
    assert read.tool == "surveyxact" and read.normalised.excluded_rows == {"not_responded": 1}
    # Row 5 was only distributed but holds an answer: it is kept, as partial.
    assert staged.respondents.select("source_row", "complete").rows() == [(1, True), (3, False), (4, False), (5, False)]
    assert staged.responses.select("source_row", "category").rows() == [
        (1, "very_high"),
        (3, "high"),
        (4, "some"),
        (5, "low"),
    ]
    assert read.normalised.respondents["status_column"].unique().to_list() == ["statoverall"]


def test_limesurvey_empty_submitdate_is_partial(tmp_path):
    settings = make_settings(tmp_path)
    rows = [
        ["id", "submitdate", "lastpage", "startlanguage", "ipaddr", "P1"],
        ["1", "2024-05-13 10:00:00", "2", "nb", "192.0.2.1", "I høy grad"],
        ["2", "", "1", "nb", "192.0.2.2", "Vet ikke"],
    ]
    read, staged = _wave(settings, "ls", "results.csv", rows, delimiter=";")
    assert read.tool == "limesurvey"
    assert staged.respondents.select("source_row", "complete").rows() == [(1, True), (2, False)]
    assert read.normalised.respondents["status"].to_list() == ["complete", "partial"]
    assert [c.target for c in read.normalised.columns] == [
        "respondent_id",
        "submitted_at",
        "drop",
        "drop",
        "personal_data",
        "P1",
    ]
