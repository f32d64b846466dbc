"""Contact details in free text: e-mail addresses and phone numbers are replaced by a marker before any
answer reaches a table (staging) or a page (render). The patterns live here once."""

from __future__ import annotations

import re

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\d{2,3}[ .-]?)?"
    r"(?:\d{8}|\d{2}(?:[ .]\d{2}){3}|\d{3}[ .]\d{2}[ .]\d{3})(?![\w])"
    r"|(?<![\w+])\+\d{1,3}(?:[ .-]?\d){6,12}(?!\w)"
)


def mask_contact_details(text: str, email_marker: str, phone_marker: str) -> str:
    return PHONE.sub(phone_marker, EMAIL.sub(email_marker, text))
