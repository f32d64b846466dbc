"""The tools' metadata headings in the languages they export in (pipeline/ingest/headings.yaml, loaded by
pipeline.ingest.headings): the spellings below are LimeSurvey's own translations (6.4.2 .mo files; nl "Datum
verstuurd" and de "Zufallsgeneratorstartwert" as the real exports of partypanel171 and cargobike write them) and
the Google Forms timestamps of real exports in nb, es, fr and nl."""

from __future__ import annotations

import pytest

from pipeline.ingest.headings import heading_key, load_headings, tool_headings

LIMESURVEY = tool_headings("limesurvey")


@pytest.mark.parametrize(
    ("heading", "role", "column"),
    [
        # de (LimeSurvey 6.4.2; cargobike's Excel export)
        ("Antwort ID", "respondent_id", "id"),
        ("Datum Abgeschickt", "submitted_at", "submitdate"),
        ("Letzte Seite", "drop", "lastpage"),
        ("Start-Sprache", "drop", "startlanguage"),
        ("Zufallsgeneratorstartwert", "drop", "seed"),
        ("Datum letzte Aktivität", "drop", "datestamp"),
        ("Weiterleitungs-URL", "personal_data", "refurl"),
        ("Zugangscode", "personal_data", "token"),
        # nl-informal (partypanel171: LimeSurvey 2.x; ciberlite: 3.x and later)
        ("Respons ID", "respondent_id", "id"),
        ("Respons-ID", "respondent_id", "id"),
        ("Datum verstuurd", "submitted_at", "submitdate"),
        ("Datum verzonden", "submitted_at", "submitdate"),
        ("Laatste pagina", "drop", "lastpage"),
        ("Begin taal", "drop", "startlanguage"),
        ("IP-adres", "personal_data", "ipaddr"),
        ("Verwijzer-URL", "personal_data", "refurl"),
        # nb
        ("Svar-ID", "respondent_id", "id"),
        ("Dato for besvarelse", "submitted_at", "submitdate"),
        ("Siste side", "drop", "lastpage"),
        ("Standardspråk", "drop", "startlanguage"),
        ("Avsenders URL", "personal_data", "refurl"),
        # nn
        ("Innsendingsdato", "submitted_at", "submitdate"),
        # da
        ("Besvarelse-ID", "respondent_id", "id"),
        ("Dato for indsendelse", "submitted_at", "submitdate"),
        ("Sidste side", "drop", "lastpage"),
        ("Standardsprog", "drop", "startlanguage"),
        ("Henvisende websted", "personal_data", "refurl"),
        # sv, fr, es
        ("Datum inskickad", "submitted_at", "submitdate"),
        ("Date de soumission", "submitted_at", "submitdate"),
        ("Fecha de envío", "submitted_at", "submitdate"),
        # the other heading styles: code, code. text, abbreviated (15 characters + ".. "), spaces to underscores
        ("submitdate", "submitted_at", "submitdate"),
        ("submitdate. Datum Abgeschickt", "submitted_at", "submitdate"),
        ("Dato for indsen.. ", "submitted_at", "submitdate"),
        ("Datum_Abgeschickt", "submitted_at", "submitdate"),
        # LimeSurvey <= 2.00 headed the submit date "Completed" in every heading style
        ("Abgeschlossen", "submitted_at_legacy", "completed"),
        ("Voltooid", "submitted_at_legacy", "completed"),
    ],
)
def test_limesurvey_headings_in_every_language_and_style(heading, role, column):
    assert LIMESURVEY.role_of(heading) == role
    assert LIMESURVEY.column_of(heading) == column


def test_limesurvey_prefixes_and_a_question_heading():
    assert LIMESURVEY.role_of("Gruppenzeit: Teil 1") == "drop"
    assert LIMESURVEY.column_of("Gruppenzeit: Teil 1") is None
    assert LIMESURVEY.role_of("attribute_1") == "personal_data"
    assert LIMESURVEY.role_of("Kompetansen og erfaringen [P1]") is None
    assert LIMESURVEY.column_of("Kompetansen og erfaringen [P1]") is None


@pytest.mark.parametrize(
    "heading", ["Timestamp", "Tidsmerke", "Tidsstempel", "Marca temporal", "Horodateur", "Tijdstempel"]
)
def test_google_forms_timestamp_in_the_languages_of_real_exports(heading):
    assert tool_headings("googleforms").role_of(heading) == "submitted_at"


def test_every_tool_has_its_headings_and_a_source():
    headings = load_headings()
    assert sorted(headings) == [
        "googleforms",
        "limesurvey",
        "msforms",
        "nettskjema",
        "qualtrics",
        "surveymonkey",
        "surveyxact",
    ]
    assert all(h.source for h in headings.values())
    assert "Datum Abgeschickt" in LIMESURVEY.headings("submitted_at")


def test_heading_key_reads_underscores_as_spaces_except_in_nettskjema_dollar_columns():
    assert heading_key("Datum_Abgeschickt") == "datum abgeschickt"
    assert heading_key("$submission_id") == "$submission_id"
