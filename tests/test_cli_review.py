"""pipeline.cli review and the public profile's open answers: unreviewed answers are left out of the public pages and
counted; once marked publish or redact they are shown (redacted as the reviewer wrote)."""

from __future__ import annotations

import pytest
import yaml
from helpers import build, copy_sample_wave, make_settings

from pipeline.cli import review
from pipeline.ingest.review import REVIEW_FILE

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)


def document_text(settings) -> str:
    """Every paragraph and table cell of the build's Word document, one per line."""
    import docx

    (path,) = settings.reports_dir.glob("*.docx")
    document = docx.Document(str(path))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_public_pages_show_reviewed_answers_only(tmp_path, capsys):
    settings = make_settings(tmp_path, profile="public")
    wave = copy_sample_wave(settings.raw_dir)
    assert review(settings, "2024") == 0
    assert capsys.readouterr().out == (
        f"{wave / REVIEW_FILE}: 8 open answers, 8 new, 0 changed since reviewed, 8 not yet reviewed (left out of the "
        "public pages until marked publish, redact or leave_out)\n"
    )
    path = wave / REVIEW_FILE
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))["answers"]
    personal = [e for e in entries if e["item"] == "OP"]
    assert len(personal) == 3

    assert build(settings) == 0
    page = (settings.reports_dir / "personal.html").read_text(encoding="utf-8")
    assert "3 svar er ikke gjennomgått ennå og vises ikke (make review)." in page
    assert [e["text"] in page for e in personal] == [False, False, False]
    assert [e["text"] in document_text(settings) for e in entries] == [False] * 8  # the document neither

    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    for entry in raw["answers"]:
        if entry["id"] == personal[0]["id"]:
            entry.update(decision="publish")
        elif entry["id"] == personal[1]["id"]:
            entry.update(decision="redact", redacted="Forkortet av redaksjonen")
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert build(settings) == 0  # the review file is part of the wave's fingerprint: the change rebuilds
    page = (settings.reports_dir / "personal.html").read_text(encoding="utf-8")
    assert [e["text"] in page for e in personal] == [True, False, False]
    assert "Forkortet av redaksjonen" in page
    text = document_text(settings)
    assert [e["text"] in text for e in personal] == [True, False, False] and "Forkortet av redaksjonen" in text
    assert "1 svar er ikke gjennomgått ennå og vises ikke (make review)." in page
    assert review(settings, "2024") == 0  # decisions kept
    assert capsys.readouterr().out.endswith(
        "8 open answers, 0 new, 0 changed since reviewed, 6 not yet reviewed (left out "
        "of the public pages until marked publish, redact or leave_out)\n"
    )
