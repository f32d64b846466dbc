"""Wave folders on disk: <raw>/<wave>/wave.yaml plus one export file.

wave.yaml keys: label, invited, export (required: the export file as the tool wrote it), fielded, tool
(auto or a tool of TOOLS), sheet (workbook sheet), labels (SurveyXact labels table next to the export),
columns (header → item code or role), values (scale → {code or label: category}), reconstruction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipeline.codebook import Codebook, normalise_text

WAVE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
METADATA_ROLES = ("respondent_id", "submitted_at", "status", "drop", "personal_data")
# Survey tools with a preset (pipeline.presets); `auto` recognises each from its header signature.
TOOLS = ("auto", "generic", "surveyxact", "nettskjema", "msforms", "googleforms", "limesurvey", "qualtrics",
         "surveymonkey")
TOOL_ALIASES = {"csv": "generic", "excel": "generic", "xlsx": "generic", "spss": "generic", "sav": "generic",
                "microsoft_forms": "msforms", "ms_forms": "msforms", "google_forms": "googleforms"}


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

    @property
    def export_path(self) -> Path:
        return self.folder / self.export

    @property
    def yaml_path(self) -> Path:
        return self.folder / "wave.yaml"


def is_wave_folder(folder: Path) -> bool:
    return folder.is_dir() and (folder / "wave.yaml").is_file() and not folder.name.startswith(".")


def discover_waves(raw_dir: Path) -> list[str]:
    """Wave keys under the raw folder, sorted: every folder holding a wave.yaml."""
    if not raw_dir.is_dir():
        return []
    return sorted(p.name for p in raw_dir.iterdir() if is_wave_folder(p))


def check_wave_key(key: str) -> str:
    if not WAVE_KEY.match(key):
        raise WaveError(
            f"wave folder name {key!r} is not allowed: use letters, digits, '-' and '_' (at most 64, no dots or quotes)"
        )
    return key


def load_wave(raw_dir: Path, key: str, codebook: Codebook) -> WaveSpec:
    check_wave_key(key)
    folder = raw_dir / key
    path = folder / "wave.yaml"
    if not path.is_file():
        raise WaveError(f"{path}: missing. Each wave folder needs a wave.yaml (see README, 'Adding a wave').")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise WaveError(f"{path}: not valid YAML ({exc}); fix the file and run again") from None
    if not isinstance(raw, dict):
        raise WaveError(f"{path}: expected keys like label, invited, export")

    def fail(msg: str) -> WaveError:
        return WaveError(f"{path}: {msg}")

    if "wave" in raw and str(raw["wave"]) != key:
        raise fail(f"wave: {raw['wave']!r} does not match the folder name {key!r}; rename one of them")
    invited = raw.get("invited")
    if isinstance(invited, bool) or not isinstance(invited, int) or invited < 0:
        raise fail(f"invited: {invited!r} must be a whole number (how many were invited)")
    export = raw.get("export")
    if not isinstance(export, str) or not export or "/" in export or "\\" in export or export.startswith("."):
        raise fail(f"export: {export!r} must name the export file inside the wave folder")
    if not (folder / export).is_file():
        raise fail(f"export: {export!r} is not in {folder}; copy the export there or correct the name")
    tool = str(raw.get("tool", "auto")).strip().lower()
    if tool not in TOOLS and tool not in TOOL_ALIASES:
        raise fail(f"tool: {raw.get('tool')!r} is not a known survey tool; use one of {', '.join(TOOLS)}")
    sheet = raw.get("sheet")
    if sheet is not None and (not isinstance(sheet, str) or not sheet.strip()):
        raise fail(f"sheet: {sheet!r} must name a sheet of the workbook")
    labels = raw.get("labels")
    if labels is not None:
        if not isinstance(labels, str) or not labels or "/" in labels or "\\" in labels or labels.startswith("."):
            raise fail(f"labels: {labels!r} must name the labels file inside the wave folder")
        if not (folder / labels).is_file():
            raise fail(f"labels: {labels!r} is not in {folder}; copy the labels file there or correct the name")
    fielded = raw.get("fielded")
    if fielded is not None and not isinstance(fielded, dt.date):
        try:
            fielded = dt.date.fromisoformat(str(fielded))
        except ValueError:
            raise fail(f"fielded: {fielded!r} must be a date like 2024-05-31") from None

    columns: dict[str, str] = {}
    for header, target in (raw.get("columns") or {}).items():
        target = str(target)
        if target not in codebook.items and target not in METADATA_ROLES:
            raise fail(
                f"columns: {header!r} → {target!r} is neither an item code ({', '.join(codebook.items)}) "
                f"nor a role ({', '.join(METADATA_ROLES)})"
            )
        columns[normalise_text(str(header))] = target

    values: dict[str, dict[str, str]] = {}
    for scale, mapping in (raw.get("values") or {}).items():
        if scale not in codebook.scales:
            raise fail(f"values: unknown scale {scale!r}; scales are {', '.join(codebook.scales)}")
        keys = {c.key for c in codebook.scales[scale].categories}
        values[scale] = {}
        for code, cat in (mapping or {}).items():
            if cat not in keys:
                raise fail(f"values: {scale}: {code!r} → {cat!r} is not a category ({', '.join(sorted(keys))})")
            values[scale][normalise_text(str(code))] = str(cat)

    return WaveSpec(
        key=key,
        folder=folder,
        label=str(raw.get("label", key)),
        fielded=fielded,
        invited=invited,
        export=export,
        tool=tool,
        sheet=sheet,
        labels=labels,
        columns=columns,
        values=values,
        reconstruction=bool(raw.get("reconstruction", False)),
    )


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
