"""Reports at scale: the chart cache, open answers capped per item and wave, files not rewritten when unchanged,
left-over temporary files removed. The frames come from a real build of wave 2024, relabelled as more waves."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest
from reports_helpers import parse_tables, report_frames, source_notes

from pipeline.codebook import load_codebook
from pipeline.reports.data import ReportData
from pipeline.reports.disclosure import item_views
from pipeline.reports.figures import FigureCache, charts
from pipeline.reports.open_answers import OPEN_ANSWERS_SHOWN
from pipeline.reports.render import build_pages, render_reports
from pipeline.reports.tables import format_values
from pipeline.settings import PROJECT_ROOT

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
FRAMES = ("item_indicators", "item_disclosure", "waves", "open_answers")
ITEMS = ["P1", "P2", "C4", "V4"]  # 4 item charts + 3 level charts (personal, citizen, visibility) per wave


@pytest.fixture(scope="module")
def sample(sample_build):
    return sample_build


@pytest.fixture(scope="module")
def frames(sample):
    return report_frames(sample)


def _waves(frames: dict[str, pl.DataFrame], keys: list[str], items: list[str] | None = None) -> dict:
    """Wave 2024's frames copied once per key (fielded a day apart), optionally only some closed items."""
    out = {}
    for name in FRAMES:
        parts = []
        for day, key in enumerate(keys):
            part = frames[name].with_columns(pl.lit(key).alias("wave"))
            if name == "waves":
                part = part.with_columns(pl.col("fielded") + pl.duration(days=day))
            if items is not None and name in ("item_indicators", "item_disclosure"):
                part = part.filter(pl.col("item").is_in(items))
            parts.append(part)
        out[name] = pl.concat(parts)
    return out


def _render(frames: dict, out, **kw):
    return render_reports(CODEBOOK, "nb", out, *(frames[n] for n in FRAMES), **kw)


def _files(folder) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _drawn_paths(frames: dict, cache: FigureCache) -> list[str]:
    views = item_views(CODEBOOK, frames["item_disclosure"], profile="internal", min_cell=3)
    by_key = {c.key: c.paths["svg"].removesuffix(".svg") for c in charts(CODEBOOK, "nb", views)}
    return sorted(by_key[k] for k in cache.drawn)


def test_cached_charts_are_byte_identical_and_only_changed_charts_are_redrawn(frames, tmp_path):
    two = _waves(frames, ["2024", "2025"], ITEMS)
    _render(two, tmp_path / "plain")  # no cache: every chart drawn in memory
    plain = _files(tmp_path / "plain")

    first = FigureCache(tmp_path / "cache")
    _render(two, tmp_path / "cached", cache_dir=first)
    assert len(first.drawn) == len(first.used) == 14
    # the open-answers tables (3 levels with answers × 2 waves) are cached as HTML fragments
    assert len(first.fragments_made) == len(first.fragments_used) == 6
    assert _files(tmp_path / "cached") == plain
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(
        [f"{k}.{x}" for k in first.used for x in ("svg", "png")] + [f"{k}.html" for k in first.fragments_used]
    )

    # second build: nothing drawn, same bytes, and no file under reports/ rewritten
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "cached").rglob("*") if p.is_file()}
    second = FigureCache(tmp_path / "cache")
    _render(two, tmp_path / "cached", cache_dir=second)
    assert second.drawn == [] and second.used == first.used
    assert second.fragments_made == [] and second.fragments_used == first.fragments_used
    assert _files(tmp_path / "cached") == plain
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps

    # one count changed in wave 2025, item P1: exactly its item chart and its level chart are redrawn
    dist = two["item_disclosure"]
    changed = (pl.col("wave") == "2025") & (pl.col("item") == "P1") & (pl.col("category") == "low")
    two["item_disclosure"] = (
        dist.with_columns(pl.when(changed).then(1).otherwise(pl.col("n")).alias("n"))
        .with_columns(pl.col("n").sum().over("wave", "item").alias("base_n"))
        .with_columns((100.0 * pl.col("n") / pl.col("base_n")).alias("pct"))
    )
    third = FigureCache(tmp_path / "cache")
    _render(two, tmp_path / "cached", cache_dir=third)
    assert _drawn_paths(two, third) == ["2025/item-P1", "2025/level-personal"]
    assert third.fragments_made == []
    _render(two, tmp_path / "plain2")
    assert _files(tmp_path / "cached") == _files(tmp_path / "plain2")
    assert _files(tmp_path / "cached")["figures/2025/item-P1.svg"] != plain["figures/2025/item-P1.svg"]
    # the two entries no build uses any more are pruned
    assert len(list((tmp_path / "cache").iterdir())) == 2 * 14 + 6
    assert (first.used - third.used) and not any(
        (tmp_path / "cache" / f"{k}.svg").exists() for k in first.used - third.used
    )


def test_chart_keys_follow_language_profile_and_labels(frames):
    one = _waves(frames, ["2024"], ITEMS)
    dist = one["item_disclosure"]

    def keys(lang="nb", profile="internal", codebook=CODEBOOK):
        views = item_views(codebook, dist, profile=profile, min_cell=3)
        return {c.paths["svg"]: c.key for c in charts(codebook, lang, views)}

    base = keys()
    assert keys() == base  # deterministic
    assert set(keys(lang="en").values()).isdisjoint(base.values())
    public = keys(profile="public")
    # P1 has cells below 3 (hidden in public); so do the level charts holding it
    assert public["2024/item-P1.svg"] != base["2024/item-P1.svg"]
    assert public["2024/level-personal.svg"] != base["2024/level-personal.svg"]
    # a question text used by one chart changes that item's chart and its level chart only
    item = CODEBOOK.items["C4"]
    renamed = dataclasses.replace(
        CODEBOOK,
        items={**CODEBOOK.items, "C4": dataclasses.replace(item, question={**item.question, "nb": "Ny tekst"})},
    )
    changed = {p for p, k in keys(codebook=renamed).items() if base[p] != k}
    assert changed == {"2024/item-C4.svg", "2024/level-citizen.svg"}


def _open_frame(wave: str, item: str, level: str, texts: list[str], prefix: str = "r") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "wave": [wave] * len(texts),
            "item": [item] * len(texts),
            "level": [level] * len(texts),
            "respondent_key": [f"{prefix}{i:05d}" for i in range(len(texts))],
            "complete": [True] * len(texts),
            "text": texts,
        }
    )


def test_open_answers_show_the_first_200_of_each_item_and_say_how_many_there_are(frames):
    assert OPEN_ANSWERS_SHOWN == 200
    texts = [f"Svar nummer {i}" for i in range(250)]
    texts[3] = "Skriv til kari@example.com <b>nå</b>"
    texts[240] = "Sist i rekken"
    answers = pl.concat(
        [
            _open_frame("2024", "OP", "personal", texts, prefix="z").reverse(),  # unsorted input
            _open_frame("2024", "OP", "personal", ["", "   "], prefix="blank"),  # blank: neither shown nor counted
            frames["open_answers"].filter(pl.col("item") == "OC"),
        ]
    )
    data = ReportData(CODEBOOK, "nb", frames["item_indicators"], frames["item_disclosure"], frames["waves"], answers)
    pages = build_pages(data, {})
    rows = parse_tables(pages["personal.html"])["open-personal"]
    assert [r["_stub"] for r in rows] == [str(i) for i in range(1, 201)]
    assert [r["text"] for r in rows][:5] == [
        "Svar nummer 0",
        "Svar nummer 1",
        "Svar nummer 2",
        "Skriv til [e-post fjernet] <b>nå</b>",
        "Svar nummer 4",
    ]
    assert rows[-1]["text"] == "Svar nummer 199"
    assert "Sist i rekken" not in pages["personal.html"]
    assert "&lt;b&gt;nå&lt;/b&gt;" in pages["personal.html"] and "kari@" not in pages["personal.html"]
    assert source_notes(pages["personal.html"], "open-personal")[1:] == [
        "OP: viser 200 av 250 svar (de første etter pseudonym); alle står i tabellen open_answers i "
        "samskabelse.duckdb og parquet/open_answers.parquet."
    ]
    # OC has 3 answers: all shown, no note
    assert len(parse_tables(pages["citizen.html"])["open-citizen"]) == 3
    assert len(source_notes(pages["citizen.html"], "open-citizen")) == 1
    english = build_pages(
        ReportData(
            CODEBOOK, "en", *(data.__dict__[k] for k in ("indicators", "distribution", "waves", "open_answers"))
        ),
        {},
    )
    assert (
        "OP: showing 200 of 250 answers (the first by pseudonym); all are in the open_answers table"
        in english["personal.html"]
    )
    assert [format_values([12345, 200], "integer", lang) for lang in ("nb", "da", "en")] == [
        ["12 345", "200"],
        ["12.345", "200"],
        ["12,345", "200"],
    ]


def test_several_waves_get_one_open_answers_table_each_newest_first(frames):
    three = _waves(frames, ["2024", "2025", "2026"])
    three["open_answers"] = pl.concat(
        [
            _open_frame("2024", "OC", "citizen", ["gammelt svar"]),
            _open_frame("2026", "OC", "citizen", [f"nytt svar {i}" for i in range(203)]),
        ]
    )
    data = ReportData(CODEBOOK, "nb", *(three[n] for n in FRAMES))
    page = build_pages(data, {})["citizen.html"]
    tables = parse_tables(page)
    open_ids = [t for t in tables if t.startswith("open-")]
    assert open_ids == ["open-citizen-2026", "open-citizen-2024"]  # 2025 has none
    assert len(tables["open-citizen-2026"]) == 200 and [r["text"] for r in tables["open-citizen-2024"]] == [
        "gammelt svar"
    ]
    assert {r["_group"] for r in tables["open-citizen-2026"]} == {CODEBOOK.items["OC"].question["nb"]}
    assert "OC: viser 200 av 203 svar" in " ".join(source_notes(page, "open-citizen-2026"))
    assert "Relevans for innbyggerne · Runde 2024" in page


def test_no_per_cell_styles_in_the_likert_tables(frames):
    data = ReportData(CODEBOOK, "nb", *(frames[n] for n in FRAMES))
    page = build_pages(data, {})["index.html"]
    assert 'style="white-space' not in page
    assert '#items td[headers~="items-n"], #items td[headers~="items-very_high"]' in page
    assert '#items td[headers~="items-mean"] { white-space: nowrap; }' in page
    assert 'headers="items-' in page and 'headers~="items-question"' not in page


def test_temporary_files_of_a_killed_run_are_removed(frames, tmp_path):
    stale = [
        tmp_path / ".index.html.k2j4_x9.tmp",
        tmp_path / "figures" / "2024" / ".item-P1.svg.ab12cd.tmp",
        tmp_path / ".waves.html.q1w2e3.tmp",
    ]
    kept = [tmp_path / "notes.tmp", tmp_path / ".keep", tmp_path / "png" / ".overview.part.png"]
    for path in stale + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
    _render(_waves(frames, ["2024"], ["P1"]), tmp_path)
    assert [p for p in stale if p.exists()] == []
    assert all(p.exists() for p in kept)


def test_the_build_fills_the_chart_cache_of_the_build_area(sample):
    cache = sample.build_dir / "figure_cache"
    charts_cached = [p for p in cache.iterdir() if p.suffix in (".svg", ".png")]
    cached = {p.read_bytes() for p in charts_cached}
    figures = sample.reports_dir / "figures"
    published = [p for p in figures.rglob("*") if p.is_file()]
    assert len(published) == len(charts_cached) == 2 * (len(CODEBOOK.closed_items()) + len(CODEBOOK.levels))
    assert all(p.read_bytes() in cached for p in published)
    # the open-answers tables of the three levels with answers, as HTML fragments found in the pages
    fragments = sorted(p for p in cache.iterdir() if p.suffix == ".html")
    assert len(fragments) == 3 and len(list(cache.iterdir())) == len(charts_cached) + 3
    pages = "".join((sample.reports_dir / f"{lv}.html").read_text(encoding="utf-8") for lv in CODEBOOK.levels)
    assert all(p.read_text(encoding="utf-8") in pages for p in fragments)
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]


def test_only_the_three_newest_waves_are_drawn_and_the_pages_say_so(frames, tmp_path):
    """Five waves: item and level charts for 2026, 2025, 2024 only; every wave stays in the tables, and the chart
    sections say how many waves the charts show. With three waves there is no such note."""
    five = _waves(frames, ["2022", "2023", "2024", "2025", "2026"], ITEMS)
    _render(five, tmp_path / "five", cache_dir=FigureCache(tmp_path / "cache"))
    drawn = sorted({p.split("/")[0] for p in _files(tmp_path / "five" / "figures")})
    assert drawn == ["2024", "2025", "2026"]
    assert sorted(_files(tmp_path / "five" / "figures")) == sorted(
        f"{wave}/{kind}.{fmt}"
        for wave in drawn
        for fmt in ("png", "svg")
        for kind in ("item-P1", "item-P2", "item-C4", "item-V4", "level-personal", "level-citizen", "level-visibility")
    )
    note = "Diagrammene viser de 3 nyeste rundene; alle 5 runder står i tabellene."
    personal = (tmp_path / "five" / "personal.html").read_text(encoding="utf-8")
    assert personal.count(note) == 2 and "figures/2023/" not in personal and "figures/2026/item-P1.svg" in personal
    assert "Runde 2022: 10 av 12 inviterte svarte (83 %)." in personal  # every wave in the level table
    assert (tmp_path / "five" / "index.html").read_text(encoding="utf-8").count(note) == 1
    three = _waves(frames, ["2024", "2025", "2026"], ITEMS)
    _render(three, tmp_path / "three")
    assert "nyeste rundene" not in (tmp_path / "three" / "personal.html").read_text(encoding="utf-8")
