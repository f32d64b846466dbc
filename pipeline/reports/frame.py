"""The page frame every report page shares: the HTML shell with its style and navigation, sections, figures, and the
words of the codebook's `ui` section.

Text from the codebook or the data is HTML-escaped here (great-tables escapes the text of table cells).
"""

from __future__ import annotations

import html

from pipeline.codebook import Codebook

CSS = (
    """
body{font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;margin:2rem auto;max-width:80rem;
padding:0 1rem;color:#1f2933}
nav a{margin-right:1rem} h1{font-size:1.6rem} h2{font-size:1.25rem;margin-top:2.5rem} p.lead{color:#52606d}
figure.chart{margin:1.5rem 0} figure.chart img,figure.chart svg{max-width:100%;height:auto;display:block}
figure.chart figcaption{color:#52606d;font-size:.9rem}
div.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(34rem,1fr));gap:1rem 2rem}
"""
    + """
@media print{
@page{size:A4;margin:15mm 12mm 16mm}
body{margin:0;max-width:none;padding:0;font-size:9.5pt}
nav{display:none}
h1{font-size:15pt;margin:0 0 .5rem} h2{font-size:12pt;margin-top:1.2rem}
h1,h2,h3{break-after:avoid;page-break-after:avoid}
div[id][style*="overflow-x"]{overflow:visible!important;padding:.3rem 0!important}
table.gt_table{width:100%!important;max-width:100%!important;font-size:7.5pt!important;margin:0!important}
table.gt_table col{width:auto!important}
table.gt_table td,table.gt_table th{padding:2px 3px!important;overflow-wrap:break-word;hyphens:auto}
table.gt_table .gt_stub{white-space:nowrap} table.gt_table td svg{width:70px;height:auto}
table.gt_table thead{display:table-header-group} table.gt_table tfoot{display:table-row-group}
table.gt_table tr,figure,img,svg{break-inside:avoid;page-break-inside:avoid}
div.charts{display:block}
figure.chart{margin:.6rem 0}
figure.chart img{max-height:120mm;width:auto;max-width:100%}
a{color:inherit;text-decoration:none}
}
"""
)


def ui_word(codebook: Codebook, key: str, lang: str, **fmt: object) -> str:
    """A word of the reports from the codebook's ui section, in `lang`, with {placeholders} filled in."""
    return codebook.word(key, lang, **fmt)


def page(codebook: Codebook, lang: str, title: str, body: str) -> str:
    """A whole page: the shell, the navigation to every page, the title and the body."""
    nav = [f'<a href="index.html">{html.escape(ui_word(codebook, "overview", lang))}</a>']
    nav += [f'<a href="{key}.html">{html.escape(level.label[lang])}</a>' for key, level in codebook.levels.items()]
    nav.append(f'<a href="waves.html">{html.escape(ui_word(codebook, "waves_title", lang))}</a>')
    nav.append(f'<a href="panel.html">{html.escape(ui_word(codebook, "panel_title", lang))}</a>')
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<nav>{' '.join(nav)}</nav>\n<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def section(title: str, *parts: str) -> str:
    """A titled section of a page."""
    return f"<section>\n<h2>{html.escape(title)}</h2>\n" + "\n".join(parts) + "\n</section>"


def lead(text: str) -> str:
    """A lead paragraph."""
    return f'<p class="lead">{html.escape(text)}</p>'


def figure_html(
    src: dict[str, str],
    alt: str,
    caption: str,
    png_word: str | None = None,
    svg: str | None = None,
    svg_word: str | None = None,
) -> str:
    """A chart and its caption, with a link to its PNG when there is one. src: "svg" (and "png") → the path
    relative to the page. With `svg` (the chart's <svg> element) the chart is part of the page: its tooltips work
    and screen readers read its own title and description (`alt` is not needed), and the caption links the SVG file
    too (svg_word); without it the SVG file is shown as an image with `alt`, linked to itself."""
    href = html.escape(src["svg"], quote=True)
    links = ""
    if svg is not None and svg_word:
        links += f' · <a href="{href}">{html.escape(svg_word)}</a>'
    if "png" in src and png_word:
        links += f' · <a href="{html.escape(src["png"], quote=True)}">{html.escape(png_word)}</a>'
    chart = svg if svg is not None else f'<a href="{href}"><img src="{href}" alt="{html.escape(alt, quote=True)}"></a>'
    return f'<figure class="chart">{chart}<figcaption>{html.escape(caption)}{links}</figcaption></figure>'
