"""The document as Word (.docx, python-docx, pinned in uv.lock).

- Word's own styles: Title, Subtitle, Heading 1–3 (numbered as the PDF numbers them), so the table-of-contents field,
  the navigation pane and a PDF export's bookmarks work; Caption, Quote, List Bullet / List Number.
- A table-of-contents field {TOC \\o "1-3" \\h \\z \\u}; settings.xml asks Word to update the fields on opening.
- Figures: the PNG file of each chart at the text width, with the SVG attached (Word 2016 and later show the vector
  graphic, other readers the PNG), alt text stating the numbers, and a Word caption "Figur {SEQ Figure}: …".
- Tables: real Word tables with the same cell texts as the PDF (cells.py) and the same column widths (layout.py),
  a caption "Tabel {SEQ Table}: …" above, the header row repeated on every page, rows that never split, the notes
  kept with the last row.
- Byte-identical: the core properties carry the document's date (never the clock), revision 1, and the zip is
  rewritten with sorted entries, one timestamp (1980-01-01) and fixed attributes (normalize_zip).
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.sax.saxutils import escape as xml_escape

from docx import Document as new_document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_TAB_ALIGNMENT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from docx.oxml.simpletypes import ST_HpsMeasure, ST_TwipsMeasure
from docx.shared import Mm, Pt, RGBColor

from pipeline.reports.document.layout import (
    MARGIN_BOTTOM_MM,
    MARGIN_TOP_MM,
    MARGIN_X_MM,
    PAGE_HEIGHT_MM,
    PAGE_WIDTH_MM,
    TEXT_WIDTH_PT,
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
    heading_numbers,
)
from pipeline.reports.fonts import FONT_FAMILY

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
SVG_EXT = "{96DAC541-7B7A-43D3-8B79-37D633B846F1}"  # Office's extension URI of an SVG picture
ASVG = "http://schemas.microsoft.com/office/drawing/2016/SVG/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
INK = RGBColor(0x1F, 0x29, 0x33)
GREY = RGBColor(0x5A, 0x5A, 0x5A)
LANGUAGE_TAGS = {"nb": "nb-NO", "da": "da-DK", "en": "en-GB"}


def _w(xml: str):
    return parse_xml(f'<w:root xmlns:w="{W}">{xml}</w:root>')[0]


_STYLE_IDS: dict[str, str | None] = {}  # paragraph style name → its id in python-docx's default template


def styled_paragraph(doc, style: str, text: str | None = None):
    """doc.add_paragraph(text, style=style), with the style's id looked up once: python-docx looks the name up
    among every style of the document on each call (~2 ms; a document over 100 waves has 700 such paragraphs)."""
    if style not in _STYLE_IDS:
        _STYLE_IDS[style] = doc.part.get_style_id(style, WD_STYLE_TYPE.PARAGRAPH)
    paragraph = doc.add_paragraph(text)
    paragraph._p.style = _STYLE_IDS[style]
    return paragraph


def add_field(paragraph, instruction: str, result: str) -> None:
    """A complex field {instruction} with its cached result (shown until Word updates the field)."""
    p = paragraph._p
    p.append(_w('<w:r><w:fldChar w:fldCharType="begin"/></w:r>'))
    p.append(_w(f'<w:r><w:instrText xml:space="preserve"> {instruction} </w:instrText></w:r>'))
    p.append(_w('<w:r><w:fldChar w:fldCharType="separate"/></w:r>'))
    paragraph.add_run(result)
    p.append(_w('<w:r><w:fldChar w:fldCharType="end"/></w:r>'))


def add_runs(paragraph, runs: tuple[Run, ...]) -> None:
    for r in runs:
        run = paragraph.add_run(r.text)
        run.bold = r.bold or None
        run.italic = r.italic or None
        if r.code:
            run.font.color.rgb = RGBColor(0x1D, 0x4E, 0x89)


def caption(doc, label: str, sequence: str, number: int, text: str, keep_with_next: bool):
    """A Word caption: "<label> {SEQ <sequence>}: text" (Word's table of figures lists SEQ Figure)."""
    p = styled_paragraph(doc, "Caption")
    p.add_run(f"{label} ")
    add_field(p, f"SEQ {sequence} \\* ARABIC", str(number))
    p.add_run(f": {text}")
    p.paragraph_format.keep_with_next = keep_with_next
    return p


def setup(doc, lang: str) -> None:
    """Styles and page: the typeface, the language, A4 with the PDF's margins, headings kept with what follows."""
    styles = doc.styles
    normal = styles["Normal"]
    normal.font.name = FONT_FAMILY
    normal.font.size = Pt(10.5)
    normal.font.color.rgb = INK
    rpr = styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = _w("<w:rFonts/>")
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT_FAMILY)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
        fonts.attrib.pop(qn(attr), None)
    language = rpr.find(qn("w:lang"))
    if language is None:
        language = _w("<w:lang/>")
        rpr.append(language)
    language.set(qn("w:val"), LANGUAGE_TAGS[lang])
    for name, size in (("Title", 26), ("Subtitle", 14), ("Heading 1", 16), ("Heading 2", 12.5), ("Heading 3", 11)):
        style = styles[name]
        style.font.name = FONT_FAMILY
        style.font.size = Pt(size)
        style.font.color.rgb = INK
        if name.startswith("Heading"):
            style.paragraph_format.keep_with_next = True
            style.paragraph_format.page_break_before = name == "Heading 1"
    styles["TOC Heading"].paragraph_format.page_break_before = False
    for name in ("Caption", "Quote"):
        styles[name].font.color.rgb = INK
        styles[name].font.name = FONT_FAMILY
    styles["Caption"].font.size = Pt(9)
    styles["Caption"].font.italic = False
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM)
    section.left_margin = section.right_margin = Mm(MARGIN_X_MM)
    section.top_margin, section.bottom_margin = Mm(MARGIN_TOP_MM), Mm(MARGIN_BOTTOM_MM)
    section.different_first_page_header_footer = True  # the title page has no header or page number


def header_footer(doc, d: Document) -> None:
    section = doc.sections[0]
    head = section.header.paragraphs[0]
    head.paragraph_format.tab_stops.add_tab_stop(Pt(TEXT_WIDTH_PT), alignment=WD_TAB_ALIGNMENT.RIGHT)
    run = head.add_run(f"{d.title}\t{d.running}")
    run.font.size = Pt(8)
    run.font.color.rgb = GREY
    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    foot.add_run(f"{d.words['page']} ")
    add_field(foot, "PAGE", "1")
    foot.add_run(f" {d.words['of']} ")
    add_field(foot, "NUMPAGES", "1")


def title_page(doc, d: Document) -> None:
    kicker = doc.add_paragraph()
    kicker.add_run(d.kicker.upper()).bold = True
    styled_paragraph(doc, "Title", d.title)
    styled_paragraph(doc, "Subtitle", d.subtitle)
    for line in d.title_lines:
        doc.add_paragraph(line).paragraph_format.space_after = Pt(0)
    doc.add_paragraph()
    for note in d.title_notes:
        run = doc.add_paragraph().add_run(note)
        run.font.size = Pt(9)
        run.font.color.rgb = GREY
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    styled_paragraph(doc, "TOC Heading", d.words["contents"])
    add_field(doc.add_paragraph(), 'TOC \\o "1-3" \\h \\z \\u', d.words["toc_hint"])


def picture(doc, figure: Figure, index: int) -> None:
    """The chart's PNG at the text width, its SVG attached, its alt text; kept with its caption."""
    p = doc.add_paragraph()
    p.paragraph_format.keep_with_next = True
    shape = p.add_run().add_picture(io.BytesIO(figure.png), width=Pt(TEXT_WIDTH_PT))
    doc_pr = shape._inline.docPr
    doc_pr.set("descr", figure.alt)
    doc_pr.set("title", figure.caption)
    part = Part(PackURI(f"/word/media/chart{index:03d}.svg"), "image/svg+xml", figure.svg, doc.part.package)
    rid = doc.part.relate_to(part, RT.IMAGE)
    blip = shape._inline.graphic.graphicData.pic.blipFill.blip
    blip.append(
        parse_xml(
            f'<a:extLst xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:ext uri="{SVG_EXT}">'
            f'<asvg:svgBlip xmlns:asvg="{ASVG}" xmlns:r="{REL}" r:embed="{rid}"/></a:ext></a:extLst>'
        )
    )


def _row_props(row, header: bool = False) -> None:
    props = row._tr.get_or_add_trPr()
    props.append(_w("<w:cantSplit/>"))
    if header:
        props.append(_w("<w:tblHeader/>"))


def _border(cell, **edges: int) -> None:
    xml = "".join(
        f'<w:{edge} w:val="single" w:sz="{size}" w:space="0" w:color="1F2933"/>' for edge, size in edges.items()
    )
    cell._tc.get_or_add_tcPr().append(_w(f"<w:tcBorders>{xml}</w:tcBorders>"))


def _run_xml(text: str, half_points: str, bold: bool) -> str:
    """A run as python-docx's `paragraph.add_run(text)` writes it: tabs and line breaks as <w:tab/> and <w:br/>,
    the rest in <w:t> (xml:space="preserve" when it begins or ends with white space)."""
    props = f'<w:rPr>{"<w:b/>" if bold else ""}<w:sz w:val="{half_points}"/></w:rPr>'
    content = []
    for piece in re.split(r"(\t|\r|\n)", text):
        if piece == "\t":
            content.append("<w:tab/>")
        elif piece in ("\r", "\n"):
            content.append("<w:br/>")
        elif piece:
            space = ' xml:space="preserve"' if len(piece.strip()) < len(piece) else ""
            content.append(f"<w:t{space}>{xml_escape(piece)}</w:t>")
    return f"<w:r>{props}{''.join(content)}</w:r>"


def body_rows_xml(
    rows: list[tuple[str | None, list[str]]],
    widths: list[float],
    right: list[bool],
    size: float,
    grid_width: int,
) -> str:
    """The body rows of a Word table as XML, written at once: per row (its row group, its cell texts), a group's
    heading row (bold, one cell over the whole width, kept with the next row) before its first row, every row kept
    on one page, the last one with a bottom rule. The same XML python-docx's cell-by-cell API writes (a test
    compares both), without its ~0.5 ms per cell: a document over 100 waves has ~30,000 cells."""
    half_points = ST_HpsMeasure.convert_to_xml(Pt(size))
    cell_widths = [ST_TwipsMeasure.convert_to_xml(Pt(w)) for w in widths]
    align = ["right" if r else "left" for r in right]
    rule = '<w:tcBorders><w:bottom w:val="single" w:sz="8" w:space="0" w:color="1F2933"/></w:tcBorders>'
    out = [f'<w:rows xmlns:w="{W}">']
    group = None
    for n, (row_group, texts) in enumerate(rows, start=1):
        if row_group is not None and row_group != group:
            group = row_group
            span = f'<w:gridSpan w:val="{len(widths)}"/>' if len(widths) > 1 else ""
            out.append(
                "<w:tr><w:trPr><w:cantSplit/></w:trPr><w:tc><w:tcPr>"
                f'<w:tcW w:type="dxa" w:w="{grid_width}"/>{span}</w:tcPr>'
                '<w:p><w:pPr><w:keepNext/><w:spacing w:after="0"/></w:pPr>'
                f"{_run_xml(group, half_points, bold=True)}</w:p></w:tc></w:tr>"
            )
        border = rule if n == len(rows) else ""
        out.append("<w:tr><w:trPr><w:cantSplit/></w:trPr>")
        for text, width, side in zip(texts, cell_widths, align):
            out.append(
                f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/>{border}</w:tcPr>'
                f'<w:p><w:pPr><w:spacing w:after="0"/><w:jc w:val="{side}"/></w:pPr>'
                f"{_run_xml(text, half_points, bold=False)}</w:p></w:tc>"
            )
        out.append("</w:tr>")
    out.append("</w:rows>")
    return "".join(out)


def word_table(doc, block: Table, d: Document) -> None:
    """A report table as a Word table (see the module docstring)."""
    g = block.grid
    layout = table_layout(g)
    caption(doc, d.words["table"], "Table", block.number, block.caption, keep_with_next=True)
    labels = ([""] if g.has_stub else []) + [c.label for c in g.columns]
    right = ([False] if g.has_stub else []) + [not c.text for c in g.columns]
    table = doc.add_table(rows=1, cols=len(labels))
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    props = table._tbl.tblPr
    width = props.find(qn("w:tblW"))
    width.set(qn("w:type"), "dxa")
    width.set(qn("w:w"), str(round(sum(layout.widths) * 20)))
    props.append(_w('<w:tblCellMar><w:left w:w="60" w:type="dxa"/><w:right w:w="60" w:type="dxa"/></w:tblCellMar>'))
    props.append(_w('<w:tblLayout w:type="fixed"/>'))
    for col, w in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), layout.widths):
        col.set(qn("w:w"), str(round(w * 20)))
    size = Pt(layout.size)

    def fill(row, texts: list[str], bold: bool = False) -> None:
        for i, (cell, text) in enumerate(zip(row.cells, texts)):
            cell.width = Pt(layout.widths[i])
            p = cell.paragraphs[0]
            p.paragraph_format.space_after = Pt(0)
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT if right[i] else WD_ALIGN_PARAGRAPH.LEFT
            run = p.add_run(text)
            run.font.size = size
            run.bold = bold or None

    head = table.rows[0]
    _row_props(head, header=True)
    fill(head, labels, bold=True)
    for cell in head.cells:
        _border(cell, top=8, bottom=6)
    body = [(r.group, ([r.stub or ""] if g.has_stub else []) + list(r.cells)) for r in g.rows]
    grid_widths = [int(col.get(qn("w:w"))) for col in table._tbl.tblGrid.findall(qn("w:gridCol"))]
    table._tbl.extend(list(parse_xml(body_rows_xml(body, layout.widths, right, layout.size, sum(grid_widths)))))
    for note in g.notes:
        run = doc.add_paragraph().add_run(note)
        run.font.size = Pt(8)
        run.font.color.rgb = GREY


def normalize_zip(data: bytes) -> bytes:
    """An OOXML zip rewritten deterministically: [Content_Types].xml first, then the entries sorted, every one
    dated 1980-01-01 00:00, deflated at level 9, with fixed attributes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    names = sorted(source.namelist(), key=lambda n: (n != "[Content_Types].xml", n))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0o600 << 16
            target.writestr(info, source.read(name), compresslevel=9)
    return out.getvalue()


def docx_bytes(d: Document) -> bytes:
    """The Word document."""
    doc = new_document()
    setup(doc, d.lang)
    header_footer(doc, d)
    title_page(doc, d)
    numbers = heading_numbers(d.blocks, d.words["appendix"])
    pictures = 0
    for block, number in zip(d.blocks, numbers):
        if isinstance(block, Heading):
            styled_paragraph(doc, "Title" if block.level == 0 else f"Heading {block.level}", f"{number} {block.text}")
        elif isinstance(block, Paragraph):
            p = doc.add_paragraph()
            add_runs(p, block.runs)
            if block.style == "lead":
                p.paragraph_format.keep_with_next = True
                for run in p.runs:
                    run.font.size = Pt(11.5)
                    run.font.color.rgb = GREY
            elif block.style == "note":
                for run in p.runs:
                    run.font.size = Pt(8.5)
                    run.font.color.rgb = GREY
        elif isinstance(block, BulletList):
            for item in block.items:
                add_runs(styled_paragraph(doc, "List Number" if block.ordered else "List Bullet"), item)
        elif isinstance(block, Quote):
            add_runs(styled_paragraph(doc, "Quote"), block.runs)
        elif isinstance(block, Figure):
            pictures += 1
            picture(doc, block, pictures)
            caption(doc, d.words["figure"], "Figure", block.number, block.caption, keep_with_next=False)
        elif isinstance(block, Table):
            word_table(doc, block, d)
    doc.settings.element.append(_w('<w:updateFields w:val="true"/>'))
    props = doc.core_properties
    props.title = d.title
    props.author = d.publisher
    props.last_modified_by = d.publisher
    props.language = LANGUAGE_TAGS[d.lang]
    props.created = props.modified = d.stamp
    props.last_printed = d.stamp
    props.revision = 1
    props.comments = ""
    buffer = io.BytesIO()
    doc.save(buffer)
    return normalize_zip(buffer.getvalue())
