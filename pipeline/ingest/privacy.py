"""Personal data in free text and in quarantined cells: e-mail addresses, IP addresses, phone numbers and national
identity numbers are replaced by a marker before any answer reaches a table (the raw step, pipeline.ingest.personal)
or a page (render); so are the respondent's own names where their row gives them. The patterns live here once.

Identity numbers are recognised by their check digits, so an ordinary 11-digit number is left as written:
- Norwegian fødselsnummer (DDMMYY + 5 digits, two mod-11 check digits; D-numbers add 40 to the day, H-numbers and
  synthetic test numbers 40 / 80 to the month),
- Danish CPR (DDMMYY-XXXX: a real date with the dash, which modern CPR numbers need as they may fail mod 11; without
  the dash only when mod 11 holds),
- Swedish personnummer (YYMMDD-XXXX, YYMMDD+XXXX, YYYYMMDD-XXXX, YYYYMMDDXXXX: a real date, samordningsnummer add
  60 to the day, and the Luhn digit).
"""

from __future__ import annotations

import calendar
import re

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Norwegian/Danish 8-digit numbers (as written in either country), international numbers, and North American
# ones (10 digits, or 3-3-4 with separators, as SurveyMonkey exports from the US hold them).
PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\d{2,3}[ .]?)?"
    r"(?:\d{8}|\d{10}|\d{2}(?:[ .]\d{2}){3}|\d{3}[ .]\d{2}[ .]\d{3}|\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4})(?![\w])"
    r"|(?<![\w+])\+\d{1,3}(?:[ .-]?\d){6,12}(?!\w)"
)
IPV4 = re.compile(r"(?<![\d.])(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}(?![\d.])")
IPV6 = re.compile(
    r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){5,7}[0-9A-Fa-f]{1,4}(?![\w:])|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,6}:"
    r"(?:[0-9A-Fa-f]{1,4})?(?![\w:])"
)
# Candidates for an identity number: 6 or 8 date digits, an optional separator (space, dash, plus), 4 or 5 digits;
# never part of a longer run of digits. Which of them are identity numbers the check digits decide.
IDENTITY_CANDIDATE = re.compile(r"(?<![\d+-])(\d{6}|\d{8})([ +-]?)(\d{4,5})(?![\d])")
# Bidirectional control characters: they reorder what a reader sees (a U+202E "right-to-left override" turns
# "txt.exe" into "exe.txt"); stripped from every published text.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def _real_date(day: int, month: int, years: tuple[int, ...]) -> bool:
    return 1 <= month <= 12 and any(1 <= day <= calendar.monthrange(y, month)[1] for y in years)


def is_fodselsnummer(digits: str) -> bool:
    """An 11-digit Norwegian fødselsnummer or D-number: a real day and month (D-number: day + 40; H-number: month +
    40; synthetic test numbers: month + 80) and both mod-11 check digits."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    d = [int(c) for c in digits]
    day, month = int(digits[:2]), int(digits[2:4])
    day = day - 40 if day > 40 else day
    month = month - 80 if month > 80 else month - 40 if month > 40 else month
    if not _real_date(day, month, (2000, 1900)):  # 2000 and 1900: 29 February allowed in leap years of either
        return False
    k1 = 11 - sum(w * x for w, x in zip((3, 7, 6, 1, 8, 9, 4, 5, 2), d)) % 11
    k2 = 11 - sum(w * x for w, x in zip((5, 4, 3, 2, 7, 6, 5, 4, 3, 2), d)) % 11
    k1, k2 = (0 if k == 11 else k for k in (k1, k2))
    return k1 == d[9] and k2 == d[10]


def is_cpr(digits: str, dashed: bool) -> bool:
    """A 10-digit Danish CPR number (DDMMYYXXXX): a real date; written with the dash that is enough (CPR numbers
    given since 2007 need not pass mod 11), without it the mod-11 check must hold too."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    if not _real_date(int(digits[:2]), int(digits[2:4]), (1900 + int(digits[4:6]), 2000 + int(digits[4:6]))):
        return False
    return dashed or sum(w * int(x) for w, x in zip((4, 3, 2, 7, 6, 5, 4, 3, 2, 1), digits)) % 11 == 0


def _luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        n = int(c) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def is_personnummer(digits: str) -> bool:
    """A Swedish personnummer or samordningsnummer, 10 digits (YYMMDDXXXX) or 12 (YYYYMMDDXXXX): a real date (day
    + 60 for a samordningsnummer) and the Luhn check digit over the last 10 digits."""
    if len(digits) not in (10, 12) or not digits.isdigit():
        return False
    years = (int(digits[:4]),) if len(digits) == 12 else (1900 + int(digits[:2]), 2000 + int(digits[:2]))
    ten = digits[-10:]
    day = int(ten[4:6])
    day = day - 60 if day > 60 else day
    return _real_date(day, int(ten[2:4]), years) and _luhn(ten)


def _is_identity(match: re.Match[str]) -> bool:
    date, separator, rest = match.groups()
    digits = date + rest
    if len(date) == 8:
        return len(rest) == 4 and is_personnummer(digits)
    if len(rest) == 5:
        return separator in ("", " ") and is_fodselsnummer(digits)
    return is_cpr(digits, separator == "-") or (separator in ("", "-", "+") and is_personnummer(digits))


def mask_identity_numbers(text: str, marker: str) -> str:
    """Norwegian, Danish and Swedish identity numbers in a text → marker; numbers that fail their check digits (or
    are no date) are left as written."""
    return IDENTITY_CANDIDATE.sub(lambda m: marker if _is_identity(m) else m.group(0), text)


def mask_contact_details(
    text: str, email_marker: str, phone_marker: str, ip_marker: str | None = None, id_marker: str | None = None
) -> str:
    """E-mail addresses, IP addresses, identity numbers and phone numbers in a text → markers (ip_marker defaults to
    the phone marker, id_marker too). Identity numbers go first: a 10-digit CPR would otherwise read as a phone."""
    ip = phone_marker if ip_marker is None else ip_marker
    text = IPV6.sub(ip, IPV4.sub(ip, EMAIL.sub(email_marker, text)))
    text = mask_identity_numbers(text, phone_marker if id_marker is None else id_marker)
    return PHONE.sub(phone_marker, text)


def strip_bidi(text: str) -> str:
    """text without bidirectional control characters (BIDI_CONTROLS)."""
    return BIDI_CONTROLS.sub("", text)


NAME_HEADER = re.compile(r"name|navn|namn")
NAME_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))+")


def name_words(values: list[str | None]) -> list[str]:
    """The words of a respondent's names (the cells of their row's name columns) worth masking in their free text:
    each word of at least two letters, and the whole name, longest first."""
    words: set[str] = set()
    for value in values:
        if not value or not value.strip():
            continue
        found = NAME_WORD.findall(value)
        words.update(w for w in found if len(w) >= 2)
        if len(found) > 1:
            words.add(" ".join(found))
    return sorted(words, key=lambda w: (-len(w), w))


def names_pattern(words: list[str]) -> re.Pattern[str] | None:
    """One pattern matching any of the words as a whole word, case ignored; None for no words."""
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words) + r")(?!\w)", re.I)
