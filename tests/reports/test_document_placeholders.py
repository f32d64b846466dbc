"""pipeline.reports.document.placeholders: {{ … }} filled from the sample's marts (wave 2024: tests/reports_helpers
COUNTS_2024), formatted as the tables format them; what names nothing is an error naming what is wrong; in the public
profile what the disclosure decision hides is flagged."""

from __future__ import annotations

import pytest
from document_helpers import placeholders

from pipeline.reports.document.placeholders import PlaceholderError


@pytest.fixture(scope="module")
def values(sample_build):
    return placeholders(sample_build)


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        ("P1.very_high.pct", "50 %"),
        ("P1.very_high.n", "5"),
        ("P1.high.pct", "40 %"),
        ("P3.some.pct", "60 %"),
        ("P2.headline", "90 %"),
        ("P2.top2", "90 %"),
        ("P2.ci_low", "60"),
        ("P2.ci_high", "98"),
        ("P2.mean", "4,4"),
        ("I1.top3", "80 %"),
        ("C4.dont_know.n", "1"),
        ("V4.yes.pct", "40 %"),
        ("V4.headline", "40 %"),
        ("2024:P1.n", "10"),
        (" P1.n ", "10"),
        ("P1.figure", "1"),
        ("V6.figure", "17"),
        ("waves.2024.invited", "12"),
        ("waves.2024.complete", "10"),
        ("waves.2024.partial", "0"),
        ("waves.2024.response_rate", "83 %"),
        ("waves.2024.fielded", "2024-05-13"),
    ],
)
def test_values_of_wave_2024(values, expr, text):
    value = values.resolve(expr)
    assert (value.text, value.hidden) == (text, None)


def test_numbers_follow_the_language(sample_build):
    assert placeholders(sample_build, "en").resolve("P2.mean").text == "4.4"
    assert placeholders(sample_build, "nb").resolve("P2.mean").text == "4,4"


@pytest.mark.parametrize(
    ("expr", "why"),
    [
        ("P9.n", "names no item 'P9'"),
        ("P1.share", "names no measure 'share' of an item"),
        ("P1.very_high.share", "names no measure 'share' of a category: use n or pct"),
        ("P1.yes.pct", "names no category 'yes' of P1 (scale degree)"),
        ("P1.top3.pct", "(top3 is a measure: write P1.top3)"),
        ("2023:P1.n", "names no wave '2023'"),
        ("waves.2023.invited", "names no wave '2023'"),
        ("waves.2024.rate", "names no wave field 'rate'"),
        ("V4.mean", "names the mean of V4, which it has none of (scale yes_no)"),
        ("OP.n", "names the free-text item 'OP', which has no numbers"),
        ("P1.change", "names the change of P1 into wave 2024, which has no previous wave"),
        ("C3.figure", "names a figure of C3, which the document has none of"),
        ("P1", "names no measure: write <item>.<measure>"),
    ],
)
def test_a_placeholder_that_names_nothing_says_why(values, expr, why):
    with pytest.raises(PlaceholderError) as err:
        values.resolve(expr)
    assert why in str(err.value)
    assert str(err.value).startswith("{{ " + expr.strip() + " }}")


def test_allowed_names_list_items_measures_categories_and_waves(values):
    allowed = values.allowed()
    for name in (
        "P1, P2",
        "V6",
        "headline",
        "ci_low",
        "very_high",
        "yes_no: yes, no, dont_know",
        "Waves: 2024",
        "response_rate",
    ):
        assert name in allowed


def test_public_profile_flags_what_the_disclosure_decision_hides(sample_build):
    public = placeholders(sample_build, profile="public")
    # I1: 1 / 3 / 4 / 2 / 0 / 0 — counts below 3 hidden, and the shares built on them; high and some are hidden too
    # (complementary: the small ones sum to 3 and could otherwise not reach 3 each), the headline 1 + 3 stays
    assert public.resolve("I1.very_high.n").hidden
    assert public.resolve("I1.low.pct").hidden
    assert public.resolve("I1.top3").hidden and public.resolve("I1.some.n").hidden
    assert public.resolve("I1.headline").hidden is None and public.resolve("I1.headline").text == "40 %"
    assert public.resolve("P1.high.pct").hidden is None and public.resolve("P1.very_high.pct").hidden
    assert public.resolve("waves.2024.complete").hidden is None
    assert placeholders(sample_build).resolve("I1.very_high.n").hidden is None  # internal: nothing hidden


def test_fill_replaces_every_placeholder_of_a_line(values):
    text, found = values.fill("{{P1.very_high.pct}} i meget høj grad og {{ P1.high.pct }} i høj grad")
    assert text == "50 % i meget høj grad og 40 % i høj grad"
    assert [e for e, _ in found] == ["P1.very_high.pct", "P1.high.pct"]
