"""The review of a wave's open answers before the public profile publishes them:
`<wave folder>/open_answers.review.yaml`.

`python -m pipeline.cli review WAVE` (`make review WAVE=…`) writes the file: every open answer of the wave (as staged:
personal data already masked) with a stable id and a decision. The id is a hash of wave, item and the respondent's
keyed pseudonym: it names the answer across re-exports and says nothing about the respondent. Decisions:

- unreviewed: what the command writes for a new answer; left out of the public pages, counted there,
- publish: shown as written,
- redact: shown as `redacted` (the text to show instead),
- leave_out: never shown (not counted as unreviewed).

An answer whose text changed since it was reviewed counts as unreviewed again (the command keeps the old decision
beside the new text for the reviewer, marked unreviewed). Running the command again keeps every decision. The internal
profile shows every answer; the file is in the wave folder, so it is part of the wave's input fingerprint and a
change rebuilds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

from pipeline.files import write_atomic
from pipeline.ingest.waves import MAX_WAVE_YAML_BYTES, WaveError, refuse_outside

REVIEW_FILE = "open_answers.review.yaml"
DECISIONS = ("unreviewed", "publish", "redact", "leave_out")
HEADER = (
    "# Open answers of wave {wave} for the public profile (written by `make review WAVE={wave}`).\n"
    "# Set each answer's decision: publish (as written), redact (show `redacted` instead), leave_out (never shown).\n"
    "# unreviewed answers are left out of the public pages and counted there. The internal profile shows every\n"
    "# answer. Running `make review` again keeps every decision; a changed answer is unreviewed again.\n"
)


def answer_id(wave: str, item: str, respondent_key: str) -> str:
    """The stable id of an open answer: sha256 of wave, item and the respondent's keyed pseudonym (12 hex digits)."""
    return hashlib.sha256(f"{wave}\0{item}\0{respondent_key}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Review:
    id: str
    item: str
    text: str  # the answer as reviewed
    decision: str
    redacted: str | None = None


def review_path(folder: Path) -> Path:
    return folder / REVIEW_FILE


def load_review(folder: Path) -> dict[str, Review]:
    """The wave's review file (id → Review); empty when there is none. A broken file is a WaveError naming the file,
    the entry and the key (never an answer's text)."""
    path = review_path(folder)
    refuse_outside(path, folder, REVIEW_FILE)
    if not path.is_file():
        return {}
    if path.stat().st_size > 64 * MAX_WAVE_YAML_BYTES:
        raise WaveError(f"{path}: larger than {64 * MAX_WAVE_YAML_BYTES} bytes; is it the right file?")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError):
        raise WaveError(f"{path}: not valid YAML; fix the file or write it again with `make review`") from None
    entries = raw.get("answers") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise WaveError(f"{path}: expected `answers:` with one entry per answer; write it again with `make review`")
    out: dict[str, Review] = {}
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: answer {number}"
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("id", "item", "text")):
            raise WaveError(f"{where}: needs id, item and text (as `make review` writes them)")
        decision = entry.get("decision", "unreviewed")
        if decision not in DECISIONS:
            raise WaveError(
                f"{where} (id {entry['id']}): decision must be one of {', '.join(DECISIONS)}; correct the decision"
            )
        redacted = entry.get("redacted")
        if decision == "redact" and (not isinstance(redacted, str) or not redacted.strip()):
            raise WaveError(f"{where} (id {entry['id']}): decision redact needs the text to show in `redacted`")
        if entry["id"] in out:
            raise WaveError(f"{where}: id {entry['id']} is listed twice; keep one of the entries")
        out[entry["id"]] = Review(entry["id"], entry["item"], entry["text"], decision, redacted)
    return out


def with_ids(answers: pl.DataFrame) -> pl.DataFrame:
    """Open answers (wave, item, respondent_key, text, …) with their id, sorted by wave, item, id."""
    ids = [answer_id(w, i, r) for w, i, r in answers.select("wave", "item", "respondent_key").iter_rows()]
    return answers.with_columns(pl.Series("id", ids, dtype=pl.Utf8)).sort("wave", "item", "id")


def write_review(folder: Path, wave: str, answers: pl.DataFrame) -> dict[str, int]:
    """Write the wave's review file from its staged open answers, keeping every decision already taken; returns
    counts: answers, new, changed (text differs from the reviewed one), unreviewed."""
    old = load_review(folder)
    entries, counts = [], {"answers": 0, "new": 0, "changed": 0, "unreviewed": 0}
    rows = with_ids(answers.filter(pl.col("text").str.strip_chars().str.len_chars() > 0))
    for item, text, aid in rows.select("item", "text", "id").iter_rows():
        before = old.get(aid)
        entry: dict[str, object] = {"id": aid, "item": item, "text": text, "decision": "unreviewed"}
        if before is None:
            counts["new"] += 1
        elif before.text != text:
            counts["changed"] += 1
            entry["previous_decision"] = before.decision
        else:
            entry["decision"] = before.decision
            if before.redacted is not None:
                entry["redacted"] = before.redacted
        counts["answers"] += 1
        counts["unreviewed"] += entry["decision"] == "unreviewed"
        entries.append(entry)
    body = yaml.safe_dump({"answers": entries}, allow_unicode=True, sort_keys=False, width=120)
    write_atomic(review_path(folder), HEADER.format(wave=wave) + body)
    return counts


def reviewed_answers(answers: pl.DataFrame, folders: dict[str, Path]) -> pl.DataFrame:
    """The open answers the public profile may show, and those it must count: `answers` (marts.open_answers) with
    published answers as written, redacted ones replaced by their `redacted` text, left-out ones removed, and
    unreviewed ones (no decision, or a text changed since) kept with text "" and column unreviewed true.
    folders: wave → its folder (waves without one count as unreviewed)."""
    reviews = {wave: load_review(folder) for wave, folder in folders.items()}
    rows = with_ids(answers)
    texts, flags, keep = [], [], []
    for wave, text, aid in rows.select("wave", "text", "id").iter_rows():
        review = reviews.get(wave, {}).get(aid)
        if review is None or review.text != text or review.decision == "unreviewed":
            texts.append("")
            flags.append(True)
            keep.append(bool(text and text.strip()))
        else:
            texts.append(review.redacted if review.decision == "redact" else text)
            flags.append(False)
            keep.append(review.decision != "leave_out")
    return (
        rows.with_columns(
            pl.Series("text", texts, dtype=pl.Utf8),
            pl.Series("unreviewed", flags, dtype=pl.Boolean),
        )
        .filter(pl.Series(keep, dtype=pl.Boolean))
        .drop("id")
    )


def open_answers_for(profile: str, answers: pl.DataFrame, raw_dir: Path) -> pl.DataFrame:
    """The open answers the pages of a profile are made from: every answer (internal), or reviewed_answers of the
    waves' folders under raw_dir (public)."""
    if profile != "public":
        return answers
    waves = sorted(set(answers.get_column("wave").to_list()))
    return reviewed_answers(answers, {wave: raw_dir / wave for wave in waves})
