"""Reports/waves.html, response rate per wave and the change per item with intervals; same inputs give
byte-identical pages and equal marts."""

import dagster as dg
import pytest
from helpers import build, copy_sample_wave, make_settings, query
from waves_helpers import CODEBOOK, item_column, label, write_second_wave

from pipeline.contract import load_contract
from pipeline.reports.waves import waves_page as render_waves_page
from pipeline.settings import PROJECT_ROOT

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)

LABEL = "<b>Runde</b> & 2026"


def build_two_waves(root, **overrides):
    settings = make_settings(root, **overrides)
    copy_sample_wave(settings.raw_dir)

    def change(headers, rows):
        p1 = item_column(headers, "P1")
        for r in rows:
            r[p1] = label("degree", "high")

    folder = write_second_wave(settings.raw_dir, "2026", change=change)
    spec = folder / "wave.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("label: Wave 2026", f"label: '{LABEL}'"), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp, dg.instance_for_test() as instance:
        mp.setenv("PIPELINE_PSEUDONYM_KEY", "test-key")
        assert build(settings, instance) == 0
    return settings


@pytest.fixture(scope="module")
def twice(tmp_path_factory):
    return build_two_waves(tmp_path_factory.mktemp("a")), build_two_waves(tmp_path_factory.mktemp("b"))


@pytest.fixture(scope="module")
def page(twice):
    return (twice[0].reports_dir / "waves.html").read_text(encoding="utf-8")


def test_same_inputs_give_byte_identical_pages_and_equal_marts(twice):
    a, b = twice
    pages = sorted(p.name for p in a.reports_dir.glob("*.html"))
    assert "waves.html" in pages
    assert pages == sorted(p.name for p in b.reports_dir.glob("*.html"))
    for name in pages:
        assert (a.reports_dir / name).read_bytes() == (b.reports_dir / name).read_bytes(), name
    for t in load_contract(PROJECT_ROOT / "schemas" / "marts.yaml", PROJECT_ROOT / "sql"):
        sql = f'select * from "{t.name}" order by all'
        assert query(a, sql).equals(query(b, sql)), t.name


def test_response_rate_per_wave(page):
    assert page.count('id="waves-response"') == 1
    for cells in (["2024", "2024-05-13", ">12<", ">10<", ">0<", "83 %"], ["2026", "2026-05-04", ">14<", "71 %"]):
        row = next(r for r in page.split("<tr") if 'id="waves-response-stub' in r and f">{cells[0]}</th>" in r)
        assert all(c in row for c in cells), (cells, row)


def test_free_text_from_wave_yaml_is_escaped(page):
    assert "&lt;b&gt;Runde&lt;/b&gt; &amp; 2026" in page
    assert "<b>Runde</b>" not in page


def test_change_per_item_with_n_and_interval(page):
    assert page.count('id="waves-change"') == 1
    assert "Runde 2024 → 2026" in page
    p1 = next(r for r in page.split("<tr") if ">P1</th>" in r)
    # 9/10 → 10/10 top-2: +10 points, Newcombe 95 % interval −18.9 to +40.4; mean 4.4 → 4.0
    for cell in ("90 % (n=10)", "100 % (n=10)", "+10 [−19; +40]", "0 [−28; +28]", "−0,4"):  # nb: decimal comma
        assert f">{cell}</td>" in p1, (cell, p1)
    assert 'waves-change-mean_change" class="gt_row gt_right">−0,4</td>' in p1  # numbers aligned right
    v4 = next(r for r in page.split("<tr") if ">V4</th>" in r)
    assert ">0 [−37; +37]</td>" in v4 and ">–</td>" in v4  # yes/no: no top-3, no mean
    assert "Newcombes 95 % konfidensintervall" in page
    assert "Færre enn 30 svar" in page  # n = 10 is below small_n_below


def test_page_in_english_and_with_a_single_wave(twice):
    a, _ = twice
    waves = query(a, "select * from waves order by wave")
    change = query(a, "select * from wave_change")
    english = render_waves_page(CODEBOOK, "en", waves, change)
    assert "<title>Waves over time</title>" in english and "Wave 2024 → 2026" in english
    assert "Change, percentage points (95 % CI)" in english
    single = render_waves_page(CODEBOOK, "en", waves.filter(waves["wave"] == "2024"), change.clear())
    assert "Only one wave is built: changes appear once the next wave is added." in single
    assert 'id="waves-change"' not in single


def test_public_profile_hides_what_the_disclosure_decision_hides(twice, tmp_path):
    """waves.html reads marts.item_disclosure, the public build's decision: a share resting on a hidden count is ":"
    and so is every change computed from it."""
    a, _ = twice
    waves = query(a, "select * from waves order by wave")
    change = query(a, "select * from wave_change")
    public_build = build_two_waves(tmp_path, profile="public")
    public = (public_build.reports_dir / "waves.html").read_text(encoding="utf-8")
    p1 = next(r for r in public.split("<tr") if ">P1</th>" in r)
    # 2024: 5, 4, 1, 0, 0, 0: the small cells (sum 1) cannot reach 3 alone, so very_high is hidden and the 90 %
    # with it; 2026: 0 + 10 with every other cell 0, so "high" is hidden as well: both shares, the change, the
    # top-3 and the mean change are hidden
    assert p1.count(">: (n=10)</td>") == 2 and "90 %" not in p1 and "100 %" not in p1 and "+10 [" not in p1
    assert p1.count('class="gt_row gt_right">:</td>') == 3
    v4 = next(r for r in public.split("<tr") if ">V4</th>" in r)
    assert v4.count(">40 % (n=10)</td>") == 2 and ">0 [−37; +37]</td>" in v4  # dont_know 2 and "no" hidden
    assert "«:» = skjult av personvernhensyn: antall under 3" in public
    with pytest.raises(ValueError, match="reads marts.item_disclosure"):
        render_waves_page(CODEBOOK, "nb", waves, change, profile="public", min_cell=3)
    internal = render_waves_page(CODEBOOK, "nb", waves, change)
    assert "skjult for å verne personvernet" not in internal
