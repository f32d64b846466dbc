"""Exports as each survey tool writes them, all carrying the same 10 respondents of data/raw/2024/export.csv.

Every file is written with a real writer (csv module, polars, xlsxwriter, pyreadstat.write_sav) in the
tool's own layout: its metadata and personal-data columns, its header rows, its encoding and delimiter,
its completeness markers and the extra rows the tool puts in (invited non-respondents, previews,
unfinished responses) which must not change the distributions.

`write_wave(raw_dir, key, kind)` writes one wave folder (export + wave.yaml with `tool: auto`).
`PERSONAL_DATA` lists every e-mail, name and IP the fixtures contain (for the privacy test).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl
import pyreadstat
import xlsxwriter
import yaml
from helpers import read_sample_rows

from pipeline.codebook import load_codebook
from pipeline.settings import PROJECT_ROOT

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
CLOSED = [i.code for i in CODEBOOK.closed_items()]
OPEN = [i.code for i in CODEBOOK.text_items()]
QUESTION = {code: item.question["nb"] for code, item in CODEBOOK.items.items()}
KEY_OF_LABEL = {item: {c.label["nb"]: c.key for c in CODEBOOK.scale_of(item).categories} for item in CLOSED}


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    email: str
    ip: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


PEOPLE = [
    Person("Sigrid", "Fjellheimsen", "sigrid.fjellheimsen@bibliotek-a.example.no", "192.0.2.11"),
    Person("Torleif", "Brattegardsvik", "torleif.brattegardsvik@bibliotek-b.example.no", "192.0.2.12"),
    Person("Ingeborg", "Kvernmoen", "ingeborg.kvernmoen@bibliotek-c.example.no", "192.0.2.13"),
    Person("Halvard", "Skjelbreidsen", "halvard.skjelbreidsen@bibliotek-d.example.no", "198.51.100.14"),
    Person("Gudrun", "Rustadbakken", "gudrun.rustadbakken@bibliotek-e.example.no", "198.51.100.15"),
    Person("Eivind", "Nordbotnli", "eivind.nordbotnli@bibliotek-f.example.no", "198.51.100.16"),
    Person("Ragnhild", "Solbergtangen", "ragnhild.solbergtangen@bibliotek-g.example.no", "203.0.113.17"),
    Person("Arnfinn", "Haugerudsmo", "arnfinn.haugerudsmo@bibliotek-h.example.no", "203.0.113.18"),
    Person("Solveig", "Lundekvamme", "solveig.lundekvamme@bibliotek-i.example.no", "203.0.113.19"),
    Person("Bjarne", "Trollsaasen", "bjarne.trollsaasen@bibliotek-j.example.no", "203.0.113.20"),
    # invited, never answered (SurveyXact lists them), and a preview/unfinished row (Qualtrics, LimeSurvey)
    Person("Oddveig", "Myrsethagen", "oddveig.myrsethagen@bibliotek-k.example.no", "2001:db8::21"),
    Person("Kjellaug", "Vestrheimsli", "kjellaug.vestrheimsli@bibliotek-l.example.no", "2001:db8::22"),
]
# Contact fields of the invitation lists some tools export (Nettskjema's older export, SurveyXact): phone,
# street address and birthday per person, in the order of PEOPLE.
PHONES = [f"9{41 + n:02d}{37 * n + 1000:04d}0"[:8] for n in range(len(PEOPLE))]
STREETS = [f"Lauvåsvegen {11 + 7 * n} B" for n in range(len(PEOPLE))]
BIRTHDAYS = [f"19{61 + n}-0{1 + n % 9}-1{n % 10}" for n in range(len(PEOPLE))]
SCHOOLS = ["Bryne vidaregåande skule", "Sandnes bibliotek og kulturhus", "Lillehammer folkebibliotek"]
PERSONAL_DATA = sorted(
    {p.email for p in PEOPLE}
    | {p.name for p in PEOPLE}
    | {p.last for p in PEOPLE}
    | {p.ip for p in PEOPLE}
    | set(PHONES)
    | set(STREETS)
    | set(BIRTHDAYS)
)


@dataclass(frozen=True)
class Respondent:
    id: str
    status: str
    submitted: dt.datetime
    answers: dict[str, str]  # item → nb label, closed items
    texts: dict[str, str]  # item → free text ("" = blank)
    person: Person

    def key(self, item: str) -> str:
        return KEY_OF_LABEL[item][self.answers[item]]


def respondents() -> list[Respondent]:
    headers, rows = read_sample_rows()
    col = {h: i for i, h in enumerate(headers)}
    out = []
    for n, row in enumerate(rows):
        out.append(
            Respondent(
                id=row[col["Respondent"]],
                status=row[col["Status"]],
                submitted=dt.datetime.strptime(row[col["Tidsstempel"]], "%Y-%m-%d %H:%M"),
                answers={item: row[col[QUESTION[item]]] for item in CLOSED},
                texts={item: row[col[QUESTION[item]]] for item in OPEN},
                person=PEOPLE[n],
            )
        )
    assert len(out) == 10
    return out


def code_of(item: str, key: str, reverse: bool = False) -> int:
    """The codebook code of a category; reverse=True numbers the substantive categories the other way round."""
    cats = CODEBOOK.scale_of(item).categories
    cat = next(c for c in cats if c.key == key)
    if not reverse or key == "dont_know":
        return cat.code
    substantive = [c for c in cats if c.key != "dont_know"]
    return len(substantive) + 1 - cat.code


def label_of(item: str, key: str, lang: str = "nb") -> str:
    return next(c for c in CODEBOOK.scale_of(item).categories if c.key == key).label[lang]


# Writers ------------------------------------------------------------------------------------------
def _csv_text(
    rows: list[list[object]], delimiter: str, quoting: int = csv.QUOTE_MINIMAL, lineterminator: str = "\r\n"
) -> str:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter, quoting=quoting, lineterminator=lineterminator)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return buf.getvalue()


def _write(path: Path, text: str, encoding: str, bom: bytes = b"") -> None:
    path.write_bytes(bom + text.encode(encoding))


def _generic_rows(people: list[Respondent]) -> list[list[object]]:
    header = ["Respondent", "Status", "Tidsstempel", "E-post", "Navn"] + [QUESTION[i] for i in CLOSED + OPEN]
    rows = [header]
    for r in people:
        rows.append(
            [r.id, r.status, r.submitted.strftime("%Y-%m-%d %H:%M"), r.person.email, r.person.name]
            + [r.answers[i] for i in CLOSED]
            + [r.texts[i] for i in OPEN]
        )
    return rows


def write_csv_utf8_bom(folder: Path, people: list[Respondent]) -> dict:
    _write(folder / "export.csv", _csv_text(_generic_rows(people), ";"), "utf-8", codecs.BOM_UTF8)
    return {"export": "export.csv"}


def write_csv_utf16_tab(folder: Path, people: list[Respondent]) -> dict:
    (folder / "export.txt").write_text(_csv_text(_generic_rows(people), "\t"), encoding="utf-16", newline="")
    return {"export": "export.txt"}


def write_csv_cp1252(folder: Path, people: list[Respondent]) -> dict:
    """Windows-1252, comma, every text quoted, CRLF line ends and blank lines after the last row."""
    text = _csv_text(_generic_rows(people), ",", quoting=csv.QUOTE_NONNUMERIC) + "\r\n\r\n"
    _write(folder / "export.csv", text, "cp1252")
    return {"export": "export.csv"}


def write_xlsx(folder: Path, people: list[Respondent]) -> dict:
    rows = _generic_rows(people)
    frame = pl.DataFrame([[str(v) for v in row] for row in rows[1:]], schema=rows[0], orient="row")
    frame.write_excel(folder / "export.xlsx", worksheet="Svar")
    return {"export": "export.xlsx"}


def write_sav(folder: Path, people: list[Respondent]) -> dict:
    """SPSS: variables q01.. whose variable labels are the question texts; codes with value labels."""
    names = {item: f"q{n:02d}" for n, item in enumerate(CLOSED + OPEN, start=1)}
    data = {
        "respondent": [r.id for r in people],
        "status": [r.status for r in people],
        "epost": [r.person.email for r in people],
        "navn": [r.person.name for r in people],
    }
    for item in CLOSED:
        data[names[item]] = [float(code_of(item, r.key(item))) for r in people]
    for item in OPEN:
        data[names[item]] = [r.texts[item] for r in people]
    labels = {names[i]: QUESTION[i] for i in CLOSED + OPEN}
    value_labels = {names[i]: {float(c.code): c.label["nb"] for c in CODEBOOK.scale_of(i).categories} for i in CLOSED}
    pyreadstat.write_sav(
        pl.DataFrame(data), str(folder / "export.sav"), column_labels=labels, variable_value_labels=value_labels
    )
    return {"export": "export.sav"}


SX_STATUS_LABELS = ["Ny", "Distribueret", "Nogen svar", "Gennemført", "Frafaldet"]


def _surveyxact_people(people: list[Respondent]) -> list[tuple[Respondent | None, Person, int]]:
    """The 10 respondents (status 4 = completed) plus 2 invited who never answered (status 1 and 2)."""
    return [(r, r.person, 4) for r in people] + [(None, PEOPLE[10], 1), (None, PEOPLE[11], 2)]


def write_surveyxact_csv(folder: Path, people: list[Respondent]) -> dict:
    """Dataset with codes (numbered the other way round than the codebook), truncated stato_1..5 status
    dummies, plus a labels table without header in Danish whose labels carry trailing spaces."""
    header = ["respondentid", "name", "email"] + [f"stato_{k}" for k in range(1, 6)] + CLOSED + OPEN
    rows = [header]
    for n, (r, person, state) in enumerate(_surveyxact_people(people), start=1):
        row = [str(1000 + n), person.name, person.email] + [1 if k == state else 0 for k in range(1, 6)]
        row += [code_of(i, r.key(i), reverse=True) if r else "" for i in CLOSED]
        row += [r.texts[i] if r else "" for i in OPEN]
        rows.append(row)
    _write(folder / "dataset.csv", _csv_text(rows, ";"), "cp1252")
    labels = []
    for k, label in enumerate(SX_STATUS_LABELS, start=1):
        labels += [[f"stato_{k}", 0, "Ikke valgt "], [f"stato_{k}", 1, label + " "]]
    for item in CLOSED:
        for c in CODEBOOK.scale_of(item).categories:
            labels.append([item, code_of(item, c.key, reverse=True), c.label["da"] + "  "])
    _write(folder / "labels.csv", _csv_text(labels, ";"), "utf-8")
    return {"export": "dataset.csv", "labels": "labels.csv"}


def write_surveyxact_xlsx(folder: Path, people: list[Respondent]) -> dict:
    """One workbook with sheets Dataset (variables s_1.., statoverall_1..5), Labels and Structure."""
    var = {item: f"s_{n}" for n, item in enumerate(CLOSED + OPEN, start=1)}
    wb = xlsxwriter.Workbook(str(folder / "export.xlsx"))
    ds, lab, st = wb.add_worksheet("Dataset"), wb.add_worksheet("Labels"), wb.add_worksheet("Structure")
    header = (
        ["respondentid"]
        + [f"statoverall_{k}" for k in range(1, 6)]
        + [var[i] for i in CLOSED + OPEN]
        + ["email", "name"]
    )
    ds.write_row(0, 0, header)
    for n, (r, person, state) in enumerate(_surveyxact_people(people), start=1):
        ds.write_number(n, 0, 5000 + n)
        for k in range(1, 6):
            ds.write_number(n, k, 1 if k == state else 0)
        col = 6
        for item in CLOSED:
            if r:
                ds.write_number(n, col, code_of(item, r.key(item), reverse=True))
            col += 1
        for item in OPEN:
            if r and r.texts[item]:
                ds.write_string(n, col, r.texts[item])
            col += 1
        ds.write_string(n, col, person.email)
        ds.write_string(n, col + 1, person.name)
    row = 0
    for k, label in enumerate(SX_STATUS_LABELS, start=1):
        lab.write_row(row, 0, [f"statoverall_{k}", 1, label])
        row += 1
    for item in CLOSED:
        for c in CODEBOOK.scale_of(item).categories:
            lab.write_row(row, 0, [var[item], code_of(item, c.key, reverse=True), c.label["nb"] + " "])
            row += 1
    st.write_row(0, 0, ["Variable", "Label", "Type"])
    for n, item in enumerate(CLOSED + OPEN, start=1):
        st.write_row(n, 0, [var[item], QUESTION[item], "text" if item in OPEN else "single"])
    wb.close()
    return {"export": "export.xlsx"}


def write_nettskjema(folder: Path, people: list[Respondent]) -> dict:
    """Semicolon, every field quoted, UTF-8; $-system columns; closed items by code, open by question."""
    header = ["$submission_id", "$created", "$answer_time_ms"] + CLOSED + [QUESTION[i] for i in OPEN]
    rows = [header]
    for n, r in enumerate(people):
        rows.append(
            [str(31000000 + n), r.submitted.strftime("%Y-%m-%dT%H:%M:%S"), str(120000 + n)]
            + [r.answers[i] for i in CLOSED]
            + [r.texts[i] for i in OPEN]
        )
    _write(folder / "nettskjema.csv", _csv_text(rows, ";", quoting=csv.QUOTE_ALL, lineterminator="\n"), "utf-8")
    return {"export": "nettskjema.csv"}


def write_msforms(folder: Path, people: list[Respondent]) -> dict:
    wb = xlsxwriter.Workbook(str(folder / "Samskaping(1-10).xlsx"))
    ws = wb.add_worksheet("Sheet1")
    when = wb.add_format({"num_format": "m/d/yy h:mm:ss"})
    header = ["ID", "Start time", "Completion time", "Email", "Name", "Last modified time"]
    header += [QUESTION[i] for i in CLOSED + OPEN]
    ws.write_row(0, 0, header)
    for n, r in enumerate(people, start=1):
        ws.write_number(n, 0, n)
        ws.write_datetime(n, 1, r.submitted - dt.timedelta(minutes=7), when)
        ws.write_datetime(n, 2, r.submitted, when)
        ws.write_string(n, 3, r.person.email)
        ws.write_string(n, 4, r.person.name)
        ws.write_row(n, 6, [r.answers[i] for i in CLOSED] + [r.texts[i] for i in OPEN])
    wb.close()
    return {"export": "Samskaping(1-10).xlsx"}


GRID = "Hvor enig er du i disse påstandene?"


def write_googleforms(folder: Path, people: list[Respondent]) -> dict:
    """Comma, UTF-8; Timestamp and Email Address; P1–P5 as one grid question ("Question [Row]")."""
    header = ["Timestamp", "Email Address"]
    header += [f"{GRID} [{QUESTION[i]}]" if i.startswith("P") else QUESTION[i] for i in CLOSED]
    header += [QUESTION[i] for i in OPEN]
    rows = [header]
    for r in people:
        rows.append(
            [r.submitted.strftime("%Y/%m/%d %-I:%M:%S %p GMT+2"), r.person.email]
            + [r.answers[i] for i in CLOSED]
            + [r.texts[i] for i in OPEN]
        )
    _write(folder / "Samskaping (Responses) - Form responses 1.csv", _csv_text(rows, ","), "utf-8")
    return {"export": "Samskaping (Responses) - Form responses 1.csv"}


def write_limesurvey(folder: Path, people: list[Respondent]) -> dict:
    """UTF-8 BOM, semicolon, all quoted; question-code headings (array PERS[P1]…); one unfinished response
    (empty submitdate) whose answers must not count."""
    meta = ["id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp", "ipaddr", "token"]
    header = meta + [f"PERS[{i}]" if i.startswith("P") else i for i in CLOSED] + OPEN
    rows = [header]
    for n, r in enumerate(people, start=1):
        when = r.submitted.strftime("%Y-%m-%d %H:%M:%S")
        rows.append(
            [str(n), when, "4", "nb", str(777 + n), when, when, r.person.ip, f"tok{n:03d}"]
            + [r.answers[i] for i in CLOSED]
            + [r.texts[i] for i in OPEN]
        )
    unfinished = [label_of(i, "not_at_all") if i in ("P1", "P2", "P3") else "" for i in CLOSED]
    rows.append(
        ["11", "", "1", "nb", "999", "2024-05-23 09:00:00", "2024-05-23 09:03:00", PEOPLE[10].ip, "tok011"]
        + unfinished
        + ["", "", ""]
    )
    _write(folder / "results-survey123456.csv", _csv_text(rows, ";", quoting=csv.QUOTE_ALL), "utf-8", codecs.BOM_UTF8)
    return {"export": "results-survey123456.csv"}


QUALTRICS_META = [
    "StartDate",
    "EndDate",
    "Status",
    "IPAddress",
    "Progress",
    "Duration (in seconds)",
    "Finished",
    "RecordedDate",
    "ResponseId",
    "RecipientLastName",
    "RecipientFirstName",
    "RecipientEmail",
    "ExternalReference",
    "LocationLatitude",
    "LocationLongitude",
    "DistributionChannel",
    "UserLanguage",
]
QUALTRICS_TEXT = [
    "Start Date",
    "End Date",
    "Response Type",
    "IP Address",
    "Progress",
    "Duration (in seconds)",
    "Finished",
    "Recorded Date",
    "Response ID",
    "Recipient Last Name",
    "Recipient First Name",
    "Recipient Email",
    "External Data Reference",
    "Location Latitude",
    "Location Longitude",
    "Distribution Channel",
    "User Language",
]
MATRIX = "Tenk på arbeidet ditt etter Biblioteket som samskaper"


def write_qualtrics(folder: Path, people: list[Respondent]) -> dict:
    """Three header rows; a survey preview (first) and an unfinished response (last) that must not count."""
    tags, texts, imports = list(QUALTRICS_META), list(QUALTRICS_TEXT), []
    for name in QUALTRICS_META:
        imports.append('{"ImportId":"%s"}' % (name[0].lower() + name[1:]))
    for n, item in enumerate(CLOSED + OPEN, start=1):
        if item.startswith("P"):
            tags.append(f"Q1_{item[1]}")
            texts.append(f"{MATRIX} - {QUESTION[item]}")
            imports.append('{"ImportId":"QID1_' + item[1] + '"}')
        else:
            tags.append(f"Q{n}" + ("_TEXT" if item in OPEN else ""))
            texts.append(QUESTION[item])
            imports.append('{"ImportId":"QID' + str(n) + ("_TEXT" if item in OPEN else "") + '"}')
    rows = [tags, texts, imports]

    def row(status, finished, progress, when, rid, person, answers, open_texts):
        return (
            [
                when,
                when,
                status,
                person.ip,
                progress,
                "431",
                finished,
                when,
                rid,
                person.last,
                person.first,
                person.email,
                f"EMP-{person.last}",
                "59.9127",
                "10.7461",
                "anonymous" if status == "IP Address" else "preview",
                "NO",
            ]
            + answers
            + open_texts
        )

    preview = PEOPLE[11]
    rows.append(
        row(
            "Survey Preview",
            "True",
            "100",
            "2024-05-12 09:00:00",
            "R_preview0000001",
            preview,
            [label_of(i, "not_at_all") if CODEBOOK.items[i].scale == "degree" else label_of(i, "no") for i in CLOSED],
            ["", "", ""],
        )
    )
    for n, r in enumerate(people, start=1):
        when = r.submitted.strftime("%Y-%m-%d %H:%M:%S")
        rows.append(
            row(
                "IP Address",
                "True",
                "100",
                when,
                f"R_{r.id}x7Kq{n:02d}",
                r.person,
                [r.answers[i] for i in CLOSED],
                [r.texts[i] for i in OPEN],
            )
        )
    rows.append(
        row(
            "IP Address",
            "False",
            "35",
            "2024-05-23 11:00:00",
            "R_unfinished0001",
            PEOPLE[10],
            [label_of(i, "low") if i.startswith("P") else "" for i in CLOSED],
            ["", "", ""],
        )
    )
    _write(folder / "Samskaping_May 23, 2024_11.00.csv", _csv_text(rows, ","), "utf-8", codecs.BOM_UTF8)
    return {"export": "Samskaping_May 23, 2024_11.00.csv"}


def write_surveymonkey(folder: Path, people: list[Respondent]) -> dict:
    """Two header rows: question (once per matrix) then Response / row statement; Custom Data with e-mail."""
    meta = [
        "Respondent ID",
        "Collector ID",
        "Start Date",
        "End Date",
        "IP Address",
        "Email Address",
        "First Name",
        "Last Name",
        "Custom Data 1",
    ]
    top, sub = list(meta), [""] * len(meta)
    for item in CLOSED:
        if item.startswith("P"):
            top.append(GRID if item == "P1" else "")
            sub.append(QUESTION[item])
        else:
            top.append(QUESTION[item])
            sub.append("Response")
    for item in OPEN:
        top.append(QUESTION[item])
        sub.append("Open-Ended Response")
    rows = [top, sub]
    for n, r in enumerate(people, start=1):
        when = r.submitted.strftime("%m/%d/%Y %I:%M:%S %p")
        rows.append(
            [
                str(114000000000 + n),
                "431000001",
                when,
                when,
                r.person.ip,
                r.person.email,
                r.person.first,
                r.person.last,
                f"kontakt {r.person.email}",
            ]
            + [r.answers[i] for i in CLOSED]
            + [r.texts[i] for i in OPEN]
        )
    _write(folder / "Data_All_240523.csv", _csv_text(rows, ","), "utf-8")
    return {"export": "Data_All_240523.csv"}


# Layouts of real exports (the structure of the test fixtures that readSX, qualtRics, readspss and real
# SurveyMonkey / Nettskjema users ship; no third-party file is copied) ---------------------------------
SX_STRUCTURE_HEADER = [
    "questionName",
    "variableName",
    "questionType",
    "subType",
    "questionText",
    "choiceValue",
    "choiceText",
]


def _surveyxact_set(
    folder: Path, people: list[Respondent], encoding: str, delimiter: str, bom: bytes, lineterminator: str
) -> dict:
    """SurveyXact as readSX's ex_survey2 sets: dataset WITHOUT respondentid (variables s_1.., an `id` column
    holding school names, forn/ettern/email), stato_1..5 dummies last; labels.csv without a header row;
    structure.csv with SurveyXact's own header, question texts in questionText (with trailing spaces), and
    the status question as a multiple-choice question. One partial response (stato_3) and two invitees
    who never answered (stato_2)."""
    var = {item: f"s_{n}" for n, item in enumerate(CLOSED + OPEN, start=1)}
    header = [var[i] for i in CLOSED + OPEN] + ["id", "forn", "ettern", "email"] + [f"stato_{k}" for k in range(1, 6)]
    rows = [header]
    unfinished = people[0]
    entries = [(r, r.person, 4) for r in people] + [
        (None, PEOPLE[10], 2),
        (None, PEOPLE[11], 2),
        (unfinished, PEOPLE[11], 3),
    ]
    for n, (r, person, state) in enumerate(entries):
        answers = [code_of(i, r.key(i), reverse=True) if r else "" for i in CLOSED]
        if state == 3:
            answers = [a if i in ("P1", "P2") else "" for i, a in zip(CLOSED, answers)]
        row = answers + [(r.texts[i] if r and state == 4 else "") for i in OPEN]
        row += [SCHOOLS[n % len(SCHOOLS)], person.first, person.last, person.email]
        row += [1 if k == state else 0 for k in range(1, 6)]
        rows.append(row)
    _write(folder / "dataset.csv", _csv_text(rows, delimiter, lineterminator=lineterminator), encoding, bom)
    labels = []
    for item in CLOSED:
        for c in CODEBOOK.scale_of(item).categories:
            labels.append([var[item], code_of(item, c.key, reverse=True), c.label["nb"]])
    for k in range(1, 6):
        labels += [[f"stato_{k}", 0, "Ikke valgt"], [f"stato_{k}", 1, "Valgt"]]
    _write(folder / "labels.csv", _csv_text(labels, delimiter, lineterminator=lineterminator), encoding, bom)
    structure = [SX_STRUCTURE_HEADER]
    for item in CLOSED + OPEN:
        kind = ("Open", "String") if item in OPEN else ("Closed", "Single")
        structure.append([var[item], var[item], *kind, QUESTION[item] + " ", "", ""])
    structure.append(["id", "id", "Open", "String", "Skole", "", ""])
    for k, label in enumerate(["Ny", "Distribuert", "Noen svar", "Gjennomført", "Frafalt"], start=1):
        structure.append(["statoverall", f"stato_{k}", "Closed", "Multiple", "Samlet status", k, label])
    _write(folder / "structure.csv", _csv_text(structure, delimiter, lineterminator=lineterminator), encoding, bom)
    return {"export": "dataset.csv", "labels": "labels.csv"}


def write_surveyxact_cp1252(folder: Path, people: list[Respondent]) -> dict:
    """readSX's ex_survey2_semicolon_ansi: Windows-1252, semicolon, LF."""
    return _surveyxact_set(folder, people, "cp1252", ";", b"", "\n")


def write_surveyxact_utf16(folder: Path, people: list[Respondent]) -> dict:
    """readSX's ex_survey2_tab_utf16: UTF-16 LE with BOM, tab, CRLF."""
    return _surveyxact_set(folder, people, "utf-16-le", "\t", codecs.BOM_UTF16_LE, "\r\n")


QUALTRICS_GERMAN = [
    "Anfangsdatum",
    "Enddatum",
    "Antworttyp",
    "IP-Adresse",
    "Aktueller Stand",
    "Dauer (in Sekunden)",
    "Beendet",
    "Erfassungsdatum",
    "Antwort-ID",
    "Nachname des Empfängers",
    "Vorname des Empfängers",
    "E-Mail des Empfängers",
    "Externe Datenreferenz",
    "Breitengrad des Standorts",
    "Längengrad des Standorts",
    "Verteilungskanal",
    "Benutzersprache",
]


def write_qualtrics_german(folder: Path, people: list[Respondent]) -> dict:
    """As qualtRics' sample.csv: the label row in the respondents' language (German) for the metadata, no BOM,
    LF line ends; a survey preview and an unfinished response that must not count."""
    write_qualtrics(folder, people)
    path = folder / "Samskaping_May 23, 2024_11.00.csv"
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
    rows[1][: len(QUALTRICS_GERMAN)] = QUALTRICS_GERMAN
    path.unlink()
    _write(folder / "sample.csv", _csv_text(rows, ",", lineterminator="\n"), "utf-8")
    return {"export": "sample.csv"}


LEGACY_LABELS = [
    "ResponseID",
    "ResponseSet",
    "Name",
    "ExternalDataReference",
    "EmailAddress",
    "IPAddress",
    "Status",
    "StartDate",
    "EndDate",
    "Finished",
]


def write_qualtrics_legacy(folder: Path, people: list[Respondent]) -> dict:
    """As qualtRics' sample_legacy.csv: tags V1…V10 (the codebook has items V1…V6!), Q1…, then a label row; UTF-8
    BOM; every line ends with a comma; one unfinished response."""
    items = CLOSED + OPEN
    tags = (
        [f"V{k}" for k in range(1, 11)]
        + [f"Q{n}" for n in range(1, len(items) + 1)]
        + ["LocationLatitude", "LocationLongitude", "LocationAccuracy", ""]
    )
    labels = (
        LEGACY_LABELS + [QUESTION[i] for i in items] + ["LocationLatitude", "LocationLongitude", "LocationAccuracy", ""]
    )
    rows = [tags, labels]

    def row(rid, person, finished, when, answers, texts):
        return (
            [rid, "Default Response Set", person.name, "", person.email, person.ip, "0", when, when, finished]
            + answers
            + texts
            + ["59.9127", "10.7461", "-1", ""]
        )

    for n, r in enumerate(people, start=1):
        when = r.submitted.strftime("%Y-%m-%d %H:%M:%S")
        rows.append(
            row(f"R_legacy{n:08d}", r.person, "1", when, [r.answers[i] for i in CLOSED], [r.texts[i] for i in OPEN])
        )
    rows.append(
        row(
            "R_legacyunfinish",
            PEOPLE[10],
            "0",
            "2024-05-23 11:00:00",
            [label_of(i, "low") if i.startswith("P") else "" for i in CLOSED],
            ["", "", ""],
        )
    )
    _write(folder / "legacy_export.csv", _csv_text(rows, ",", lineterminator="\n"), "utf-8", codecs.BOM_UTF8)
    return {"export": "legacy_export.csv"}


SAV_DK, SAV_NA = 8, 9


def write_sav_user_missing(folder: Path, people: list[Respondent]) -> dict:
    """SPSS with "don't know" as a declared user-missing code, as survey offices code it: 1–5 (degree) or
    1–2 (yes/no) with value labels, 8 = "DK" and 9 = "NA" declared missing (8–9 as a range). wave.yaml maps
    DK to dont_know; without that map DK answers would count as unanswered."""
    names = {item: f"v{n}" for n, item in enumerate(CLOSED + OPEN, start=1)}
    data = {"respnr": [r.id for r in people], "epost": [r.person.email for r in people]}
    for item in CLOSED:
        data[names[item]] = [
            float(SAV_DK if r.key(item) == "dont_know" else code_of(item, r.key(item))) for r in people
        ]
    for item in OPEN:
        data[names[item]] = [r.texts[item] for r in people]
    value_labels = {}
    for item in CLOSED:
        labels = {float(c.code): c.label["nb"] for c in CODEBOOK.scale_of(item).categories if c.key != "dont_know"}
        value_labels[names[item]] = labels | {float(SAV_DK): "DK", float(SAV_NA): "NA"}
    pyreadstat.write_sav(
        pl.DataFrame(data),
        str(folder / "export.sav"),
        column_labels={"respnr": "Respondent", **{names[i]: QUESTION[i] for i in CLOSED + OPEN}},
        variable_value_labels=value_labels,
        missing_ranges={names[i]: [{"lo": float(SAV_DK), "hi": float(SAV_NA)}] for i in CLOSED},
    )
    return {"export": "export.sav", "values": {"degree": {"DK": "dont_know"}, "yes_no": {"DK": "dont_know"}}}


def write_surveymonkey_nul(folder: Path, people: list[Respondent]) -> dict:
    """The older SurveyMonkey layout as in real files: RespondentID, CollectorID (no spaces), LastName; NUL
    placeholders under the metadata in the second header row; options padded with spaces; a checkbox
    question whose option is "ID" (once taken for the respondent id); CRLF."""
    meta = [
        "RespondentID",
        "CollectorID",
        "StartDate",
        "EndDate",
        "IP Address",
        "Email Address",
        "First Name",
        "LastName",
        "Custom Data",
    ]
    top, sub = list(meta), ["\x00"] * len(meta)
    for item in CLOSED:
        top.append(QUESTION[item])
        sub.append("Response")
    for item in OPEN:
        top.append(QUESTION[item])
        sub.append("Open-Ended Response")
    top += ["Hvilken legitimasjon viste du fram? (Kryss av alt som passer)", ""]
    sub += ["               ID             ", "               Pass             "]
    rows = [top, sub]
    for n, r in enumerate(people, start=1):
        when = r.submitted.strftime("%m/%d/%Y %H:%M:%S")
        rows.append(
            [
                str(5343553400 + n),
                "96864758",
                when,
                when,
                r.person.ip,
                r.person.email,
                r.person.first,
                r.person.last,
                "",
            ]
            + [r.answers[i] for i in CLOSED]
            + [r.texts[i] for i in OPEN]
            + (["ID", ""] if n % 2 else ["", "Pass"])
        )
    _write(folder / "Sheet_1.csv", _csv_text(rows, ","), "utf-8")
    return {"export": "Sheet_1.csv"}


NETTSKJEMA_2018 = [
    "NR",
    "E-post",
    "Opprettet",
    "Endret",
    "Fornavn",
    "Etternavn",
    "Bursdag",
    "Epost",
    "Telefon",
    "Adresse",
    "Sted",
    "Postnummer",
]


def write_nettskjema_2018(folder: Path, people: list[Respondent]) -> dict:
    """Nettskjema's older export: tab-separated .txt (Windows-1252, CRLF), NR, the invitation list's contact
    fields (address, birthday, postcode), the questions, Svartid last."""
    header = NETTSKJEMA_2018 + [QUESTION[i] for i in CLOSED + OPEN] + ["Svartid"]
    rows = [header]
    for n, r in enumerate(people):
        when = r.submitted.strftime("%d.%m.%Y %H:%M")
        rows.append(
            [
                str(4100 + n),
                r.person.email,
                when,
                when,
                r.person.first,
                r.person.last,
                BIRTHDAYS[n],
                r.person.email,
                PHONES[n],
                STREETS[n],
                "Lillehammer",
                "2609",
            ]
            + [r.answers[i] for i in CLOSED]
            + [r.texts[i] for i in OPEN]
            + [f"00:0{n % 10}:31"]
        )
    _write(folder / "skjema_123456.txt", _csv_text(rows, "\t"), "cp1252")
    return {"export": "skjema_123456.txt"}


# LimeSurvey writes its metadata headings in the survey's language (its own translations, .mo files of 6.4.2; the
# de and nl spellings as the real exports cargobike (LimeSurvey 3.x, German) and partypanel171 (LimeSurvey 2.x, Dutch
# informal) write them): id, submitdate, lastpage, startlanguage, seed, startdate, datestamp, ipaddr, refurl.
LIMESURVEY_HEADINGS = {
    "de": [
        "Antwort ID",
        "Datum Abgeschickt",
        "Letzte Seite",
        "Start-Sprache",
        "Zufallsgeneratorstartwert",
        "Datum gestartet",
        "Datum letzte Aktivität",
        "IP-Adresse",
        "Weiterleitungs-URL",
    ],
    "nl": [
        "Respons ID",
        "Datum verstuurd",
        "Laatste pagina",
        "Begin taal",
        "Plaats",
        "Startdatum",
        "Datum laatste actie",
        "IP-adres",
        "Verwijzer-URL",
    ],
    "nb": [
        "Svar-ID",
        "Dato for besvarelse",
        "Siste side",
        "Standardspråk",
        "Frø",
        "Dato for oppstart",
        "Dato for siste hendelse",
        "IP-adresse",
        "Avsenders URL",
    ],
    "da": [
        "Besvarelse-ID",
        "Dato for indsendelse",
        "Sidste side",
        "Standardsprog",
        "Seed",
        "Startdato",
        "Dato for sidste handling",
        "IP-adresse",
        "Henvisende websted",
    ],
}
# partial responses (empty submit date) each translated export carries besides the 10 complete ones: about one in
# fourteen in the German export the issue was found on, most rows in the Dutch one
LIMESURVEY_PARTIAL = {"de": 1, "nl": 14, "nb": 2, "da": 3}
LIMESURVEY_PARTIAL_ANSWERED = ("P1", "P2", "P3")  # what an unfinished response has answered: the first page


def limesurvey_rows(people: list[Respondent], lang: str, partial: int | None = None) -> list[list[str]]:
    """A LimeSurvey response export in the "full question text" style, as its R data file writes it: the metadata
    headed in `lang`, the items headed by their question text; `partial` unfinished responses (empty submit date,
    last page 1, the first page answered by every other one) after the complete ones."""
    partial = LIMESURVEY_PARTIAL[lang] if partial is None else partial
    rows: list[list[str]] = [LIMESURVEY_HEADINGS[lang] + [QUESTION[i] for i in CLOSED + OPEN]]
    for n, r in enumerate(people, start=1):
        when = r.submitted.strftime("%Y-%m-%d %H:%M:%S")
        rows.append(
            [str(n), when, "4", "nb", str(777 + n), when, when, r.person.ip, "https://bibliotek.example.no/lenke"]
            + [r.answers[i] for i in CLOSED]
            + [r.texts[i] for i in OPEN]
        )
    for k in range(partial):
        answered = k % 2 == 0
        started = f"2024-05-2{k % 10} 09:00:00"
        rows.append(
            [str(len(people) + 1 + k), "", "1", "nb", str(900 + k), started, started, PEOPLE[10 + k % 2].ip, ""]
            + [label_of(i, "not_at_all") if answered and i in LIMESURVEY_PARTIAL_ANSWERED else "" for i in CLOSED]
            + ["" for _ in OPEN]
        )
    return rows


def limesurvey_partial_answers(lang: str) -> int:
    """Answers the unfinished responses of `limesurvey_rows` hold (kept in responses, never in a distribution)."""
    return len(range(0, LIMESURVEY_PARTIAL[lang], 2)) * len(LIMESURVEY_PARTIAL_ANSWERED)


def _limesurvey_r_data(lang: str) -> Callable[[Path, list[Respondent]], dict]:
    def write(folder: Path, people: list[Respondent]) -> dict:
        """LimeSurvey's R data file (survey_<sid>_R_data_file.csv): UTF-8 with BOM, comma, every field quoted (an
        unsubmitted response's submit date is a quoted empty string), CRLF."""
        text = _csv_text(limesurvey_rows(people, lang), ",", quoting=csv.QUOTE_ALL)
        _write(folder / "survey_123456_R_data_file.csv", text, "utf-8", codecs.BOM_UTF8)
        return {"export": "survey_123456_R_data_file.csv"}

    return write


def write_limesurvey_da_xlsx(folder: Path, people: list[Respondent]) -> dict:
    """LimeSurvey's Excel export in Danish (xlsxwriter, as LimeSurvey's own XLSXWriter): one sheet, row 1 the
    headings, an unsubmitted response's submit date an empty cell."""
    workbook = xlsxwriter.Workbook(str(folder / "results-survey123456.xlsx"))
    sheet = workbook.add_worksheet("results-survey123456")
    for r, row in enumerate(limesurvey_rows(people, "da")):
        for c, value in enumerate(row):
            if value != "":
                sheet.write_string(r, c, value)
    workbook.close()
    return {"export": "results-survey123456.xlsx"}


def write_sav_item_codes(folder: Path, people: list[Respondent]) -> dict:
    """SPSS whose variables are named by the item codes (P1 … V6, OP, OI, OC) with generic variable labels
    ("Item P1") and value labels in the codebook's words, as a survey office's own SPSS file is often made."""
    data: dict[str, list] = {"respnr": [r.id for r in people], "epost": [r.person.email for r in people]}
    for item in CLOSED:
        data[item] = [float(code_of(item, r.key(item))) for r in people]
    for item in OPEN:
        data[item] = [r.texts[item] for r in people]
    pyreadstat.write_sav(
        pl.DataFrame(data),
        str(folder / "export.sav"),
        column_labels={"respnr": "Respondent", "epost": "E-post", **{i: f"Item {i}" for i in CLOSED + OPEN}},
        variable_value_labels={
            i: {float(c.code): c.label["nb"] for c in CODEBOOK.scale_of(i).categories} for i in CLOSED
        },
    )
    return {"export": "export.sav"}


# kind → (writer, tool that `auto` must recognise, file format)
KINDS = {
    "csv_utf8_bom": (write_csv_utf8_bom, "generic", "csv"),
    "csv_utf16_tab": (write_csv_utf16_tab, "generic", "csv"),
    "csv_cp1252": (write_csv_cp1252, "generic", "csv"),
    "xlsx": (write_xlsx, "generic", "xlsx"),
    "sav": (write_sav, "generic", "sav"),
    "surveyxact_csv": (write_surveyxact_csv, "surveyxact", "csv"),
    "surveyxact_xlsx": (write_surveyxact_xlsx, "surveyxact", "xlsx"),
    "nettskjema": (write_nettskjema, "nettskjema", "csv"),
    "msforms": (write_msforms, "msforms", "xlsx"),
    "googleforms": (write_googleforms, "googleforms", "csv"),
    "limesurvey": (write_limesurvey, "limesurvey", "csv"),
    "qualtrics": (write_qualtrics, "qualtrics", "csv"),
    "surveymonkey": (write_surveymonkey, "surveymonkey", "csv"),
    "surveyxact_cp1252": (write_surveyxact_cp1252, "surveyxact", "csv"),
    "surveyxact_utf16": (write_surveyxact_utf16, "surveyxact", "csv"),
    "qualtrics_german": (write_qualtrics_german, "qualtrics", "csv"),
    "qualtrics_legacy": (write_qualtrics_legacy, "qualtrics", "csv"),
    "sav_user_missing": (write_sav_user_missing, "generic", "sav"),
    "surveymonkey_nul": (write_surveymonkey_nul, "surveymonkey", "csv"),
    "nettskjema_2018": (write_nettskjema_2018, "nettskjema", "csv"),
    "limesurvey_de": (_limesurvey_r_data("de"), "limesurvey", "csv"),
    "limesurvey_nl": (_limesurvey_r_data("nl"), "limesurvey", "csv"),
    "limesurvey_nb": (_limesurvey_r_data("nb"), "limesurvey", "csv"),
    "limesurvey_da_xlsx": (write_limesurvey_da_xlsx, "limesurvey", "xlsx"),
    "sav_item_codes": (write_sav_item_codes, "generic", "sav"),
}


def with_answer(people: list[Respondent], index: int, item: str, value: str) -> list[Respondent]:
    """The respondents with one closed answer replaced (e.g. by a label the codebook does not know)."""
    out = list(people)
    out[index] = replace(out[index], answers={**out[index].answers, item: value})
    return out


def write_wave(
    raw_dir: Path, key: str, kind: str, *, invited: int = 12, people: list[Respondent] | None = None, **wave_yaml
) -> Path:
    """A wave folder holding the `kind` export of the 10 respondents and a short wave.yaml (tool: auto)."""
    writer, _, _ = KINDS[kind]
    folder = raw_dir / key
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"wave": key, "label": f"Wave {key} ({kind})", "invited": invited, "tool": "auto"}
    spec.update(writer(folder, respondents() if people is None else people))
    spec.update(wave_yaml)
    (folder / "wave.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder
