"""pipeline.publish.publish_reports: published text files carry no bidirectional control characters."""

from pathlib import Path

from pipeline.publish import publish_reports


def test_bidirectional_controls_are_stripped_from_published_text(tmp_path: Path):
    staged, published = tmp_path / "staged", tmp_path / "published"
    (staged / "figures").mkdir(parents=True)
    (staged / "P.html").write_text("<p>fil\u202eexe.txt \u2066a\u2069 \u200f\u061c æøå</p>", encoding="utf-8")
    (staged / "figures" / "p.svg").write_text("<text>\u202ax\u202c</text>", encoding="utf-8")
    binary = "\u202e".encode() + b"\x00\xff"
    (staged / "figures" / "p.png").write_bytes(binary)
    assert publish_reports(staged, published) == {"written": 3, "unchanged": 0, "removed": 0}
    assert (published / "P.html").read_text(encoding="utf-8") == "<p>filexe.txt a  æøå</p>"
    assert (published / "figures" / "p.svg").read_text(encoding="utf-8") == "<text>x</text>"
    assert (published / "figures" / "p.png").read_bytes() == binary  # not text: as it is
    assert publish_reports(staged, published) == {"written": 0, "unchanged": 3, "removed": 0}
