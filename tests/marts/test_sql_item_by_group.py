"""Breakdowns by background variable, built once for the module (internal and public profile): a synthetic
two-wave CSV export with two background variables (role, library size). Asserts marts.item_by_group and
marts.level_by_group counts and shares per group, the quarantine of an unknown group value, the public profile's
flag and suppression of a group of 2 and of its complement, and the level pages' "by group" tables with each
group's n."""

from __future__ import annotations

import shutil

import dagster as dg
import pytest
from helpers import build, make_settings, query, read_sample_rows, write_csv_wave
from reports_helpers import svg_texts
from waves_helpers import CODEBOOK, item_column, label

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)

# Wave 2026 (the newest): (P1, V4, role cell, library size cell)
WAVE_2026 = [
    ("very_high", "yes", "Leder", "1"),
    ("high", "no", "Leder", "2"),
    ("high", "yes", "Medarbeider", "1"),
    ("some", "no", "Medarbeider", "1"),
    ("low", "yes", "Medarbeider", "2"),
    ("very_high", "yes", "Medarbeider", "2"),
    ("high", "no", "Medarbeider", "3"),
    ("not_at_all", "no", "Medarbeider", "3"),
    ("high", "yes", "staff", "Under 10 000"),
    ("some", "yes", "Sjef", "2"),  # unknown role: quarantined, counted as not stated
    ("high", "no", "", "3"),
    ("dont_know", "yes", "", "1"),
    ("very_high", "yes", "", "Over 50 000"),
    ("low", "no", "", "medium"),
]
WAVE_2025 = [
    ("high", "yes", "Leder", "1"),
    ("high", "yes", "Medarbeider", "2"),
    ("some", "no", "Medarbeider", "3"),
    ("low", "no", "Medarbeider", "1"),
    ("very_high", "yes", "Medarbeider", "2"),
    ("high", "no", "Leder", "3"),
]


def write_waves(raw_dir) -> None:
    headers, _ = read_sample_rows()
    headers = headers + ["Rolle", "Bibliotekstørrelse"]
    p1, v4 = item_column(headers, "P1"), item_column(headers, "V4")

    def rows(prefix: str, data) -> list[list[str]]:
        out = []
        for i, (p1_cat, v4_cat, role, size) in enumerate(data, 1):
            row = [""] * len(headers)
            row[0], row[1], row[-2], row[-1] = f"{prefix}{i:02d}", "Fullført", role, size
            row[p1], row[v4] = label("degree", p1_cat), label("yes_no", v4_cat)
            out.append(row)
        return out

    write_csv_wave(
        raw_dir,
        "2025",
        headers,
        rows("A", WAVE_2025),
        invited=8,
        fielded="2025-03-01",
        columns={"Tidsstempel": "submitted_at"},
    )
    write_csv_wave(
        raw_dir,
        "2026",
        headers,
        rows("B", WAVE_2026),
        invited=20,
        fielded="2026-03-01",
        columns={"Tidsstempel": "submitted_at"},
    )


KEY = "by-group-test-key"


@pytest.fixture(scope="module")
def grouped(tmp_path_factory):
    root = tmp_path_factory.mktemp("by_group")
    settings = make_settings(root)
    write_waves(settings.raw_dir)
    # one key (the Dagster resource reads it from the environment): the decision's keyed tie-break is the same each run
    with pytest.MonkeyPatch.context() as mp, dg.instance_for_test() as instance:
        mp.setenv("PIPELINE_PSEUDONYM_KEY", KEY)
        assert build(settings, instance) == 0
    return settings


@pytest.fixture(scope="module")
def grouped_public(grouped, tmp_path_factory):
    root = tmp_path_factory.mktemp("by_group_public")
    settings = make_settings(root, profile="public")
    shutil.copytree(grouped.raw_dir, settings.raw_dir, dirs_exist_ok=True)
    with pytest.MonkeyPatch.context() as mp, dg.instance_for_test() as instance:
        mp.setenv("PIPELINE_PSEUDONYM_KEY", KEY)
        assert build(settings, instance) == 0
    return settings


def summary(settings, wave: str, item: str, variable: str) -> list[tuple]:
    return query(
        settings,
        'select distinct "group", group_order, group_n, base_n, headline_n, headline_pct, '
        "mean_score, small_group, group_hidden, group_hidden_because from item_by_group "
        "where wave = ? and item = ? and variable = ? order by group_order",
        [wave, item, variable],
    ).rows()


def test_p1_by_role_in_the_newest_wave(grouped):
    rows = summary(grouped, "2026", "P1", "role")
    assert [r[:5] for r in rows] == [
        ("all", 0, 14, 14, 8),  # every complete respondent: vh 3, high 5 of 14
        ("manager", 1, 2, 2, 2),
        ("staff", 2, 7, 7, 4),  # "staff" by its key counts as staff
        ("not_stated", 3, 5, 5, 2),  # four blanks and the unknown "Sjef"
    ]
    assert [r[5] for r in rows] == pytest.approx([800 / 14, 100.0, 400 / 7, 40.0])
    assert [r[6] for r in rows] == pytest.approx([46 / 13, 4.5, 23 / 7, 3.5])  # dont_know has no score
    # Flags: manager (2) is below PIPELINE_MIN_GROUP (5): hidden whole; not stated (5) too, so that manager's 2
    # cannot be worked out as all − staff − not stated (the decision is the same in both profiles: the marts do not
    # differ; which group is hidden with it follows the keyed tie-break)
    assert [r[7:] for r in rows] == [
        (False, False, None),
        (True, True, "small"),
        (False, False, None),
        (False, True, "complementary"),
    ]


def test_every_category_of_a_group_with_zeros(grouped):
    got = query(
        grouped,
        "select category, n, pct from item_by_group where wave = '2026' and item = 'P1' "
        "and variable = 'role' and \"group\" = 'staff' order by category_order",
    ).rows()
    assert got == [
        ("very_high", 1, pytest.approx(100 / 7)),
        ("high", 3, pytest.approx(300 / 7)),
        ("some", 1, pytest.approx(100 / 7)),
        ("low", 1, pytest.approx(100 / 7)),
        ("not_at_all", 1, pytest.approx(100 / 7)),
        ("dont_know", 0, 0.0),
    ]


def test_library_size_groups_by_code_label_and_key(grouped):
    rows = summary(grouped, "2026", "V4", "library_size")
    # small: 1,3,4,9 ("Under 10 000"),12 · medium: 2,5,6,10,14 ("medium") · large: 7,8,11,13 ("Over 50 000")
    assert [r[:5] for r in rows] == [
        ("all", 0, 14, 14, 8),
        ("small", 1, 5, 5, 4),
        ("medium", 2, 5, 5, 3),
        ("large", 3, 4, 4, 1),
    ]
    assert [r[7:] for r in rows] == [
        (False, False, None),
        (False, False, None),
        (False, True, "complementary"),
        (True, True, "small"),
    ]


def test_the_all_row_equals_the_item_s_distribution(grouped):
    by_group = query(
        grouped,
        "select category, n from item_by_group where wave = '2025' and item = 'P1' and "
        "variable = 'role' and \"group\" = 'all' order by category_order",
    ).rows()
    overall = query(
        grouped, "select category, n from item_distribution where wave = '2025' and item = 'P1' order by category_order"
    ).rows()
    assert by_group == overall and sum(n for _, n in by_group) == 6


def test_level_by_group(grouped):
    got = query(
        grouped,
        "select \"group\", group_n, items, avg_headline_pct from level_by_group where wave = '2026' "
        "and level = 'visibility' and variable = 'role' order by group_order",
    ).rows()
    # V4 only (the other visibility items were not answered): yes by group
    assert got == [
        ("all", 14, 1, pytest.approx(800 / 14)),
        ("manager", 2, 1, 50.0),
        ("staff", 7, 1, pytest.approx(400 / 7)),
        ("not_stated", 5, 1, 60.0),
    ]


def test_an_unknown_group_value_is_quarantined(grouped):
    got = query(grouped, "select source_row, \"column\", value, reason from quarantine where wave = '2026'").rows()
    assert got == [
        (
            10,
            "Rolle",
            "Sjef",
            "'Sjef' is not a group of role (Role): allowed are Leder, Medarbeider or codes 1, 2. The respondent "
            "counts as not stated; correct the cell or map it in wave.yaml values: role",
        )
    ]


def test_level_page_shows_each_group_with_its_n(grouped):
    page = (grouped.reports_dir / "personal.html").read_text(encoding="utf-8")
    assert "<h2>Etter gruppe</h2>" in page
    assert 'id="by-group-personal-role"' in page and 'id="by-group-personal-library_size"' in page
    table = page[page.index('id="by-group-personal-role"') : page.index('id="by-group-personal-library_size"')]
    for group, n in (("Alle", 14), ("Leder", 2), ("Medarbeider", 7), ("Ikke oppgitt", 5)):
        assert (
            f">{group}</th>" in table
            and f'n" class="gt_row gt_right">{n}</td>' in table.split(f">{group}</th>", 1)[1][:400]
        )
    assert "57 % (" in table  # staff's top-2 share with its interval
    # one chart per level and variable, after the variable's table: P1 (the only personal item answered) with a row
    # per group, in the table's order
    role = page[page.index('id="by-group-personal-role"') :]
    assert (
        role.index('-title">Divergerende stolpediagram for Personlig nivå etter Rolle, runde 2026</title>')
        < role.index('href="figures/2026/group-personal-role.svg">SVG</a>')
        < role.index('id="by-group-personal-library_size"')
    )
    assert not list((grouped.reports_dir / "figures" / "2026").glob("group-*-manager.*"))  # no chart per group
    texts = svg_texts(grouped.reports_dir / "figures" / "2026" / "group-personal-role.svg")
    labels = [t for t in texts if t.startswith("P1 ·")]
    assert labels == [
        "P1 · Alle (n = 14)",
        "P1 · Leder (n = 2)",
        "P1 · Medarbeider (n = 7)",
        "P1 · Ikke oppgitt (n = 5)",
    ]
    question = next(i for i, t in enumerate(texts) if t.startswith("P1: "))
    assert " ".join(texts[question : texts.index(labels[0])]) == (
        "P1: " + CODEBOOK.items["P1"].question["nb"]
    )  # the question, wrapped
    assert "Personlig nivå etter Rolle" in texts  # the title


def test_public_page_hides_the_small_group_and_its_complement(grouped_public):
    page = (grouped_public.reports_dir / "personal.html").read_text(encoding="utf-8")
    table = page[page.index('id="by-group-personal-role"') : page.index('id="by-group-personal-library_size"')]
    for group, n in (("Alle", "14"), ("Leder", ":"), ("Medarbeider", "7"), ("Ikke oppgitt", ":")):
        after = table.split(f">{group}</th>", 1)[1][:400]
        assert f'n" class="gt_row gt_right">{n}</td>' in after, group
    assert "100 % (" not in table and "60 % (" not in table  # the hidden groups' shares
    # the chart: the shown groups only (manager is small, not stated its complement)
    texts = svg_texts(grouped_public.reports_dir / "figures" / "2026" / "group-personal-role.svg")
    assert [t for t in texts if t.startswith("P1 ·")] == ["P1 · Alle (n = 14)", "P1 · Medarbeider (n = 7)"]
    assert not [t for t in texts if "Leder" in t or "Ikke oppgitt" in t or "(n = 2)" in t or "(n = 5)" in t]
    assert 'href="figures/2026/group-personal-role.svg">SVG</a>' in page
    assert "county" not in page and "Fylke" not in page  # not public (and not in these exports)


def test_inspect_shows_each_background_value_and_its_group(grouped):
    from pipeline.staging.inspect_wave import inspect_wave

    lines = inspect_wave(grouped, CODEBOOK, "2026").text.splitlines()
    start = lines.index("values per background variable (value: count → group):")
    assert lines[start + 1 : start + 7] == [
        "  role ('Rolle'):",
        "    'Leder': 2 → manager",
        "    'Medarbeider': 6 → staff",
        "    'staff': 1 → staff",
        "    (blank): 4 → not_stated",
        "    'Sjef': 1 → QUARANTINE (counts as not stated): 'Sjef' is not a group of role (Role): allowed are Leder, "
        "Medarbeider or codes 1, 2. The respondent counts as not stated; correct the cell or map it in wave.yaml "
        "values: role",
    ]
