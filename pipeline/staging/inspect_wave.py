"""`make inspect WAVE=<wave>` (`python -m pipeline.cli inspect <wave>`): what the pipeline would make of a wave
folder, without building anything or writing any file.

It prints the tool detected and why; the file's encoding, delimiter or sheet; the rows read and left out (and
why); how each header maps (item, role, personal data, dropped, unmapped) and by which rule; for each mapped
item the distinct values with their counts and the category each becomes, or the quarantine reason; the
complete/partial counts and the response rate. This is how a user sees a wrong mapping before it reaches a
number.

Privacy: cells of personal-data, id and unmapped columns are never read into the report, free-text answers
are counted, not shown, and e-mail addresses, phone numbers and IP addresses in any value shown are masked.
Pseudonyms are made with a throwaway key (no key file is created).
"""

from __future__ import annotations

import secrets
import textwrap
from dataclasses import dataclass

import polars as pl

from pipeline.codebook import Codebook
from pipeline.ingest.continuity import other_wave_columns_of
from pipeline.ingest.normalise import ColumnMap, normalise_prepared
from pipeline.ingest.presets import detect_why, prepare
from pipeline.ingest.privacy import mask_contact_details, strip_bidi
from pipeline.ingest.readers import delimiter_name, read_export
from pipeline.ingest.wave import export_limit
from pipeline.ingest.waves import WaveError, load_wave
from pipeline.settings import Settings
from pipeline.staging.stage import (
    TooMuchQuarantined,
    check_quarantine_limit,
    stage_wave,
    unknown_group_reason,
    unknown_label_reason,
)

SHOWN_CHARS = 60
HEADER_WIDTH = 100  # headers are shown in full, wrapped at this width

# How each ColumnMap.matched_by reads in the report.
RULES = {
    "panel_id": "wave.yaml panel_id: read as a keyed pseudonym, the column itself dropped",
    "columns": "wave.yaml columns",
    "preset": "tool preset",
    "personal_data": "personal-data header",
    "role": "metadata header (codebook)",
    "codebook": "question text / alias (codebook)",
    "background": "background question text / alias / key (codebook)",
    "code": "item code, exactly",
    "code, named by its label": "item code, exactly; its label names the same code",
    "ignore": "wave.yaml ignore: left out on purpose, never read",
    "id": "names an identifier",
    "code, label differs": "item code as header, but its label says otherwise",
    "code, case differs": "an item code in other case: codes match exactly; map it in wave.yaml columns if meant",
    "unmapped": "no rule",
}


def masked(text: str) -> str:
    return strip_bidi(mask_contact_details(text, "[e-mail]", "[phone]", "[ip]", "[identity number]"))


def shown(value: str) -> str:
    """A cell value as the report shows it: contact details and IP addresses masked, cut to SHOWN_CHARS."""
    text = masked(value).replace("\n", " ").replace("\r", " ")
    return repr(text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…")


def wrapped(header: str, tail: str, width: int = HEADER_WIDTH) -> str:
    """A header in full (contact details masked), wrapped at `width` characters and indented, then what it maps to:
    headers that begin alike ("Kompetansen og erfaringen fra Biblioteket som samskaper gjør …") stay apart."""
    text = masked(header).replace("\n", " ").replace("\r", " ")
    lines = textwrap.wrap(repr(text), width=width - 4, break_long_words=True, break_on_hyphens=False) or ["''"]
    return "\n".join(f"  {line}" if i == 0 else f"    {line}" for i, line in enumerate(lines)) + f" {tail}"


def _kind(col: ColumnMap, codebook: Codebook) -> str:
    if col.target in codebook.items:
        return f"item {col.target}"
    if col.target in codebook.background:
        return f"background variable {col.target}"
    if col.target == "personal_data":
        return "PERSONAL DATA (dropped)"
    if col.target == "drop":
        return "dropped"
    if col.target == "unmapped":
        return "unmapped (never read)"
    return f"role {col.target}"


@dataclass(frozen=True)
class Inspection:
    text: str
    tool: str
    rows_read: int
    complete: int
    partial: int
    quarantined: int
    unmapped: int


def inspect_wave(settings: Settings, codebook: Codebook, wave: str) -> Inspection:
    """Read the wave folder as the build would and describe it. Raises WaveError / ExportError like the build."""
    folder = settings.raw_dir / wave
    if not folder.is_dir():
        folders = sorted(p.name for p in settings.raw_dir.iterdir() if p.is_dir()) if settings.raw_dir.is_dir() else []
        raise WaveError(
            f"no wave folder named {wave!r} under {settings.raw_dir}; the folders are {', '.join(folders) or '(none)'}"
        )
    spec = load_wave(settings.raw_dir, wave, codebook)
    export = read_export(spec.export_path, sheet=spec.sheet, max_bytes=export_limit(settings))
    tool, why = detect_why(export, spec)
    prepared = prepare(export, spec, codebook)
    others, others_note = other_wave_columns_of(settings, wave)
    normalised = normalise_prepared(prepared, spec, codebook, secrets.token_bytes(32), others)
    staged = stage_wave(normalised, codebook, settings, spec.values)

    out: list[str] = []
    add = out.append
    add(f"wave {wave}: {spec.export_path}")
    add(f"  label: {spec.label}; invited: {spec.invited}")
    given = f"wave.yaml tool: {spec.tool}" if spec.tool != "auto" else "tool: auto"
    add(f"tool: {prepared.tool} ({given}; detected {tool}: {why})")
    how = [f"format {export.format}"]
    if export.encoding:
        how.append(f"encoding {export.encoding}")
    if export.delimiter:
        how.append(f"delimiter {delimiter_name(export.delimiter)}")
    if export.sheet:
        how.append(f"sheet {export.sheet!r} of {', '.join(map(repr, export.sheets))}")
    add("read: " + ", ".join(how))
    header_rows = export.n_rows - prepared.export.n_rows
    add(
        f"rows: {export.n_rows} under the header row; {header_rows} more header row(s) of the tool; "
        f"{prepared.export.n_rows} data rows"
    )
    for reason, n in normalised.excluded_rows.items():
        add(f"  left out: {n} row(s) {reason.replace('_', ' ')} (not responses)")
    for note in normalised.notes:
        add(f"  note: {note}")

    add(f"complete/partial: {normalised.completion_rule}")
    compared = sorted({w for pairs in others.values() for w, _ in pairs})
    add(
        "other waves: "
        + (others_note or f"headers compared with {', '.join(compared) or 'none (no other wave built)'}")
    )

    add("")
    add("headers (in full):")
    for col in normalised.columns:
        add(wrapped(col.header, f"→ {_kind(col, codebook)}   [{RULES.get(col.matched_by, col.matched_by)}]"))

    add("")
    add("values per item (value: count → category):")
    cells = normalised.cells(settings).with_columns(pl.col("item").cast(pl.Utf8), pl.col("category").cast(pl.Utf8))
    quarantined_values = staged.quarantine
    for item in codebook.items.values():
        of_item = cells.filter(pl.col("item") == item.code)
        if of_item.is_empty():
            continue
        header = of_item["column"].cast(pl.Utf8)[0]
        add(wrapped(header, f"= {item.code}, {of_item.height} answered cell(s):"))
        if codebook.scales[item.scale].is_text:
            add(f"    free text: {of_item['value'].n_unique()} distinct answer(s) (not shown)")
            continue
        order = {c.key: c.order for c in codebook.scales[item.scale].categories}
        counts = sorted(
            of_item.group_by("value", "category").len().rows(), key=lambda r: (order.get(r[1], len(order) + 1), r[0])
        )
        for value, category, n in counts:
            target = (
                category
                if category is not None
                else "QUARANTINE: " + masked(unknown_label_reason(value, item.code, codebook, spec.values))
            )
            add(f"    {shown(value)}: {n} → {target}")

    groups = normalised.groups(settings)
    if groups.height:
        add("")
        add("values per background variable (value: count → group):")
        for variable in codebook.background:
            of_var = groups.filter(pl.col("variable") == variable)
            if of_var.is_empty():
                continue
            add(f"  {variable} ({shown(of_var['column'][0])}):")
            order = {g.key: g.order for g in codebook.background[variable].groups}
            counts = sorted(
                of_var.group_by("value", "group").len().rows(),
                key=lambda r: (order.get(r[1], len(order) + 1), r[0] or ""),
            )
            for value, group, n in counts:
                target = (
                    group
                    if group is not None
                    else "QUARANTINE (counts as not stated): "
                    + masked(unknown_group_reason(value, variable, codebook, spec.values))
                )
                add(f"    {'(blank)' if value is None else shown(value)}: {n} → {target}")

    add("")
    complete = staged.respondents.filter(pl.col("complete")).height
    partial = staged.respondents.height - complete
    rate = f"{100 * complete / spec.invited:.1f} %" if spec.invited else "n/a (invited: 0)"
    add(
        f"respondents: {staged.respondents.height} ({complete} complete, {partial} partial); response rate "
        f"{complete}/{spec.invited} = {rate}"
    )
    if staged.exact_duplicates or staged.conflicting_duplicates:
        add(
            f"  duplicates: {staged.exact_duplicates} exact row(s) collapsed, {staged.conflicting_duplicates} row(s) "
            "with a repeated respondent id or panel id and different answers (quarantined)"
        )
    if spec.panel_id is not None:
        keys = staged.respondents.get_column("panel_key")
        add(
            f"  panel (wave.yaml panel_id): {keys.drop_nulls().n_unique()} panel member(s); "
            f"{keys.null_count()} respondent(s) without a panel id (not followed across waves)"
        )
    by_column = quarantined_values.group_by("column").agg(pl.len(), pl.col("reason").first()).sort("column")
    add(f"quarantine: {quarantined_values.height} cell(s)")
    for column, n, reason in by_column.rows():
        add(f"  {shown(column or '')}: {n} cell(s), e.g. {masked(reason)}")
    try:
        check_quarantine_limit(staged.result, f"{wave}/{spec.export}")
    except TooMuchQuarantined as exc:
        add("")
        add(f"make run would FAIL for this wave – {masked(str(exc))}")
    unmapped = len(normalised.unmapped_headers)
    return Inspection(
        text="\n".join(out),
        tool=prepared.tool,
        rows_read=prepared.export.n_rows,
        complete=complete,
        partial=partial,
        quarantined=quarantined_values.height,
        unmapped=unmapped,
    )
