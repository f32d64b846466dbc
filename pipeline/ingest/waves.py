"""Wave folders on disk: <raw>/<wave>/wave.yaml plus one export file.

wave.yaml keys: label, invited, export (required: the export file as the tool wrote it), fielded, tool
(auto or a tool of TOOLS), sheet (workbook sheet), labels (SurveyXact labels table next to the export),
columns (header → item code, background variable or role), values (scale or background variable → {code or
label: category or group}), reconstruction, ignore (headers left out on purpose), completion (auto: the tool's
rule; all: every row is a complete response), panel_id
(the header of the column that names the same person in every wave of a panel, e.g. the e-mail address or employee
number of the invitation list: turned into a keyed pseudonym, the column itself dropped as personal data).

Everything here is checked before it is used: the folder name against WAVE_KEY (it becomes a Dagster
partition key and a value in every table, so no dots, quotes, spaces or control characters), file names
in wave.yaml against FILE_NAME (a plain name inside the wave folder), and each key's type. A wave.yaml
that breaks a rule ends in one WaveError naming the file, the key and what to write instead.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipeline.codebook import Codebook, normalise_text
from pipeline.ingest.privacy import strip_bidi

WAVE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")
# A file named in wave.yaml: one name inside the wave folder (no path, no leading dot, no control characters).
FILE_NAME = re.compile(r"^[^./\\\x00-\x1f\x7f][^/\\\x00-\x1f\x7f]{0,199}\Z")
MAX_WAVE_YAML_BYTES = 1 << 20
MAX_INVITED = 2**31 - 1
# Every key a wave.yaml may hold; any other key (a typo such as `colums:`) stops the wave.
WAVE_YAML_KEYS = (
    "wave",
    "label",
    "fielded",
    "invited",
    "export",
    "tool",
    "sheet",
    "labels",
    "columns",
    "values",
    "reconstruction",
    "panel_id",
    "ignore",
    "completion",
)
# wave.yaml `completion:` auto (the tool's rule, pipeline.ingest.presets.Completion) or all (the user states that the
# export holds only completed responses: every row counts as complete).
COMPLETION_CHOICES = ("auto", "all")
METADATA_ROLES = ("respondent_id", "submitted_at", "status", "drop", "personal_data")
# Survey tools with a preset (pipeline.ingest.presets); `auto` recognises each from its header signature.
TOOLS = (
    "auto",
    "generic",
    "surveyxact",
    "nettskjema",
    "msforms",
    "googleforms",
    "limesurvey",
    "qualtrics",
    "surveymonkey",
)
TOOL_ALIASES = {
    "csv": "generic",
    "excel": "generic",
    "xlsx": "generic",
    "spss": "generic",
    "sav": "generic",
    "microsoft_forms": "msforms",
    "ms_forms": "msforms",
    "google_forms": "googleforms",
}


class WaveError(ValueError):
    """A wave folder cannot be used; the message names the file and what to fix."""


@dataclass(frozen=True)
class WaveSpec:
    key: str
    folder: Path
    label: str
    fielded: dt.date | None
    invited: int
    export: str
    tool: str = "auto"
    sheet: str | None = None
    labels: str | None = None  # SurveyXact labels table (variable;code;label) next to the export
    columns: dict[str, str] = field(default_factory=dict)  # normalised header -> item code or role
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # scale -> {code: category}
    reconstruction: bool = False
    panel_id: str | None = None  # normalised header of the column naming the same person in every wave
    ignore: tuple[str, ...] = ()  # normalised headers the user deliberately leaves out (never read, not "unmapped")
    completion: str = "auto"  # auto: the tool's completion rule; all: every row is a complete response

    @property
    def export_path(self) -> Path:
        return self.folder / self.export

    @property
    def yaml_path(self) -> Path:
        return self.folder / "wave.yaml"


def is_wave_folder(folder: Path) -> bool:
    return folder.is_dir() and (folder / "wave.yaml").is_file() and not folder.name.startswith(".")


def discover_waves(raw_dir: Path) -> list[str]:
    """Wave keys under the raw folder, sorted: every folder holding a wave.yaml whose name is a valid wave key
    (the others are listed by invalid_wave_folders)."""
    if not raw_dir.is_dir():
        return []
    return sorted(p.name for p in raw_dir.iterdir() if is_wave_folder(p) and WAVE_KEY.match(p.name))


def invalid_wave_folders(raw_dir: Path) -> dict[str, str]:
    """Folders holding a wave.yaml whose name cannot be a wave key → the message saying what to rename."""
    if not raw_dir.is_dir():
        return {}
    out = {}
    for p in sorted(raw_dir.iterdir()):
        if is_wave_folder(p) and not WAVE_KEY.match(p.name):
            try:
                check_wave_key(p.name)
            except WaveError as exc:
                out[p.name] = f"{p}: {exc}; the folder was skipped"
    return out


def check_wave_key(key: str) -> str:
    if not WAVE_KEY.match(key):
        raise WaveError(
            f"wave folder name {key!r} is not allowed: use letters, digits, '-' and '_' (at most 64, no dots or quotes)"
        )
    return key


def leaves(path: Path, folder: Path) -> bool:
    """True when path (a link, or a path through one) resolves to a place outside folder: such a file is never read,
    so a link to /etc/shadow named export.csv cannot bring its content into a message, a table or the run history."""
    try:
        return not path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a loop of links
        return True


def refuse_outside(path: Path, folder: Path, what: str) -> None:
    """WaveError when `path` leaves `folder` through a link; the message names the link, never its target's content
    (nor the target: it may be a private path)."""
    if leaves(path, folder):
        raise WaveError(
            f"{path}: the {what} is a link to a place outside {folder}; it was not read. Copy the file itself into "
            "the folder"
            if what != "wave folder"
            else f"{path}: the wave folder is a link to a place outside {folder}; it was not read. Copy the folder "
            f"itself into {folder}"
        )


def load_wave(raw_dir: Path, key: str, codebook: Codebook) -> WaveSpec:
    check_wave_key(key)
    folder = raw_dir / key
    path = folder / "wave.yaml"
    refuse_outside(folder, raw_dir, "wave folder")
    refuse_outside(path, folder, "wave.yaml")
    if not path.is_file():
        raise WaveError(f"{path}: missing. Each wave folder needs a wave.yaml (see README, 'Adding a wave').")
    if path.stat().st_size > MAX_WAVE_YAML_BYTES:
        raise WaveError(
            f"{path}: {path.stat().st_size} bytes, more than a wave.yaml ever needs "
            f"({MAX_WAVE_YAML_BYTES}); is it the right file?"
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise WaveError(
            f"{path}: not valid YAML ({where}{shorten_text(problem, 200)}); fix the file and run again"
        ) from None
    if not isinstance(raw, dict):
        raise WaveError(f"{path}: expected keys like label, invited, export")

    def fail(msg: str) -> WaveError:
        return WaveError(f"{path}: {msg}")

    unknown = [k for k in raw if k not in WAVE_YAML_KEYS]
    if unknown:
        described = []
        for k in unknown:
            close = difflib.get_close_matches(str(k), WAVE_YAML_KEYS, n=1, cutoff=0.6)
            described.append(shorten_text(repr(k), 60) + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise fail(
            f"unknown key(s) {', '.join(described)}; the keys wave.yaml may hold are "
            f"{', '.join(WAVE_YAML_KEYS)}. Correct or remove them; the wave was not read"
        )

    def file_in_folder(name: object, key: str, what: str) -> str:
        if not isinstance(name, str) or not FILE_NAME.match(name):
            raise fail(
                f"{key}: {shorten_text(repr(name))} must name the {what} file inside the wave folder "
                "(a plain file name, no folder, not starting with a dot)"
            )
        refuse_outside(folder / name, folder, f"{what} file")
        try:
            there = (folder / name).is_file()
        except (OSError, ValueError):
            there = False
        if not there:
            raise fail(f"{key}: {name!r} is not in {folder}; copy the {what} file there or correct the name")
        return name

    def mapping(key: str) -> dict:
        value = raw.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise fail(f"{key}: expected a mapping (one `text: target` per line), not {type(value).__name__}")
        return value

    def scalar_text(value: object, where: str) -> str:
        if isinstance(value, (dict, list, set, tuple)):
            raise fail(f"{where}: {shorten_text(repr(value))} must be a single value, not a {type(value).__name__}")
        return str(value)

    if "wave" in raw and str(raw["wave"]) != key:
        raise fail(
            f"wave: {shorten_text(repr(raw['wave']))} does not match the folder name {key!r}; rename one of them"
        )
    invited = raw.get("invited")
    if isinstance(invited, bool) or not isinstance(invited, int) or not 0 <= invited <= MAX_INVITED:
        raise fail(f"invited: {shorten_text(repr(invited))} must be a whole number (how many were invited)")
    export = file_in_folder(raw.get("export"), "export", "export")
    tool = scalar_text(raw.get("tool", "auto"), "tool").strip().lower()
    if tool not in TOOLS and tool not in TOOL_ALIASES:
        raise fail(
            f"tool: {shorten_text(repr(raw.get('tool')))} is not a known survey tool; use one of {', '.join(TOOLS)}"
        )
    sheet = raw.get("sheet")
    if sheet is not None and (not isinstance(sheet, str) or not sheet.strip()):
        raise fail(f"sheet: {shorten_text(repr(sheet))} must name a sheet of the workbook")
    labels = raw.get("labels")
    if labels is not None:
        labels = file_in_folder(labels, "labels", "labels")
    fielded = raw.get("fielded")
    if isinstance(fielded, dt.datetime):
        fielded = fielded.date()
    elif fielded is not None and not isinstance(fielded, dt.date):
        try:
            fielded = dt.date.fromisoformat(scalar_text(fielded, "fielded"))
        except ValueError:
            raise fail(f"fielded: {shorten_text(repr(fielded))} must be a date like 2024-05-31") from None
    reconstruction = raw.get("reconstruction", False)
    if not isinstance(reconstruction, bool):
        raise fail(f"reconstruction: {shorten_text(repr(reconstruction))} must be true or false")

    columns: dict[str, str] = {}
    for header, target in mapping("columns").items():
        target = scalar_text(target, f"columns: {shorten_text(repr(header))}")
        if target not in codebook.items and target not in METADATA_ROLES and target not in codebook.background:
            raise fail(
                f"columns: {shorten_text(repr(header))} → {shorten_text(repr(target))} is neither an item code "
                f"({', '.join(codebook.items)}), a background variable ({', '.join(codebook.background) or 'none'}) "
                f"nor a role ({', '.join(METADATA_ROLES)})"
            )
        columns[normalise_text(scalar_text(header, "columns"))] = target

    panel_id = raw.get("panel_id")
    if panel_id is not None:
        if not isinstance(panel_id, str) or not panel_id.strip():
            raise fail(
                f"panel_id: {shorten_text(repr(panel_id))} must name one header of the export (the column that "
                "identifies the same person in every wave, e.g. the e-mail address of the invitation list)"
            )
        panel_id = normalise_text(panel_id)
        if panel_id in columns:
            raise fail(
                f"panel_id: {shorten_text(repr(raw['panel_id']))} is also mapped in columns (to "
                f"{columns[panel_id]}); a panel id column is only read as the panel id: remove one of them"
            )

    ignore_raw = raw.get("ignore")
    if ignore_raw is None:
        ignore_raw = []
    if not isinstance(ignore_raw, list) or not all(isinstance(h, (str, int, float)) for h in ignore_raw):
        raise fail(
            f"ignore: {shorten_text(repr(ignore_raw))} must be a list of export headers, one per line (`- Header`): "
            "the headers left out on purpose"
        )
    ignore = tuple(normalise_text(str(h)) for h in ignore_raw)
    both = [h for h in ignore if h in columns]
    if both:
        raise fail(
            f"ignore: {', '.join(map(repr, both))} also mapped in columns; a header is either mapped or ignored: "
            "remove one of them"
        )
    completion = scalar_text(raw.get("completion", "auto"), "completion").strip().lower()
    if completion not in COMPLETION_CHOICES:
        raise fail(
            f"completion: {shorten_text(repr(raw.get('completion')))} must be auto (the survey tool's rule) or all "
            "(the export holds only completed responses: every row counts as complete)"
        )

    values: dict[str, dict[str, str]] = {}
    for scale, codes in mapping("values").items():
        if not isinstance(scale, str) or (scale not in codebook.scales and scale not in codebook.background):
            raise fail(
                f"values: unknown scale {shorten_text(repr(scale))}; scales are {', '.join(codebook.scales)}"
                + (f", background variables {', '.join(codebook.background)}" if codebook.background else "")
            )
        if codes is not None and not isinstance(codes, dict):
            raise fail(f"values: {scale}: expected a mapping (`code: category` per line), not {type(codes).__name__}")
        categories = (
            codebook.scales[scale].categories if scale in codebook.scales else codebook.background[scale].groups
        )
        keys = {c.key for c in categories}
        values[scale] = {}
        for code, cat in (codes or {}).items():
            if isinstance(cat, bool) and {"yes", "no"} <= keys:  # YAML 1.1 reads an unquoted yes/no as true/false
                cat = "yes" if cat else "no"
            if not isinstance(cat, str) or cat not in keys:
                raise fail(
                    f"values: {scale}: {shorten_text(repr(code))} → {shorten_text(repr(cat))} is not a category "
                    f"({', '.join(sorted(keys))})"
                )
            values[scale][normalise_text(scalar_text(code, f"values: {scale}"))] = cat

    return WaveSpec(
        key=key,
        folder=folder,
        label=strip_bidi(scalar_text(raw.get("label", key), "label")),
        fielded=fielded,
        invited=invited,
        export=export,
        tool=tool,
        sheet=sheet,
        labels=labels,
        columns=columns,
        values=values,
        reconstruction=reconstruction,
        panel_id=panel_id,
        ignore=ignore,
        completion=completion,
    )


def time_order(fielded: dict[str, dt.date | None]) -> list[str]:
    """Wave keys in time order: by fielded date (undated waves last), then wave key, as marts.wave_pairs orders
    them. fielded: wave key → its wave.yaml `fielded` date."""
    return sorted(fielded, key=lambda w: (fielded[w] is None, fielded[w] or dt.date.min, w))


def shorten_text(text: str, limit: int = 200) -> str:
    """A value's text for a message, cut to about limit characters."""
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
