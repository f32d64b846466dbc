"""SYNTHETIC survey waves for the benchmark: seeded, deterministic, shaped like a real export.

Every wave this module writes is made up by a random generator and says so (folder `synthetic-…`, the
wave.yaml label and comment, respondent ids `SYN-…`, e-mail addresses under example.invalid). Items,
scales, labels and codes come from schemas/codebook.yaml; nothing here names an item.

What a wave holds (per respondent, one row):
- a respondent id, a status (about 90 % complete, the rest partial), a timestamp and an e-mail address
  (personal data: the pipeline must drop it);
- every closed item of every scale: answers drawn per item from a seeded distribution over the scale's
  categories, about 4–7 % "don't know"; complete respondents leave ~2 % of items blank, partial respondents
  stop at a random item and leave the rest blank;
- every free-text item: about a quarter of complete respondents write something (some texts hold quotes,
  delimiters, `<`/`&` and line breaks, as real answers do);
- a few bad cells (0.05 % of the answered closed cells, at least 3): values that match no category.

Formats: csv (polars writer, `;`, UTF-8, labels or codes), xlsx (xlsxwriter, labels or codes) and sav
(pyreadstat: numeric codes with value labels, variable labels = question text).

`generate_wave(...)` returns a `SyntheticWave` with exact counts of what it wrote and the item distribution
the pipeline must produce (`expected_distribution`: complete respondents, valid non-blank answers).

    python -m bench.generate OUT_RAW_DIR --respondents 1000 [--waves 3] [--format csv] [--seed 6]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import yaml

from pipeline.codebook import Codebook, load_codebook
from pipeline.settings import PROJECT_ROOT

GENERATOR_VERSION = 1  # bump when the output for a given seed changes (cached waves are regenerated)
FORMATS = ("csv", "xlsx", "sav")
VALUES = ("labels", "codes")

ID_HEADER = "Respondent"
STATUS_HEADER = "Status"
TIME_HEADER = "Tidsstempel"
EMAIL_HEADER = "E-post"
STATUS_COMPLETE = "Fullført"  # in the codebook's status_values.complete
STATUS_PARTIAL = "Ufullstendig"  # in status_values.partial

COMPLETE_SHARE = 0.90
BLANK_COMPLETE = 0.02  # closed item left blank by a complete respondent
TEXT_COMPLETE = 0.25  # complete respondents who write in a free-text item
TEXT_PARTIAL = 0.05
BACKGROUND_BLANK = 0.03  # background variable (role, library size, county) left blank: "not stated"
BAD_SHARE = 0.0005  # answered closed cells that match no category
MIN_BAD = 3
DONT_KNOW = {"degree": 0.04}  # other scales: 0.07
BAD_LABELS = ("Kanskje", "I veldig høy grad", "7", "Ja, delvis", "??", "n/a")  # match no category of any scale
BAD_CODES = (7, 8, 0)  # no code of any scale

TEXT_OPENINGS = (
    "Vi har startet",
    "Biblioteket har fått til",
    "Kollegaene mine har tatt i bruk",
    "Det har blitt lettere med",
    "Vi samarbeider nå om",
    "Innbyggerne foreslo",
    "Kommunen ba oss om",
    "Jeg har selv laget",
)
TEXT_THINGS = (
    "språkkafé",
    "lesesirkler for unge",
    "et verksted for reparasjon",
    "kulturkaffe på lørdager",
    "et lokalhistorisk arkiv",
    "digital hjelp for eldre",
    "en festival med lag og foreninger",
    "bokprat i parken",
)
TEXT_ENDINGS = (
    ".",
    " – og det fortsetter.",
    "; flere vil være med.",
    ", men det tar tid.",
    '. Vi kaller det "åpent bibliotek".',
    " <b>sammen</b> med frivillige & lag.",
    ".\nNeste år vil vi gjøre mer.",
    " (ca. 20 deltakere hver gang).",
)


@dataclass(frozen=True)
class SyntheticWave:
    """What one generated wave holds: exact counts, and the item distribution the pipeline must produce."""

    key: str
    folder: Path
    export: Path
    format: str
    seed: int
    respondents: int
    complete: int
    partial: int
    answered_cells: int  # non-blank closed-item cells, bad ones included
    blank_cells: int  # blank closed-item cells
    dont_know_cells: int  # closed-item cells answered "don't know"
    bad_cells: int  # closed-item cells that match no category (the pipeline quarantines them)
    open_answers: int  # non-blank free-text cells
    expected_distribution: pl.DataFrame  # wave, item, category, n, base_n, pct (complete respondents only)


def wave_key(index: int) -> str:
    """The folder name of the index-th synthetic wave (1-based)."""
    return f"synthetic-{index:04d}"


def size_label(n: int) -> str:
    """1000 → '1k', 100000 → '100k', 1000000 → '1M'."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def parse_size(text: str) -> int:
    """'1k' → 1000, '100k' → 100000, '1M' → 1000000, '50' → 50."""
    t = text.strip()
    factor = {"k": 1_000, "K": 1_000, "m": 1_000_000, "M": 1_000_000}.get(t[-1:], 1)
    number = t[:-1] if factor > 1 else t
    if not number.isdigit() or int(number) <= 0:
        raise ValueError(f"size {text!r}: use a whole number of respondents like 50, 1k, 100k or 1M")
    return int(number) * factor


def _seed_for(seed: int, key: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{GENERATOR_VERSION}:{seed}:{key}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _probabilities(rng: np.random.Generator, scale_key: str, n_categories: int) -> np.ndarray:
    """A seeded answer distribution over a scale's categories; the last category is don't know."""
    dont_know = DONT_KNOW.get(scale_key, 0.07)
    substantive = rng.dirichlet(np.full(n_categories - 1, 2.0))
    return np.append(substantive * (1 - dont_know), dont_know)


def _text_pool(rng: np.random.Generator, size: int = 64) -> list[str]:
    pool = []
    for _ in range(size):
        pool.append(
            TEXT_OPENINGS[rng.integers(len(TEXT_OPENINGS))]
            + " "
            + TEXT_THINGS[rng.integers(len(TEXT_THINGS))]
            + TEXT_ENDINGS[rng.integers(len(TEXT_ENDINGS))]
        )
    return pool


def _layout(codebook: Codebook):
    closed = codebook.closed_items()
    text = codebook.text_items()
    for item in closed:
        if codebook.scale_of(item.code).categories[-1].key != "dont_know":
            raise ValueError(f"scale {item.scale}: the generator expects dont_know as its last category")
    return closed, text


def generate_wave(
    raw_dir: Path,
    key: str,
    respondents: int,
    *,
    seed: int = 6,
    fmt: str = "csv",
    values: str = "labels",
    codebook: Codebook | None = None,
    fielded: dt.date = dt.date(2024, 5, 13),
) -> SyntheticWave:
    """Write raw_dir/<key>/{wave.yaml, export.<fmt>} and return what it holds."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: use one of {', '.join(FORMATS)}")
    if values not in VALUES:
        raise ValueError(f"values {values!r}: use one of {', '.join(VALUES)}")
    if fmt == "sav":
        values = "codes"
    if respondents < 1:
        raise ValueError("a synthetic wave needs at least one respondent")
    codebook = codebook or load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
    closed, text_items = _layout(codebook)
    rng = _seed_for(seed, key)
    n = respondents

    complete = rng.random(n) < COMPLETE_SHARE
    # A partial respondent answers the closed items before a random stop and leaves the rest blank.
    stop = np.where(complete, len(closed), rng.integers(0, len(closed), n))
    answers: dict[str, np.ndarray] = {}  # item → category index per respondent; -1 = blank
    for j, item in enumerate(closed):
        scale = codebook.scale_of(item.code)
        k = len(scale.categories)
        idx = rng.choice(k, size=n, p=_probabilities(rng, scale.key, k)).astype(np.int64)
        blank = (complete & (rng.random(n) < BLANK_COMPLETE)) | (j >= stop)
        answers[item.code] = np.where(blank, -1, idx)

    # Bad cells: a few answered closed cells get a value that matches no category (index ≥ k).
    flat = np.stack([answers[i.code] for i in closed])  # items × respondents
    answered = np.flatnonzero(flat >= 0)
    n_bad = min(len(answered), max(MIN_BAD, round(BAD_SHARE * len(answered))))
    bad_pos = np.sort(rng.choice(answered, size=n_bad, replace=False)) if n_bad else np.array([], dtype=np.int64)
    bad_values = BAD_CODES if values == "codes" else BAD_LABELS
    bad_pick = rng.integers(0, len(bad_values), n_bad)
    for pos, pick in zip(bad_pos, bad_pick):
        j, r = divmod(int(pos), n)
        answers[closed[j].code][r] = len(codebook.scale_of(closed[j].code).categories) + int(pick)

    # Background variables (role, library size, …): a group per respondent, blank for about 3 %; drawn from a
    # stream of their own, so the answers are the same with or without background variables in the codebook.
    background: dict[str, np.ndarray] = {}  # variable → group index per respondent; -1 = blank (not stated)
    background_rng = _seed_for(seed, key + "/background")
    for var in codebook.background.values():
        picks = background_rng.integers(0, len(var.groups), n)
        background[var.key] = np.where(background_rng.random(n) < BACKGROUND_BLANK, -1, picks)

    pool = _text_pool(rng)
    texts: dict[str, np.ndarray] = {}  # item → pool index; -1 = blank
    for item in text_items:
        writes = rng.random(n) < np.where(complete, TEXT_COMPLETE, TEXT_PARTIAL)
        texts[item.code] = np.where(writes, rng.integers(0, len(pool), n), -1)
    seconds = np.sort(rng.integers(0, 21 * 24 * 3600, n))

    folder = raw_dir / key
    folder.mkdir(parents=True, exist_ok=True)
    export = folder / f"export.{fmt}"
    frame = _frame(
        codebook, key, n, complete, seconds, answers, texts, pool, closed, text_items, values, fielded, background
    )
    if fmt == "csv":
        frame.write_csv(export, separator=";", quote_style="necessary")
    elif fmt == "xlsx":
        _write_xlsx(export, frame)
    else:
        _write_sav(export, codebook, frame, closed, text_items)
    _write_wave_yaml(folder, key, n, seed, fmt, export.name, fielded)

    distribution = expected_distribution(codebook, key, closed, answers, complete)
    dont_know = sum(int((answers[i.code] == len(codebook.scale_of(i.code).categories) - 1).sum()) for i in closed)
    n_cells = len(closed) * n
    return SyntheticWave(
        key=key,
        folder=folder,
        export=export,
        format=fmt,
        seed=seed,
        respondents=n,
        complete=int(complete.sum()),
        partial=int((~complete).sum()),
        answered_cells=len(answered),
        blank_cells=n_cells - len(answered),
        dont_know_cells=dont_know,
        bad_cells=n_bad,
        open_answers=sum(int((t >= 0).sum()) for t in texts.values()),
        expected_distribution=distribution,
    )


def expected_distribution(
    codebook: Codebook, key: str, closed, answers: dict[str, np.ndarray], complete: np.ndarray
) -> pl.DataFrame:
    """Per closed item and category: count among complete respondents' valid answers, the base and pct."""
    rows = []
    for item in closed:
        cats = codebook.scale_of(item.code).categories
        idx = answers[item.code][complete]
        counts = np.bincount(idx[(idx >= 0) & (idx < len(cats))], minlength=len(cats))
        base = int(counts.sum())
        for c, count in zip(cats, counts):
            rows.append(
                {
                    "wave": key,
                    "item": item.code,
                    "category": c.key,
                    "n": int(count),
                    "base_n": base,
                    "pct": 100.0 * int(count) / base if base else None,
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "wave": pl.Utf8,
            "item": pl.Utf8,
            "category": pl.Utf8,
            "n": pl.Int64,
            "base_n": pl.Int64,
            "pct": pl.Float64,
        },
    )


def _frame(
    codebook, key, n, complete, seconds, answers, texts, pool, closed, text_items, values, fielded, background=None
):
    start = dt.datetime.combine(fielded, dt.time(8, 0))
    ids = pl.lit(f"SYN-{key}-") + pl.int_range(1, n + 1, eager=True).cast(pl.Utf8).str.zfill(7)
    base = pl.DataFrame({"_i": np.arange(1, n + 1), "_s": seconds, "_c": complete})
    base = base.with_columns(
        ids.alias(ID_HEADER),
        pl.when(pl.col("_c")).then(pl.lit(STATUS_COMPLETE)).otherwise(pl.lit(STATUS_PARTIAL)).alias(STATUS_HEADER),
        (pl.lit(start) + pl.duration(seconds=pl.col("_s"))).dt.strftime("%Y-%m-%d %H:%M").alias(TIME_HEADER),
        (pl.lit("respondent") + pl.col("_i").cast(pl.Utf8) + pl.lit("@example.invalid")).alias(EMAIL_HEADER),
    )
    item_columns = []
    for variable, picks in (background or {}).items():
        var = codebook.background[variable]
        words = [str(g.code) if values == "codes" else g.label["nb"] for g in var.groups]
        item_columns.append(
            pl.Series(var.question["nb"], picks).replace_strict(
                dict(enumerate(words)), default=None, return_dtype=pl.Utf8
            )
        )
    for item in closed:
        cats = codebook.scale_of(item.code).categories
        if values == "codes":
            words = [str(c.code) for c in cats] + [str(b) for b in BAD_CODES]
        else:
            words = [c.label["nb"] for c in cats] + list(BAD_LABELS)
        mapping = dict(enumerate(words))
        item_columns.append(
            pl.Series(item.question["nb"], answers[item.code]).replace_strict(
                mapping, default=None, return_dtype=pl.Utf8
            )
        )
    for item in text_items:
        item_columns.append(
            pl.Series(item.question["nb"], texts[item.code]).replace_strict(
                dict(enumerate(pool)), default=None, return_dtype=pl.Utf8
            )
        )
    return base.select(ID_HEADER, STATUS_HEADER, TIME_HEADER, EMAIL_HEADER).with_columns(item_columns)


def _write_xlsx(path: Path, frame: pl.DataFrame) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("Dataset")
    sheet.write_row(0, 0, frame.columns)
    for r, row in enumerate(frame.iter_rows(), start=1):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write_string(r, c, value)
    workbook.close()


def _write_sav(path: Path, codebook: Codebook, frame: pl.DataFrame, closed, text_items) -> None:
    """SPSS: variable names = item codes / roles, variable labels = the headers, codes with value labels."""
    import pandas as pd
    import pyreadstat

    names = {ID_HEADER: "respondent_id", STATUS_HEADER: "status", TIME_HEADER: "submitted", EMAIL_HEADER: "email"}
    names.update({i.question["nb"]: i.code for i in [*closed, *text_items]})
    names.update({v.question["nb"]: v.key for v in codebook.background.values()})
    data = {}
    value_labels = {"status": {1.0: STATUS_COMPLETE, 0.0: STATUS_PARTIAL}}
    for header in frame.columns:
        name = names[header]
        col = frame[header]
        if name == "status":
            data[name] = (col == STATUS_COMPLETE).cast(pl.Float64).to_numpy()
        elif header in (ID_HEADER, TIME_HEADER, EMAIL_HEADER) or name in {i.code for i in text_items}:
            data[name] = col.fill_null("").to_list()
        elif name in codebook.background:
            data[name] = col.cast(pl.Float64).to_numpy()
            value_labels[name] = {float(g.code): g.label["nb"] for g in codebook.background[name].groups}
        else:
            data[name] = col.cast(pl.Float64).to_numpy()
            value_labels[name] = {float(c.code): c.label["nb"] for c in codebook.scale_of(name).categories}
    df = pd.DataFrame(data)
    pyreadstat.write_sav(df, str(path), column_labels=[h for h in frame.columns], variable_value_labels=value_labels)


def _write_wave_yaml(folder: Path, key: str, n: int, seed: int, fmt: str, export: str, fielded: dt.date) -> None:
    spec = {
        "wave": key,
        "label": f"SYNTHETIC benchmark wave {key} ({n} respondents, seed {seed})",
        "fielded": fielded.isoformat(),
        "invited": math.ceil(n * 1.25),
        "export": export,
        "tool": "auto",
    }
    text = (
        "# SYNTHETIC: made up by bench/generate.py (seeded random answers) for the benchmark.\n"
        "# It is not survey data; never copy it into data/raw.\n"
    )
    (folder / "wave.yaml").write_text(
        text + yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


def generate_waves(
    raw_dir: Path,
    respondents: int,
    waves: int,
    *,
    seed: int = 6,
    fmt: str = "csv",
    values: str = "labels",
    first: int = 1,
) -> list[SyntheticWave]:
    """Waves synthetic-<first>…synthetic-<first+waves-1>, each with `respondents` rows."""
    codebook = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
    return [
        generate_wave(raw_dir, wave_key(i), respondents, seed=seed, fmt=fmt, values=values, codebook=codebook)
        for i in range(first, first + waves)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("raw_dir", type=Path, help="folder to write the wave folders into")
    parser.add_argument("--respondents", default="1k", help="respondents per wave: 50, 1k, 100k, 1M (default 1k)")
    parser.add_argument("--waves", type=int, default=1)
    parser.add_argument("--first", type=int, default=1, help="number of the first wave (synthetic-0001)")
    parser.add_argument("--format", choices=FORMATS, default="csv")
    parser.add_argument("--values", choices=VALUES, default="labels", help="cells as nb labels or numeric codes")
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args(argv)
    made = generate_waves(
        args.raw_dir,
        parse_size(args.respondents),
        args.waves,
        seed=args.seed,
        fmt=args.format,
        values=args.values,
        first=args.first,
    )
    for w in made:
        print(
            f"{w.export}: {w.respondents} respondents ({w.complete} complete), {w.answered_cells} answered "
            f"closed cells, {w.blank_cells} blank, {w.bad_cells} bad, {w.open_answers} open answers"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
