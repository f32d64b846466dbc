"""The three files of the document, <slug>.pdf, <slug>.docx and <slug>.xlsx (the slug from the codebook's title in
the build's language), made from the marts and written into a reports folder: by the Dagster assets into the build
area (published with the pages by publish/reports), and by `make report` (python -m pipeline.reports.document) from
the published marts straight into <marts>/reports/.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipeline.codebook import Codebook, load_codebook
from pipeline.files import write_if_changed
from pipeline.ingest.review import open_answers_for
from pipeline.reports.data import ReportData, newest_wave
from pipeline.reports.document.build import DOCUMENT_READS, build_document, figure_items
from pipeline.reports.document.excel import xlsx_bytes
from pipeline.reports.document.model import Document
from pipeline.reports.document.pdf import pdf_bytes
from pipeline.reports.document.prose import ProseError
from pipeline.reports.document.word import docx_bytes
from pipeline.reports.figures import FigureCache, charts, figure_paths
from pipeline.settings import Settings
from pipeline.warehouse import qualified, query_frame

FORMATS = ("pdf", "docx", "xlsx")


@dataclass(frozen=True)
class Documents:
    """The files of one document (name → bytes) and what it is made of."""

    document: Document
    files: dict[str, bytes]
    seconds: dict[str, float]


def chart_files(
    codebook: Codebook,
    lang: str,
    marts: Mapping[str, pl.DataFrame],
    cache: FigureCache,
    profile: str = "internal",
    min_cell: int = 3,
) -> dict[str, Path]:
    """The item charts of the newest wave (figures.charts), path under reports/figures/ → file: from the cache the
    pages' charts share, drawn when missing (the pages then take them from it)."""
    data = ReportData.from_marts(codebook, lang, marts, profile, min_cell)
    wave = newest_wave(data.waves)
    views = {key: view for key, view in data.views.items() if key[0] == wave}
    wanted = {figure_paths(wave, "item", code)["svg"] for code in figure_items(codebook, data, wave)}
    shown = [chart for chart in charts(codebook, lang, views) if chart.paths["svg"] in wanted]
    out: dict[str, Path] = {}
    for chart, files in zip(shown, cache.ensure(shown)):  # the missing ones drawn in one batch
        out.update({chart.paths[fmt]: files[fmt] for fmt in chart.paths})
    return dict(sorted(out.items()))


def render_documents(
    codebook: Codebook,
    lang: str,
    marts: Mapping[str, pl.DataFrame],
    figures: Mapping[str, Path | bytes],
    prose_dir: Path,
    *,
    profile: str = "internal",
    min_cell: int = 3,
    min_group: int = 5,
) -> Documents:
    """The document in the three formats. Raises prose.ProseError when the analyst's text cannot be used."""
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    doc = build_document(
        codebook, lang, marts, figures, prose_dir, profile=profile, min_cell=min_cell, min_group=min_group
    )
    seconds["content"] = time.perf_counter() - start
    files = {}
    for fmt, render in (("pdf", pdf_bytes), ("docx", docx_bytes), ("xlsx", xlsx_bytes)):
        start = time.perf_counter()
        files[f"{doc.slug}.{fmt}"] = render(doc)
        seconds[fmt] = time.perf_counter() - start
    return Documents(doc, files, seconds)


def write_documents(out_dir: Path, documents: Documents) -> dict[str, Path]:
    """Write the files (each only when its bytes changed); remove documents of another name left in the folder (a
    changed title or language). Returns format → path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, blob in documents.files.items():
        write_if_changed(out_dir / name, blob)
        written[name.rsplit(".", 1)[1]] = out_dir / name
    for fmt in FORMATS:
        for old in out_dir.glob(f"*.{fmt}"):
            if old.name not in documents.files:
                old.unlink()
    return written


def read_published(settings: Settings) -> dict[str, pl.DataFrame]:
    """The marts of the document from the published file (read-only)."""
    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        return {name: query_frame(con, "select * from " + qualified(name)) for name in DOCUMENT_READS}
    finally:
        con.close()


def report(settings: Settings, prose_dir: Path | None = None) -> dict[str, Path]:
    """`make report`: the documents from the published marts into <marts>/reports/ (charts drawn aside)."""
    codebook = load_codebook(settings.codebook_file)
    marts = read_published(settings)
    # the public profile publishes only reviewed open answers (make review), as the pages do
    marts["open_answers"] = open_answers_for(settings.profile, marts["open_answers"], settings.raw_dir)
    with tempfile.TemporaryDirectory(prefix="samskabelse-charts-") as tmp:
        figures = chart_files(
            codebook, settings.lang, marts, FigureCache(Path(tmp)), settings.profile, settings.min_cell
        )
        documents = render_documents(
            codebook,
            settings.lang,
            marts,
            figures,
            prose_dir or settings.report_dir,
            profile=settings.profile,
            min_cell=settings.min_cell,
            min_group=settings.min_group,
        )
    return write_documents(settings.reports_dir, documents)


def main() -> int:
    settings = Settings.from_env()
    if not settings.published_db.is_file():
        print(
            f"samskabelse report: {settings.published_db} does not exist: build the marts first with `make run`",
            file=sys.stderr,
        )
        return 2
    try:
        written = report(settings)
    except ProseError as exc:
        print(f"samskabelse report: {exc}", file=sys.stderr)
        return 1
    for path in written.values():
        print(f"  {path}")
    print(f"samskabelse report: {len(written)} file(s) in {settings.reports_dir} ({settings.lang}, {settings.profile})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
