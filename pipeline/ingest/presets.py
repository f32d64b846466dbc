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
| surveyxact   | three or more `statoverall_N`/`stato_N` dummies, `respondentid` + `statoverall`, a workbook with sheets Dataset + Labels, or (no other signature) a labels table named in wave.yaml / labels + structure files beside the export | 1 |
| qualtrics    | `ResponseId` + `StartDate`/`Finished`, an `{"ImportId": …}` row, or the legacy `V1,V2,V3…` tags over a `ResponseID` label row | 3 (or 2) |
| surveymonkey | `Respondent ID` + `Collector ID` (spaces or not)         | 2           |
| limesurvey   | `id` + `submitdate` + `lastpage`/`startlanguage`        | 1           |
| nettskjema   | `$submission_id` / `$created` / `$answer_time_ms`, or the older `NR`, `Opprettet`, `Endret` | 1 |
| msforms      | `ID, Start time, Completion time` first                 | 1           |
| googleforms  | `Timestamp` first                                       | 1           |
| generic      | anything else (headers matched to the codebook)         | 1           |

Id scope (`Preset.id_scope`): every tool above numbers responses per survey (SurveyXact `respondentid`, Qualtrics
`ResponseId`, SurveyMonkey `Respondent ID`, LimeSurvey `id`, Nettskjema `$submission_id`/`NR`, Microsoft Forms `ID`,
Google Forms none; a generic export's id may be a row counter), so none links waves by itself: a panel is
followed only through wave.yaml `panel_id` (pipeline.ingest.normalise.panel_keys).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from pipeline.codebook import Codebook, normalise_text
from pipeline.ingest.headings import CODETEXT, load_headings, tool_headings
from pipeline.ingest.readers import ROW, Export, ExportError, read_sheet_rows, read_table_rows
from pipeline.ingest.waves import TOOL_ALIASES, TOOLS, WaveError, WaveSpec, leaves

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
    labels_source: str | None = None  # the tool's labels table read (its codes explain the cells), for messages
    option_of: dict[int, str] = field(default_factory=dict)  # column index → question it is one option of

    @property
    def headers(self) -> list[str]:
        return [a[0] for a in self.alternates]


@dataclass(frozen=True)
class Completion:
    """How a tool decides complete / partial / not a response, stated for `make inspect`, the run summary and the
    `waves` mart (pipeline.ingest.normalise.completion_status applies it). field: the role of the completion field
    ("status": its values decide; "submitted_at": a filled one means submitted; None: the tool has no such field).
    expected: the tool's export normally carries the field, so a wave without it stops and names what to map
    (rather than counting every row as complete). describe: the rule, with {column} for the field's header.
    field_names: how the tool heads the field, for the message when it is missing. without: the rule when the tool
    has no completion field."""

    field: str | None
    expected: bool
    describe: str = ""
    field_names: str = ""
    without: str = ""

    def __post_init__(self) -> None:
        assert self.field in ("status", "submitted_at", None), self.field
        assert self.field is not None or self.without, "a tool without a completion field must say what counts"
        assert not self.expected or self.field_names, "an expected field must be named for the message"


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    detect: Callable[[Export], bool]
    completion: Completion
    # What the tool's respondent id names: "response" (one response in one survey: a counter or a token the tool
    # issues per survey, so the same id in two waves is not the same person) or "person" (the same person in
    # every survey the tool runs). Only a "person" id links waves without wave.yaml `panel_id`.
    id_scope: str = "response"

    def __post_init__(self) -> None:
        assert self.id_scope in ("response", "person"), self.id_scope

    def role_of(self, header: str) -> str | None:
        """The role the tool gives a heading (pipeline/ingest/headings.yaml, every language the tool exports in)."""
        if self.name not in load_headings():
            return None
        role = tool_headings(self.name).role_of(header)
        return {"started_at": "drop", "submitted_at_legacy": "submitted_at"}.get(role, role)


def _norms(export: Export) -> set[str]:
    return {normalise_text(h) for h in export.headers}


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


def _simple(
    preset: Preset,
    export: Export,
    *,
    status: pl.Series | None = None,
    status_column: str | None = None,
    notes: tuple[str, ...] = (),
) -> Prepared:
    alternates = _generic_alternates(export)
    frame = apply_value_labels(export.frame, export.value_labels)
    return Prepared(
        export=replace(export, frame=frame),
        tool=preset.name,
        alternates=tuple(alternates),
        roles=_fixed_roles(preset, alternates),
        status=status,
        status_column=status_column,
        notes=notes,
    )


def _column(export: Export, predicate: Callable[[str], bool]) -> int | None:
    for i, h in enumerate(export.headers):
        if predicate(normalise_text(h)):
            return i
    return None


# Generic ------------------------------------------------------------------------------------------
GENERIC = Preset(
    "generic",
    "any export whose headers are codebook codes or question texts",
    id_scope="response",  # a generic id column may be a row counter
    detect=lambda e: True,
    completion=Completion(
        "status",
        expected=False,
        describe="`{column}`: its values decide (codebook status_values; a blank status counts as complete)",
        without="every row: the export has no status column (map one to status, or the submission time to "
        "submitted_at, in wave.yaml columns if it holds partial responses)",
    ),
)


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
    4: [
        "fullført",
        "gjennomført",
        "gjennomfort",
        "gennemført",
        "completed",
        "complete",
        "besvart",
        "besvaret",
        "færdig",
    ],
    5: ["frafalt", "frafaldet", "dropped out", "avbrutt", "afbrudt"],
}
ON = {"1", "true", "yes", "ja", "x"}


def _sx_detect(e: Export) -> bool:
    """SurveyXact: its status dummies (stato_1..5 / statoverall_1..5, at least three of them; real datasets may
    lack `respondentid`), its overall status column `statoverall` (also in its SPSS export), `respondentid` with
    a status column, or a workbook with Dataset and Labels sheets."""
    norms = _norms(e)
    dummies = {h for h in norms if SX_STATUS.match(h)}
    return (
        len(dummies) >= 3
        or "statoverall" in norms
        or ("respondentid" in norms and any(h in SX_STATUS_SINGLE for h in norms))
        or {"dataset", "labels"} <= {s.strip().casefold() for s in e.sheets}
    )


SURVEYXACT = Preset(
    "surveyxact",
    "SurveyXact dataset (codes) + labels table (+ structure), or workbook with Dataset/Labels/Structure",
    id_scope="response",  # respondentid numbers the respondents of one survey
    detect=_sx_detect,
    completion=Completion(
        "status",
        expected=False,
        describe="SurveyXact: `{column}` 4 (completed) = complete, 3 and 5 = partial, 1 and 2 (invited, never "
        "answered) not responses",
        field_names="the status dummies statoverall_1..statoverall_5 (stato_1..stato_5) or statoverall",
        without="every row: the dataset has no status columns (statoverall_1..5); export them with the dataset, or map "
        "a status column in wave.yaml columns, if it holds partial responses",
    ),
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
    # SurveyXact's own header: questionName, variableName, questionType, subType, questionText, choiceValue, choiceText
    var_words = {"variablename", "variable", "variabel", "variable name", "variabelnavn", "name", "navn", "kode"}
    text_words = {
        "questiontext",
        "label",
        "text",
        "tekst",
        "question",
        "spørgsmål",
        "spørsmål",
        "variable label",
        "variabeltekst",
        "etiket",
        "spørgsmålstekst",
        "spørsmålstekst",
        "beskrivelse",
        "description",
    }
    var_col, text_col, start, choice_col = 0, 1, 0, None
    for r, row in enumerate(rows[:5]):
        norms = [normalise_text(c) for c in row]
        v = (
            norms.index("variablename")
            if "variablename" in norms
            else next((i for i, c in enumerate(norms) if c in var_words), None)
        )
        t = (
            norms.index("questiontext")
            if "questiontext" in norms
            else next((i for i, c in enumerate(norms) if c in text_words), None)
        )
        if v is not None and t is not None:
            var_col, text_col, start = v, t, r + 1
            choice_col = norms.index("choicetext") if "choicetext" in norms else None
            break
    out = {}
    for row in rows[start:]:
        if len(row) > max(var_col, text_col) and row[var_col] and row[text_col]:
            text = row[text_col]
            # A dummy of a multiple-choice question: "question - option" (the option alone is not the question)
            if choice_col is not None and len(row) > choice_col and row[choice_col]:
                text = f"{text} - {row[choice_col]}"
            out.setdefault(normalise_text(row[var_col]), text)
    return out


def _side_file(spec: WaveSpec, word: str) -> Path | None:
    """The one text file beside the export whose name holds `word` (labels, structure), or None."""
    candidates = sorted(
        p
        for p in spec.folder.iterdir()
        if p.is_file()
        and not leaves(p, spec.folder)  # a link out of the wave folder is never read
        and p.name != spec.export
        and word in p.name.casefold()
        and p.suffix.lower() in (".csv", ".txt", ".tsv")
    )
    return candidates[0] if len(candidates) == 1 else None


def _find_labels_file(spec: WaveSpec) -> Path | None:
    if spec.labels:
        return spec.folder / spec.labels
    return _side_file(spec, "label")


def has_surveyxact_side_files(spec: WaveSpec) -> bool:
    """A labels table named in wave.yaml, or a labels file (and maybe a structure file) beside the export: the
    cells are codes that only those labels explain, as in SurveyXact's set."""
    return bool(spec.labels) or _side_file(spec, "label") is not None


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
            SX_STATE[int(x[0])]
            if len(x) == 1
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
                raise WaveError(
                    f"{spec.yaml_path}: labels: {spec.labels!r} is not in {spec.folder}; copy the "
                    "SurveyXact labels file there or correct the name"
                )
            labels = _parse_labels(read_table_rows(path))
            notes.append(f"labels from {path.name}: {len(labels)} variables")
        structure_path = _side_file(spec, "structure")
        if structure_path is not None:
            structure = _parse_structure(read_table_rows(structure_path))
            notes.append(f"question texts from {structure_path.name}: {len(structure)} variables")
    codes_need_labels = not labels and not export.value_labels
    source = None
    if labels:
        source = (
            f"sheet {_sheet_named(export, 'labels')!r}"
            if export.format == "xlsx" and _sheet_named(export, "labels")
            else _find_labels_file(spec).name
        )
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
    return Prepared(
        export=replace(export, frame=frame, value_labels=value_labels),
        tool="surveyxact",
        alternates=tuple(alternates),
        roles=_fixed_roles(SURVEYXACT, alternates),
        status=status,
        status_column=status_column,
        notes=tuple(notes),
        codes_need_labels=codes_need_labels,
        labels_source=source,
    )


# Nettskjema ---------------------------------------------------------------------------------------
NETTSKJEMA_SYSTEM = ("$submission_id", "$created", "$answer_time_ms")
NETTSKJEMA_PERSONAL = (
    "name",
    "navn",
    "mail",
    "e-post",
    "epost",
    "ip",
    "username",
    "brukernavn",
    "fnr",
    "fødselsnummer",
    "person",
    "phone",
    "telefon",
)


# The older export (until about 2019): tab-separated .txt, NR, then contact fields of the invitation list,
# the questions, and Svartid (answer time) last.
NETTSKJEMA_LEGACY = ("nr", "opprettet", "endret")


class _NettskjemaPreset(Preset):
    def role_of(self, header: str) -> str | None:
        role = super().role_of(header)
        norm = normalise_text(header)
        if role is not None or not norm.startswith("$"):
            return role
        return "personal_data" if any(w in norm for w in NETTSKJEMA_PERSONAL) else "drop"


NETTSKJEMA = _NettskjemaPreset(
    "nettskjema",
    "Nettskjema (UiO): semicolon CSV with $-system columns, or the older tab-separated .txt "
    "(NR, E-post, Opprettet, Endret, contact fields, questions, Svartid)",
    id_scope="response",  # $submission_id / NR number the submissions of one form
    detect=lambda e: bool(_norms(e) & set(NETTSKJEMA_SYSTEM)) or set(NETTSKJEMA_LEGACY) <= _norms(e),
    completion=Completion(
        None,
        expected=False,
        without="every row: Nettskjema stores only submitted forms",
    ),
)


def _prepare_nettskjema(export: Export, spec: WaveSpec, codebook: Codebook) -> Prepared:
    return _simple(NETTSKJEMA, export)


# Microsoft Forms ----------------------------------------------------------------------------------
def _msforms_detect(e: Export) -> bool:
    """ID, then the start time and the completion time, in any language of headings.yaml."""
    if len(e.headers) < 3 or normalise_text(e.headers[0]) != "id":
        return False
    headings = tool_headings("msforms")
    return headings.role_of(e.headers[1]) == "started_at" and headings.role_of(e.headers[2]) == "submitted_at"


MSFORMS = Preset(
    "msforms",
    "Microsoft Forms .xlsx: ID, Start time, Completion time, Email, Name, [Last modified time]",
    id_scope="response",  # ID counts the responses of one form: 1, 2, 3, …
    detect=_msforms_detect,
    completion=Completion(
        None,
        expected=False,
        without="every row: Microsoft Forms stores only submitted forms",
    ),
)


def _prepare_msforms(export: Export, spec: WaveSpec, codebook: Codebook) -> Prepared:
    return _simple(MSFORMS, export)


# Google Forms -------------------------------------------------------------------------------------
GOOGLEFORMS = Preset(
    "googleforms",
    "Google Forms CSV: Timestamp, [Email Address], question texts",
    id_scope="response",  # no respondent id at all
    # the first heading is the submission time ("Timestamp", "Tidsmerke", "Marca temporal", "Horodateur", …)
    detect=lambda e: bool(e.headers) and tool_headings("googleforms").role_of(e.headers[0]) == "submitted_at",
    completion=Completion(
        None,
        expected=False,
        without="every row: Google Forms stores only submitted forms",
    ),
)


def _prepare_googleforms(export: Export, spec: WaveSpec, codebook: Codebook) -> Prepared:
    return _simple(GOOGLEFORMS, export)


# LimeSurvey ---------------------------------------------------------------------------------------
LIMESURVEY = Preset(
    "limesurvey",
    "LimeSurvey CSV/Excel/SPSS: id, submitdate, lastpage, startlanguage, seed, … as codes, as text in the survey's "
    "language (Antwort ID, Datum Abgeschickt, Letzte Seite, …), abbreviated, or as code. text",
    id_scope="response",  # id counts the responses of one survey: 1, 2, 3, …
    detect=lambda e: _limesurvey_detect(e),  # defined below, with the reader
    completion=Completion(
        "submitted_at",
        expected=True,
        describe="LimeSurvey: `{column}` filled = complete (1980-01-01 too: a submitted response of an anonymised "
        "survey), empty = partial",
        field_names="the submit date (submitdate; Date submitted, Datum Abgeschickt, Datum verzonden, Dato for "
        "besvarelse, Dato for indsendelse, Date de soumission, Fecha de envío, … in the survey's language)",
    ),
)


def _prepare_limesurvey(export: Export, spec: WaveSpec, codebook: Codebook) -> Prepared:
    """The headings as any language writes them (headings.yaml); LimeSurvey <= 2.00 headed the submit date
    "Completed" ("Abgeschlossen", "Voltooid", …), later versions use that word for a participant table's column:
    it is the submit date only where no "Date submitted" heading is there. Completeness is decided from the roles
    (pipeline.ingest.normalise.completion_status), so a submit-date column mapped in wave.yaml counts too."""
    prepared = _simple(LIMESURVEY, export)
    headings = tool_headings("limesurvey")
    raw = {i: headings.role_of(t) for i, texts in enumerate(prepared.alternates) for t in texts[:1]}
    if any(role == "submitted_at" for role in raw.values()):
        roles = dict(prepared.roles)
        for i, role in raw.items():
            if role == "submitted_at_legacy":
                roles[i] = "drop"
        prepared = replace(prepared, roles=roles)
    return prepared


LS_SIGNATURE = {"id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp", "completed"}


def _limesurvey_detect(e: Export) -> bool:
    """Three of LimeSurvey's metadata columns (the response id, submit date, last page, start language, seed, start
    and last-action dates; in any language, as codes, abbreviated or as code. text), one of them the last page or
    the start language; or a "code. text" heading of one of them (the codetext style)."""
    headings = tool_headings("limesurvey")
    found = {headings.column_of(h) for h in e.headers} & LS_SIGNATURE
    if len(found) >= 3 and found & {"lastpage", "startlanguage"}:
        return True
    return any(
        (m := CODETEXT.match(normalise_text(h))) is not None and m.group(1) in LS_SIGNATURE - {"completed"}
        for h in e.headers
    )


# Qualtrics ----------------------------------------------------------------------------------------
QUALTRICS_TEST = {
    "survey preview",
    "survey test",
    "spam",
    "preview spam",
    "survey preview spam",
    "ex spam",
    "40",
    "imported spam",
    "offline survey preview",
    "1",
    "2",
    "8",
    "9",
    "12",
    "17",
}
IMPORT_ID = re.compile(r"""^\s*\{\s*["']ImportId["']\s*:\s*["']([^"']*)["']""")


def _import_id_row(row: list[str]) -> list[str] | None:
    """The ImportId values of Qualtrics' third header row ({"ImportId":"QID1"}), or None if row is not it."""
    ids = [IMPORT_ID.match(v) for v in row]
    if sum(1 for m in ids if m) * 2 < max(1, sum(1 for v in row if v.strip())):
        return None
    return [m.group(1) if m else "" for m in ids]


def _qualtrics_legacy(e: Export) -> bool:
    """The legacy layout: export tags V1, V2, V3 … then one label row starting ResponseID, ResponseSet."""
    heads = [normalise_text(h) for h in e.headers[:3]]
    if heads != ["v1", "v2", "v3"] or e.n_rows == 0:
        return False
    first = [normalise_text(v) for v in e.row_values(0)[:2]]
    return first[0] in ("responseid", "response id") or first[1:] == ["responseset"]


def _qualtrics_detect(e: Export) -> bool:
    norms = _norms(e)
    return (
        ("responseid" in norms and bool({"startdate", "finished", "recordeddate"} & norms))
        or any(_import_id_row(e.row_values(i)) for i in range(min(2, e.n_rows)))
        or _qualtrics_legacy(e)
    )


QUALTRICS = Preset(
    "qualtrics",
    'Qualtrics CSV: export tags, question texts (any language), {"ImportId": …} row; or the legacy '
    "layout (V1…V10 tags, then a label row)",
    id_scope="response",  # ResponseId (R_…) is issued per response
    detect=_qualtrics_detect,
    completion=Completion(
        "status",
        expected=True,
        describe="Qualtrics: `{column}` 1/True = complete, 0/False = partial; previews, tests and spam (Status) "
        "left out",
        field_names="Finished (Beendet)",
    ),
)


def _first_rows(export: Export, n: int) -> list[str]:
    out = []
    for i in range(min(n, export.n_rows)):
        out += [v for v in export.row_values(i) if v]
    return out


def _column_with(alternates: list[tuple[str, ...]], names: tuple[str, ...]) -> int | None:
    """The first column any of whose texts (tag, label, ImportId) is one of names (normalised)."""
    for i, texts in enumerate(alternates):
        if any(normalise_text(t) in names for t in texts):
            return i
    return None


def _prepare_qualtrics(export: Export, spec: WaveSpec, codebook: Codebook) -> Prepared:
    """Header rows are found by their shape, whatever the language of the label row: the ImportId row (in
    the first two rows) ends the header, the rows above it are labels; in the legacy layout (V1…V10 tags)
    the first row is the label row. Tags and labels are the texts a column can be matched by."""
    texts: list[list[str]] = [[] for _ in export.headers]
    legacy = _qualtrics_legacy(export)
    k = 0
    if legacy:
        for i, v in enumerate(export.row_values(0)):
            if v.strip():
                texts[i].append(v.strip())
        k = 1
    else:
        for j in range(min(2, export.n_rows)):
            ids = _import_id_row(export.row_values(j))
            if ids is None:
                continue
            for r in range(j):
                for i, v in enumerate(export.row_values(r)):
                    if v.strip():
                        texts[i].append(v.strip())
            k = j + 1  # the ImportIds (QID1, _recordId) are not texts to match: the tags name the same
            break
        else:
            id_col = _column(export, lambda h: h in ("responseid", "response id", "_recordid"))
            if (
                export.n_rows
                and id_col is not None
                and normalise_text(export.row_values(0)[id_col]) in ("response id", "responseid")
            ):
                texts = [[v.strip()] if v.strip() else [] for v in export.row_values(0)]
                k = 1
    data = _drop_header_rows(export, k)
    if legacy:  # the label is the name users know (V1 → ResponseID); the tag stays a text to match
        alternates = [tuple([*texts[i], h] if texts[i] else [h]) for i, h in enumerate(export.headers)]
    else:
        alternates = [tuple([h] + [t for t in texts[i] if t != h]) for i, h in enumerate(export.headers)]
    status_col = _column_with(alternates, ("status",))
    finished_col = _column_with(alternates, ("finished",))
    status = None
    if finished_col is not None:  # without Finished, completeness is unknown: the wave stops (Completion.expected)
        finished = pl.col(f"c{finished_col}").str.strip_chars()
        finished_norm = finished.str.to_lowercase()
        test = (
            pl.col(f"c{status_col}").str.strip_chars().str.to_lowercase().is_in(sorted(QUALTRICS_TEST))
            if status_col is not None
            else pl.lit(False)
        )
        status = data.frame.select(
            pl.when(test)
            .then(pl.lit(TEST))
            .when(finished_norm.is_in(["1", "true"]))
            .then(pl.lit(COMPLETE))
            .when(finished_norm.is_in(["0", "false"]))
            .then(pl.lit(PARTIAL))
            .otherwise(finished)
            .alias("status")
        )["status"]
    column = alternates[finished_col][0] if finished_col is not None else None
    frame = apply_value_labels(data.frame, data.value_labels)
    layout = "legacy layout (V1…V10 tags + label row)" if legacy else "export tags"
    return Prepared(
        export=replace(data, frame=frame),
        tool="qualtrics",
        alternates=tuple(alternates),
        roles=_fixed_roles(QUALTRICS, alternates),
        status=status,
        status_column=column,
        notes=(f"{layout}; {k} extra header row(s) read",),
    )


# SurveyMonkey -------------------------------------------------------------------------------------
SM_GENERIC_SUB = {
    "response",
    "open-ended response",
    "svar",
    "åpent svar",
    "åbent svar",
    "åbne svar",
    "fritekstsvar",
    "antwort",
}
SURVEYMONKEY = Preset(
    "surveymonkey",
    "SurveyMonkey CSV: two header rows (question, then Response / option); Respondent ID + "
    "Collector ID (or RespondentID + CollectorID in older exports)",
    id_scope="response",  # Respondent ID is issued per response
    detect=lambda e: {"respondentid", "collectorid"} <= {h.replace(" ", "") for h in _norms(e)},
    completion=Completion(
        None,
        expected=False,
        without="every row: SurveyMonkey's export has no completion field (export only completed responses to leave "
        "partial ones out)",
    ),
)


SM_HTML_TAIL = re.compile(r"\s*<br\s*/?>.*$", re.IGNORECASE | re.DOTALL)


def _option_label(sub: str) -> str:
    """An option's text as the answer it stands for: "Yes<br />Please explain …" → "Yes"."""
    return SM_HTML_TAIL.sub("", sub).strip()


def _option_groups(export: Export, questions: list[str], subs: list[str]) -> list[list[int]]:
    """Runs of columns of one question whose cells hold their own option text (SurveyMonkey writes a one-choice
    or checkbox question as one column per option, the chosen option's text in it). A matrix (one column per
    statement, answers in the cells) is not a group: its cells are not the column's own text."""
    groups: list[list[int]] = []
    i = 0
    while i < len(questions):
        j = i
        while j + 1 < len(questions) and questions[j + 1] == questions[i] and not export.headers[j + 1]:
            j += 1
        run = [k for k in range(i, j + 1) if subs[k] and normalise_text(subs[k]) not in SM_GENERIC_SUB]
        if len(run) >= 2:
            own = 0
            for k in run:
                values = export.frame.get_column(f"c{k}").drop_nulls().str.strip_chars().unique().to_list()
                if values and all(
                    normalise_text(v) in (normalise_text(subs[k]), normalise_text(_option_label(subs[k])))
                    for v in values
                ):
                    own += 1
            if own:
                groups.append(run)
        i = j + 1
    return groups


def _prepare_surveymonkey(export: Export, spec: WaveSpec, codebook: Codebook) -> Prepared:
    """Two header rows: the question (written once, over its first column) and the option / statement / "Response".
    A question written as one column per option also gets one combined column, headed by the question, that
    holds the chosen option's text (several chosen: joined with " + ", quarantined if mapped to a closed item);
    mapping one option column to an item stops the wave (it holds only the people who chose that option)."""
    if export.n_rows == 0:
        raise ExportError(
            f"{export.path}: a SurveyMonkey export has two header rows, this one has only one; "
            "export again with 'Expanded' columns"
        )
    sub = [v.strip() for v in export.row_values(0)]
    data = _drop_header_rows(export, 1)
    alternates = []
    questions = []
    question = ""
    for i, h in enumerate(export.headers):
        question = h or question
        questions.append(question)
        s = sub[i]
        if not s or normalise_text(s) in SM_GENERIC_SUB or (h and not s):
            alternates.append((question,) if question else (f"(column {i + 1})",))
        else:
            alternates.append((f"{question} - {s}", s) if question else (s,))
    frame = apply_value_labels(data.frame, data.value_labels)
    options: dict[int, str] = {}
    combined = []
    for run in _option_groups(data, questions, sub):
        labels = [(f"c{k}", _option_label(sub[k])) for k in run]
        chosen = pl.concat_list(
            [pl.when(pl.col(name).is_not_null()).then(pl.lit(label)).otherwise(None) for name, label in labels]
        ).list.drop_nulls()
        index = len(export.headers) + len(combined)
        combined.append(pl.when(chosen.list.len() > 0).then(chosen.list.join(" + ")).otherwise(None).alias(f"c{index}"))
        alternates.append((questions[run[0]],))
        for k in run:
            options[k] = questions[run[0]]
    notes = ["1 extra header row read"]
    if combined:
        frame = frame.with_columns(combined).select(*[f"c{i}" for i in range(len(alternates))], ROW)
        notes.append(
            f"{len(combined)} question(s) written one column per option: each read as one column "
            "holding the chosen option"
        )
    data = replace(data, frame=frame, headers=[a[0] for a in alternates])
    return Prepared(
        export=data,
        tool="surveymonkey",
        alternates=tuple(alternates),
        roles=_fixed_roles(SURVEYMONKEY, alternates),
        notes=tuple(notes),
        option_of=options,
    )


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


def detect(export: Export, spec: WaveSpec | None = None) -> str:
    """The tool whose header signature the export carries; else SurveyXact when its side files are there (a
    labels table named in wave.yaml, or labels and structure files beside the export); else generic."""
    return detect_why(export, spec)[0]


def detect_why(export: Export, spec: WaveSpec | None = None) -> tuple[str, str]:
    """(tool, why): the tool detect() finds and the signature that decided it, for `make inspect`."""
    for name, (preset, _) in PRESETS.items():
        if name != "generic" and preset.detect(export):
            return name, f"header signature of {preset.title}"
    if spec is not None and has_surveyxact_side_files(spec):
        return "surveyxact", "no tool's header signature, but a labels table (SurveyXact's set) beside the export"
    return "generic", "no tool's header signature: headers matched to the codebook"


def prepare(export: Export, spec: WaveSpec, codebook: Codebook) -> Prepared:
    tool = TOOL_ALIASES.get(spec.tool, spec.tool)
    detected = detect(export, spec)
    if tool == "auto":
        tool = detected
    if spec.labels and tool != "surveyxact":
        raise WaveError(
            f"{spec.yaml_path}: labels: {spec.labels!r} names a SurveyXact labels table, but the export is read as "
            f"{tool} ({'tool: ' + spec.tool if spec.tool != 'auto' else 'detected'}), which would not use it. Set "
            "`tool: surveyxact` if this is a SurveyXact dataset, or remove `labels:`; the wave was not read"
        )
    _, fn = PRESETS[tool]
    prepared = fn(export, spec, codebook)
    if detected not in (tool, "generic"):
        warning = f"wave.yaml says tool: {spec.tool}, but the headers look like a {detected} export"
        prepared = replace(prepared, notes=(warning, *prepared.notes))
    return prepared
