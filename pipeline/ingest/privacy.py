"""Contact details in free text and in quarantined cells: e-mail addresses, IP addresses and phone numbers are
replaced by a marker before any answer reaches a table (staging) or a page (render). The patterns live here once."""

from __future__ import annotations

import re

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Norwegian/Danish 8-digit numbers (as written in either country), international numbers, and North American
# ones (10 digits, or 3-3-4 with separators, as SurveyMonkey exports from the US hold them).
PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\d{2,3}[ .-]?)?"
    r"(?:\d{8}|\d{10}|\d{2}(?:[ .]\d{2}){3}|\d{3}[ .]\d{2}[ .]\d{3}|\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4})(?![\w])"
    r"|(?<![\w+])\+\d{1,3}(?:[ .-]?\d){6,12}(?!\w)"
)
IPV4 = re.compile(r"(?<![\d.])(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}(?![\d.])")
IPV6 = re.compile(
    r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){5,7}[0-9A-Fa-f]{1,4}(?![\w:])|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,6}:"
    r"(?:[0-9A-Fa-f]{1,4})?(?![\w:])"
)


def mask_contact_details(text: str, email_marker: str, phone_marker: str, ip_marker: str | None = None) -> str:
    """E-mail addresses, IP addresses and phone numbers in a text → markers (ip_marker defaults to the phone
    marker)."""
    ip = phone_marker if ip_marker is None else ip_marker
    text = IPV6.sub(ip, IPV4.sub(ip, EMAIL.sub(email_marker, text)))
    return PHONE.sub(phone_marker, text)
