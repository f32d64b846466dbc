"""pipeline.ingest.review: the review file of a wave's open answers, and what the public profile may show of them."""

from pathlib import Path

import polars as pl
import pytest
import yaml

from pipeline.ingest.review import (
    REVIEW_FILE,
    answer_id,
    load_review,
    open_answers_for,
    reviewed_answers,
    write_review,
)
from pipeline.ingest.waves import WaveError

ANSWERS = pl.DataFrame(
    {
        "wave": ["w", "w", "w", "w", "w"],
        "item": ["OP", "OP", "OC", "OC", "OC"],
        "respondent_key": ["r1", "r2", "r1", "r2", "r3"],
        "complete": [True, True, True, True, False],
        "text": ["Første svar", "Andre svar", "Tredje", "Fjerde", " "],
    }
)


def decide(folder: Path, decisions: dict[str, dict]) -> None:
    path = folder / REVIEW_FILE
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    for entry in raw["answers"]:
        entry.update(decisions.get(entry["text"], {}))
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")


def test_the_id_is_stable_and_names_no_respondent():
    assert answer_id("w", "OP", "r1") == answer_id("w", "OP", "r1") != answer_id("w", "OP", "r2")
    assert len(answer_id("w", "OP", "r1")) == 12 and "r1" not in answer_id("w", "OP", "r1")


def test_write_review_lists_every_answer_and_keeps_decisions(tmp_path):
    assert write_review(tmp_path, "w", ANSWERS) == {"answers": 4, "new": 4, "changed": 0, "unreviewed": 4}
    written = yaml.safe_load((tmp_path / REVIEW_FILE).read_text(encoding="utf-8"))["answers"]
    assert sorted((e["item"], e["text"], e["decision"]) for e in written) == [
        ("OC", "Fjerde", "unreviewed"),
        ("OC", "Tredje", "unreviewed"),
        ("OP", "Andre svar", "unreviewed"),
        ("OP", "Første svar", "unreviewed"),
    ]
    decide(tmp_path, {"Første svar": {"decision": "publish"}, "Tredje": {"decision": "redact", "redacted": "T."}})
    changed = ANSWERS.with_columns(
        pl.when(pl.col("text") == "Andre svar").then(pl.lit("Endret")).otherwise("text").alias("text")
    )
    decide(tmp_path, {"Andre svar": {"decision": "leave_out"}})
    assert write_review(tmp_path, "w", changed) == {"answers": 4, "new": 0, "changed": 1, "unreviewed": 2}
    review = load_review(tmp_path)
    assert sorted((r.text, r.decision, r.redacted) for r in review.values()) == [
        ("Endret", "unreviewed", None),
        ("Fjerde", "unreviewed", None),
        ("Første svar", "publish", None),
        ("Tredje", "redact", "T."),
    ]


def test_the_public_profile_shows_reviewed_answers_only(tmp_path):
    write_review(tmp_path, "w", ANSWERS)
    decide(
        tmp_path,
        {
            "Første svar": {"decision": "publish"},
            "Tredje": {"decision": "redact", "redacted": "[forkortet]"},
            "Andre svar": {"decision": "leave_out"},
        },
    )
    shown = reviewed_answers(ANSWERS, {"w": tmp_path}).sort("item", "respondent_key")
    assert shown.select("item", "respondent_key", "text", "unreviewed").rows() == [
        ("OC", "r1", "[forkortet]", False),
        ("OC", "r2", "", True),  # unreviewed: counted, its text not carried
        ("OP", "r1", "Første svar", False),
    ]
    assert open_answers_for("internal", ANSWERS, tmp_path).equals(ANSWERS)
    assert open_answers_for("public", ANSWERS, tmp_path.parent)["unreviewed"].to_list() == [True] * 4  # no file


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"decision": "publsh"},
            "decision must be one of unreviewed, publish, redact, leave_out; correct the decision",
        ),
        ({"decision": "redact"}, "decision redact needs the text to show in `redacted`"),
    ],
)
def test_a_wrong_decision_is_named_without_the_answer(tmp_path, entry, message):
    write_review(tmp_path, "w", ANSWERS.head(1))
    decide(tmp_path, {"Første svar": entry})
    with pytest.raises(WaveError) as err:
        load_review(tmp_path)
    aid = answer_id("w", "OP", "r1")
    assert str(err.value) == f"{tmp_path / REVIEW_FILE}: answer 1 (id {aid}): {message}"
    assert "Første" not in str(err.value)
