"""A wave export with personal data planted where a survey tool puts it: name and e-mail columns, free text, a
background column, the status column and a closed item's cell. PLANTED lists every piece that must never be found
again in a table, a file or a log."""

from __future__ import annotations

from pathlib import Path

from helpers import read_sample_rows, write_csv_wave

NAME = "Kari Nordmann"
EMAIL = "kari.nordmann@example.no"
PHONE = "+47 912 34 567"
IP = "192.168.10.77"
FODSELSNUMMER = "15076500565"  # Norwegian, both check digits right
CPR = "010190-1234"  # Danish
PERSONNUMMER = "811218-9876"  # Swedish (Luhn)
ORDINARY = "12345678901"  # fails the check digits: stays as written
FREE_TEXT = (
    f"Hilsen {NAME} ({EMAIL}, tlf {PHONE}, fra {IP}). Fnr {FODSELSNUMMER}, CPR {CPR}, pn {PERSONNUMMER}; "
    f"kundenr {ORDINARY} \u202eevil"
)
PLANTED = (
    "Kari",
    "Nordmann",
    "kari.nordmann",
    "example.no",
    "912 34 567",
    IP,
    FODSELSNUMMER,
    CPR,
    PERSONNUMMER,
    "Per Hansen",
    "Hansen",
    "91234567",
    "Ola Normann",
    "Normann",
    "ola@example.org",
    "10.1.2.3",
    "Lise Berg",
    "45 67 89 01",
    "\u202e",
)
OPEN_ITEM_HEADER = "Beskriv gjerne hvordan kompetansen fra Biblioteket som samskaper har påvirket måten jeg jobber på"


def write_planted_wave(raw_dir: Path, key: str = "2024") -> Path:
    """The sample wave with a name, e-mail and role column, and personal data in row 1 (free text), row 2 (the role
    column), row 3 (the status) and row 4 (a closed item's cell)."""
    headers, rows = read_sample_rows()
    rows = [list(r) for r in rows]
    text = headers.index(OPEN_ITEM_HEADER)
    headers = [*headers, "Navn", "E-post", "Rolle"]
    people = ["Kari Nordmann", "Per Hansen", "Ola Normann", "Lise Berg"]
    for i, row in enumerate(rows):
        name = people[i] if i < len(people) else ""
        row += [name, "", "Leder" if i % 2 else "Medarbeider"]
    rows[0][text] = FREE_TEXT
    rows[0][-2] = EMAIL
    rows[1][-1] = "Per Hansen, tlf 91234567"
    rows[2][1] = "Sendt av Ola Normann ola@example.org fra 10.1.2.3"
    rows[3][3] = "ring 45 67 89 01 / Lise Berg"
    return write_csv_wave(raw_dir, key, headers, rows, columns={"Tidsstempel": "submitted_at"})
