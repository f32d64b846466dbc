"""pipeline.defs.assets.reports.PAGE_READS is what each page is made of: rendered with one mart emptied, a page changes
only when the mart is one of its own. The Dagster deps of the pages are these tuples (tests/defs/test_lineage_ui.py), so
the lineage the UI draws is what the code reads."""

import polars as pl
import pytest

from pipeline.codebook import load_codebook
from pipeline.defs.assets.reports import PAGE_READS, READS
from pipeline.reports.data import ReportData
from pipeline.reports.figures import FigureCache, figure_files
from pipeline.reports.render import build_pages
from pipeline.warehouse import connect, read_marts

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)


def render(codebook, marts: dict[str, pl.DataFrame], cache: FigureCache) -> dict[str, bytes]:
    """Every page (index, <level>) and the figures folder as one blob per page kind, rendered in memory."""
    data = ReportData(
        codebook,
        "nb",
        marts["item_indicators"],
        marts["item_disclosure"],
        marts["waves"],
        marts["open_answers"],
        by_group=marts["item_by_group"],
    )
    figures = figure_files(codebook, "nb", data.views, cache, data.group_views)
    pages = {name.removesuffix(".html"): text.encode() for name, text in build_pages(data, figures).items()}
    pages["figures"] = b"".join(rel.encode() + path.read_bytes() for rel, path in sorted(figures.items()))
    return pages


@pytest.fixture(scope="module")
def variants(sample_build, tmp_path_factory):
    codebook = load_codebook(sample_build.codebook_file)
    with connect(sample_build, read_only=True) as con:
        marts = read_marts(con, READS)
    cache = FigureCache(tmp_path_factory.mktemp("figure_cache"))
    full = render(codebook, marts, cache)
    emptied = {name: render(codebook, {**marts, name: marts[name].clear()}, cache) for name in READS}
    return codebook, marts, full, emptied


def kind(page: str) -> str:
    return page if page in ("index", "figures") else "level"


def test_a_page_does_not_change_when_a_mart_it_does_not_read_is_emptied(variants):
    codebook, _, full, emptied = variants
    assert sorted(full) == sorted(["index", "figures", *codebook.levels])
    changed = {(name, page) for name, pages in emptied.items() for page in full if pages[page] != full[page]}
    undeclared = {(name, page) for name, page in changed if name not in PAGE_READS[kind(page)]}
    assert undeclared == set()


def test_each_kind_of_page_changes_when_a_mart_it_reads_is_emptied(variants):
    _, marts, full, emptied = variants
    # The sample has no background variables: item_by_group is empty, and the figures read the waves only to pick
    # the newest wave's group charts (tests/marts/test_sql_item_by_group.py draws those).
    assert marts["item_by_group"].is_empty()
    exempt = {("waves", "figures")}
    unchanged = {
        (name, k)
        for k, names in PAGE_READS.items()
        for name in names
        if not marts[name].is_empty()
        and (name, k) not in exempt
        and all(emptied[name][page] == full[page] for page in full if kind(page) == k)
    }
    assert unchanged == set()
