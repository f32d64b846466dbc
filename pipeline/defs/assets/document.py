"""Layer `reports`, the document: <report-slug>.pdf, .docx and .xlsx rendered into the build area from the marts they
read (pipeline.reports.document.build.DOCUMENT_READS, read through read_marts: the Dagster deps are these), the
charts of the newest wave (the reports' chart cache) and the analyst's text (PIPELINE_REPORT_DIR/<lang>/*.md);
publish/reports copies them to `<marts>/reports/` with the pages."""

import dagster as dg

from pipeline.defs.assets.reports import FIGURE_CACHE, mart_keys
from pipeline.defs.resources import SurveyPipeline
from pipeline.ingest.review import open_answers_for
from pipeline.reports.document.build import DOCUMENT_READS
from pipeline.reports.document.documents import chart_files, render_documents, write_documents
from pipeline.reports.document.prose import ProseError
from pipeline.reports.figures import FigureCache
from pipeline.warehouse import read_marts

DOCUMENT_KEYS = {fmt: dg.AssetKey(["reports", f"document_{fmt}"]) for fmt in ("pdf", "docx", "xlsx")}
DESCRIPTIONS = {
    "pdf": "`reports/<report-slug>.pdf`: the report as a PDF (typst, A4): title page, contents, method, one chapter "
    "per effect level with the analyst's text and live numbers, each item's figure (vector) and the tables "
    "of the pages, open answers as quotations, the questionnaire and the sources of every table.",
    "docx": "`reports/<report-slug>.docx`: the same document in Word: heading styles and a contents field, Word "
    "tables (header repeated, rows never split), the charts' PNG (and SVG) with alt text, SEQ captions.",
    "xlsx": "`reports/<report-slug>.xlsx`: the document's tables in Excel, one sheet each, numbers as numbers with "
    "percent and decimal formats, frozen header rows, a first sheet explaining every column.",
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key, group_name="reports", deps=mart_keys(DOCUMENT_READS), kinds={fmt}, description=DESCRIPTIONS[fmt]
        )
        for fmt, key in DOCUMENT_KEYS.items()
    ],
    can_subset=False,
    name="document",
)
def document(pipeline: SurveyPipeline):
    """The report document in the language of PIPELINE_LANG and the profile of PIPELINE_PROFILE, with the text of
    PIPELINE_REPORT_DIR/<lang>/; a placeholder of that text that names nothing (or, public, a hidden value) fails
    the step with its file and line, and nothing is published."""
    settings = pipeline.settings
    codebook = pipeline.codebook()
    with pipeline.work_db() as con:
        marts = read_marts(con, DOCUMENT_READS)
    # the public profile publishes only reviewed open answers (make review), as the pages do
    marts["open_answers"] = open_answers_for(settings.profile, marts["open_answers"], settings.raw_dir)
    figures = chart_files(
        codebook,
        settings.lang,
        marts,
        FigureCache(settings.build_dir / FIGURE_CACHE),
        settings.profile,
        settings.min_cell,
    )
    try:
        documents = render_documents(
            codebook,
            settings.lang,
            marts,
            figures,
            settings.report_dir,
            profile=settings.profile,
            min_cell=settings.min_cell,
            min_group=settings.min_group,
        )
    except ProseError as exc:
        raise dg.Failure(description=str(exc)) from None
    written = write_documents(settings.staged_reports_dir, documents)
    doc = documents.document
    for fmt, path in written.items():
        metadata = {
            "path (after publish)": dg.MetadataValue.path(str(settings.reports_dir / path.name)),
            "bytes": path.stat().st_size,
            "seconds": round(documents.seconds["content"] + documents.seconds[fmt], 3),
            "language": settings.lang,
            "profile": settings.profile,
            "figures": len(doc.figures),
            "tables": len(doc.tables),
        }
        yield dg.MaterializeResult(asset_key=DOCUMENT_KEYS[fmt], metadata=metadata)
