"""The normaliser and wave.yaml fuzzed. Random grids of codebook headers, labels, codes, hostile text
and noise end in a staged wave that accounts for every answer cell, or the one WaveError/ExportError for
that wave; random wave.yaml documents and folder names end in a WaveSpec or a WaveError."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import polars as pl
import pytest
import yaml
from hostile import CODEBOOK, FUZZ, HOSTILE_TEXTS, bounded, outcome, wave_settings
from hypothesis import event, given
from hypothesis import strategies as st

from pipeline.codebook import normalise_text
from pipeline.ingest.normalise import item_candidates
from pipeline.ingest.personal import Markers, mask_text
from pipeline.ingest.waves import METADATA_ROLES, TOOLS, WAVE_KEY, WaveError, WaveSpec, check_wave_key, load_wave

pytestmark = pytest.mark.fuzz

ITEMS = list(CODEBOOK.items)
LOOKUP = CODEBOOK.header_lookup()
TAKEN = set(LOOKUP) | set(CODEBOOK.role_lookup()) | {normalise_text(h) for h in CODEBOOK.personal_data_headers}
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00", exclude_categories=("Cs",)), max_size=15)


def _free_header(text: str) -> bool:
    """A header that maps to no item, role or personal-data column."""
    return bool(text.strip()) and not any(normalise_text(t) in TAKEN for t in item_candidates([text]) + [text])


NOISE = st.one_of(TEXT, st.sampled_from(HOSTILE_TEXTS), st.just(""), st.just("   "))


def _answers(item: str):
    """What a tool writes for a closed item (labels in any language, codes, keys, case and spaces off), or
    free text for a text item."""
    scale = CODEBOOK.scale_of(item)
    if scale.is_text:
        return NOISE
    valid = st.sampled_from([t for c in scale.categories for t in (*c.label.values(), str(c.code), c.key)])
    return st.one_of(valid, valid.map(lambda a: f"  {a.upper()} "))


@st.composite
def survey_grids(draw):
    items = draw(st.lists(st.sampled_from(ITEMS), min_size=1, max_size=6, unique=True))
    headers = [draw(st.sampled_from([code, *CODEBOOK.items[code].question.values()])) for code in items]
    extra = draw(st.lists(st.one_of(TEXT, st.sampled_from(HOSTILE_TEXTS)).filter(_free_header), max_size=3))
    columns = [(h, code) for h, code in zip(headers, items)] + [(h, None) for h in extra]
    columns = draw(st.permutations(columns))
    noise_pct = draw(st.sampled_from([0, 5, 15, 60]))  # share of cells that are noise: clean to mostly wrong

    def cell(code):
        if code is None:
            return draw(TEXT)
        return draw(NOISE) if draw(st.integers(0, 99)) < noise_pct else draw(_answers(code))

    rows = [[cell(code) for _, code in columns] for _ in range(draw(st.integers(1, 12)))]
    return [h for h, _ in columns], rows


def _blank(values: list[str]) -> list[bool]:
    return pl.Series(values, dtype=pl.Utf8).str.strip_chars().eq("").to_list()


@FUZZ
@given(grid=survey_grids())
def test_random_survey_grids_account_for_every_answer_or_fail_as_one_wave(tmp_path_factory, grid):
    headers, rows = grid
    settings = wave_settings(tmp_path_factory.mktemp("grid"))
    folder = settings.raw_dir / "w"
    folder.mkdir()
    buf = io.StringIO(newline="")
    buf.write("sep=;\r\n")
    csv.writer(buf, delimiter=";").writerows([headers] + rows)
    (folder / "export.csv").write_text(buf.getvalue(), encoding="utf-8", newline="")
    (folder / "wave.yaml").write_text("label: W\ninvited: 12\nexport: export.csv\n", encoding="utf-8")

    result = outcome(settings, "w")
    event(result[0] if result[0] == "ok" else re.sub(r"[0-9]+", "N", result[1].split(": ", 1)[1])[:40])
    if result[0] == "error":
        message = result[1]
        assert message.startswith((f"{folder / 'export.csv'}: ", "w/export.csv: ")), message
        return
    _, read, staged = result
    kept = [r for r in rows if not all(_blank(r))]
    assert staged.respondents.height == len(kept)
    assert (staged.exact_duplicates, staged.conflicting_duplicates) == (0, 0)
    mapped = [c for c in read.normalised.columns if c.target in CODEBOOK.items]
    assert sorted(c.target for c in mapped) == sorted(set(c.target for c in mapped))
    for c in mapped:
        values = [r[c.index] for r in kept]
        answers = sorted(
            pl.Series([v for v, b in zip(values, _blank(values)) if not b], dtype=pl.Utf8).str.strip_chars().to_list()
        )
        if CODEBOOK.scale_of(c.target).is_text:
            stored = staged.open_answers.filter(pl.col("item") == c.target)["text"].to_list()
            # free text is masked (contact details, identity numbers, bidirectional controls) before it is written
            assert sorted(stored) == sorted(mask_text(a, Markers.of(CODEBOOK)) for a in answers)
        else:
            valid = staged.responses.filter(pl.col("item") == c.target)
            rejected = staged.quarantine.filter(pl.col("column") == c.header)
            assert valid.height + rejected.height == len(answers), c
            lookup = CODEBOOK.category_lookup(CODEBOOK.items[c.target].scale)
            matched = sorted(a for a in answers if normalise_text(a) in lookup)
            assert valid.height == len(matched)
            assert sorted(valid["category"].to_list()) == sorted(lookup[normalise_text(a)] for a in matched)
            assert sorted(rejected["value"].to_list()) == sorted(a for a in answers if normalise_text(a) not in lookup)
    assert staged.quarantine.height == sum(
        staged.quarantine.filter(pl.col("column") == c.header).height
        for c in mapped
        if not CODEBOOK.scale_of(c.target).is_text
    )


# wave.yaml ----------------------------------------------------------------------------------------
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    TEXT,
    st.dates(),
    st.sampled_from(
        [
            "export.csv",
            "../export.csv",
            "/etc/passwd",
            ".wave.yaml",
            "a/b.csv",
            "x" * 300,
            "e\x00.csv",
            "..",
            "C:\\x.csv",
            "export.csv\n",
        ]
    ),
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8
)
CATEGORIES = sorted({c.key for s in CODEBOOK.scales.values() for c in s.categories})
WAVE_YAML = st.fixed_dictionaries(
    {"invited": st.one_of(st.integers(0, 40), VALUES), "export": st.one_of(st.just("export.csv"), VALUES)},
    optional={
        "label": VALUES,
        "wave": st.one_of(st.just("w"), VALUES),
        "tool": st.one_of(st.sampled_from(TOOLS), VALUES),
        "sheet": VALUES,
        "labels": st.one_of(st.just("labels.csv"), VALUES),
        "fielded": st.one_of(st.dates(), st.datetimes(), VALUES),
        "reconstruction": VALUES,
        "columns": st.one_of(
            st.dictionaries(TEXT, st.one_of(st.sampled_from(ITEMS + list(METADATA_ROLES)), VALUES), max_size=4), VALUES
        ),
        "values": st.one_of(
            st.dictionaries(
                st.one_of(st.sampled_from(sorted(CODEBOOK.scales)), TEXT),
                st.one_of(
                    st.dictionaries(
                        st.one_of(TEXT, st.integers()), st.one_of(st.sampled_from(CATEGORIES), VALUES), max_size=3
                    ),
                    VALUES,
                ),
                max_size=3,
            ),
            VALUES,
        ),
        "extra": VALUES,
    },
)


def _load(tmp_path_factory, text: str):
    raw = tmp_path_factory.mktemp("yaml") / "raw"
    folder = raw / "w"
    folder.mkdir(parents=True)
    (folder / "export.csv").write_text("P1\nJa\n", encoding="utf-8")
    (folder / "labels.csv").write_text("P1;1;Ja\n", encoding="utf-8")
    (folder / "wave.yaml").write_text(text, encoding="utf-8")
    with bounded(20):
        try:
            return folder, load_wave(raw, "w", CODEBOOK)
        except WaveError as exc:
            assert str(exc).startswith(f"{folder / 'wave.yaml'}: "), str(exc)
            assert len(str(exc)) < 2000, str(exc)
            return folder, exc


@FUZZ
@given(doc=WAVE_YAML)
def test_random_wave_yaml_gives_a_wave_spec_or_one_wave_error(tmp_path_factory, doc):
    folder, result = _load(tmp_path_factory, yaml.safe_dump(doc, allow_unicode=True))
    if isinstance(result, WaveSpec):
        assert result.key == "w" and result.export_path.parent == folder and result.export_path.is_file()
        assert isinstance(result.invited, int) and 0 <= result.invited < 2**31
        assert isinstance(result.reconstruction, bool) and isinstance(result.label, str)
        assert result.fielded is None or type(result.fielded) is dt.date
        assert set(result.columns.values()) <= set(ITEMS) | set(METADATA_ROLES)
        assert all(set(m.values()) <= set(CATEGORIES) for m in result.values.values())


@FUZZ
@given(text=st.text(max_size=300))
def test_random_text_as_wave_yaml_gives_a_wave_spec_or_one_wave_error(tmp_path_factory, text):
    _load(tmp_path_factory, text)


@FUZZ
@given(key=st.text(max_size=80))
def test_wave_keys_that_pass_are_plain_names(key):
    from dagster._core.definitions.partitions.utils.base import raise_error_on_invalid_partition_key_substring

    try:
        assert check_wave_key(key) == key
    except WaveError as exc:
        assert str(exc) == (
            f"wave folder name {key!r} is not allowed: use letters, digits, '-' and '_' (at most 64, no dots or quotes)"
        )
        assert not WAVE_KEY.match(key)
        return
    assert key.isascii() and 1 <= len(key) <= 64
    assert not set(key) & set("./\\'\" \t\r\n\x00;") and key == key.strip()
    raise_error_on_invalid_partition_key_substring([key])


# Tool presets ----------------------------------------------------------------------------------------
SIGNATURES = {
    "surveyxact": [
        "respondentid",
        "stato_1",
        "stato_2",
        "stato_3",
        "stato_4",
        "stato_5",
        "statoverall",
        "email",
        "closetime",
    ],
    "qualtrics": ["ResponseId", "StartDate", "Finished", "Status", "EndDate", "IPAddress"],
    "surveymonkey": ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address"],
    "limesurvey": ["id", "submitdate", "lastpage", "startlanguage", "ipaddr"],
    "nettskjema": ["$submission_id", "$created", "$answer_time_ms", "$email"],
    "msforms": ["ID", "Start time", "Completion time", "Email", "Name"],
    "googleforms": ["Timestamp", "Email Address", "Score"],
}
TOOL_VALUES = [
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "0",
    "",
    "1.0",
    "true",
    "false",
    "Ja",
    "Nei",
    "I høy grad",
    "Vet ikke",
    '{"ImportId":"QID1"}',
    "Response",
    "Survey Preview",
    "Gennemført",
    "R_1",
    "2024-05-13 10:00",
]


@st.composite
def tool_exports(draw):
    tool = draw(st.sampled_from(sorted(SIGNATURES)))
    system = draw(st.lists(st.sampled_from(SIGNATURES[tool]), min_size=1, unique=True))
    items = draw(st.lists(st.sampled_from(ITEMS), min_size=1, max_size=8, unique=True))
    headers = draw(st.permutations(system + items))
    cell = st.one_of(st.sampled_from(TOOL_VALUES + HOSTILE_TEXTS), TEXT)
    rows = draw(st.lists(st.lists(cell, min_size=len(headers), max_size=len(headers)), max_size=8))
    wave_yaml = draw(
        st.sampled_from(["", f"tool: {tool}\n", "tool: auto\n", "tool: generic\n", "labels: labels.csv\n"])
    )
    labels = draw(st.sampled_from(["", "P1;1;Ja\nstato_4;1;Gennemført\n", "x;y\n;;\n", "P1;1\n"]))
    return headers, rows, wave_yaml, labels


@FUZZ
@given(export=tool_exports())
def test_random_tool_exports_give_a_staged_wave_or_one_error(tmp_path_factory, export):
    headers, rows, wave_yaml, labels = export
    settings = wave_settings(tmp_path_factory.mktemp("tool"))
    folder = settings.raw_dir / "w"
    folder.mkdir()
    buf = io.StringIO(newline="")
    buf.write("sep=;\r\n")
    csv.writer(buf, delimiter=";").writerows([headers] + rows)
    (folder / "export.csv").write_text(buf.getvalue(), encoding="utf-8", newline="")
    (folder / "labels.csv").write_text(labels, encoding="utf-8")
    (folder / "wave.yaml").write_text("label: W\ninvited: 12\nexport: export.csv\n" + wave_yaml, encoding="utf-8")
    result = outcome(settings, "w")
    if result[0] == "error":
        assert result[1].startswith((str(folder), "w/export.csv: ")), result[1]
    else:
        _, read, staged = result  # every data row is a respondent, left out (not a response) or a duplicate
        assert staged.respondents.height == (
            read.export.n_rows
            - sum(read.normalised.excluded_rows.values())
            - staged.exact_duplicates
            - staged.conflicting_duplicates
        )
