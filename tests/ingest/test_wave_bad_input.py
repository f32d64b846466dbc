"""Bad input in tool exports — quarantined cells with file/row/column/value/reason, duplicate
respondents, and waves that fail alone with one clear message."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest
from exports import CLOSED, GRID, QUESTION, respondents, with_answer, write_wave
from helpers import build, make_settings, query, read_sample_rows, write_csv_wave

from pipeline.codebook import load_codebook
from pipeline.ingest.wave import read_wave
from pipeline.ingest.waves import WaveError
from pipeline.settings import PROJECT_ROOT
from pipeline.staging.stage import TooMuchQuarantined, stage, stop_when_mostly_unmatched, unknown_label_reason

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
QUALTRICS_FILE = "Samskaping_May 23, 2024_11.00.csv"
GOOGLE_FILE = "Samskaping (Responses) - Form responses 1.csv"
DEGREE = [i for i in CLOSED if CODEBOOK.items[i].scale == "degree"]


def _read(settings, wave):
    return read_wave(settings, CODEBOOK, wave)


def test_unknown_cell_is_quarantined_with_allowed_labels_and_closest_match(tmp_path):
    settings = make_settings(tmp_path)
    people = with_answer(respondents(), 2, "P1", "I svært høg grad")
    write_wave(settings.raw_dir, "q", "qualtrics", people=people)
    read = _read(settings, "q")
    staged = stage(read.normalised, CODEBOOK, settings, "q/" + QUALTRICS_FILE)
    reason = (
        "'I svært høg grad' is not an answer of item P1 (scale degree): allowed are I svært høy grad, "
        "I høy grad, I noen grad, I liten grad, Ikke i det hele tatt, Vet ikke or codes 1, 2, 3, 4, 5, 6 "
        "(codes only where the export has no labels of its own); closest: 'I svært høy grad'. "
        "Correct the cell or map the code in wave.yaml values"
    )
    assert unknown_label_reason("I svært høg grad", "P1", CODEBOOK) == reason
    # Row 1 is Qualtrics' survey preview, so R003 is the 4th row under the three header rows.
    assert staged.quarantine.rows() == [("q", QUALTRICS_FILE, 4, "Q1_1", "I svært høg grad", reason)]
    r003 = staged.responses.filter(staged.responses["source_row"] == 4)
    assert r003.height == 17 and "P1" not in r003["item"].to_list()
    complete = staged.responses.filter(staged.responses["complete"])
    counts = dict(complete.group_by("item").len().rows())
    assert counts["P1"] == 9 and all(counts[i] == 10 for i in CLOSED if i != "P1")


def _duplicate_rows():
    headers, rows = read_sample_rows()
    exact = list(rows[4])  # R005 again, identical
    conflict = list(rows[2])  # R003 again, one answer changed
    column = headers.index(QUESTION["P2"])
    assert conflict[column] == "I høy grad"
    conflict[column] = "I noen grad"
    return headers, rows + [exact, conflict]


def test_exact_duplicates_collapse_conflicting_ones_count_in_neither(tmp_path):
    settings = make_settings(tmp_path)
    headers, rows = _duplicate_rows()
    write_csv_wave(settings.raw_dir, "d", headers, rows)
    read = _read(settings, "d")
    staged = stage(read.normalised, CODEBOOK, settings, "d/export.csv")
    assert (staged.exact_duplicates, staged.conflicting_duplicates) == (1, 2)
    assert staged.respondents["source_row"].to_list() == [1, 2, 4, 5, 6, 7, 8, 9, 10]
    expected = []
    for row, other in ((3, 12), (12, 3)):
        values = rows[row - 1]
        for col, value in zip(headers, values):
            if value and col in {QUESTION[i] for i in CODEBOOK.items}:
                expected.append(
                    (
                        "d",
                        "export.csv",
                        row,
                        col,
                        value,
                        f"the respondent id of this row also stands in row {other} with different "
                        "answers: the rows count in neither. Keep one row in the export",
                    )
                )
    assert len(expected) == 2 * 19
    assert staged.quarantine.rows() == sorted(expected, key=lambda r: (r[2], r[3], r[5]))
    assert set(staged.responses["source_row"].to_list()) == {1, 2, 4, 5, 6, 7, 8, 9, 10}


@pytest.mark.parametrize("kind", ["qualtrics", "limesurvey"])
def test_conflicting_duplicate_ids_in_a_tool_export(tmp_path, kind):
    """The same response id twice with different answers (a re-export pasted below the first)."""
    settings = make_settings(tmp_path)
    folder = write_wave(settings.raw_dir, "w", kind)
    spec_export = next(p for p in folder.iterdir() if p.suffix == ".csv")
    lines = spec_export.read_bytes().split(b"\r\n")
    first = 4 if kind == "qualtrics" else 1  # first respondent line (after header rows and the preview)
    duplicate = lines[first].replace(b'"I sv\xc3\xa6rt h\xc3\xb8y grad"', b'"Vet ikke"', 1)
    duplicate = duplicate.replace(b",I sv\xc3\xa6rt h\xc3\xb8y grad,", b",Vet ikke,", 1)
    assert duplicate != lines[first]
    spec_export.write_bytes(b"\r\n".join(lines[:-1] + [duplicate, b""]))
    staged = stage(_read(settings, "w").normalised, CODEBOOK, settings, "w")
    rows = sorted(set(staged.quarantine["source_row"].to_list()))
    last = 13 if kind == "qualtrics" else 12
    first_row = 2 if kind == "qualtrics" else 1
    assert rows == [first_row, last]
    assert staged.quarantine["reason"].unique().sort().to_list() == sorted(
        f"the respondent id of this row also stands in row {o} with different answers: the rows count in neither. "
        "Keep one row in the export"
        for o in (first_row, last)
    )
    assert staged.respondents.filter(staged.respondents["complete"]).height == 9


def test_a_file_that_cannot_be_read_fails_with_its_name(tmp_path):
    settings = make_settings(tmp_path)
    folder = settings.raw_dir / "x"
    folder.mkdir()
    (folder / "export.xlsx").write_bytes(b"this is not a workbook")
    (folder / "wave.yaml").write_text("label: X\ninvited: 12\nexport: export.xlsx\n", encoding="utf-8")
    from pipeline.ingest.readers import ExportError

    with pytest.raises(ExportError) as err:
        _read(settings, "x")
    assert str(err.value).startswith(f"{folder / 'export.xlsx'}: not a readable workbook (")


def test_header_only_export_has_no_respondent_rows(tmp_path):
    settings = make_settings(tmp_path)
    headers, _ = read_sample_rows()
    folder = write_csv_wave(settings.raw_dir, "h", headers, [])
    with pytest.raises(WaveError) as err:
        _read(settings, "h")
    assert str(err.value) == (
        f"{folder / 'export.csv'}: the export has a header but no respondent rows; export the responses again"
    )


def test_surveyxact_export_of_invited_people_only_has_no_responses(tmp_path):
    settings = make_settings(tmp_path)
    folder = write_wave(settings.raw_dir, "sx", "surveyxact_csv", people=[])
    with pytest.raises(WaveError) as err:
        _read(settings, "sx")
    assert str(err.value) == (
        f"{folder / 'dataset.csv'}: none of the 2 rows is a response (2 not responded); "
        "export the responses again (the tool's export of completed and partial responses)"
    )


def test_surveyxact_codes_without_labels_table_are_refused(tmp_path):
    settings = make_settings(tmp_path)
    folder = write_wave(settings.raw_dir, "sx", "surveyxact_csv")
    (folder / "labels.csv").unlink()
    (folder / "wave.yaml").write_text("label: SX\ninvited: 12\nexport: dataset.csv\n", encoding="utf-8")
    with pytest.raises(WaveError) as err:
        _read(settings, "sx")
    assert str(err.value) == (
        f"{folder / 'dataset.csv'}: the surveyxact dataset holds answer codes (columns 'P1', 'P2', 'P3', 'P4', "
        f"'P5', …) but no labels table was found. Put the tool's labels file (variable;code;label) in {folder} "
        "and name it in wave.yaml `labels:`, or map the codes to categories in wave.yaml `values:`"
    )
    # The labels file found next to the dataset without `labels:` in wave.yaml is used too.
    write_wave(settings.raw_dir, "sx2", "surveyxact_csv")
    (settings.raw_dir / "sx2" / "wave.yaml").write_text(
        "label: SX\ninvited: 12\nexport: dataset.csv\n", encoding="utf-8"
    )
    read = _read(settings, "sx2")
    assert read.normalised.notes == ("labels from labels.csv: 23 variables",)


def test_no_header_maps_to_an_item(tmp_path):
    settings = make_settings(tmp_path)
    folder = write_csv_wave(
        settings.raw_dir,
        "g",
        ["Timestamp", "Email Address", "Q1", "Q2"],
        [["2024/05/13 10:00:00", "a@example.org", "Ja", "Nei"]],
        delimiter=",",
    )
    with pytest.raises(WaveError) as err:
        _read(settings, "g")
    assert str(err.value) == (
        f"{folder / 'export.csv'}: no header matches an item of the codebook. Map these "
        "headers in wave.yaml columns: 'Q1', 'Q2' (to item codes such as P1, P2, P3, or to drop)"
    )


def _mostly_wrong_people():
    people = respondents()
    for n in range(len(people)):
        for item in DEGREE:
            people = with_answer(people, n, item, "Helt enig")
    return people


def test_more_than_a_fifth_quarantined_stops_the_wave(tmp_path):
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "m", "googleforms", people=_mostly_wrong_people())
    read = _read(settings, "m")
    with pytest.raises(TooMuchQuarantined) as err:
        stop_when_mostly_unmatched(read.normalised, CODEBOOK, settings, f"m/{read.spec.export}", read.spec.values)
    columns = sorted(f"{GRID} [{QUESTION[i]}]" if i.startswith("P") else QUESTION[i] for i in DEGREE)[:3]
    examples = "; ".join(f"row 1, column {c!r}: 'Helt enig'" for c in columns)
    assert str(err.value) == (
        f"m/{GOOGLE_FILE}: 150 of 188 cells (80%) would be quarantined, more than 20%: the headers or codes are "
        f"probably mapped wrongly (e.g. {examples}). Check wave.yaml columns/values; the wave was not updated"
    )
    assert isinstance(err.value, WaveError)


def test_bad_waves_fail_alone_and_good_ones_build(tmp_path, capsys):
    """One build: a good Qualtrics wave with one unknown cell, a wave with duplicates and an unmapped header,
    an unreadable workbook and a mostly-wrong wave. The two bad waves fail with their message; the rest builds."""
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "good", "qualtrics", people=with_answer(respondents(), 2, "P1", "I svært høg grad"))
    headers, rows = _duplicate_rows()
    write_csv_wave(settings.raw_dir, "dups", headers + ["Kommune"], [r + ["Lillehammer"] for r in rows])
    broken = settings.raw_dir / "broken"
    broken.mkdir()
    (broken / "export.xlsx").write_bytes(b"PK not a workbook")
    (broken / "wave.yaml").write_text("label: B\ninvited: 12\nexport: export.xlsx\n", encoding="utf-8")
    write_wave(settings.raw_dir, "wrong", "googleforms", people=_mostly_wrong_people())
    with dg.instance_for_test() as instance:
        code = build(settings, instance)
        log = "\n".join(e.user_message for run in instance.get_runs() for e in instance.all_logs(run.run_id))
        meta = {}
        for run in instance.get_runs():
            for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
                m = e.asset_materialization
                if m.asset_key == dg.AssetKey(["raw", "wave_export"]):
                    meta[m.partition] = {k: v.value for k, v in m.metadata.items()}
    err = capsys.readouterr().err
    assert code == 1
    assert "wave broken: FAILED" in err and f"{broken / 'export.xlsx'}: not a readable workbook (" in err
    assert "wave wrong: FAILED" in err and f"wrong/{GOOGLE_FILE}: 150 of 188 cells (80%) would be quarantined" in err
    assert "wave good: FAILED" not in err and "wave dups: FAILED" not in err
    assert query(settings, "select wave, complete, partial from waves order by wave").rows() == [
        ("dups", 9, 0),
        ("good", 10, 1),
    ]
    con = duckdb.connect(str(settings.work_db), read_only=True)
    try:
        assert con.execute("select wave from raw.waves order by wave").fetchall() == [("dups",), ("good",)]
    finally:
        con.close()
    quarantine = query(settings, "select wave, source_row, \"column\", value from quarantine where wave = 'good'")
    assert quarantine.rows() == [("good", 4, "Q1_1", "I svært høg grad")]
    assert query(settings, "select count(*) as n from quarantine where wave = 'dups'")["n"][0] == 38
    n = dict(query(settings, "select item, n from item_indicators where wave = 'good'").rows())
    assert n["P1"] == 9 and n["P2"] == 10
    assert meta["dups"]["dups: unmapped headers"] == ["Kommune"]
    assert (
        "wave dups: 1 header(s) map to nothing: 'Kommune'; map them in wave.yaml columns (to an item or to "
        "drop) if they hold answers"
    ) in log
    assert "wave dups: 1 exact duplicate row(s) collapsed" in log
