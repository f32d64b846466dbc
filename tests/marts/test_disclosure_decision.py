"""pipeline.marts.disclosure: the decision over one wave's and item's linked tables (the overall distribution, its
groups per background variable with the overall row as their margin, base n's and headline counts), and the audit
that recomputes each hidden cell's feasible range from the published figures alone."""

import numpy as np
import polars as pl
import pytest

from pipeline.marts.disclosure import (
    ALL,
    BASE,
    HEADLINE,
    Attacker,
    Builder,
    Row,
    audit,
    audit_published,
    decide,
    decide_cells,
    disclosure_secret,
    keyed_perturbation,
    linked_block,
    reasons,
)

CATEGORIES = ["yes", "no", "dont_know"]


def v4_by_role(min_group: int = 5) -> Builder:
    """The issue's attack: V4 × role. Overall 12 answers: yes 5, no 6, don't know 1; staff (7): 3, 3, 1; managers
    (5): 2, 3, 0."""
    builder = Builder()
    linked_block(
        builder,
        ("2025", "V4"),
        CATEGORIES,
        ["yes"],
        [
            Row(ALL, "", {"yes": 5, "no": 6, "dont_know": 1}),
            Row("role", "staff", {"yes": 3, "no": 3, "dont_know": 1}, group_n=7),
            Row("role", "manager", {"yes": 2, "no": 3, "dont_know": 0}, group_n=5),
        ],
        min_cell=3,
        min_group=min_group,
        bound=12,
    )
    return builder


def hidden_keys(p, hidden) -> set[tuple]:
    return {k[2:] for k, h in zip(p.keys, hidden) if h}


def test_hiding_only_the_small_counts_lets_the_published_figures_give_them_back():
    """Row by row suppression (what the by-group tables did): the attacker's LP pins every small count exactly, and
    the audit names each with the relations that pin it."""
    p = v4_by_role().build()
    primaries_only = p.initial_hidden()
    assert hidden_keys(p, primaries_only) == {
        ("all", "", "dont_know"),
        ("role", "staff", "dont_know"),
        ("role", "manager", "yes"),
        ("role", "manager", "dont_know"),
        ("role", "manager", HEADLINE),
    }
    attacker = Attacker(p, primaries_only)
    assert attacker.range(p.keys.index(("2025", "V4", "role", "staff", "dont_know"))) == (1.0, 1.0)
    assert attacker.range(p.keys.index(("2025", "V4", "role", "manager", "yes"))) == (2.0, 2.0)
    failures, widths = audit(p, primaries_only)
    assert sorted(f.key[2:] for f in failures) == sorted(hidden_keys(p, primaries_only))
    assert widths == [0.0] * 5
    staff = next(f for f in failures if f.key[2:] == ("role", "staff", "dont_know"))
    assert str(staff) == (
        "wave 2025, V4, role=staff, dont_know: the published figures pin it to [1, 1], which must reach 0 and 3 "
        "(through: role=staff: the categories sum to the base n; the groups of role sum to the overall dont_know)"
    )


def test_the_decision_protects_every_small_count_against_the_rows_and_the_overall_margin():
    p = v4_by_role().build(keyed_perturbation(b"secret", list(v4_by_role().cells)))
    hidden = decide(p)
    failures, widths = audit(p, hidden)
    assert failures == []
    assert len(widths) == 5 and min(widths) >= 3
    attacker = Attacker(p, hidden)
    for key in hidden_keys(p, p.initial_hidden()):
        low, high = attacker.range(p.keys.index(("2025", "V4", *key)))
        value = p.value[p.keys.index(("2025", "V4", *key))]
        assert low <= 0 and high >= max(3, value + 1), (key, low, high)
    # the overall row's base n is published; more than the small counts are hidden, and each says why
    assert not hidden[p.keys.index(("2025", "V4", ALL, "", BASE))]
    why = dict(zip(p.keys, reasons(p, hidden)))
    assert {why[("2025", "V4", *k)] for k in hidden_keys(p, hidden)} == {"small", "complementary"}
    assert sum(1 for w in why.values() if w == "complementary") >= 2


def test_a_group_below_the_minimum_is_hidden_whole_and_cannot_be_worked_out_from_the_total():
    """Managers are 4 (< min_group 5): their row is hidden whole, their base n too, and the staff row must not give
    it away as overall − staff."""
    builder = Builder()
    linked_block(
        builder,
        ("2025", "V4"),
        CATEGORIES,
        ["yes"],
        [
            Row(ALL, "", {"yes": 6, "no": 6, "dont_know": 0}),
            Row("role", "staff", {"yes": 4, "no": 4, "dont_know": 0}, group_n=8),
            Row("role", "manager", {"yes": 2, "no": 2, "dont_know": 0}, group_n=4),
        ],
        min_cell=3,
        min_group=5,
        bound=12,
    )
    p = builder.build()
    hidden = decide(p)
    assert audit(p, hidden)[0] == []
    manager = {k: h for k, h in zip(p.keys, hidden) if k[3] == "manager"}
    assert all(manager.values()) and len(manager) == 5
    why = dict(zip(p.keys, reasons(p, hidden)))
    assert why[("2025", "V4", "role", "manager", BASE)] == "small_group"
    # the staff row cannot stay whole beside the overall row: something of it is hidden too
    assert any(h for k, h in zip(p.keys, hidden) if k[3] == "staff")


def test_the_tie_break_is_keyed_by_a_secret_and_reproducible_with_it():
    keys = list(v4_by_role().cells)
    one, again, other = (keyed_perturbation(s, keys) for s in (b"a", b"a", b"b"))
    assert one == again and one != other
    assert all(0 <= v < 0.1 for v in one.values())
    assert disclosure_secret(b"key") == disclosure_secret(b"key") != disclosure_secret(b"other key")
    assert b"key" not in disclosure_secret(b"key")


def cells_frame() -> pl.DataFrame:
    """The rows sql/marts/decide/disclosure_cells.sql gives for V4 × role."""
    rows = []
    for variable, group, group_n, counts in (
        ("all", "", None, (5, 6, 1)),
        ("role", "manager", 5, (2, 3, 0)),
        ("role", "staff", 7, (3, 3, 1)),
    ):
        for order, (category, n) in enumerate(zip(CATEGORIES, counts)):
            rows.append(("2025", "V4", variable, group, group_n, category, order, n, category == "yes", 12))
    return pl.DataFrame(
        rows,
        schema=["wave", "item", "variable", "group", "group_n", "category", "category_order", "n", "headline", "bound"],
        orient="row",
    )


def shown_frame(decision: pl.DataFrame) -> pl.DataFrame:
    return decision.select("wave", "item", "variable", "group", "cell", (~pl.col("hidden")).alias("published"))


@pytest.mark.parametrize("complementary", [True, False])
def test_decide_cells_and_the_audit_of_what_is_published(complementary):
    """The decision as the marts take it (one row per cell, with why) and the audit over what the marts let the pages
    show: it passes for the decision, and fails, naming each pinned cell, for the small counts alone."""
    decision = decide_cells(cells_frame(), min_cell=3, min_group=5, secret=b"s", complementary=complementary)
    assert decision.height == 3 * 5
    small = decision.filter(pl.col("hidden_because") == "small").select("variable", "group", "cell").rows()
    assert sorted(small) == [
        ("all", "", "dont_know"),
        ("role", "manager", "dont_know"),
        ("role", "manager", "yes"),
        ("role", "manager", "~headline"),
        ("role", "staff", "dont_know"),
    ]
    result = audit_published(cells_frame(), shown_frame(decision), min_cell=3, min_group=5)
    assert result.audited == 5
    if complementary:
        assert result.failures == () and result.narrowest >= 3
        assert result.hidden == int(decision["hidden"].sum()) > 5
    else:
        assert result.hidden == 5 and result.narrowest == 0
        assert sorted(f.key[2:] for f in result.failures) == small


def test_every_count_of_a_table_is_protected_when_everything_small_is_hidden():
    """No requirement left that hiding cannot meet: a table of ones (all small) is hidden whole and passes."""
    builder = Builder()
    linked_block(
        builder,
        ("w", "P1"),
        CATEGORIES,
        ["yes"],
        [Row(ALL, "", {"yes": 1, "no": 1, "dont_know": 1})],
        min_cell=3,
        min_group=5,
        bound=3,
    )
    p = builder.build()
    hidden = decide(p)
    assert hidden_keys(p, hidden) == {(ALL, "", c) for c in [*CATEGORIES, HEADLINE]}
    assert audit(p, hidden)[0] == []
    assert np.array_equal(hidden, decide(p))


def test_a_block_decided_before_is_taken_from_the_cache(monkeypatch):
    """The cache (block digest → hidden positions) gives the same decision without solving; a changed count or
    another secret is another block."""
    import pipeline.marts.disclosure as disclosure

    used: dict[str, list[int]] = {}
    first = decide_cells(cells_frame(), min_cell=3, min_group=5, secret=b"s", used=used)
    assert len(used) == 1 and all(isinstance(j, int) for j in next(iter(used.values())))
    monkeypatch.setattr(disclosure, "decide", lambda p: pytest.fail("solved again"))
    again: dict[str, list[int]] = {}
    assert decide_cells(cells_frame(), min_cell=3, min_group=5, secret=b"s", cache=used, used=again).equals(first)
    assert again == used
    one_more_no = (pl.col("category") == "no") & pl.col("group").is_in(["staff", ""])  # staff and overall
    changed = cells_frame().with_columns(pl.when(one_more_no).then(pl.col("n") + 1).otherwise(pl.col("n")).alias("n"))
    with pytest.raises(pytest.fail.Exception, match="solved again"):
        decide_cells(changed, min_cell=3, min_group=5, secret=b"s", cache=used)
    with pytest.raises(pytest.fail.Exception, match="solved again"):
        decide_cells(cells_frame(), min_cell=3, min_group=5, secret=b"other", cache=used)
