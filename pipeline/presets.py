"""Tool presets: how each survey tool writes its export, so the file can be used as the tool wrote it.

A preset knows the tool's header signature (for `tool: auto`), its extra header rows, its metadata
columns (respondent id, timestamps, status), its personal-data columns (e-mail, name, IP, free custom
data) and its completeness rule. `prepare()` turns a read `Export` into a `Prepared` export: data rows
only, value labels applied, candidate header texts per column, the roles the tool fixes and, where the
tool encodes completeness in its own way, a derived status per row:

| status          | meaning                                   | effect                                  |
|-----------------|-------------------------------------------|-----------------------------------------|
| complete        | the respondent finished                   | counts                                  |
| partial         | started, not finished                     | kept, not in the distributions          |
| not_responded   | invited, never answered (SurveyXact)      | row left out when it holds no answer    |
| test            | survey preview / test / spam (Qualtrics)  | row left out: not a response            |

| tool         | recognised by (auto)                                    | header rows |
|--------------|---------------------------------------------------------|-------------|
| surveyxact   | `respondentid` + `statoverall_N`/`stato_N`, or a workbook with sheets Dataset + Labels | 1 |
| qualtrics    | `ResponseId` + `StartDate`/`Finished`, or an `{"ImportId": …}` row | 3 (or 2)   |
| surveymonkey | `Respondent ID` + `Collector ID`                        | 2           |
| limesurvey   | `id` + `submitdate` + `lastpage`/`startlanguage`        | 1           |
| nettskjema   | `$submission_id` / `$created` / `$answer_time_ms`       | 1           |
| msforms      | `ID, Start time, Completion time` first                 | 1           |
| googleforms  | `Timestamp` first                                       | 1           |
| generic      | anything else (headers matched to the codebook)         | 1           |
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import polars as pl

from pipeline.codebook import Codebook, normalise_text
from pipeline.readers import ROW, Export, ExportError, read_sheet_rows, read_table_rows
from pipeline.waves import TOOL_ALIASES, TOOLS, WaveError, WaveSpec

COMPLETE, PARTIAL, NOT_RESPONDED, TEST = "complete", "partial", "not_responded", "test"
ROLES = ("respondent_id", "submitted_at", "status", "drop", "personal_data")


@dataclass(frozen=True)
class Prepared:
    export: Export  # data rows only (source_row counted from the first row under the header rows)
    tool: str
    alternates: tuple[tuple[str, ...], ...]  # per column: header texts to match, the display header first
    roles: dict[int, str] = field(default_factory=dict)  # column index → role fixed by the tool
    status: pl.Series | None = None  # per data row: complete / partial / not_responded / test (or raw text)
    status_column: str | None = None  # where the derived status comes from
    notes: tuple[str, ...] = ()  # what the preset did, for the run metadata
    codes_need_labels: bool = False  # the cells are the tool's codes and no labels were found

    @property
    def headers(self) -> list[str]:
        return [a[0] for a in self.alternates]


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    detect: Callable[[Export], bool]
    roles: dict[str, str] = field(default_factory=dict)  # normalised header → role
    prefixes: tuple[tuple[str, str], ...] = ()  # (normalised header prefix, role)

    def role_of(self, header: str) -> str | None:
        norm = normalise_text(header)
        if norm in self.roles:
            return self.roles[norm]
        for prefix, role in self.prefixes:
            if norm.startswith(prefix):
                return role
        return None


def _norms(export: Export) -> set[str]:
    return {normalise_text(h) for h in export.headers}


def _roles(*groups: tuple[str, list[str]]) -> dict[str, str]:
    out = {}
    for role, headers in groups:
        assert role in ROLES, role
        for h in headers:
            out[normalise_text(h)] = role
    return out


def _fixed_roles(preset: Preset, texts: list[tuple[str, ...]]) -> dict[int, str]:
    out = {}
    for i, candidates in enumerate(texts):
        for text in candidates:
            role = preset.role_of(text)
            if role:
                out[i] = role
                break
    return out


def apply_value_labels(frame: pl.DataFrame, value_labels: dict[int, dict[str, str]]) -> pl.DataFrame:
    """Codes → their labels (SPSS value labels, SurveyXact labels table); unlabelled values stay as they are."""
    exprs = []
    for i, labels in sorted(value_labels.items()):
        name = f"c{i}"
        if name in frame.columns and labels:
            exprs.append(pl.col(name).str.strip_chars().replace(labels).alias(name))
    return frame.with_columns(exprs) if exprs else frame


def _drop_header_rows(export: Export, k: int) -> Export:
    if k == 0:
        return export
    last = export.frame[ROW][k - 1]
    frame = export.frame.slice(k).with_columns((pl.col(ROW) - last).alias(ROW))
    return replace(export, frame=frame)


def _generic_alternates(export: Export) -> list[tuple[str, ...]]:
    out = []
    for i, h in enumerate(export.headers):
        label = export.variable_labels.get(i)
        out.append((h, label) if label and label != h else (h,))
    return out


def _simple(preset: Preset, export: Export, *, status: pl.Series | None = None, status_column: str | None = None,
            notes: tuple[str, ...] = ()) -> Prepared:
    alternates = _generic_alternates(export)
    frame = apply_value_labels(export.frame, export.value_labels)
    return Prepared(export=replace(export, frame=frame), tool=preset.name, alternates=tuple(alternates),
                    roles=_fixed_roles(preset, alternates), status=status, status_column=status_column, notes=notes)


def _column(export: Export, predicate: Callable[[str], bool]) -> int | None:
    for i, h in enumerate(export.headers):
        if predicate(normalise_text(h)):
            return i
    return None


# Generic ------------------------------------------------------------------------------------------
GENERIC = Preset("generic", "any export whose headers are codebook codes or question texts", detect=lambda e: True)


def _prepare_generic(export: Export, spec: WaveSpec, codebook: Codebook) -> Prepared:
    return _simple(GENERIC, export)


# SurveyXact ---------------------------------------------------------------------------------------
SX_STATUS = re.compile(r"^stat(?:overall|o)_([1-5])$")
SX_STATUS_SINGLE = ("statoverall", "stato")
# statoverall_1..5 = new / distributed / some answers / completed / dropped out
SX_STATE = {1: NOT_RESPONDED, 2: NOT_RESPONDED, 3: PARTIAL, 4: COMPLETE, 5: PARTIAL}
SX_STATE_LABELS = {
    1: ["ny", "new", "ikke distribuert", "ikke distribueret"],
    2: ["distribuert", "distribueret", "distributed", "sendt", "udsendt"],
    3: ["noen svar", "nogen svar", "some answers", "delvis besvart", "delvist besvaret", "påbegynt", "påbegyndt"],
    4: ["fullført", "gennemført", "completed", "complete", "besvart", "besvaret", "færdig"],
    5: ["frafalt", "frafaldet", "dropped out", "avbrutt", "afbrudt"],
}
ON = {"1", "true", "yes", "ja", "x"}
SURVEYXACT = Preset(
    "surveyxact", "SurveyXact dataset (codes) + labels table, or workbook with Dataset/Labels/Structure",
    detect=lambda e: ("respondentid" in _norms(e) and any(SX_STATUS.match(h) or h in SX_STATUS_SINGLE for h in _norms(e)))
    or {"dataset", "labels"} <= {s.strip().casefold() for s in e.sheets},
    roles=_roles(
        ("respondent_id", ["respondentid"]),
        ("submitted_at", ["closetime"]),
        ("drop", ["starttime", "lastupdated", "distributiondate", "distributionsdato", "language", "sprog", "språk",
                  "statoverall", "stato", "externalkey"]),
        ("personal_data", ["email", "e-mail", "name", "navn", "phone", "telefon", "mobil", "mobile"]),
    ),
    prefixes=(("statoverall_", "drop"), ("stato_", "drop")),
)


def _parse_labels(rows: list[list[str]]) -> dict[str, dict[str, str]]:
    """variable;code;label rows (no header, or a header row of words) → variable → code → label."""
    out: dict[str, dict[str, str]] = {}
    for row in rows:
        if len(row) < 3:
            continue
        variable, code, label = row[0], row[1].strip(), row[2].strip()
        if normalise_text(code) in ("code", "kode", "value", "værdi", "verdi", "værdi/kode"):
            continue
        out.setdefault(normalise_text(variable), {})[code] = label
    return out


def _parse_structure(rows: list[list[str]]) -> dict[str, str]:
    """Structure sheet → variable → question text. Uses a header row naming the columns if there is one."""
    var_words = {"variable", "variabel", "variable name", "variabelnavn", "variabelnavn", "name", "navn", "kode"}
    text_words = {"label", "text", "tekst", "question", "spørgsmål", "spørsmål", "variable label",
                  "variabeltekst", "etiket", "spørgsmålstekst", "spørsmålstekst", "beskrivelse", "description"}
    var_col, text_col, start = 0, 1, 0
    for r, row in enumerate(rows[:5]):
        norms = [normalise_text(c) for c in row]
        v = next((i for i, c in enumerate(norms) if c in var_words), None)
        t = next((i for i, c in enumerate(norms) if c in text_words), None)
        if v is not None and t is not None:
            var_col, text_col, start = v, t, r + 1
            break
    out = {}
    for row in rows[start:]:
        if len(row) > max(var_col, text_col) and row[var_col] and row[text_col]:
            out.setdefault(normalise_text(row[var_col]), row[text_col])
    return out


def _find_labels_file(spec: WaveSpec) -> Path | None:
    if spec.labels:
        return spec.folder / spec.labels
    candidates = sorted(
        p for p in spec.folder.iterdir()
        if p.is_file() and p.name != spec.export and "label" in p.name.casefold()
        and p.suffix.lower() in (".csv", ".txt", ".tsv")
    )
    return candidates[0] if len(candidates) == 1 else None


def _sheet_named(export: Export, name: str) -> str | None:
    return next((s for s in export.sheets if s.strip().casefold() == name), None)


def _surveyxact_status(export: Export, labels: dict[str, dict[str, str]]) -> tuple[pl.Series | None, str | None]:
    dummies: dict[int, int] = {}
    single = None
    for i, h in enumerate(export.headers):
        norm = normalise_text(h)
        m = SX_STATUS.match(norm)
        if m:
            dummies.setdefault(int(m.group(1)), i)
        elif norm in SX_STATUS_SINGLE:
            single = i
    state_of_label = {normalise_text(t): k for k, texts in SX_STATE_LABELS.items() for t in texts}
    if dummies:
        exprs = []
        for k, i in sorted(dummies.items()):
            var = normalise_text(export.headers[i])
            on = set(ON) | {normalise_text(t) for t in SX_STATE_LABELS[k]}
            on |= {normalise_text(lab) for code, lab in labels.get(var, {}).items() if code == "1"}
            cell = pl.col(f"c{i}").str.strip_chars().str.to_lowercase()
            exprs.append(pl.when(cell.is_in(sorted(on))).then(pl.lit(str(k))).otherwise(None))
        ons = export.frame.select(pl.concat_list(exprs).list.drop_nulls().alias("on"))["on"].to_list()
        status = [
            SX_STATE[int(x[0])] if len(x) == 1
            else ("no status dummy set" if not x else "several status dummies set: " + "+".join(x))
            for x in ons
        ]
        names = [export.headers[i] for _, i in sorted(dummies.items())]
        column = f"{names[0]}..{names[-1]}" if len(names) > 1 else names[0]
        return pl.Series("status", status, dtype=pl.Utf8), column
    if single is not None:
        var = normalise_text(export.headers[single])
        code_of_label = {normalise_text(lab): code for code, lab in labels.get(var, {}).items()}
        out = []
        for v in export.frame[f"c{single}"].to_list():
            norm = None if v is None else normalise_text(v)
            norm = code_of_label.get(norm, norm)
            k = int(norm) if norm in ("1", "2", "3", "4", "5") else state_of_label.get(norm)
            out.append(SX_STATE[k] if k else v)
        return pl.Series("status", out, dtype=pl.Utf8), export.headers[single]
    return None, None


def _prepare_surveyxact(export: Export, spec: WaveSpec, codebook: Codebook) -> Prepared:
    notes = []
    labels: dict[str, dict[str, str]] = {}
    structure: dict[str, str] = {}
    if export.format == "xlsx" and _sheet_named(export, "labels"):
        labels = _parse_labels(read_sheet_rows(export.path, _sheet_named(export, "labels")))
        notes.append(f"labels from sheet {_sheet_named(export, 'labels')!r}: {len(labels)} variables")
        if _sheet_named(export, "structure"):
            structure = _parse_structure(read_sheet_rows(export.path, _sheet_named(export, "structure")))
            notes.append(f"question texts from sheet {_sheet_named(export, 'structure')!r}: {len(structure)} variables")
    else:
        path = _find_labels_file(spec)
        if path is not None:
            if not path.is_file():
                raise WaveError(f"{spec.yaml_path}: labels: {spec.labels!r} is not in {spec.folder}; copy the "
                                "SurveyXact labels file there or correct the name")
            labels = _parse_labels(read_table_rows(path))
            notes.append(f"labels from {path.name}: {len(labels)} variables")
    codes_need_labels = not labels and not export.value_labels
    value_labels = dict(export.value_labels)
    for i, h in enumerate(export.headers):
        norm = normalise_text(h)
        if norm in labels and not SX_STATUS.match(norm):
            value_labels[i] = labels[norm]
    status, status_column = _surveyxact_status(export, labels)
    alternates = []
    for i, h in enumerate(export.headers):
        texts = [h]
        for extra in (export.variable_labels.get(i), structure.get(normalise_text(h))):
            if extra and extra not in texts:
                texts.append(extra)
        alternates.append(tuple(texts))
    frame = apply_value_labels(export.frame, value_labels)
    return Prepared(export=replace(export, frame=frame, value_labels=value_labels), tool="surveyxact",
                    alternates=tuple(alternates), roles=_fixed_roles(SURVEYXACT, alternates),
                    status=status, status_column=status_column, notes=tuple(notes),
                    codes_need_labels=codes_need_labels)


# Nettskjema ---------------------------------------------------------------------------------------
NETTSKJEMA_SYSTEM = ("$submission_id", "$created", "$answer_time_ms")
NETTSKJEMA_PERSONAL = ("name", "navn", "mail", "e-post", "epost", "ip", "username", "brukernavn", "fnr",
                       "fødselsnummer", "person", "phone", "telefon")


class _NettskjemaPreset(Preset):
    def role_of(self, header: str) -> str | None:
        norm = normalise_text(header)
        if not norm.startswith("$"):
            return None
        if norm in self.roles:
            return self.roles[norm]
        return "personal_data" if any(w in norm for w in NETTSKJEMA_PERSONAL) else "drop"


NETTSKJEMA = _NettskjemaPreset(
    "nettskjema", "Nettskjema (UiO): semicolon CSV, system columns starting with $",
    detect=lambda e: bool(_norms(e) & set(NETTSKJEMA_SYSTEM)),
    roles=_roles(("respondent_id", ["$submission_id"]), ("submitted_at", ["$created"])),
)


def _prepare_nettskjema(export: Export, spec: WaveSpec, codebook: Codebook) -> Prepared:
    return _simple(NETTSKJEMA, export)


# Microsoft Forms ----------------------------------------------------------------------------------
MS_START = {"start time", "starttidspunkt", "starttid", "startzeit"}
MS_COMPLETION = {"completion time", "fullføringstidspunkt", "fullføringstid", "tidspunkt for fuldførelse",
                 "fuldførelsestidspunkt", "sluttidspunkt"}
MSFORMS = Preset(
    "msforms", "Microsoft Forms .xlsx: ID, Start time, Completion time, Email, Name, [Last modified time]",
    detect=lambda e: len(e.headers) >= 3 and normalise_text(e.headers[0]) == "id"
    and normalise_text(e.headers[1]) in MS_START and normalise_text(e.headers[2]) in MS_COMPLETION,
    roles=_roles(
        ("respondent_id", ["id"]),
        ("submitted_at", sorted(MS_COMPLETION)),
        ("drop", sorted(MS_START) + ["last modified time", "tidspunkt for siste endring", "sist endret",
                                     "tidspunkt for seneste ændring", "senest ændret", "total points",
                                     "quiz feedback", "poeng totalt", "point i alt"]),
        ("personal_data", ["email", "e-mail", "e-post", "mail", "name", "navn"]),
    ),
    prefixes=(("points - ", "drop"), ("feedback - ", "drop"), ("poeng - ", "drop"), ("point - ", "drop")),
)


def _prepare_msforms(export: Export, spec: WaveSpec, codebook: Codebook) -> Prepared:
    return _simple(MSFORMS, export)


# Google Forms -------------------------------------------------------------------------------------
GOOGLE_TIMESTAMP = {"timestamp", "tidsmerke", "tidsstempel"}
GOOGLEFORMS = Preset(
    "googleforms", "Google Forms CSV: Timestamp, [Email Address], question texts",
    detect=lambda e: bool(e.headers) and normalise_text(e.headers[0]) in GOOGLE_TIMESTAMP,
    roles=_roles(
        ("submitted_at", sorted(GOOGLE_TIMESTAMP)),
        ("personal_data", ["email address", "e-postadresse", "mailadresse", "e-mailadresse", "email", "e-post"]),
        ("drop", ["score", "poengsum", "point", "samlet score"]),
    ),
)


def _prepare_googleforms(export: Export, spec: WaveSpec, codebook: Codebook) -> Prepared:
    return _simple(GOOGLEFORMS, export)


# LimeSurvey ---------------------------------------------------------------------------------------
LIMESURVEY = Preset(
    "limesurvey", "LimeSurvey CSV: UTF-8 BOM, semicolon, id, submitdate, lastpage, startlanguage, …",
    detect=lambda e: ({"id", "submitdate"} <= _norms(e) and bool({"lastpage", "startlanguage"} & _norms(e)))
    or {"response id", "date submitted", "last page"} <= _norms(e),
    roles=_roles(
        ("respondent_id", ["id", "response id"]),
        ("submitted_at", ["submitdate", "date submitted"]),
        ("drop", ["lastpage", "startlanguage", "seed", "startdate", "datestamp", "interviewtime", "last page",
                  "start language", "date started", "date last action", "total time", "optout"]),
        ("personal_data", ["ipaddr", "ip address", "refurl", "referrer url", "token", "access code", "firstname",
                           "first name", "lastname", "last name", "email", "email address"]),
    ),
    prefixes=(("attribute_", "personal_data"), ("grouptime", "drop"), ("group time", "drop")),
)


def _prepare_limesurvey(export: Export, spec: WaveSpec, codebook: Codebook) -> Prepared:
    i = _column(export, lambda h: h in ("submitdate", "date submitted"))
    status = None
    if i is not None:
        status = export.frame.select(
            pl.when(pl.col(f"c{i}").is_null()).then(pl.lit(PARTIAL)).otherwise(pl.lit(COMPLETE)).alias("status")
        )["status"]
    return _simple(LIMESURVEY, export, status=status, status_column=export.headers[i] if i is not None else None)


# Qualtrics ----------------------------------------------------------------------------------------
QUALTRICS_TEST = {"survey preview", "survey test", "spam", "preview spam", "imported spam", "offline survey preview",
                  "1", "2", "8", "9", "12", "17"}
QUALTRICS = Preset(
    "qualtrics", "Qualtrics CSV: three header rows (export tag, question text, ImportId)",
    detect=lambda e: ("responseid" in _norms(e) and bool({"startdate", "finished", "recordeddate"} & _norms(e)))
    or any(v.lstrip().startswith('{"importid"') for v in (normalise_text(x) for x in _first_rows(e, 2))),
    roles=_roles(
        ("respondent_id", ["responseid", "response id", "_recordid"]),
        ("submitted_at", ["enddate", "end date"]),
        ("drop", ["startdate", "start date", "status", "response type", "progress", "duration (in seconds)",
                  "finished", "recordeddate", "recorded date", "distributionchannel", "distribution channel",
                  "userlanguage", "user language"]),
        ("personal_data", ["ipaddress", "ip address", "recipientlastname", "recipient last name",
                           "recipientfirstname", "recipient first name", "recipientemail", "recipient email",
                           "externalreference", "externaldatareference", "external data reference",
                           "locationlatitude", "location latitude", "locationlongitude", "location longitude"]),
    ),
    prefixes=(("q_", "drop"),),
)


def _first_rows(export: Export, n: int) -> list[str]:
    out = []
    for i in range(min(n, export.n_rows)):
        out += [v for v in export.row_values(i) if v]
    return out


def _prepare_qualtrics(export: Export, spec: WaveSpec, codebook: Codebook) -> Prepared:
    id_col = _column(export, lambda h: h in ("responseid", "response id", "_recordid"))
    texts = [[] for _ in export.headers]
    k = 0
    while k < min(2, export.n_rows):
        row = export.row_values(k)
        if any(v.lstrip().startswith('{"ImportId"') or v.lstrip().startswith("{'ImportId'") for v in row):
            k += 1
            continue
        if id_col is not None and normalise_text(row[id_col]) in ("response id", "responseid"):
            for i, v in enumerate(row):
                if v.strip():
                    texts[i].append(v.strip())
            k += 1
            continue
        break
    data = _drop_header_rows(export, k)
    alternates = tuple(tuple([h] + [t for t in texts[i] if t != h]) for i, h in enumerate(export.headers))
    status_col = _column(export, lambda h: h == "status")
    finished_col = _column(export, lambda h: h == "finished")
    status = None
    if finished_col is not None or status_col is not None:
        finished = pl.col(f"c{finished_col}").str.strip_chars() if finished_col is not None else pl.lit(None, pl.Utf8)
        finished_norm = finished.str.to_lowercase()
        test = (pl.col(f"c{status_col}").str.strip_chars().str.to_lowercase().is_in(sorted(QUALTRICS_TEST))
                if status_col is not None else pl.lit(False))
        status = data.frame.select(
            pl.when(test).then(pl.lit(TEST))
            .when(finished_norm.is_in(["1", "true"])).then(pl.lit(COMPLETE))
            .when(finished_norm.is_in(["0", "false"])).then(pl.lit(PARTIAL))
            .otherwise(finished).alias("status")
        )["status"]
    column = export.headers[finished_col] if finished_col is not None else None
    frame = apply_value_labels(data.frame, data.value_labels)
    return Prepared(export=replace(data, frame=frame), tool="qualtrics", alternates=alternates,
                    roles=_fixed_roles(QUALTRICS, list(alternates)), status=status, status_column=column,
                    notes=(f"{k} extra header row(s) read",))


# SurveyMonkey -------------------------------------------------------------------------------------
SM_GENERIC_SUB = {"response", "open-ended response", "svar", "åpent svar", "åbent svar", "åbne svar",
                  "fritekstsvar", "antwort"}
SURVEYMONKEY = Preset(
    "surveymonkey", "SurveyMonkey CSV: two header rows (question, then Response / option); Respondent ID",
    detect=lambda e: {"respondent id", "collector id"} <= _norms(e),
    roles=_roles(
        ("respondent_id", ["respondent id"]),
        ("submitted_at", ["end date"]),
        ("drop", ["collector id", "start date"]),
        ("personal_data", ["ip address", "email address", "first name", "last name"]),
    ),
    prefixes=(("custom data", "personal_data"),),
)


def _prepare_surveymonkey(export: Export, spec: WaveSpec, codebook: Codebook) -> Prepared:
    if export.n_rows == 0:
        raise ExportError(f"{export.path}: a SurveyMonkey export has two header rows, this one has only one; "
                          "export again with 'Expanded' columns")
    sub = export.row_values(0)
    data = _drop_header_rows(export, 1)
    alternates = []
    question = ""
    for i, h in enumerate(export.headers):
        question = h or question
        s = sub[i].strip()
        if not s or normalise_text(s) in SM_GENERIC_SUB or (h and not s):
            alternates.append((question,) if question else (f"(column {i + 1})",))
        else:
            alternates.append((f"{question} - {s}", s) if question else (s,))
    frame = apply_value_labels(data.frame, data.value_labels)
    return Prepared(export=replace(data, frame=frame), tool="surveymonkey", alternates=tuple(alternates),
                    roles=_fixed_roles(SURVEYMONKEY, alternates), notes=("1 extra header row read",))


# Registry -----------------------------------------------------------------------------------------
PRESETS: dict[str, tuple[Preset, Callable[[Export, WaveSpec, Codebook], Prepared]]] = {
    "surveyxact": (SURVEYXACT, _prepare_surveyxact),
    "qualtrics": (QUALTRICS, _prepare_qualtrics),
    "surveymonkey": (SURVEYMONKEY, _prepare_surveymonkey),
    "limesurvey": (LIMESURVEY, _prepare_limesurvey),
    "nettskjema": (NETTSKJEMA, _prepare_nettskjema),
    "msforms": (MSFORMS, _prepare_msforms),
    "googleforms": (GOOGLEFORMS, _prepare_googleforms),
    "generic": (GENERIC, _prepare_generic),
}
assert set(PRESETS) | {"auto"} == set(TOOLS), "waves.TOOLS and presets.PRESETS must name the same tools"


def detect(export: Export) -> str:
    """The tool whose header signature the export carries (generic when none does)."""
    for name, (preset, _) in PRESETS.items():
        if name != "generic" and preset.detect(export):
            return name
    return "generic"


def prepare(export: Export, spec: WaveSpec, codebook: Codebook) -> Prepared:
    tool = TOOL_ALIASES.get(spec.tool, spec.tool)
    detected = detect(export)
    if tool == "auto":
        tool = detected
    _, fn = PRESETS[tool]
    prepared = fn(export, spec, codebook)
    if detected not in (tool, "generic"):
        warning = f"wave.yaml says tool: {spec.tool}, but the headers look like a {detected} export"
        prepared = replace(prepared, notes=(warning, *prepared.notes))
    return prepared
