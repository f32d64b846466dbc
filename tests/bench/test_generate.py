"""The benchmark's synthetic wave generator: deterministic, and it writes what it claims (checked by reading
the files back with other readers: the csv module, pyreadstat, fastexcel). The floor query and the pandas
baseline compute the generator's item distribution exactly. No timing here."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
import yaml

from bench.floor import run_floor
from bench.generate import (
    BAD_CODES,
    BAD_LABELS,
    EMAIL_HEADER,
    ID_HEADER,
    STATUS_COMPLETE,
    STATUS_HEADER,
    generate_wave,
    parse_size,
    size_label,
    wave_key,
)
from bench.pandas_baseline import item_distribution
from bench.run import differences
from pipeline.codebook import load_codebook
from pipeline.settings import PROJECT_ROOT

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
CLOSED = CODEBOOK.closed_items()
TEXT = CODEBOOK.text_items()


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def recount(rows: list[dict[str, str]]) -> dict[str, object]:
    """Count the file independently of the generator: labels from the codebook, the csv module's cells."""
    label_of = {i.code: {c.label["nb"]: c.key for c in CODEBOOK.scale_of(i.code).categories} for i in CLOSED}
    counts: Counter = Counter()
    out = Counter()
    for row in rows:
        complete = row[STATUS_HEADER] == STATUS_COMPLETE
        out["complete"] += complete
        for item in CLOSED:
            value = row[item.question["nb"]]
            if value == "":
                out["blank"] += 1
            elif value in label_of[item.code]:
                out["dont_know"] += label_of[item.code][value] == "dont_know"
                if complete:
                    counts[(item.code, label_of[item.code][value])] += 1
            else:
                out["bad"] += 1
        out["open"] += sum(row[i.question["nb"]] != "" for i in TEXT)
    return {"counts": counts, **out}


@pytest.fixture(scope="module")
def wave50(tmp_path_factory):
    return generate_wave(tmp_path_factory.mktemp("raw"), "synthetic-0001", 50, seed=6)


def test_sizes_parse_and_print():
    assert [parse_size(s) for s in ("50", "1k", "100k", "1M")] == [50, 1_000, 100_000, 1_000_000]
    assert [size_label(n) for n in (50, 1_000, 100_000, 1_000_000)] == ["50", "1k", "100k", "1M"]
    assert wave_key(7) == "synthetic-0007"
    with pytest.raises(ValueError, match="whole number of respondents"):
        parse_size("lots")


def test_same_seed_same_bytes_other_seed_other_answers(tmp_path, wave50):
    again = generate_wave(tmp_path / "a", "synthetic-0001", 50, seed=6)
    other = generate_wave(tmp_path / "b", "synthetic-0001", 50, seed=7)
    assert again.export.read_bytes() == wave50.export.read_bytes()
    assert (again.folder / "wave.yaml").read_bytes() == (wave50.folder / "wave.yaml").read_bytes()
    assert again.expected_distribution.equals(wave50.expected_distribution)
    assert other.export.read_bytes() != wave50.export.read_bytes()


def test_a_50_respondent_wave_holds_exactly_what_it_claims(wave50):
    headers, rows = read_rows(wave50.export)
    background = [v.question["nb"] for v in CODEBOOK.background.values()]
    assert headers == [ID_HEADER, STATUS_HEADER, "Tidsstempel", EMAIL_HEADER] + background + [
        i.question["nb"] for i in CLOSED + TEXT
    ]
    for var in CODEBOOK.background.values():  # every cell a group's label, or blank
        assert {r[var.question["nb"]] for r in rows} <= {g.label["nb"] for g in var.groups} | {""}
    assert len(rows) == wave50.respondents == 50
    # The seeded numbers of this wave (seed 6): a change here means every benchmark input changed.
    assert (wave50.complete, wave50.partial) == (48, 2)
    assert (wave50.answered_cells, wave50.blank_cells, wave50.bad_cells) == (870, 30, 3)
    assert (wave50.dont_know_cells, wave50.open_answers) == (50, 45)

    got = recount(rows)
    assert got["complete"] == wave50.complete
    assert got["blank"] == wave50.blank_cells == 50 * len(CLOSED) - wave50.answered_cells
    assert got["bad"] == wave50.bad_cells
    assert got["dont_know"] == wave50.dont_know_cells
    assert got["open"] == wave50.open_answers
    expected = {(r["item"], r["category"]): r["n"] for r in wave50.expected_distribution.iter_rows(named=True)}
    assert {k: v for k, v in expected.items() if v} == dict(got["counts"])
    assert wave50.expected_distribution.height == sum(len(CODEBOOK.scale_of(i.code).categories) for i in CLOSED)


def test_every_category_bad_cells_and_awkward_text_occur_in_a_larger_wave(tmp_path):
    wave = generate_wave(tmp_path, "synthetic-0002", 2000, seed=6)
    _, rows = read_rows(wave.export)
    dist = wave.expected_distribution
    assert dist.filter(pl.col("n") == 0).height == 0  # every category of every scale, dont_know included
    assert set(dist["category"]) == {c.key for i in CLOSED for c in CODEBOOK.scale_of(i.code).categories}
    values = {row[i.question["nb"]] for row in rows for i in CLOSED}
    assert values & set(BAD_LABELS) and wave.bad_cells == round(0.0005 * wave.answered_cells) == 17
    texts = [row[i.question["nb"]] for row in rows for i in TEXT if row[i.question["nb"]]]
    assert any("\n" in t for t in texts) and any("<b>" in t for t in texts) and any('"' in t for t in texts)
    assert all(row[EMAIL_HEADER].endswith("@example.invalid") for row in rows)
    assert all(row[ID_HEADER].startswith("SYN-synthetic-0002-") for row in rows)
    spec = yaml.safe_load((wave.folder / "wave.yaml").read_text(encoding="utf-8"))
    assert spec == {
        "wave": "synthetic-0002",
        "label": "SYNTHETIC benchmark wave synthetic-0002 (2000 respondents, seed 6)",
        "fielded": "2024-05-13",
        "invited": 2500,
        "export": "export.csv",
        "tool": "auto",
    }
    assert (wave.folder / "wave.yaml").read_text(encoding="utf-8").startswith("# SYNTHETIC")


def test_floor_and_pandas_compute_the_generators_distribution(tmp_path, wave50):
    second = generate_wave(tmp_path / "raw", "synthetic-0002", 40, seed=6)
    first = generate_wave(tmp_path / "raw", "synthetic-0001", 50, seed=6)
    expected = pl.concat([first.expected_distribution, second.expected_distribution])
    run_floor(tmp_path / "raw", tmp_path / "floor.parquet")
    floor = pl.read_parquet(tmp_path / "floor.parquet")
    assert differences(expected, floor, "floor") == []
    assert floor.columns == [
        "wave",
        "level",
        "item",
        "item_order",
        "category",
        "category_order",
        "label",
        "n",
        "base_n",
        "pct",
    ]
    assert floor["wave"].unique().sort().to_list() == ["synthetic-0001", "synthetic-0002"]
    pandas = pl.from_pandas(item_distribution(tmp_path / "raw"))
    assert differences(expected, pandas, "pandas") == []
    assert pandas.height == floor.height == expected.height == 2 * 99


def test_differences_names_the_rows_that_differ(wave50):
    expected = wave50.expected_distribution
    changed = expected.with_columns(
        pl.when(pl.col("item") == "P1").then(pl.col("n") + 1).otherwise(pl.col("n")).alias("n")
    )
    found = differences(expected, changed, "floor")
    assert len(found) == 6 and found[-1] == "floor: … 6 rows differ"
    assert all(f.startswith("floor: {'wave': 'synthetic-0001', 'item': 'P1'") for f in found[:5])
    assert differences(expected, changed.filter(pl.col("category") != "high"), "floor")[0] == (
        "floor: {'wave': 'synthetic-0001', 'item': 'C1', 'category': 'high', 'n': 2, 'base_n': 48, "
        "'pct': 4.166666666666667, 'n_got': None, 'base_n_got': None, 'pct_got': None}"
    )
    assert differences(expected, expected.filter(pl.col("item") != "V6"), "x")[0].startswith("x: {'wave'")


def test_sav_and_xlsx_exports_read_back_with_codes_and_labels(tmp_path):
    import fastexcel
    import pyreadstat

    sav = generate_wave(tmp_path, "synthetic-0003", 30, seed=6, fmt="sav")
    data, meta = pyreadstat.read_sav(str(sav.export), apply_value_formats=False)
    assert len(data) == 30 and list(meta.column_names[:4]) == ["respondent_id", "status", "submitted", "email"]
    assert meta.column_names[4:] == list(CODEBOOK.background) + [i.code for i in CLOSED + TEXT]
    first_item = 4 + len(CODEBOOK.background)  # after the metadata and the background variables
    assert meta.column_labels[first_item] == CLOSED[0].question["nb"]
    first_label = CODEBOOK.scale_of(CLOSED[0].code).categories[0].label["nb"]
    assert meta.variable_value_labels[CLOSED[0].code][1.0] == first_label
    codes = [v for i in CLOSED for v in data[i.code].dropna().tolist()]
    assert len(codes) == sav.answered_cells
    assert sum(c in BAD_CODES for c in codes) == sav.bad_cells == 3
    assert int(data["status"].sum()) == sav.complete

    xlsx = generate_wave(tmp_path, "synthetic-0004", 30, seed=6, fmt="xlsx")
    sheet = fastexcel.read_excel(str(xlsx.export)).load_sheet("Dataset", header_row=None, dtypes="string").to_polars()
    assert sheet.height == 31 and sheet.row(0)[first_item] == CLOSED[0].question["nb"]
    csv_twin = generate_wave(tmp_path / "csv", "synthetic-0004", 30, seed=6)
    _, rows = read_rows(csv_twin.export)
    assert [r[CLOSED[0].question["nb"]] or None for r in rows] == sheet.to_series(first_item).to_list()[1:]


def test_a_codes_wave_has_the_same_answers_as_its_labels_twin(tmp_path):
    codes = generate_wave(tmp_path / "codes", "synthetic-0005", 60, seed=6, values="codes")
    labels = generate_wave(tmp_path / "labels", "synthetic-0005", 60, seed=6)
    assert codes.expected_distribution.equals(labels.expected_distribution)
    assert codes.export.stat().st_size < 0.6 * labels.export.stat().st_size
    _, rows = read_rows(codes.export)
    first = CLOSED[0].question["nb"]
    code_of = {str(c.code) for c in CODEBOOK.scale_of(CLOSED[0].code).categories}
    assert {r[first] for r in rows} - {""} - {str(b) for b in BAD_CODES} <= code_of
    run_floor(tmp_path / "codes", tmp_path / "floor.parquet")
    assert differences(codes.expected_distribution, pl.read_parquet(tmp_path / "floor.parquet"), "floor") == []
    pandas = pl.from_pandas(item_distribution(tmp_path / "codes"))
    assert differences(codes.expected_distribution, pandas, "pandas") == []
