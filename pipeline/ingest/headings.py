"""The survey tools' own metadata headings in every language they export in (pipeline/ingest/headings.yaml), loaded
once: the one place the presets (pipeline.ingest.presets) learn which heading is a respondent id, a submission time,
a completion field, tool metadata or personal data — never from English spellings written into code.

LimeSurvey writes its headings in the survey's language, in four styles: the translated text ("Datum Abgeschickt"),
the text cut to 15 characters + ".. " ("Dato for indsen.. "), the column code (`submitdate`, also the SPSS variable
name) and code + text ("submitdate. Datum Abgeschickt"); with "spaces to underscores" set, "Datum_Abgeschickt".
`ToolHeadings.role_of` recognises each of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pipeline.codebook import normalise_text
from pipeline.files import parse_yaml

HEADINGS_FILE = Path(__file__).with_name("headings.yaml")
# Roles the file may name; started_at is tool metadata (dropped), submitted_at_legacy is LimeSurvey <= 2.00's
# "Completed" heading of the submit date (a participant table's "completed" column in later versions).
FILE_ROLES = ("respondent_id", "submitted_at", "status", "drop", "personal_data", "started_at", "submitted_at_legacy")
ABBREVIATED = 15  # LimeSurvey's "abbreviated" headings: the first 15 characters, then ".. "
CODETEXT = re.compile(r"^([a-z_]+)\.\s+\S")  # "submitdate. Datum Abgeschickt"


def heading_key(text: str) -> str:
    """The matching form of a tool's heading: normalise_text, underscores read as spaces (LimeSurvey's "spaces to
    underscores" option writes "Datum_Abgeschickt")."""
    return normalise_text(text.replace("_", " ")) if "_" in text and not text.startswith("$") else normalise_text(text)


@dataclass(frozen=True)
class ToolHeadings:
    """One tool's headings: normalised heading → role, heading prefixes → role, and (LimeSurvey) column code → role."""

    tool: str
    source: str
    roles: dict[str, str] = field(default_factory=dict)
    prefixes: tuple[tuple[str, str], ...] = ()
    codes: dict[str, str] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)  # LimeSurvey: normalised heading → column code
    spellings: dict[str, tuple[str, ...]] = field(default_factory=dict)  # role → the headings as written

    def role_of(self, header: str) -> str | None:
        """The role of a heading of this tool, or None. Exact spellings (also with underscores for spaces), column
        codes, "code. text", abbreviated headings ("Datum letzte Ak.."), then prefixes."""
        for key in dict.fromkeys((normalise_text(header), heading_key(header))):
            if key in self.roles:
                return self.roles[key]
        norm = normalise_text(header)
        if self.codes:
            m = CODETEXT.match(norm)
            if m and m.group(1) in self.codes:
                return self.codes[m.group(1)]
        for prefix, role in self.prefixes:
            if norm.startswith(prefix):
                return role
        return None

    def column_of(self, header: str) -> str | None:
        """LimeSurvey: the column code a heading stands for (submitdate for "Datum Abgeschickt", "submitdate",
        "submitdate. Datum Abgeschickt" and "Datum Abgeschi.."), or None."""
        for key in dict.fromkeys((normalise_text(header), heading_key(header))):
            if key in self.columns:
                return self.columns[key]
        m = CODETEXT.match(normalise_text(header))
        return m.group(1) if m and m.group(1) in self.codes else None

    def headings(self, role: str) -> tuple[str, ...]:
        return self.spellings.get(role, ())


def _keys(text: str, abbreviate: bool) -> list[str]:
    """The matching forms of one spelling (and its abbreviated heading, where the tool writes one)."""
    keys = [normalise_text(text), heading_key(text)]
    if abbreviate and len(text) > ABBREVIATED + 3:
        keys.append(normalise_text(text[:ABBREVIATED] + ".."))
    return keys


def _add(roles: dict[str, str], spellings: dict[str, list[str]], role: str, texts: list[str], abbreviate: bool) -> None:
    assert role in FILE_ROLES, role
    for text in texts:
        spellings.setdefault(role, []).append(text)
        for key in _keys(text, abbreviate):
            roles.setdefault(key, role)


def _tool(tool: str, raw: dict) -> ToolHeadings:
    roles: dict[str, str] = {}
    spellings: dict[str, list[str]] = {}
    prefixes: list[tuple[str, str]] = []
    codes: dict[str, str] = {}
    columns: dict[str, str] = {}
    abbreviate = tool == "limesurvey"
    for code, column in (raw.get("columns") or {}).items():
        role = column["role"]
        codes[code] = role
        if "spellings" in column:
            _add(roles, spellings, role, [code, *column["spellings"]], abbreviate)
            for text in [code, *column["spellings"]]:
                for key in _keys(text, abbreviate):
                    columns.setdefault(key, code)
        for prefix in column.get("prefixes", ()):
            prefixes.append((normalise_text(prefix), role))
        if "prefixes" in column:
            prefixes.append((code, role))
    for section in ("roles", "unverified"):
        for role, texts in (raw.get(section) or {}).items():
            _add(roles, spellings, role, texts, abbreviate)
    for role, texts in (raw.get("prefixes") or {}).items():
        assert role in FILE_ROLES, role
        prefixes += [(normalise_text(t), role) for t in texts]
    return ToolHeadings(
        tool=tool,
        source=raw.get("source", ""),
        roles=roles,
        prefixes=tuple(prefixes),
        codes=codes,
        columns=columns,
        spellings={role: tuple(texts) for role, texts in spellings.items()},
    )


@cache
def load_headings(path: Path = HEADINGS_FILE) -> dict[str, ToolHeadings]:
    """Every tool's headings from headings.yaml (read once per process)."""
    raw = parse_yaml(path.read_text(encoding="utf-8"))
    return {tool: _tool(tool, spec) for tool, spec in raw.items()}


def tool_headings(tool: str) -> ToolHeadings:
    return load_headings()[tool]
