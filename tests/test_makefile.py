"""The Makefile for people: `make help` and plain `make` list every target with its `##` line."""

from __future__ import annotations

from helpers import run_make

from pipeline.settings import PROJECT_ROOT


def test_make_help_and_plain_make_list_every_target(tmp_path):
    targets = [
        line.split(":", 1)[0]
        for line in (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
        if "## " in line and line[:1].isalpha()
    ]
    assert len(targets) == 16 and targets[:3] == ["help", "install", "run"]
    for args in (("help",), ()):
        result = run_make(tmp_path, *args)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == "samskabelse – make <target>:"
        assert [line.split()[0] for line in lines[1:]] == targets
        assert "  inspect       how a wave folder would be read, without building: make inspect WAVE=2024" in lines
