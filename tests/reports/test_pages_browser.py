"""The report pages in headless Debian chromium: every level's table and figure, no console errors, screenshots.

The session fixture installs Debian chromium (apt-get) when /usr/bin/chromium is missing and the tests run as
root; the tests skip, saying why, only when it cannot be installed. The browser is driven over the Chrome
DevTools Protocol with nokap (installed with great-tables, which uses it for GT.gtsave)."""

from __future__ import annotations

import base64
import io
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image
from reports_helpers import build_sample

from pipeline.codebook import load_codebook
from pipeline.settings import PROJECT_ROOT

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)

CODEBOOK = load_codebook(PROJECT_ROOT / "schemas" / "codebook.yaml")
CHROMIUM = Path("/usr/bin/chromium")
WIDTH = 1400


@pytest.fixture(scope="session")
def chromium() -> str:
    if not CHROMIUM.exists():
        if shutil.which("apt-get") is None or os.geteuid() != 0:
            pytest.skip(
                "Debian chromium is not installed and cannot be installed here (needs root and apt-get): "
                "run `make browser` as root"
            )
        proc = subprocess.run(
            ["sh", "-c", "apt-get update -q && apt-get install -y -q chromium"],
            capture_output=True,
            text=True,
            timeout=1800,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        if proc.returncode != 0 or not CHROMIUM.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            pytest.skip(f"could not install Debian chromium (apt-get exit {proc.returncode}): {' | '.join(tail)}")
    return str(CHROMIUM)


class Browser:
    """One headless chromium tab; collects console errors, uncaught exceptions and failed loads."""

    def __init__(self, path: str) -> None:
        import nokap
        from nokap._cdp import SyncCDP

        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        self.chrome = nokap.Chrome(path=path, extra_args=[*args, "--allow-file-access-from-files"])
        self.cdp = SyncCDP(self.chrome.ws_url)
        self.cdp.connect()
        self.errors: list[str] = []
        self.cdp.on(
            "Runtime.exceptionThrown",
            lambda p: self.errors.append("exception: " + p["exceptionDetails"].get("text", "")),
        )
        self.cdp.on(
            "Runtime.consoleAPICalled",
            lambda p: (
                p["type"] in ("error", "assert")
                and self.errors.append(
                    "console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                )
            ),
        )
        self.cdp.on(
            "Log.entryAdded",
            lambda p: (
                p["entry"]["level"] == "error"
                and self.errors.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
            ),
        )
        self.tab = nokap.Session(self.cdp, width=WIDTH, height=900)
        self.send("Log.enable")

    def send(self, method: str, params: dict | None = None) -> dict:
        return self.cdp.send(method, params, session_id=self.tab._session_id)

    def open(self, path: Path) -> None:
        self.tab.navigate(path.resolve().as_uri())

    def evaluate(self, js: str):
        return self.tab.evaluate(js)

    def screenshot(self) -> bytes:
        size = self.send("Page.getLayoutMetrics")["cssContentSize"]
        shot = self.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
            },
        )
        return base64.b64decode(shot["data"])

    def close(self) -> None:
        self.tab.close()
        self.cdp.close()
        self.chrome.close()


@pytest.fixture(scope="module")
def browser(chromium):
    b = Browser(chromium)
    yield b
    b.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_sample(tmp_path_factory.mktemp("browser"))


PAGE_STATE = """(() => ({
  tables: [...document.querySelectorAll('div[id] > table.gt_table')].map(t => t.parentElement.id),
  groups: Object.fromEntries([...document.querySelectorAll('div[id] > table.gt_table')].map(t =>
      [t.parentElement.id, [...t.querySelectorAll('th.gt_group_heading')].map(th => th.textContent.trim())])),
  stubs: Object.fromEntries([...document.querySelectorAll('div[id] > table.gt_table')].map(t =>
      [t.parentElement.id, [...t.querySelectorAll('tbody th[scope=row]')].map(th => th.textContent.trim())])),
  images: [...document.images].map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0,
                                          width: i.getBoundingClientRect().width, alt: i.alt})),
  charts: [...document.querySelectorAll('figure.chart > svg')].map(s => {
    const scale = s.getBoundingClientRect().width / s.viewBox.baseVal.width;
    return {id: s.id, scale: scale,
            smallest: scale * Math.min(...[...s.querySelectorAll('text')].map(t =>
                parseFloat(getComputedStyle(t).fontSize))),
            name: s.getAttribute('aria-labelledby').split(' ').map(i => document.getElementById(i).textContent)
                .join(' '),
            tooltips: s.querySelectorAll('rect > title, circle > title').length,
            links: [...s.parentElement.querySelectorAll('figcaption a')].map(a => a.getAttribute('href'))};
  }),
  overflow: document.documentElement.scrollWidth > window.innerWidth,
}))()"""


def _check_screenshot(png: bytes, target: Path) -> None:
    target.write_bytes(png)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.width > WIDTH - 40 and image.height > 1500  # full page, less a scrollbar
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 200  # tables, bars and charts, not a blank page


def _check_charts(charts: list[dict]) -> None:
    """Charts are part of the page, shown at their full size (never shrunk: the smallest text is 12 px, 9 pt),
    named by their title and description (every number) and with a tooltip on each bar or segment."""
    for chart in charts:
        assert chart["scale"] == 1 and chart["smallest"] >= 12, chart
        assert "n = 10" in chart["name"] and " %" in chart["name"], chart
        assert chart["tooltips"] >= 2, chart


def test_index_shows_every_level_s_table_and_figure(built, browser, tmp_path):
    browser.errors.clear()
    browser.open(built.reports_dir / "index.html")
    state = browser.evaluate(PAGE_STATE)
    assert state["tables"] == ["overview", "items"]
    labels = [lv.label["nb"] for lv in CODEBOOK.levels.values()]
    assert state["groups"]["items"] == labels
    assert state["stubs"]["overview"] == labels
    assert state["stubs"]["items"] == [i.code for i in CODEBOOK.closed_items()]
    assert [c["id"] for c in state["charts"]] == [f"figure-2024-{k}" for k in CODEBOOK.levels]
    _check_charts(state["charts"])
    assert not state["overflow"]
    _check_screenshot(browser.screenshot(), tmp_path / "index.png")
    assert browser.errors == []


@pytest.mark.parametrize("level", list(CODEBOOK.levels))
def test_level_page_shows_its_table_figures_and_open_answers(built, browser, tmp_path, level):
    browser.errors.clear()
    browser.open(built.reports_dir / f"{level}.html")
    state = browser.evaluate(PAGE_STATE)
    items = [i.code for i in CODEBOOK.closed_items() if i.level == level]
    has_open = any(i.level == level for i in CODEBOOK.text_items())
    assert state["tables"] == [f"level-{level}"] + ([f"open-{level}"] if has_open else [])
    assert state["stubs"][f"level-{level}"] == items
    assert [c["id"] for c in state["charts"]] == [f"figure-2024-{level}"] + [f"figure-2024-{code}" for code in items]
    assert [c["links"] for c in state["charts"]][0] == [f"figures/2024/level-{level}.{x}" for x in ("svg", "png")]
    _check_charts(state["charts"])
    _check_screenshot(browser.screenshot(), tmp_path / f"{level}.png")
    assert browser.errors == []


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "img":
            self.links.append(a["src"])


def test_every_link_of_the_pages_resolves(built):
    pages = ["index.html", *(f"{k}.html" for k in CODEBOOK.levels)]
    checked = 0
    for name in pages:
        parser = _Links()
        parser.feed((built.reports_dir / name).read_text(encoding="utf-8"))
        for link in parser.links:
            assert (built.reports_dir / link).is_file(), (name, link)
            checked += 1
    assert checked > 90  # navigation, and the SVG and PNG of each of the 26 charts the pages hold


def test_the_browser_check_sees_errors(browser, tmp_path):
    """The check above can fail: a missing image and a script error are reported."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><body><img src="missing.svg"><script>undefinedFn()</script>'
        "<script>console.error('boom')</script></body></html>",
        encoding="utf-8",
    )
    browser.errors.clear()
    browser.open(bad)
    assert any(e.startswith("exception:") for e in browser.errors), browser.errors
    assert any("boom" in e for e in browser.errors), browser.errors
    assert any("missing.svg" in e or "ERR_FILE_NOT_FOUND" in e for e in browser.errors), browser.errors
    browser.errors.clear()


def test_make_png_writes_a_png_of_every_table(built, chromium):
    from pipeline.reports.png import write_pngs

    before = os.environ.get("CHROME_PATH")
    written = write_pngs(built, browser=chromium)
    assert os.environ.get("CHROME_PATH") == before  # the --no-sandbox wrapper does not outlive the call
    expected = [
        "items",
        "overview",
        *(f"level-{k}" for k in CODEBOOK.levels),
        *(f"open-{i.level}" for i in CODEBOOK.text_items()),
        "waves-response",
    ]  # one wave: no change table
    assert sorted(written) == sorted(expected)
    for name, path in written.items():
        assert path == built.reports_dir / "png" / f"{name}.png"
        image = Image.open(path)
        assert image.format == "PNG" and image.width > 400 and image.height > 100, (name, image.size)
    assert sorted(p.name for p in (built.reports_dir / "png").iterdir()) == sorted(f"{n}.png" for n in expected)


def test_make_png_says_what_to_do_without_a_browser_or_marts(tmp_path, monkeypatch):
    from helpers import make_settings

    from pipeline.reports.png import PngError, write_pngs

    settings = make_settings(tmp_path)
    with pytest.raises(PngError, match="build the marts first with `make run`"):
        write_pngs(settings, browser="/usr/bin/true")
    monkeypatch.delenv("CHROME_PATH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PngError, match="install Debian chromium with `make browser`"):
        write_pngs(settings)
