"""The document as PDF, typeset by typst (PyPI `typst`, pinned in uv.lock) from report.typ and the document as JSON.

A4, title page, table of contents, page numbers "Side N af M", numbered headings kept with what follows, figures as
vector graphics (the SVG files of pipeline.reports.figures) that never split, tables as wide as the text block with
their header repeated on every page and rows that never split (column widths from layout.py). The one typeface is
Source Sans Pro (pipeline.reports.fonts); neither the system's fonts nor typst's own are used.

Byte-identical for the same document: typst is given no date (`date: none`), the JSON is written with sorted keys,
the fonts are the pinned package's files.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import typst

from pipeline.reports.document.layout import (
    MARGIN_BOTTOM_MM,
    MARGIN_TOP_MM,
    MARGIN_X_MM,
    table_layout,
)
from pipeline.reports.document.model import (
    BulletList,
    Document,
    Figure,
    Heading,
    Paragraph,
    Quote,
    Run,
    Table,
)
from pipeline.reports.fonts import font_dir

TEMPLATE = Path(__file__).with_name("report.typ")
NBSP = "\u00a0"


@functools.cache
def compiler() -> typst.Compiler:
    """One compiler per process (typst memoizes: a second document compiles in a fraction of the first's time), with
    the one typeface and no other: neither the system's fonts nor those typst embeds."""
    fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False, font_paths=[str(font_dir())])
    return typst.Compiler(font_paths=fonts, ignore_system_fonts=True)


def _runs(runs: tuple[Run, ...]) -> list[dict]:
    return [{"t": r.text, "b": r.bold, "i": r.italic, "c": r.code} for r in runs]


def table_json(block: Table) -> dict:
    """A table for the template: header labels, alignment, widths in points, rows (group rows apart)."""
    g = block.grid
    layout = table_layout(g)
    header = ([""] if g.has_stub else []) + [c.label.replace(" %", NBSP + "%") for c in g.columns]
    align = (["left"] if g.has_stub else []) + ["left" if c.text else "right" for c in g.columns]
    rows: list[dict] = []
    group = None
    for r in g.rows:
        if r.group is not None and r.group != group:
            group = r.group
            rows.append({"group": group})
        rows.append({"cells": ([r.stub or ""] if g.has_stub else []) + list(r.cells)})
    return {
        "kind": "table",
        "id": g.id,
        "number": block.number,
        "caption": block.caption,
        "header": header,
        "align": align,
        "widths": list(layout.widths),
        "size": layout.size,
        "rows": rows,
        "notes": list(g.notes),
    }


def block_json(block) -> list[dict]:
    if isinstance(block, Heading):
        out = [{"kind": "heading", "text": block.text, "level": block.level, "appendix": block.appendix}]
        return out
    if isinstance(block, Paragraph):
        return [{"kind": "par", "runs": _runs(block.runs), "style": block.style}]
    if isinstance(block, BulletList):
        return [{"kind": "list", "ordered": block.ordered, "items": [_runs(i) for i in block.items]}]
    if isinstance(block, Quote):
        return [{"kind": "quote", "runs": _runs(block.runs)}]
    if isinstance(block, Figure):
        return [
            {
                "kind": "figure",
                "key": block.key,
                "number": block.number,
                "caption": block.caption,
                "alt": block.alt,
                "svg": block.svg.decode("utf-8"),
            }
        ]
    if isinstance(block, Table):
        return [table_json(block)]
    raise TypeError(f"no PDF form for {type(block).__name__}")


def document_json(doc: Document) -> str:
    """The document as the template reads it (sorted keys: the same document, the same bytes)."""
    blocks: list[dict] = []
    appendix = False
    for block in doc.blocks:
        if isinstance(block, Heading) and block.appendix and not appendix:
            appendix = True
            blocks.append({"kind": "appendix"})  # the heading counter restarts: A, B, …
        blocks += block_json(block)
    data = {
        "lang": doc.lang,
        "title": doc.title,
        "subtitle": doc.subtitle,
        "kicker": doc.kicker,
        "publisher": doc.publisher,
        "header_right": doc.running,
        "title_lines": list(doc.title_lines),
        "title_notes": list(doc.title_notes),
        "words": doc.words,
        "blocks": blocks,
        "page": {"margin_x": MARGIN_X_MM, "margin_top": MARGIN_TOP_MM, "margin_bottom": MARGIN_BOTTOM_MM},
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def pdf_bytes(doc: Document) -> bytes:
    """The PDF of the document."""
    return compiler().compile(TEMPLATE.read_bytes(), format="pdf", sys_inputs={"data": document_json(doc)})
