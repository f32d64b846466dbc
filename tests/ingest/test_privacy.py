"""pipeline.ingest.privacy: identity numbers by their check digits, names, bidirectional controls."""

import pytest

from pipeline.ingest.privacy import (
    is_cpr,
    is_fodselsnummer,
    is_personnummer,
    mask_contact_details,
    mask_identity_numbers,
    name_words,
    names_pattern,
    strip_bidi,
)


def masked(text: str) -> str:
    return mask_contact_details(text, "[E]", "[P]", "[IP]", "[ID]")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fnr 15076500565 her", "fnr [ID] her"),  # Norwegian fødselsnummer, both check digits right
        ("fnr 150765 00565", "fnr [ID]"),  # written with a space
        ("D-nummer 55076500044", "D-nummer [ID]"),  # day + 40
        ("15076500566", "15076500566"),  # the second check digit wrong: an ordinary number
        ("12345678901", "12345678901"),  # no date, check digits wrong
        ("CPR 010190-1234.", "CPR [ID]."),  # Danish, a real date with the dash (modern CPR need not pass mod 11)
        ("0707610018", "[ID]"),  # Danish without the dash: mod 11 holds
        ("personnummer 811218-9876", "personnummer [ID]"),  # Swedish, Luhn
        ("811218+9876", "[ID]"),  # Swedish, over 100 years old
        ("19811218-9876", "[ID]"),
        ("198112189876", "[ID]"),
        ("19811218-9877", "[P]-9877"),  # Luhn fails: no identity number (its 8 date digits read as a phone)
        ("order 311390-1234", "order [P]"),  # no date (month 13): not an identity number, a phone pattern (3-3-4)
        ("ring 91234567 eller kari@bib.no", "ring [P] eller [E]"),
        ("fra 10.0.0.1", "fra [IP]"),
        ("saksnr 2019-123456", "saksnr 2019-123456"),
    ],
)
def test_mask_contact_details(text, expected):
    assert masked(text) == expected


def test_identity_numbers_alone_leave_phones():
    assert mask_identity_numbers("15076500565 / 91234567", "#") == "# / 91234567"


def test_check_digits():
    assert [is_fodselsnummer(n) for n in ("15076500565", "55076500044", "15076500575", "1507650056")] == [
        True,
        True,
        False,
        False,
    ]
    assert [is_cpr("3102901234", True), is_cpr("2902001234", True), is_cpr("0101901234", False)] == [False, True, False]
    assert [is_personnummer(n) for n in ("8112189876", "198112189876", "8112789876", "8112189875")] == [
        True,
        True,
        False,
        False,
    ]


def test_names():
    words = name_words(["Kari", "Nordmann-Hansen", None, " ", "Ola J. Ås"])
    assert words == ["Nordmann-Hansen", "Ola Ås", "Kari", "Ola", "Ås"]
    pattern = names_pattern(words)
    assert pattern.sub("[N]", "Hilsen kari nordmann-hansen, Ola  Ås og Karianne") == "Hilsen [N] [N], [N] og Karianne"
    assert names_pattern([]) is None


def test_strip_bidi():
    text = "a\u202eb\u202ac\u2066d\u2069e\u200ef\u200fg\u061ch\u200dz"
    assert strip_bidi(text) == "abcdefgh\u200dz"  # the zero-width joiner is no bidirectional control
