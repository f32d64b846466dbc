"""pipeline.reports.tables: the numbers of the documents are formatted as great-tables formats the pages' cells."""

from __future__ import annotations

import random

import pytest
from great_tables import vals

from pipeline.reports.tables import FORMATS, LOCALES, format_values, great_tables_as_released

# counts, percentages with every fraction the marts give, interval bounds, changes around zero, means, large counts
rng = random.Random(27)
VALUES = (
    list(range(-120, 121))
    + [12345, 1_000_000, 99_999, -12345]
    + [i / 8 for i in range(-800, 801)]
    + [rng.uniform(-100, 100) for _ in range(2000)]
    + [0.5, 1.5, 2.5, -0.5, -0.4999, 0.04999, 33.333333333333336, 66.66666666666667, 99.95, -0.04]
)


@pytest.mark.parametrize("lang", sorted(LOCALES))
@pytest.mark.parametrize("number", sorted(FORMATS))
def test_format_values_gives_great_tables_own_texts(number, lang):
    with great_tables_as_released():
        expected = vals.fmt_number(VALUES, locale=LOCALES[lang], **FORMATS[number])
    assert format_values(VALUES, number, lang) == expected
    assert format_values([None, VALUES[0], None], number, lang) == [None, expected[0], None]


def test_the_texts_in_each_language():
    assert [
        format_values([12345, -3, 0.5, 2.5, 66.66666666666667], "integer", lang) for lang in ("nb", "da", "en")
    ] == [
        ["12 345", "\u22123", "0", "2", "67"],
        ["12.345", "\u22123", "0", "2", "67"],
        ["12,345", "\u22123", "0", "2", "67"],
    ]


@pytest.mark.build  # reads a whole build (conftest.py starts such tests first)
@pytest.mark.parametrize("profile", ["internal", "public"])
def test_pages_are_the_html_of_great_tables_own_cell_loops(panel_group_build, profile):
    """tables.py makes great-tables write a table's cells once per column; every page of a 2-wave panel build with
    background variables (formats, ":" and other substitutions, merged cells, row groups, inline SVG) is the HTML
    great-tables' own cell-at-a-time loops give."""
    from pipeline.codebook import load_codebook
    from pipeline.reports.data import ReportData
    from pipeline.reports.panel import panel_page
    from pipeline.reports.render import build_pages
    from pipeline.reports.waves import waves_page
    from pipeline.warehouse import connect, read_marts

    codebook = load_codebook(panel_group_build.codebook_file)
    names = ("item_indicators", "item_disclosure", "waves", "open_answers", "item_by_group", "wave_change")
    with connect(panel_group_build, read_only=True) as con:
        marts = read_marts(con, (*names, "panel_change", "panel_retention"))
    assert marts["waves"].height == 2 and marts["item_by_group"].height > 0

    def pages() -> dict[str, str]:
        data = ReportData(
            codebook,
            "nb",
            *(marts[n] for n in names[:4]),
            profile=profile,
            min_cell=3,
            by_group=marts["item_by_group"],
        )
        out = build_pages(data, {})
        waves = marts["waves"].sort("wave")
        out["waves.html"] = waves_page(
            codebook, "nb", waves, marts["wave_change"], profile, 3, marts["item_disclosure"], marts["item_indicators"]
        )
        out["panel.html"] = panel_page(
            codebook, "nb", waves, marts["panel_retention"], marts["panel_change"], {}, profile, 3
        )
        return out

    ours = pages()
    with great_tables_as_released():
        released = pages()
    assert sorted(ours) == sorted(["index.html", "waves.html", "panel.html", *(f"{k}.html" for k in codebook.levels)])
    assert {name: ours[name] == released[name] for name in ours} == {name: True for name in ours}
    assert ours["index.html"].count("<td") > 500
