"""Helpers of the report tests: build the sample wave for real and read the great-tables HTML back."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from helpers import build, copy_sample_wave, make_settings, query

from pipeline.settings import Settings

MARTS_FOR_REPORTS = ("item_indicators", "item_distribution", "item_disclosure", "waves", "open_answers")

# Wave 2024 (data/raw/2024/export.csv): counts per item in the codebook's category order, 10 complete answers.
COUNTS_2024 = {
    "P1": [5, 4, 1, 0, 0, 0],
    "P2": [5, 4, 1, 0, 0, 0],
    "P3": [0, 3, 6, 1, 0, 0],
    "P4": [0, 5, 5, 0, 0, 0],
    "P5": [3, 4, 3, 0, 0, 0],
    "I1": [1, 3, 4, 2, 0, 0],
    "C1": [1, 1, 6, 2, 0, 0],
    "C2": [2, 4, 4, 0, 0, 0],
    "C3": [1, 2, 6, 1, 0, 0],
    "C4": [1, 3, 3, 2, 0, 1],
    "C5": [1, 2, 3, 2, 2, 0],
    "C6": [0, 2, 3, 2, 3, 0],
    "V1": [2, 4, 3, 1, 0, 0],
    "V2": [3, 3, 3, 0, 0, 1],
    "V3": [1, 2, 6, 1, 0, 0],
    "V4": [4, 4, 2],
    "V5": [3, 6, 1],
    "V6": [3, 5, 2],
}


def build_sample(root: Path, **overrides) -> Settings:
    """Copy data/raw/2024 under root/raw and run the whole build (real Dagster instance and DuckDB)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PIPELINE_PSEUDONYM_KEY", "test-key")
        settings = make_settings(root, **overrides)
        copy_sample_wave(settings.raw_dir)
        assert build(settings) == 0
    return settings


def report_frames(settings: Settings) -> dict[str, pl.DataFrame]:
    """The marts the reports are made of, read from the published file."""
    return {name: query(settings, f"select * from {name}") for name in MARTS_FOR_REPORTS}


class _Tables(HTMLParser):
    """great-tables HTML → {table id: [row dict]}: a row holds the stub ("_stub"), its row group ("_group")
    and every body cell under the key of its column (the last id in the cell's `headers`)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[dict[str, str]]] = {}
        self.current: str | None = None
        self.group = ""
        self.row: dict[str, str] | None = None
        self.cell: str | None = None
        self.text: list[str] = []
        self.in_group = False
        self.svg_depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div" and a.get("id") and "gt_" not in (a.get("class") or ""):
            if a["id"] not in self.tables and "padding-left" in (a.get("style") or ""):
                self.current = a["id"]
                self.tables[self.current] = []
        if self.current is None:
            return
        if tag == "svg":
            self.svg_depth += 1
        if tag == "tr":
            self.row = {"_group": self.group}
        elif tag == "th" and "gt_group_heading" in (a.get("class") or ""):
            self.in_group, self.text = True, []
        elif tag == "th" and a.get("scope") == "row" and self.row is not None:
            self.cell, self.text = "_stub", []
        elif tag == "td" and self.row is not None and a.get("headers"):
            key = a["headers"].split()[-1].removeprefix(self.current + "-")
            self.cell, self.text = key, []

    def handle_endtag(self, tag):
        if self.current is None:
            return
        if tag == "svg":
            self.svg_depth -= 1
        elif tag == "th" and self.in_group:
            self.group, self.in_group = "".join(self.text).strip(), False
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row[self.cell] = "".join(self.text).strip()
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if "_stub" in self.row:
                self.tables[self.current].append(self.row)
            self.row = None
        elif tag == "table":
            self.current = None

    def handle_data(self, data):
        if (self.cell is not None or self.in_group) and self.svg_depth == 0:
            self.text.append(data)


def parse_tables(text: str) -> dict[str, list[dict[str, str]]]:
    parser = _Tables()
    parser.feed(text)
    return parser.tables


def rows_by_stub(text: str, table_id: str) -> dict[str, dict[str, str]]:
    return {row["_stub"]: row for row in parse_tables(text)[table_id]}


def source_notes(text: str, table_id: str) -> list[str]:
    """The source notes of one table, as text."""
    start = text.index(f'<div id="{table_id}"')
    chunk = text[start : text.index("</table>", start)]
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", m)).strip()
        for m in re.findall(r'<td class="gt_sourcenote[^"]*"[^>]*>(.*?)</td>', chunk, flags=re.S)
    ]


def svg_texts(svg: str | Path) -> list[str]:
    """The texts of a chart's SVG (svg.fonttype none: one <text> element per line), unescaped, in drawing order."""
    text = svg.read_text(encoding="utf-8") if isinstance(svg, Path) else svg
    return [unescape(t).strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", text)]
