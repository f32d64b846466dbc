"""The report as a document: PDF (typst), Word (python-docx) and Excel (xlsxwriter) from every build, in the build's
language and profile, with the analyst's Markdown prose and its live numbers (report/<lang>/*.md).

    build.py         the Document from the marts, the codebook, the charts and the prose
    model.py         the Document: title page and blocks (headings, paragraphs, quotations, figures, tables)
    prose.py         report/<lang>/*.md → blocks; placeholders.py fills {{ … }} from the marts
    cells.py         a ReportTable's cells as text, exactly as the pages show them
    layout.py        A4, margins and table column widths, measured with the one typeface
    pdf.py           + report.typ: the PDF;  word.py: the .docx;  excel.py: the .xlsx
    documents.py     the three files of a build (the Dagster assets and `make report` write them)
"""
