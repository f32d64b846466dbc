"""pipeline.reports.tables: the numbers of the documents are formatted as great-tables formats the pages' cells."""

from __future__ import annotations

import random

import pytest
from great_tables import vals

from pipeline.reports.tables import FORMATS, LOCALES, format_values

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
