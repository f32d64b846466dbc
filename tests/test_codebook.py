"""Layer 2: the codebook holds the fixed keys other code and tests rely on, and matches labels loosely."""

import pytest

from pipeline.codebook import CodebookError, load_codebook, normalise_text, parse_codebook
from pipeline.settings import PROJECT_ROOT

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")


def test_levels_scales_and_codes():
    assert list(CODEBOOK.levels) == ["personal", "institutional", "citizen", "visibility"]
    degree = CODEBOOK.scales["degree"].categories
    assert [(c.key, c.code, c.score, c.label["nb"]) for c in degree] == [
        ("very_high", 1, 5, "I svært høy grad"),
        ("high", 2, 4, "I høy grad"),
        ("some", 3, 3, "I noen grad"),
        ("low", 4, 2, "I liten grad"),
        ("not_at_all", 5, 1, "Ikke i det hele tatt"),
        ("dont_know", 6, None, "Vet ikke"),
    ]
    yes_no = CODEBOOK.scales["yes_no"].categories
    assert [(c.key, c.code, c.label["nb"]) for c in yes_no] == [
        ("yes", 1, "Ja"),
        ("no", 2, "Nei"),
        ("dont_know", 3, "Vet ikke"),
    ]


def test_items_levels_and_figures():
    closed = [(i.code, i.figure, i.level, i.scale) for i in CODEBOOK.closed_items()]
    assert [c[0] for c in closed] == [
        "P1",
        "P2",
        "P3",
        "P4",
        "P5",
        "I1",
        "C1",
        "C2",
        "C3",
        "C4",
        "C5",
        "C6",
        "V1",
        "V2",
        "V3",
        "V4",
        "V5",
        "V6",
    ]
    assert [c[1] for c in closed] == [1, 2, 3, 4, 5, 6, 7, 8, None, 9, 10, 11, 12, 13, 14, 15, 16, 17]
    assert {c[0] for c in closed if c[3] == "yes_no"} == {"V4", "V5", "V6"}
    assert [(i.code, i.level) for i in CODEBOOK.text_items()] == [
        ("OP", "personal"),
        ("OI", "institutional"),
        ("OC", "citizen"),
    ]
    assert CODEBOOK.items["P4"].question["nb"] == (
        "Kompetansen og erfaringen fra Biblioteket som samskaper gjør at jeg oppmuntrer og støtter innbyggere "
        "til selv å utvikle tiltak og aktiviteter"
    )


def test_label_matching_is_trimmed_and_case_insensitive():
    lookup = CODEBOOK.category_lookup("degree")
    assert lookup[normalise_text("  I SVÆRT   HØY GRAD ")] == "very_high"
    assert lookup["6"] == "dont_know"
    assert lookup[normalise_text("Ved ikke")] == "dont_know"
    assert normalise_text("Ved ikke") not in CODEBOOK.category_lookup("text")
    assert CODEBOOK.category_lookup("yes_no")[normalise_text(" JA ")] == "yes"


def test_header_matching_is_nfc_normalised():
    question = CODEBOOK.items["P4"].question["nb"]
    decomposed = question.replace("å", "a\u030a")
    assert decomposed != question
    assert CODEBOOK.header_lookup()[normalise_text(decomposed)] == "P4"


def test_headers_match_questions_and_aliases_and_codes_only_exactly():
    headers = CODEBOOK.header_lookup()
    assert "p1" not in headers and "P1" not in headers
    assert CODEBOOK.item_of_code(" P1 ") == "P1"
    assert CODEBOOK.item_of_code("p1") is None and CODEBOOK.item_of_code("v3") is None
    assert headers[normalise_text(CODEBOOK.items["V3"].question["da"])] == "V3"
    assert headers[normalise_text("Nye aktiviteter")] == "OC"


def test_bad_item_code_is_refused(tmp_path):
    text = (PROJECT_ROOT / "schemas" / "codebook.yaml").read_text(encoding="utf-8").replace("  P1:\n", "  P1'x:\n", 1)
    with pytest.raises(CodebookError, match="P1'x"):
        parse_codebook(text, tmp_path / "codebook.yaml")


def test_one_label_meaning_two_categories_is_refused(tmp_path):
    text = (
        (PROJECT_ROOT / "schemas" / "codebook.yaml")
        .read_text(encoding="utf-8")
        .replace('da: "I høj grad"', 'da: "I svært høy grad"', 1)
    )
    with pytest.raises(CodebookError, match="both very_high and high"):
        parse_codebook(text, tmp_path / "codebook.yaml")


def test_the_codebook_hash_is_of_the_file_as_written(tmp_path):
    import hashlib

    source = PROJECT_ROOT / "schemas" / "codebook.yaml"
    assert load_codebook(source).sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    other = tmp_path / "codebook.yaml"
    other.write_bytes(source.read_bytes() + b"\n# a comment\n")
    assert load_codebook(other).sha256 == hashlib.sha256(other.read_bytes()).hexdigest() != load_codebook(source).sha256
