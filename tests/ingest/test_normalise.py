"""pipeline.ingest.normalise on real files (csv module, xlsxwriter, pyreadstat writers; tests/exports.py): the
completion rule worked out from roles (whichever language the tool wrote its headings in), what stops a wave when
the completion field is missing, item codes confirmed by generic labels, personal-data headers in other languages,
and wave.yaml `ignore:`. Pure functions, no Dagster."""

from __future__ import annotations

import polars as pl
import pytest
from exports import CLOSED, LIMESURVEY_HEADINGS, OPEN, QUESTION, limesurvey_rows, respondents, write_wave
from helpers import make_settings, write_csv_wave

from pipeline.codebook import load_codebook
from pipeline.ingest.normalise import compact, map_headers, names_code
from pipeline.ingest.wave import read_wave
from pipeline.ingest.waves import WaveError, load_wave
from pipeline.settings import PROJECT_ROOT
from pipeline.staging.stage import stage

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
LIMESURVEY_RULE = (
    "LimeSurvey: `{}` filled = complete (1980-01-01 too: a submitted response of an anonymised survey), empty = partial"
)


def _complete_partial(settings, wave: str) -> tuple[str, int, int, str]:
    """(reader, complete, partial, completion rule) of a wave read and staged in memory."""
    read = read_wave(settings, CODEBOOK, wave)
    spec = load_wave(settings.raw_dir, wave, CODEBOOK)
    flags = stage(read.normalised, CODEBOOK, settings, wave, spec.values).respondents["complete"].to_list()
    return read.reader, flags.count(True), flags.count(False), read.normalised.completion_rule


# Completion, LimeSurvey in the survey's language -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "reader", "partial", "column"),
    [
        ("limesurvey_de", "csv/limesurvey", 1, "Datum Abgeschickt"),
        ("limesurvey_nl", "csv/limesurvey", 14, "Datum verstuurd"),
        ("limesurvey_nb", "csv/limesurvey", 2, "Dato for besvarelse"),
        ("limesurvey_da_xlsx", "xlsx/limesurvey", 3, "Dato for indsendelse"),
        ("limesurvey", "csv/limesurvey", 1, "submitdate"),
    ],
)
def test_limesurvey_counts_complete_and_partial_by_its_submit_date_in_any_language(
    kind, reader, partial, column, tmp_path
):
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, kind, kind)  # tool: auto, no columns:
    assert _complete_partial(settings, kind) == (reader, 10, partial, LIMESURVEY_RULE.format(column))


def _limesurvey_without(settings, wave: str, dropped: set[int], rename: dict[int, str] | None = None, **wave_yaml):
    """The Dutch LimeSurvey export (10 complete, 14 partial) with some metadata columns left out or renamed, written by
    the csv module as LimeSurvey writes it (comma, all quoted)."""
    rows = limesurvey_rows(respondents(), "nl")
    header = [(rename or {}).get(i, h) for i, h in enumerate(rows[0])]
    keep = [i for i in range(len(header)) if i not in dropped]
    return write_csv_wave(
        settings.raw_dir,
        wave,
        [header[i] for i in keep],
        [[row[i] for i in keep] for row in rows[1:]],
        delimiter=",",
        invited=30,
        tool="auto",
        **wave_yaml,
    )


def test_a_limesurvey_export_without_its_submit_date_stops_and_names_what_to_map(tmp_path):
    settings = make_settings(tmp_path)
    folder = _limesurvey_without(settings, "ls", {1})  # "Datum verstuurd" deselected on export
    with pytest.raises(WaveError) as err:
        read_wave(settings, CODEBOOK, "ls")
    assert str(err.value) == (
        f"{folder / 'export.csv'}: no completion field: a limesurvey export carries the submit date (submitdate; "
        "Date submitted, Datum Abgeschickt, Datum verzonden, Dato for besvarelse, Dato for indsendelse, Date de "
        "soumission, Fecha de envío, … in the survey's language), and this one has none, so complete and partial "
        "responses cannot be told apart. Map the column that says it in wave.yaml columns (`<header>: submitted_at` "
        "for a submission date, `<header>: status` for a status), or, if the export holds only completed responses, "
        "write `completion: all` in wave.yaml; the wave was not read"
    )


def test_completion_all_reads_every_row_as_complete_when_the_user_says_so(tmp_path):
    settings = make_settings(tmp_path)
    _limesurvey_without(settings, "ls", {1}, completion="all")
    assert _complete_partial(settings, "ls") == (
        "csv/limesurvey",
        24,
        0,
        "every row: wave.yaml completion: all (the export holds only completed responses)",
    )


@pytest.mark.parametrize("role", ["submitted_at", "status"])
def test_a_submit_date_in_a_spelling_no_list_has_counts_once_mapped_to_either_role(role, tmp_path):
    """Mapped to submitted_at, or (as users do) to status: a column of dates is a submission time either way, never a
    status whose every date would be an unknown value (that inverted the counts)."""
    settings = make_settings(tmp_path)
    _limesurvey_without(settings, "ls", set(), rename={1: "Innsendt"}, columns={"Innsendt": role})
    reader, complete, partial, rule = _complete_partial(settings, "ls")
    assert (reader, complete, partial) == ("csv/limesurvey", 10, 14)
    assert (
        rule
        == {
            "submitted_at": LIMESURVEY_RULE.format("Innsendt") + " (wave.yaml columns: submitted_at)",
            "status": "`Innsendt` filled = complete, empty = partial (wave.yaml columns: status; it holds dates)",
        }[role]
    )


def test_a_generic_export_with_a_submission_time_mapped_counts_the_empty_ones_partial(tmp_path):
    settings = make_settings(tmp_path)
    people = respondents()
    headers = ["Respondent", "Sendt inn"] + [QUESTION[i] for i in CLOSED]
    rows = [
        [r.id, r.submitted.isoformat(" ") if n < 8 else ""] + [r.answers[i] for i in CLOSED]
        for n, r in enumerate(people)
    ]
    write_csv_wave(settings.raw_dir, "g", headers, rows, columns={"Sendt inn": "submitted_at"})
    assert _complete_partial(settings, "g") == (
        "csv/generic",
        8,
        2,
        "`Sendt inn` filled = complete, empty = partial (wave.yaml columns: submitted_at)",
    )


def test_a_generic_export_without_status_counts_every_row_and_says_why(tmp_path):
    settings = make_settings(tmp_path)
    people = respondents()
    write_csv_wave(
        settings.raw_dir, "g", [QUESTION[i] for i in CLOSED], [[r.answers[i] for i in CLOSED] for r in people]
    )
    assert _complete_partial(settings, "g") == (
        "csv/generic",
        10,
        0,
        "every row: the export has no status column (map one to status, or the submission time to submitted_at, "
        "in wave.yaml columns if it holds partial responses)",
    )


# Item codes confirmed by generic labels ------------------------------------------------------------------------
def test_spss_item_codes_with_generic_labels_map_every_item_by_code(tmp_path):
    settings = make_settings(tmp_path)
    write_wave(settings.raw_dir, "sav", "sav_item_codes")
    read = read_wave(settings, CODEBOOK, "sav")
    mapping = {c.header: (c.target, c.matched_by) for c in read.normalised.columns}
    assert mapping == {
        "respnr": ("respondent_id", "role"),
        "epost": ("personal_data", "personal_data"),
        **{code: (code, "code, named by its label") for code in CLOSED + OPEN},
    }
    assert read.asked_items == sorted(CLOSED + OPEN)
    assert read.normalised.unmapped_headers == []
    cells = read.normalised.cells(settings)
    p1 = cells.filter(pl.col("item").cast(pl.Utf8) == "P1").group_by(pl.col("category").cast(pl.Utf8)).len()
    assert dict(p1.rows()) == {"very_high": 5, "high": 4, "some": 1}


@pytest.mark.parametrize(
    ("label", "target", "matched_by"),
    [
        ("Item P1", "P1", "code, named by its label"),
        ("P1. Spørsmål 1", "P1", "code, named by its label"),
        (None, "P1", "code"),
        # a label that says something else wins over the code in the header
        (QUESTION["P2"], "P2", "codebook"),
        ("Kommune", "unmapped", "code, label differs"),
        ("E-postadresse", "personal_data", "personal_data"),
        ("Item P10", "unmapped", "code, label differs"),
    ],
)
def test_a_label_confirms_an_item_code_only_when_it_names_that_code(label, target, matched_by, tmp_path):
    spec_folder = write_csv_wave(tmp_path, "w", ["P1"], [["I høy grad"]])
    spec = load_wave(tmp_path, "w", CODEBOOK)
    alternates = (("P1", label),) if label else (("P1",),)
    [column] = map_headers(["P1"], spec, CODEBOOK, alternates)
    assert (column.target, column.matched_by) == (target, matched_by)
    assert spec_folder.is_dir()


def test_names_code_needs_the_code_as_a_word_of_its_own():
    assert names_code("Item P1", "P1") and names_code("Spm (P1)", "P1") and names_code("P1", "P1")
    assert not names_code("Item P10", "P1") and not names_code("XP1", "P1") and not names_code("Item p1", "P1")


# Personal data in other languages -------------------------------------------------------------------------------
PERSONAL_HEADERS = [
    "IP-adres",
    "Verwijzer-URL",
    "Wat is je naam? [Naam]",
    "Contactgegevens [Email adres]",
    "E-Mail-Adresse",
    "IP-Adresse",
    "Vorname",
    "Nachname",
    "Förnamn",
    "Adresse e-mail",
    "Correo electrónico",
    "Fødselsnummer",
    "Telefoonnummer",
]


def test_personal_data_headers_in_other_languages_are_dropped_even_when_mapped_by_nothing(tmp_path):
    settings = make_settings(tmp_path)
    people = respondents()
    headers = PERSONAL_HEADERS + [QUESTION[i] for i in CLOSED]
    rows = [[f"{h[:3]}-{r.person.email}" for h in PERSONAL_HEADERS] + [r.answers[i] for i in CLOSED] for r in people]
    write_csv_wave(settings.raw_dir, "pd", headers, rows)
    read = read_wave(settings, CODEBOOK, "pd")
    assert read.normalised.personal_data_headers == PERSONAL_HEADERS
    assert read.normalised.unmapped_headers == []
    cells = read.normalised.cells(settings)
    assert not cells["value"].str.contains("@").any()


def test_compact_compares_personal_data_headers_without_spaces_hyphens_dots_or_underscores():
    assert compact("E-Mail-Adresse") == compact("Email adresse") == compact("e_mail.adresse") == "emailadresse"


def test_limesurvey_ip_and_referrer_in_the_survey_s_language_are_personal_data(tmp_path):
    settings = make_settings(tmp_path)
    for lang in ("de", "nl", "nb"):
        write_wave(settings.raw_dir, lang, f"limesurvey_{lang}")
        columns = {c.header: c.target for c in read_wave(settings, CODEBOOK, lang).normalised.columns}
        ip, referrer = LIMESURVEY_HEADINGS[lang][7:9]
        assert (columns[ip], columns[referrer]) == ("personal_data", "personal_data"), lang
        assert columns[LIMESURVEY_HEADINGS[lang][0]] == "respondent_id", lang
        assert columns[LIMESURVEY_HEADINGS[lang][1]] == "submitted_at", lang


# ignore: ----------------------------------------------------------------------------------------------------------
def test_ignored_headers_are_left_out_and_not_counted_unmapped(tmp_path):
    settings = make_settings(tmp_path)
    people = respondents()
    headers = [QUESTION[i] for i in CLOSED] + ["Nytt spørsmål i år"]
    rows = [[r.answers[i] for i in CLOSED] + ["svar"] for r in people]
    write_csv_wave(settings.raw_dir, "ig", headers, rows, ignore=["Nytt spørsmål i år"])
    read = read_wave(settings, CODEBOOK, "ig")
    [column] = [c for c in read.normalised.columns if c.header == "Nytt spørsmål i år"]
    assert (column.target, column.matched_by) == ("drop", "ignore")
    assert read.normalised.unmapped_headers == []


def test_an_ignored_header_the_export_lacks_stops_with_the_closest_header(tmp_path):
    settings = make_settings(tmp_path)
    people = respondents()
    headers = [QUESTION[i] for i in CLOSED] + ["Nytt spørsmål i år"]
    rows = [[r.answers[i] for i in CLOSED] + ["svar"] for r in people]
    folder = write_csv_wave(settings.raw_dir, "ig", headers, rows, ignore=["Nytt spørsmål i år?"])
    with pytest.raises(WaveError) as err:
        read_wave(settings, CODEBOOK, "ig")
    assert str(err.value) == (
        f"{folder / 'wave.yaml'}: ignore: 'nytt spørsmål i år?' (did you mean 'nytt spørsmål i år'?) match(es) no "
        "header of export.csv. Correct the header text (as the export writes it, case and spaces aside) or remove "
        "the line; `make inspect` lists the headers"
    )
