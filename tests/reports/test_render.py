"""The report pages of wave 2024, built for real (Dagster + DuckDB), default settings (nb, internal)."""

from __future__ import annotations

import os
import re

import polars as pl
import pytest
import yaml
from reports_helpers import COUNTS_2024, build_sample, parse_tables, report_frames, rows_by_stub, source_notes

from pipeline.codebook import load_codebook
from pipeline.reports.data import ReportData
from pipeline.reports.open_answers import mask_contacts
from pipeline.reports.render import build_pages, render_reports
from pipeline.settings import PROJECT_ROOT

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
LEVELS = list(CODEBOOK.levels)


@pytest.fixture(scope="module")
def built(tmp_path_factory, sample_build):
    """Two independent builds of the sample wave (for the determinism test): the session's, read by the rest, and
    one of its own."""
    first = sample_build
    second = build_sample(tmp_path_factory.mktemp("second"))
    return first, second


def _page(settings, name: str) -> str:
    return (settings.reports_dir / name).read_text(encoding="utf-8")


def _cell(count: int, base: int = 10) -> str:
    return f"{count} ({100 * count / base:.0f} %)"


def test_level_pages_hold_the_exact_counts_of_wave_2024(built):
    settings, _ = built
    for level in LEVELS:
        rows = rows_by_stub(_page(settings, f"{level}.html"), f"level-{level}")
        items = [i for i in CODEBOOK.closed_items() if i.level == level]
        assert list(rows) == [i.code for i in items]  # codebook order
        for item in items:
            row = rows[item.code]
            keys = [c.key for c in CODEBOOK.scale_of(item.code).categories]
            assert row["n"] == "10"
            assert [row[k] for k in keys] == [_cell(n) for n in COUNTS_2024[item.code]], item.code
            assert row["question"] == item.question["nb"]
            assert row["_group"] == "Runde 2024"


def test_headline_interval_and_mean_are_shown_per_item(built):
    settings, _ = built
    personal = rows_by_stub(_page(settings, "personal.html"), "level-personal")
    assert personal["P1"]["headline"] == "90 % (60–98)"
    assert personal["P1"]["mean"] == "4,4"
    assert personal["P4"]["headline"] == "50 % (24–76)"
    assert personal["P4"]["mean"] == "3,5"
    visibility = rows_by_stub(_page(settings, "visibility.html"), "level-visibility")
    assert visibility["V5"]["headline"] == "30 % (11–60)"
    assert visibility["V5"]["mean"] == "–"  # yes/no items have no mean
    assert visibility["V5"]["very_high"] == ""  # not a category of the yes/no scale
    assert (visibility["V5"]["yes"], visibility["V5"]["no"], visibility["V5"]["dont_know"]) == (
        "3 (30 %)",
        "6 (60 %)",
        "1 (10 %)",
    )


def test_the_report_s_published_percentages_appear_in_the_tables(built):
    settings, _ = built
    published = yaml.safe_load((PROJECT_ROOT / "schemas" / "published_2024.yaml").read_text(encoding="utf-8"))
    rows = rows_by_stub(_page(settings, "index.html"), "items")
    checked = 0
    for item, shares in published["items"].items():
        for key, pct in shares.items():
            if key == "top3":
                continue
            if key == "top2":
                assert rows[item]["headline"].startswith(f"{pct} % ("), (item, key)
            else:
                assert rows[item][key] == f"{pct // 10} ({pct} %)", (item, key)
            checked += 1
    assert checked == 28


def test_index_has_overview_every_item_grouped_by_level_and_response_note(built):
    settings, _ = built
    text = _page(settings, "index.html")
    tables = parse_tables(text)
    overview = {r["_stub"]: (r["items"], r["mean_top2"], r["range"]) for r in tables["overview"]}
    assert overview == {
        "Personlig nivå": ("5", "66 %", "30–90 %"),
        "Institusjonelt nivå": ("1", "40 %", "40–40 %"),
        "Relevans for innbyggerne": ("6", "33 %", "20–60 %"),
        "Lokal og kommunal synlighet": ("3", "50 %", "30–60 %"),
    }
    groups = {}
    for row in tables["items"]:
        groups.setdefault(row["_group"], []).append(row["_stub"])
    assert groups == {
        CODEBOOK.levels[lv].label["nb"]: [i.code for i in CODEBOOK.closed_items() if i.level == lv] for lv in LEVELS
    }
    notes = source_notes(text, "items")
    assert "Runde 2024: 10 av 12 inviterte svarte (83 %)." in notes
    assert "Færre enn 30 svar: les prosentene med forsiktighet." in notes
    assert not any(n.startswith("«:»") for n in notes)  # internal profile: nothing suppressed
    assert ">:<" not in text


def test_stacked_bar_nanoplot_describes_the_distribution(built):
    settings, _ = built
    text = _page(settings, "personal.html")
    labels = re.findall(r'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="([^"]*)"', text)
    assert len(labels) == 5
    assert labels[0] == (
        "I svært høy grad: 5 (50 %); I høy grad: 4 (40 %); I noen grad: 1 (10 %); "
        "I liten grad: 0 (0 %); Ikke i det hele tatt: 0 (0 %); Vet ikke: 0 (0 %)"
    )


def test_figures_are_written_and_linked_from_the_pages(built):
    settings, _ = built
    figures = settings.reports_dir / "figures" / "2024"
    names = sorted(p.name for p in figures.iterdir())
    expected = sorted(
        [f"item-{i.code}.{x}" for i in CODEBOOK.closed_items() for x in ("svg", "png")]
        + [f"level-{lv}.{x}" for lv in LEVELS for x in ("svg", "png")]
    )
    assert names == expected
    for p in figures.iterdir():
        data = p.read_bytes()
        assert data.startswith(b"\x89PNG") if p.suffix == ".png" else data.startswith(b"<?xml")
    index = _page(settings, "index.html")
    for level in LEVELS:
        chart = (
            (figures / f"level-{level}.svg")
            .read_text(encoding="utf-8")
            .removeprefix('<?xml version="1.0" encoding="utf-8"?>\n')
            .strip()
        )
        assert chart in index  # the SVG is part of the page (tooltips, title and description for screen readers)
        page = _page(settings, f"{level}.html")
        assert f'<figure class="chart">{chart}<figcaption>' in page
        assert f'href="figures/2024/level-{level}.svg">SVG</a>' in page
        assert f'href="figures/2024/level-{level}.png">PNG</a>' in page
        for item in CODEBOOK.closed_items():
            assert (f'<svg xmlns="http://www.w3.org/2000/svg" id="figure-2024-{item.code}"' in page) == (
                item.level == level
            )
            assert (f'href="figures/2024/item-{item.code}.png"' in page) == (item.level == level)
        assert "<img" not in page
    personal = _page(settings, "personal.html")
    assert "P1 · Figur 1: Kompetansen og erfaringen" in personal


def test_open_answers_are_shown_per_level(built):
    settings, _ = built
    rows = parse_tables(_page(settings, "citizen.html"))["open-citizen"]
    assert len(rows) == 3
    assert {r["_group"] for r in rows} == {CODEBOOK.items["OC"].question["nb"]}
    assert any(r["text"].startswith("Språkkafé, språkkafé-teater, kulturkaffe") for r in rows)
    assert "Ingen åpne svar på dette nivået." in _page(settings, "visibility.html")


def test_two_builds_give_byte_identical_pages_and_charts(built):
    first, second = built
    mine = ["index.html", *(f"{lv}.html" for lv in LEVELS)]
    files = mine + sorted(
        p.relative_to(first.reports_dir).as_posix() for p in (first.reports_dir / "figures").rglob("*") if p.is_file()
    )
    assert len(files) == 5 + 2 * (len(CODEBOOK.closed_items()) + len(LEVELS))
    different = [f for f in files if (first.reports_dir / f).read_bytes() != (second.reports_dir / f).read_bytes()]
    assert different == []
    svg = (first.reports_dir / "figures" / "2024" / "level-personal.svg").read_text(encoding="utf-8")
    assert 'id="figure-2024-personal"' in svg


def test_free_text_is_escaped_and_contacts_masked(built, tmp_path):
    settings, _ = built
    frames = report_frames(settings)
    extra = pl.DataFrame(
        {
            "wave": ["2024"] * 2,
            "item": ["OP", "OP"],
            "level": ["personal"] * 2,
            "respondent_key": ["zz1", "zz2"],
            "complete": [True, True],
            "text": [
                "<script>alert('x')</script> Skriv til ola.nordmann@bibliotek.no eller ring 412 34 567!",
                "Ring +47 22 33 44 55 eller 12345678, ikke 2018-2020 & <b>fet</b>",
            ],
        }
    )
    frames["open_answers"] = pl.concat([frames["open_answers"], extra])
    render_reports(
        CODEBOOK,
        "nb",
        tmp_path,
        frames["item_indicators"],
        frames["item_distribution"],
        frames["waves"],
        frames["open_answers"],
    )
    text = (tmp_path / "personal.html").read_text(encoding="utf-8")
    assert "<script>" not in text and "<b>fet</b>" not in text
    assert (
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Skriv til [e-post fjernet] eller ring "
        "[telefonnummer fjernet]!" in text
    )
    assert (
        "Ring [telefonnummer fjernet] eller [telefonnummer fjernet], ikke 2018-2020 &amp; &lt;b&gt;fet&lt;/b&gt;"
        in text
    )
    assert "ola.nordmann" not in text and "412 34 567" not in text and "12345678" not in text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("mail: kari@example.com.", "mail: [e-mail removed]."),
        ("tlf 98765432", "tlf [phone number removed]"),
        ("tlf +45 12 34 56 78", "tlf [phone number removed]"),
        ("0047 912 34 567", "[phone number removed]"),
        ("år 2018-2020 og 2019 2020", "år 2018-2020 og 2019 2020"),
        ("10 av 12 svarte", "10 av 12 svarte"),
    ],
)
def test_mask_contacts(text, expected):
    assert mask_contacts(text, CODEBOOK, "en") == expected


def test_pages_in_danish_and_english_take_every_label_from_the_codebook(built):
    settings, _ = built
    frames = report_frames(settings)
    for lang, words in {
        "da": ("Oversigt", "I meget høj grad", "Gennemsnit", "Runde 2024: 10 af 12 inviterede svarede (83 %)."),
        "en": ("Overview", "To a very high degree", "Mean", "Wave 2024: 10 of 12 invited answered (83 %)."),
    }.items():
        data = ReportData(
            CODEBOOK,
            lang,
            frames["item_indicators"],
            frames["item_distribution"],
            frames["waves"],
            frames["open_answers"],
        )
        pages = build_pages(data, {})
        assert f'<html lang="{lang}">' in pages["index.html"]
        for word in words:
            assert word in pages["index.html"], (lang, word)
        rows = rows_by_stub(pages["personal.html"], "level-personal")
        assert rows["P1"]["question"] == CODEBOOK.items["P1"].question[lang]
        assert rows["P1"]["mean"] == ("4,4" if lang == "da" else "4.4")
    assert "Figur 1" in (settings.reports_dir / "personal.html").read_text(encoding="utf-8")


def test_a_wave_that_disappears_takes_its_charts_along(built, tmp_path):
    settings, _ = built
    frames = report_frames(settings)
    stale = tmp_path / "figures" / "2019" / "item-P1.svg"
    stale.parent.mkdir(parents=True)
    stale.write_text("old", encoding="utf-8")
    written = render_reports(
        CODEBOOK,
        "nb",
        tmp_path,
        *(frames[n] for n in ("item_indicators", "item_distribution", "waves", "open_answers")),
    )
    assert not (tmp_path / "figures" / "2019").exists()
    assert sorted(written) == sorted(["index", "figures", *LEVELS])
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "index.html").stat().st_mode & 0o777 == 0o666 & ~umask  # readable by a web server
