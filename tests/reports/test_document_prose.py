"""pipeline.reports.document.prose: the analyst's Markdown per language and place, its placeholders filled from the
marts (the sample's Danish text: every number checked against the published marts, computed here on their own), a
wrong or (public) hidden placeholder stopping with file, line and the allowed names, a misnamed file refused."""

from __future__ import annotations

import re

import pytest
from document_helpers import PROSE, clean, file_of, pdf_pages, placeholders
from helpers import query

from pipeline.codebook import load_codebook
from pipeline.reports.document.model import BulletList, Heading, Paragraph, Quote, Run
from pipeline.reports.document.prose import ProseError, markdown_blocks, prose_files, read_prose
from pipeline.settings import PROJECT_ROOT

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
PLACEHOLDER = re.compile(r"\{\{\s*(.*?)\s*\}\}")


def expected(settings, expr: str) -> str:
    """The value of one of the sample text's placeholders, straight from the published marts (Danish format)."""
    if expr.startswith("waves.2024."):
        field = expr.rsplit(".", 1)[1]
        value = query(settings, f"select {field} from waves where wave = '2024'").item()
        return f"{round(value)} %" if field == "response_rate" else str(value)
    item, *rest = expr.split(".")
    if rest == ["figure"]:
        return str(CODEBOOK.items[item].figure)  # the sample: the document numbers the figures as the codebook
    if len(rest) == 2:
        row = query(
            settings,
            "select n, pct from item_distribution where wave = '2024' and item = ? and category = ?",
            [item, rest[0]],
        ).row(0, named=True)
        return str(row["n"]) if rest[1] == "n" else f"{round(row['pct'])} %"
    value = query(
        settings, f"select {rest[0]}_pct from item_indicators where wave = '2024' and item = ?", [item]
    ).item()
    return f"{round(value)} %"


def sample_placeholders() -> list[tuple[str, int, str]]:
    """(file, line, placeholder) of every placeholder of report/da."""
    out = []
    for path in sorted((PROSE / "da").glob("*.md")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            out += [(path.name, number, m) for m in PLACEHOLDER.findall(line)]
    return out


def test_the_sample_text_quotes_the_report_s_numbers_from_the_marts(sample_build):
    found = sample_placeholders()
    assert len(found) >= 10
    values = placeholders(sample_build, figures={i.code: i.figure for i in CODEBOOK.closed_items() if i.figure})
    for name, line, expr in found:
        assert values.resolve(expr).text == expected(sample_build, expr), (name, line, expr)
    # a few of the report's own sentences, as the document prints them
    assert values.fill("{{ P1.very_high.pct }} … {{ P1.high.pct }}")[0] == "50 % … 40 %"
    assert (
        values.fill("{{ waves.2024.invited }} / {{ waves.2024.complete }} / {{ waves.2024.response_rate }}")[0]
        == "12 / 10 / 83 %"
    )


def test_the_sample_text_stands_filled_in_the_pdf(sample_documents, sample_build):
    text = clean(" ".join(pdf_pages(file_of(sample_documents["internal"], "pdf"))))
    values = placeholders(sample_build, figures={i.code: i.figure for i in CODEBOOK.closed_items() if i.figure})
    for path in sorted((PROSE / "da").glob("*.md")):
        for paragraph in path.read_text(encoding="utf-8").split("\n\n"):
            filled = values.fill(" ".join(paragraph.split()))[0]
            words = re.sub(r"[*_]", "", filled)
            assert words in text, (path.name, words[:60])


def test_a_wrong_placeholder_stops_with_file_line_and_the_allowed_names(sample_build, tmp_path):
    (tmp_path / "da").mkdir()
    (tmp_path / "da" / "personal.md").write_text(
        "Første linje.\n\n{{ P1.very_high.pct }} og {{ P9.n }}.\n", encoding="utf-8"
    )
    (tmp_path / "da" / "summary.md").write_text("{{ waves.2023.invited }}\n", encoding="utf-8")
    with pytest.raises(ProseError) as err:
        read_prose(tmp_path, "da", CODEBOOK, placeholders(sample_build))
    message = str(err.value)
    assert f"{tmp_path}/da/personal.md:3: {{{{ P9.n }}}} names no item 'P9'" in message
    assert f"{tmp_path}/da/summary.md:1: {{{{ waves.2023.invited }}}} names no wave '2023'" in message
    assert "Allowed: {{ <item>.<measure> }}" in message and "Items: P1, P2, P3" in message


def test_a_hidden_value_stops_the_public_profile_and_says_so(sample_build, tmp_path):
    (tmp_path / "da").mkdir()
    (tmp_path / "da" / "institutional.md").write_text(
        "Kun {{ I1.very_high.n }} svarer i meget høj grad.\n", encoding="utf-8"
    )
    blocks = read_prose(tmp_path, "da", CODEBOOK, placeholders(sample_build))  # internal: shown
    assert blocks["institutional"] == [Paragraph((Run("Kun 1 svarer i meget høj grad."),))]
    with pytest.raises(ProseError) as err:
        read_prose(tmp_path, "da", CODEBOOK, placeholders(sample_build, profile="public"))
    assert f"{tmp_path}/da/institutional.md:1: {{{{ I1.very_high.n }}}} is hidden in the public profile" in str(
        err.value
    )
    assert "Allowed:" not in str(err.value)


def test_a_file_that_is_no_place_is_refused(tmp_path):
    (tmp_path / "da").mkdir()
    (tmp_path / "da" / "personel.md").write_text("tekst\n", encoding="utf-8")
    with pytest.raises(
        ProseError,
        match=r"personel\.md: not a place of the document; name it one of summary\.md, "
        r"introduction\.md, personal\.md, institutional\.md, citizen\.md, "
        r"visibility\.md, discussion\.md",
    ):
        prose_files(tmp_path, "da", CODEBOOK)
    assert prose_files(tmp_path, "nb", CODEBOOK) == {}  # no text in a language: every place left out


def test_the_sample_s_places(sample_build):
    assert sorted(prose_files(PROSE, "da", CODEBOOK)) == sorted(
        ["summary", "introduction", "personal", "institutional", "citizen", "visibility", "discussion"]
    )


def test_markdown_blocks():
    blocks = markdown_blocks(
        "# Overskrift\n\nEt *kursivt* og **fedt** ord\nover to linjer.\n\n- a\n- b\n\n1. c\n\n> citat\n\n### Dybt\n"
    )
    assert blocks == [
        Heading("Overskrift", 2),
        Paragraph(
            (Run("Et "), Run("kursivt", italic=True), Run(" og "), Run("fedt", bold=True), Run(" ord over to linjer."))
        ),
        BulletList(((Run("a"),), (Run("b"),))),
        BulletList(((Run("c"),),), ordered=True),
        Quote((Run("citat"),)),
        Heading("Dybt", 3),
    ]
