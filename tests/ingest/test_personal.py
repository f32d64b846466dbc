"""pipeline.ingest.personal: personal data masked in the normalised wave, before anything is written."""

import polars as pl
from helpers import PROJECT_SETTINGS, make_settings
from planted import OPEN_ITEM_HEADER, write_planted_wave

from pipeline.codebook import load_codebook
from pipeline.ingest.personal import Markers, mask_series, mask_text
from pipeline.ingest.privacy import names_pattern
from pipeline.ingest.wave import read_wave
from pipeline.settings import PROJECT_ROOT

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
NB = Markers.of(CODEBOOK)


def test_markers_come_from_the_codebook():
    assert NB == Markers(
        "[e-post fjernet]",
        "[telefonnummer fjernet]",
        "[IP-adresse fjernet]",
        "[personnummer fjernet]",
        "[navn fjernet]",
    )
    assert Markers.of(CODEBOOK, "en").name == "[name removed]"


def test_mask_text_never_looks_for_a_name_inside_a_marker():
    names = names_pattern(["Post", "Kari"])
    assert mask_text("Kari: post@x.no, Post", NB, names) == "[navn fjernet]: [e-post fjernet], [navn fjernet]"


def test_mask_series_keeps_codebook_words_and_masks_names_on_their_row_only():
    series = pl.Series("a0", ["Ja", "Kari 91234567", None, "Kari"])
    out = mask_series(series, {"Ja"}, NB, {1: names_pattern(["Kari"]), 0: names_pattern(["Ja"])})
    assert out.to_list() == ["Ja", "[navn fjernet] [telefonnummer fjernet]", None, "Kari"]


def test_the_read_wave_holds_no_personal_data(tmp_path):
    settings = make_settings(tmp_path)
    write_planted_wave(settings.raw_dir)
    n = read_wave(settings, CODEBOOK, "2024").normalised
    cells = n.cells(PROJECT_SETTINGS)
    open_item = next(c.target for c in n.columns if c.header == OPEN_ITEM_HEADER)
    text = cells.filter((pl.col("source_row") == 1) & (pl.col("item") == open_item))["value"].to_list()
    assert text == [
        "Hilsen [navn fjernet] ([e-post fjernet], tlf [telefonnummer fjernet], fra "
        "[IP-adresse fjernet]). Fnr [personnummer fjernet], CPR [personnummer fjernet], pn [personnummer fjernet]; "
        "kundenr 12345678901 evil"
    ]
    closed = cells.filter((pl.col("source_row") == 4) & pl.col("category").is_null() & (pl.col("item") == "P1"))
    assert closed.select("item", "value").rows() == [("P1", "ring [telefonnummer fjernet] / [navn fjernet]")]
    groups = n.groups(PROJECT_SETTINGS)
    assert groups.filter(pl.col("group").is_null()).select("source_row", "variable", "value").rows() == [
        (2, "role", "[navn fjernet], tlf [telefonnummer fjernet]")
    ]
    assert n.respondents["status"].to_list()[:4] == [
        "Fullført",
        "Fullført",
        "Sendt av [navn fjernet] [e-post fjernet] fra [IP-adresse fjernet]",
        "Fullført",
    ]
    assert n.personal_data_headers == ["Navn", "E-post"]
