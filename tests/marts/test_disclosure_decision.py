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
    audit_panel_counts,
    audit_published,
    decide,
    decide_blocks,
    decide_cells,
    decide_panel,
    disclosure_secret,
    keyed_perturbation,
    linked_block,
    published_panel_bounds,
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


def test_blocks_decided_in_several_processes_are_decided_as_in_one():
    problems = [
        v4_by_role(min_group).build(keyed_perturbation(secret, list(v4_by_role(min_group).cells)))
        for min_group in (3, 5)
        for secret in (b"a", b"b", b"c")
    ]
    one = [decide(p) for p in problems]
    assert [hidden_keys(p, h) for p, h in zip(problems, decide_blocks(problems, processes=2))] == [
        hidden_keys(p, h) for p, h in zip(problems, one)
    ]
    assert len({frozenset(hidden_keys(p, h)) for p, h in zip(problems, one)}) > 1  # the blocks differ


def test_the_processes_that_decide_blocks_do_not_run_the_program_that_started_them(tmp_path):
    """A spawned process imports its parent's __main__: a script without a main guard would build again there."""
    import subprocess
    import sys

    script = tmp_path / "build_at_import.py"
    script.write_text(
        "import sys\n"
        "from pathlib import Path\n"
        "with Path(sys.argv[1]).open('a') as f:\n"
        "    f.write('started\\n')\n"
        "from pipeline.marts.disclosure import ALL, Builder, Row, decide_blocks, linked_block\n"
        "b = Builder()\n"
        "linked_block(b, ('w', 'i'), ['yes', 'no'], ['yes'], [Row(ALL, '', {'yes': 1, 'no': 6})], "
        "min_cell=3, min_group=5, bound=7)\n"
        "print(sum(int(h.sum()) for h in decide_blocks([b.build(), b.build()], processes=2)))\n"
    )
    log = tmp_path / "started.log"
    done = subprocess.run([sys.executable, str(script), str(log)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert log.read_text() == "started\n"
    assert done.stdout.strip() == "6"  # three cells hidden in each of the two blocks


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


DEGREE = ["very_high", "high", "some", "low", "not_at_all", "dont_know"]


def p1_frame() -> pl.DataFrame:
    """disclosure_cells.sql's rows for one wave of 14 where P1 is very_high 1, high 6, some 4, low 3, none below."""
    counts, scores = (1, 6, 4, 3, 0, 0), (5, 4, 3, 2, 1, None)
    rows = [
        ("w1", "P1", "all", "", None, c, order, n, c in ("very_high", "high"), score, 14)
        for order, (c, n, score) in enumerate(zip(DEGREE, counts, scores))
    ]
    return pl.DataFrame(
        rows,
        schema=[
            "wave", "item", "variable", "group", "group_n", "category", "category_order", "n", "headline", "score",
            "bound",
        ],
        orient="row",
    )  # fmt: skip


def p1_panel(**changes) -> pl.DataFrame:
    """panel_change's row when all 14 answered the next wave too (pairs 14; 7 in the headline answer in w1, 7 outside
    it; every cell of the 2×2 table and of the movement at least 3; 11 scored in both waves): "50 % → …" of 14 pairs
    is the wave's headline count, 7."""
    row = dict(
        wave_from="w1", wave_to="w2", item="P1", n_pairs=14, both_headline=3, headline_from_only=4,
        headline_to_only=4, neither_headline=3, n_scored=11, moved_up=4, stayed=4, moved_down=3,
        pairs_hidden=False, transitions_hidden=False, movement_hidden=False,
    )  # fmt: skip
    return pl.DataFrame([{**row, **changes}])


def test_a_panel_table_that_would_give_back_a_hidden_count_is_hidden():
    """Whether the waves' decision hides P1's headline count or its "high" count beside very_high = 1 is the keyed
    tie-break's choice. Where it hides the headline and shows high = 6, the panel's 2×2 table of 14 pairs out of 14
    answers gives the headline back and with it very_high = 7 − 6. The waves' decision stays as it is (a wave's pages
    do not change when the next wave arrives); the panel's decision hides the 2×2 table there, and only there, and
    the audit, which knows every published panel figure, passes. Published anyway, the audit names the cell and the
    panel's relation that pins it."""
    hid_table, failures = [], []
    for k in range(16):
        decision = decide_cells(p1_frame(), min_cell=3, min_group=5, secret=disclosure_secret(f"key-{k}".encode()))
        hidden = set(decision.filter(pl.col("hidden"))["cell"])
        leaky = "~headline" in hidden and "high" not in hidden
        panel = decide_panel(p1_frame(), shown_frame(decision), p1_panel(), min_cell=3, min_group=5)
        assert panel.select("pairs_hidden", "movement_hidden").row(0) == (False, False)
        hid_table.append((leaky, panel["transitions_hidden"][0]))
        published = p1_panel(transitions_hidden=panel["transitions_hidden"][0])
        bounds = published_panel_bounds(published, p1_frame())
        result = audit_published(p1_frame(), shown_frame(decision), min_cell=3, min_group=5, bounds=bounds)
        failures.append(result.failures)
        if leaky:
            everything = published_panel_bounds(p1_panel(), p1_frame())
            (failure,) = audit_published(
                p1_frame(), shown_frame(decision), min_cell=3, min_group=5, bounds=everything
            ).failures
            assert str(failure).startswith(
                "wave w1, P1, overall, very_high: the published figures pin it to [1, 1], which must reach 0 and 3 "
                "(through: overall: the categories sum to the base n; overall: the headline count is very_high + "
                "high; panel: the pairs of w1 → w2 in the headline answer in w1 (at least 7); panel: the pairs of "
                "w1 → w2 outside the headline answer in w1 (at least 7); panel: the scored pairs of w1 → w2"
            )
    assert hid_table.count((True, True)) == 8 and hid_table.count((False, False)) == 8
    assert failures == [()] * 16


def panel_counts(**changes) -> pl.DataFrame:
    """published_panel_counts.sql's rows for three waves of a panel: 40 answered the first (36 complete, 4 partial),
    34 the second (30 + 4), 28 the third (27 complete, 1 partial: hidden on waves.html). changes: of the second
    pair."""
    pairs = pl.DataFrame(
        {
            "wave_from": ["w1", "w2"],
            "wave_to": ["w2", "w3"],
            "linked_from": [40, 34],
            "linked_to": [34, 28],
            "answered_both": [29, 23],
            "left_after": [11, 11],
            "joined": [5, 5],
            "complete_both": [24, 20],
            "counts_hidden": [False, True],
            "linked_hidden": [False, False],
            "shared_hidden": [False, True],
            "most_pairs": [24, 20],
        }
    )
    waves = {"w1": (36, 4), "w2": (30, 4), "w3": (27, 1)}  # complete, partial; 50 invited to each
    for side in ("from", "to"):
        wave = pl.col(f"wave_{side}")
        pairs = pairs.with_columns(
            wave.replace_strict({w: c for w, (c, _) in waves.items()}).alias(f"complete_{side}"),
            wave.replace_strict({w: p for w, (_, p) in waves.items()}).alias(f"partial_{side}"),
            pl.lit(50).alias(f"invited_{side}"),
        )
        pairs = pairs.with_columns(
            (pl.col(f"complete_{side}") < 3).alias(f"complete_{side}_hidden"),
            (pl.col(f"partial_{side}") < 3).alias(f"partial_{side}_hidden"),
        )
    return pairs.with_columns(
        pl.when(pl.col("wave_from") == "w2").then(pl.lit(v)).otherwise(pl.col(k)).alias(k) for k, v in changes.items()
    )


def test_the_audit_of_the_panel_counts_finds_a_hidden_partial_count_given_back_by_the_retention_table():
    """The third wave's one partial answer is hidden on waves.html; the panel table's "answered again 23, joined 5"
    would say that 28 panel members answered it, one more than its 27 complete answers. panel_retention hides those
    counts (counts_hidden), and the audit proves it; shown, the audit names the partial count and how it is pinned."""
    result = audit_panel_counts(panel_counts(), min_cell=3)
    assert result.failures == () and result.hidden == 7 and result.audited == 1
    assert result.narrowest == 23  # the partial count's range: [0, 50 invited − 27 complete]
    (failure,) = audit_panel_counts(panel_counts(counts_hidden=False), min_cell=3).failures
    assert str(failure).startswith(
        "wave w3, responses, overall, partial: the published figures pin it to [1, 23], which must reach 0 and 3"
    )
    assert "the panel members of w3 are at most its responses" in str(failure)
