"""The panel follow-up, built once for the module: two CSV waves linked by wave.yaml panel_id (an e-mail column),
with people in both waves, people in one only, ids written with another case and spaces, a panel member answering
twice alike (collapsed) and twice differently (quarantined). Asserts every count of marts.panel_retention and
marts.panel_change, wave_change's shared samples, panel.html (internal and public), and that no panel id reaches
an output."""

from __future__ import annotations

import math
import shutil

import dagster as dg
import duckdb
import pytest
from helpers import build, make_settings, query, read_sample_rows, write_csv_wave
from waves_helpers import CODEBOOK, item_column, label

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)

Z = CODEBOOK.z
EMAIL = "E-post"

# Wave 2025: (e-mail, P1, V4); respondent ids R01… Wave 2026: ids S01…, the same people by e-mail only.
WAVE_2025 = [
    ("p1@bib.no", "very_high", "yes"),
    ("p2@bib.no", "high", "no"),
    ("p3@bib.no", "some", "yes"),
    ("p4@bib.no", "low", "no"),
    ("p5@bib.no", "high", "yes"),
    ("p6@bib.no", "not_at_all", "no"),
    ("p7@bib.no", "very_high", "yes"),
    ("p8@bib.no", "dont_know", "no"),
    ("", "high", "yes"),
]
WAVE_2026 = [  # (e-mail, P1, V4, status)
    ("p1@bib.no", "high", "yes", "Fullført"),
    ("p2@bib.no", "very_high", "yes", "Fullført"),
    (" P3@Bib.no ", "high", "no", "Fullført"),
    ("p4 @bib.NO", "low", "yes", "Fullført"),
    ("p5@bib.no", "dont_know", "yes", "Fullført"),
    ("p6@bib.no", "very_high", "yes", "Delvis"),
    ("p9@bib.no", "high", "yes", "Fullført"),
    ("P9@bib.no", "high", "yes", "Fullført"),  # twice alike
    ("p10@bib.no", "low", "no", "Fullført"),
    ("p10@bib.no", "high", "yes", "Fullført"),  # twice, differently
    ("", "some", "no", "Fullført"),
    ("", "low", "yes", "Fullført"),
]
PANEL_IDS = sorted(
    {e.strip() for e, *_ in WAVE_2025 + WAVE_2026 if e.strip()}
    | {"".join(e.split()).casefold() for e, *_ in WAVE_2025 + WAVE_2026 if e.strip()}
)


def write_waves(raw_dir) -> None:
    headers, _ = read_sample_rows()
    headers = headers + [EMAIL]
    p1, v4 = item_column(headers, "P1"), item_column(headers, "V4")

    def row(rid: str, status: str, email: str, p1_cat: str, v4_cat: str) -> list[str]:
        out = [""] * len(headers)
        out[0], out[1], out[-1] = rid, status, email
        out[p1], out[v4] = label("degree", p1_cat), label("yes_no", v4_cat)
        return out

    rows_a = [row(f"R{i:02d}", "Fullført", e, p, v) for i, (e, p, v) in enumerate(WAVE_2025, 1)]
    rows_b = [row(f"S{i:02d}", s, e, p, v) for i, (e, p, v, s) in enumerate(WAVE_2026, 1)]
    write_csv_wave(
        raw_dir,
        "2025",
        headers,
        rows_a,
        invited=10,
        fielded="2025-03-01",
        columns={"Tidsstempel": "submitted_at"},
        panel_id=EMAIL,
    )
    write_csv_wave(
        raw_dir,
        "2026",
        headers,
        rows_b,
        invited=14,
        fielded="2026-03-01",
        columns={"Tidsstempel": "submitted_at"},
        panel_id="e-POST",
    )


@pytest.fixture(scope="module")
def panel_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("panel")
    settings = make_settings(root, pseudonym_key="panel-test-key")
    write_waves(settings.raw_dir)
    with dg.instance_for_test() as instance:
        assert build(settings, instance) == 0
    return settings


def wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


def newcombe_paired(a: int, b: int, c: int, d: int) -> tuple[float, float, float]:
    """(a+b)/n − (a+c)/n with Newcombe's method 10 interval, in percentage points (independent of the SQL)."""
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b, n)
    l2, u2 = wilson(a + c, n)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    excess = a * d - b * c
    if margins == 0:
        phi = 0.0
    elif excess > n / 2:
        phi = (excess - n / 2) / math.sqrt(margins)
    elif excess >= 0:
        phi = 0.0
    else:
        phi = excess / math.sqrt(margins)
    delta = math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    eps = math.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    return 100 * (p1 - p2), 100 * (p1 - p2 - delta), 100 * (p1 - p2 + eps)


def test_panel_retention_counts_every_person_once(panel_build):
    got = query(panel_build, "select * from panel_retention").rows(named=True)
    assert got == [
        {
            "wave_from": "2025",
            "wave_to": "2026",
            "invited_from": 10,
            "answered_from": 9,
            "linked_from": 8,  # the ninth has no e-mail
            "linked_to": 7,  # p1–p6 (p3, p4 despite case and spaces), p9 once; p10's two rows conflict
            "answered_both": 6,
            "complete_both": 5,  # p6 is partial in 2026
            "left_after": 2,
            "joined": 1,
            "retention_pct": 75.0,
            "counts_hidden": True,  # 2 and 1 are below PIPELINE_MIN_CELL (3)
            "linked_hidden": False,  # 8 in the first wave may be shown
        }
    ]


def test_panel_members_are_pseudonyms_with_status(panel_build):
    members = query(panel_build, "select wave, status, count(*) as n from panel_members group by all order by all")
    assert members.rows() == [("2025", "complete", 8), ("2026", "complete", 6), ("2026", "partial", 1)]
    keys = query(panel_build, "select distinct panel_key from panel_members")["panel_key"].to_list()
    assert len(keys) == 9 and all(len(k) == 16 and int(k, 16) >= 0 for k in keys)


def test_panel_change_of_a_degree_item(panel_build):
    r = query(panel_build, "select * from panel_change where item = 'P1'").row(0, named=True)
    # Pairs (complete in both, valid in both): p1 vh→h, p2 h→vh, p3 some→h, p4 low→low, p5 h→dont_know.
    assert (r["wave_from"], r["wave_to"], r["level"], r["scale"]) == ("2025", "2026", "personal", "degree")
    assert (
        r["n_pairs"],
        r["both_headline"],
        r["headline_from_only"],
        r["headline_to_only"],
        r["neither_headline"],
    ) == (5, 2, 1, 1, 1)
    assert (r["headline_pct_from"], r["headline_pct_to"], r["headline_diff"]) == (60.0, 60.0, 0.0)
    diff, low, high = newcombe_paired(2, 1, 1, 1)
    assert (r["headline_diff_ci_low"], r["headline_diff_ci_high"]) == pytest.approx((low, high))
    assert (r["n_scored"], r["moved_up"], r["stayed"], r["moved_down"]) == (4, 2, 1, 1)
    assert (r["mean_score_from"], r["mean_score_to"], r["mean_score_diff"]) == (3.5, 3.75, 0.25)
    half = 3.182446305284263 * math.sqrt(2.75 / 3) / 2  # t(0.975, 3) · sd / √4; differences −1, +1, +1, 0
    assert (r["mean_score_diff_ci_low"], r["mean_score_diff_ci_high"]) == pytest.approx(
        (0.25 - half, 0.25 + half), abs=1e-4
    )
    # the mean change with its t interval would pin the hidden movement counts (2, 1, 1): hidden with them
    assert (r["small_n"], r["transitions_hidden"], r["movement_hidden"], r["mean_hidden"]) == (True, True, True, True)


def test_panel_change_of_a_yes_no_item(panel_build):
    r = query(panel_build, "select * from panel_change where item = 'V4'").row(0, named=True)
    # p1 yes→yes, p2 no→yes, p3 yes→no, p4 no→yes, p5 yes→yes.
    assert (
        r["n_pairs"],
        r["both_headline"],
        r["headline_from_only"],
        r["headline_to_only"],
        r["neither_headline"],
    ) == (5, 2, 1, 2, 0)
    assert (r["headline_pct_from"], r["headline_pct_to"], r["headline_diff"]) == (60.0, 80.0, 20.0)
    diff, low, high = newcombe_paired(2, 2, 1, 0)
    assert diff == pytest.approx(20.0)
    assert (r["headline_diff_ci_low"], r["headline_diff_ci_high"]) == pytest.approx((low, high))
    assert (r["n_scored"], r["moved_up"], r["stayed"], r["moved_down"]) == (0, 0, 0, 0)
    assert r["mean_score_diff"] is None and r["mean_score_diff_ci_low"] is None
    # Every closed item both exports hold has a row (18); only P1 and V4 were answered.
    assert query(panel_build, "select count(*) from panel_change").item() == 18
    assert query(panel_build, "select item from panel_change where n_pairs > 0")["item"].to_list() == ["P1", "V4"]


def test_wave_change_says_the_waves_share_people(panel_build):
    got = query(panel_build, "select distinct samples, shared_respondents from wave_change").rows()
    assert got == [("shared", 5)]
    page = (panel_build.reports_dir / "waves.html").read_text(encoding="utf-8")
    assert "Rundene 2025 og 2026 deler 5 personer" in page


def test_panel_member_twice_in_a_wave_is_a_duplicate(panel_build):
    reasons = query(
        panel_build,
        'select source_row, "column", reason from quarantine where wave = \'2026\' order by source_row, "column"',
    ).rows()
    rows = sorted({r for r, _, _ in reasons})
    assert rows == [9, 10]
    assert {(r, reason) for r, _, reason in reasons} == {
        (
            9,
            "the panel id of this row also stands in row 10 with different answers: the rows count in neither. "
            "Keep one row in the export",
        ),
        (
            10,
            "the panel id of this row also stands in row 9 with different answers: the rows count in neither. "
            "Keep one row in the export",
        ),
    }
    assert len(reasons) == 4  # P1 and V4 of both rows
    # p1–p5, p9 once (its second row is the same answer: collapsed) and the two without e-mail; p6 partial.
    assert query(panel_build, "select complete, partial from waves where wave = '2026'").row(0) == (8, 1)


def test_panel_page_shows_retention_and_paired_change(panel_build):
    page = (panel_build.reports_dir / "panel.html").read_text(encoding="utf-8")
    assert "<title>Samme personer over tid</title>" in page
    assert 'id="panel-retention"' in page and 'id="panel-personal"' in page and 'id="panel-visibility"' in page
    assert "75 %" in page  # retention
    assert "60 % → 80 %" in page and "+20 [" in page  # V4 before → after, the difference with its interval
    assert "2 / 1 / 1" in page  # P1 moved up / same / down
    assert "Få par" in page  # fewer than small_n_below pairs
    chart = panel_build.reports_dir / "panel" / "2025-2026.svg"
    assert chart.is_file() and 'href="panel/2025-2026.svg">SVG</a>' in page and 'href="panel/2025-2026.png">PNG' in page
    assert chart.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    svg = chart.read_text(encoding="utf-8")
    assert svg.split("\n", 1)[1].strip() in page  # the SVG is part of the page
    assert "V4" in svg and "+20 (n=5)" in svg
    assert 'href="panel.html"' in (panel_build.reports_dir / "index.html").read_text(encoding="utf-8")


def test_public_panel_page_hides_small_transition_cells(panel_build, tmp_path):
    settings = make_settings(tmp_path, pseudonym_key="panel-test-key", profile="public")
    shutil.copytree(panel_build.raw_dir, settings.raw_dir, dirs_exist_ok=True)
    with dg.instance_for_test() as instance:
        assert build(settings, instance) == 0
    page = (settings.reports_dir / "panel.html").read_text(encoding="utf-8")
    assert "60 % → 80 %" not in page and "2 / 1 / 1" not in page and "+20 [" not in page
    p1 = 'headers="panel-personal-Runde-2025-2026 panel-personal-stub-1 panel-personal-'
    for column, shown in (
        ("n_pairs", "5"),
        ("shares", ":"),
        ("diff", ":"),
        ("moved", ":"),
        ("mean", ":"),
    ):  # the mean change and its t interval would pin the hidden up / same / down (2 / 1 / 1): hidden with them
        assert f'{p1}{column}" class="gt_row gt_right">{shown}</td>' in page
    # Retention: 8 answered the first wave, 6 again, 2 dropped out, 1 joined: 2 and 1 are below 3, and 6 = 8 − 2,
    # so 6, 2, 1 and the 75 % are all hidden; 8 shows.
    row = 'headers="panel-retention-stub-1 panel-retention-'
    for column, shown in (
        ("linked_from", "8"),
        ("answered_both", ":"),
        ("retention", ":"),
        ("left_after", ":"),
        ("joined", ":"),
    ):
        assert f'{row}{column}" class="gt_row gt_right">{shown}</td>' in page
    svg = (settings.reports_dir / "panel" / "2025-2026.svg").read_text(encoding="utf-8")
    assert "+20" not in svg


def test_no_panel_id_reaches_an_output(panel_build):
    """No e-mail of the panel, as written or normalised, in any file of the marts folder (DuckDB files, Parquet,
    pages, charts, manifest) nor in any table of the published and the work database."""
    needles = [p.encode("utf-8") for p in PANEL_IDS] + [p.encode("utf-16-le") for p in PANEL_IDS]
    for path in sorted(panel_build.marts_dir.rglob("*")):
        if path.is_file():
            blob = path.read_bytes()
            assert not [n for n in needles if n in blob], path
    for db in (panel_build.published_db, panel_build.work_db):
        con = duckdb.connect(str(db), read_only=True)
        try:
            tables = con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
            for schema, table in tables:
                text = (
                    con.execute(
                        f'select string_agg(cast(t as varchar), \'|\') from "{schema}"."{table}" as t'
                    ).fetchall()[0][0]
                    or ""
                )
                assert not [p for p in PANEL_IDS if p in text.casefold()], (schema, table)
        finally:
            con.close()


def test_inspect_counts_panel_members_without_showing_ids(panel_build):
    from pipeline.staging.inspect_wave import inspect_wave

    text = inspect_wave(panel_build, CODEBOOK, "2026").text
    assert (
        "  'E-post' → role panel_id   [wave.yaml panel_id: read as a keyed pseudonym, the column itself dropped]"
        in text.splitlines()
    )
    assert (
        "  panel (wave.yaml panel_id): 7 panel member(s); 2 respondent(s) without a panel id (not followed across "
        "waves)"
    ) in text.splitlines()
    assert not [p for p in PANEL_IDS if p in text.casefold()]
