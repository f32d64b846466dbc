"""One real build (Dagster + DuckDB, `python -m pipeline.cli build`'s code) of a raw folder full of
bad and hostile input next to a good wave. Every bad wave fails alone with its one message; the good wave,
whose respondents wrote markup, formulas, SQL and control characters, is published with that text stored
exactly and rendered escaped; folder names that are not wave keys never reach Dagster or the marts.

The last test rebuilds the same marts while a DuckDB CLI holds them read-write (lock contention)."""

from __future__ import annotations

import contextlib
import html
import io
import os
import re
import shutil
import signal
import subprocess
import threading

import dagster as dg
import duckdb
import polars as pl
import pytest
from helpers import build, copy_sample_wave, make_settings, query, read_sample_rows, write_csv_wave
from hostile import CODEBOOK, HOSTILE_TEXTS, sparse_file, write_bytes_wave

from pipeline.ingest.privacy import strip_bidi
from pipeline.ingest.waves import discover_waves, invalid_wave_folders
from pipeline.reports.open_answers import CONTROL
from pipeline.settings import PROJECT_ROOT

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)

QUESTION = {code: item.question["nb"] for code, item in CODEBOOK.items.items()}
OPEN = [i.code for i in CODEBOOK.text_items()]
FORMULA = "=cmd|' /C calc'!A0"
LABEL = "<b>Bølge</b> \"2024\" & 'x'; drop table waves; --"
BAD_NAMES = ["x'; drop table responses; --", "a...b", "2024\n", "ølbølge"]
GIB = 1 << 30
# Not 2024: that wave is checked against the published report, and a formula in P1 would (rightly) stop publishing.
HOSTILE_WAVE = "2025"


def hostile_rows() -> tuple[list[str], list[list[str]]]:
    """The sample wave with every free-text answer replaced by a hostile text (12 texts over 10 × 3 cells)
    and respondent 3's P1 answer replaced by a formula."""
    headers, rows = read_sample_rows()
    columns = [headers.index(QUESTION[item]) for item in OPEN]
    for r, row in enumerate(rows):
        for k, column in enumerate(columns):
            row[column] = HOSTILE_TEXTS[(r * len(columns) + k) % len(HOSTILE_TEXTS)]
    rows[2][headers.index(QUESTION["P1"])] = FORMULA
    return headers, rows


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in os.environ if n.startswith("PIPELINE_")]:
            mp.delenv(name)
        settings = make_settings(root, pseudonym_key="test-key")
        raw = settings.raw_dir
        headers, rows = hostile_rows()
        write_csv_wave(raw, HOSTILE_WAVE, headers, rows, label=LABEL, columns={"Tidsstempel": "submitted_at"})
        sparse_file(raw / "huge" / "export.csv", 2 * GIB)
        (raw / "huge" / "wave.yaml").write_text("label: Huge\ninvited: 12\nexport: export.csv\n", encoding="utf-8")
        write_bytes_wave(raw, "broken", "export.xlsx", b"PK\x03\x04 this is not a workbook")
        write_bytes_wave(raw, "nul", "export.csv", b"Respondent;P1\nR1;I h\x00y grad\n")
        sample = (PROJECT_ROOT / "data" / "raw" / "2024" / "export.csv").read_bytes()
        cut = next(i for i in range(2000, len(sample)) if 0x80 <= sample[i] < 0xC0)  # inside a character
        write_bytes_wave(raw, "cut", "export.csv", sample[:cut])
        escape = copy_sample_wave(raw, "escape")
        (escape / "wave.yaml").write_text("label: E\ninvited: 12\nexport: ../2025/export.csv\n", encoding="utf-8")
        for name in BAD_NAMES:
            shutil.copytree(PROJECT_ROOT / "data" / "raw" / "2024", raw / name)
        out, err = io.StringIO(), io.StringIO()
        with dg.instance_for_test() as instance, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = build(settings, instance)
            partitions = sorted(instance.get_dynamic_partitions("wave"))
            previews = {  # every materialization's preview (a key may be materialized in several runs)
                (
                    e.asset_materialization.asset_key.to_user_string(),
                    run.run_id,
                    e.asset_materialization.partition,
                ): e.asset_materialization.metadata["preview"].value
                for run in instance.get_runs()
                for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
                if "preview" in e.asset_materialization.metadata
            }
    return {
        "settings": settings,
        "code": code,
        "out": out.getvalue(),
        "err": err.getvalue(),
        "partitions": partitions,
        "previews": previews,
    }


def _failure(err: str, wave: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith(f"  wave {wave}: FAILED – ")]
    assert len(lines) == 1, err
    return lines[0].removeprefix(f"  wave {wave}: FAILED – ")


def test_each_bad_wave_fails_alone_with_its_one_message(hostile_build):
    b = hostile_build
    raw = b["settings"].raw_dir
    assert b["code"] == 1
    assert f"  wave {HOSTILE_WAVE}: ingested" in b["out"]
    assert _failure(b["err"], "huge") == (
        f"{raw / 'huge' / 'export.csv'}: the file is 2.0 GiB (2147483648 bytes), more than the limit of 256.0 MiB "
        "(268435456 bytes) (PIPELINE_MAX_EXPORT_BYTES); it was not read. Export only the survey's responses, or "
        "raise the limit if the machine has about 20 times that size in free memory"
    )
    assert _failure(b["err"], "broken").startswith(f"{raw / 'broken' / 'export.xlsx'}: not a readable workbook (")
    assert _failure(b["err"], "nul") == (
        f"{raw / 'nul' / 'export.csv'}: line 2 holds a NUL byte (0x00): this is not a text export (a binary file, or "
        "text in UTF-32 or UTF-16 without byte order mark); save the export as UTF-8 CSV"
    )
    assert _failure(b["err"], "cut") == (
        f"{raw / 'cut' / 'export.csv'}: the file ends in the middle of a character (UTF-8): it was cut short, e.g. "
        "copied before the export had finished; copy or export it again"
    )
    assert _failure(b["err"], "escape") == (
        f"{raw / 'escape' / 'wave.yaml'}: export: '../2025/export.csv' must name the export file inside the wave "
        "folder (a plain file name, no folder, not starting with a dot)"
    )
    assert "Traceback" not in b["out"] + b["err"]
    assert (
        b["err"]
        .rstrip()
        .endswith(
            "samskabelse: 5 wave(s) failed: broken, cut, escape, huge, nul (a wave that "
            "failed on reading keeps its earlier data; one stopped in staging is left out "
            "until fixed)"
        )
    )


def test_nothing_of_a_failed_wave_is_written(hostile_build):
    settings = hostile_build["settings"]
    con = duckdb.connect(str(settings.work_db), read_only=True)
    try:
        for table in ("raw.waves", "raw.wave_export", "staging.respondents", "staging.quarantine"):
            waves = con.execute(f"select distinct wave from {table} order by wave").fetchall()
            assert waves == [(HOSTILE_WAVE,)], table
    finally:
        con.close()
    assert query(settings, "select wave, label from waves").rows() == [(HOSTILE_WAVE, LABEL)]


def test_folder_names_that_are_not_wave_keys_never_reach_dagster_or_the_marts(hostile_build):
    settings = hostile_build["settings"]
    raw = settings.raw_dir
    assert discover_waves(raw) == [HOSTILE_WAVE, "broken", "cut", "escape", "huge", "nul"]
    assert hostile_build["partitions"] == discover_waves(raw)
    rule = "use letters, digits, '-' and '_' (at most 64, no dots or quotes)"
    assert invalid_wave_folders(raw) == {
        name: f"{raw / name}: wave folder name {name!r} is not allowed: {rule}; the folder was skipped"
        for name in sorted(BAD_NAMES)
    }
    for table in ("waves", "responses", "quarantine", "open_answers"):
        assert query(settings, f"select distinct wave from {table}")["wave"].to_list() == [HOSTILE_WAVE], table


def test_the_build_names_the_skipped_folders(hostile_build):
    for message in invalid_wave_folders(hostile_build["settings"].raw_dir).values():
        assert message in hostile_build["err"]


def test_hostile_free_text_is_stored_exactly_as_text(hostile_build):
    settings = hostile_build["settings"]
    headers, rows = hostile_rows()
    # exactly as written, but for bidirectional controls (stripped at ingest: a right-to-left override would
    # disguise "exe.png" on a page)
    expected = sorted((item, strip_bidi(row[headers.index(QUESTION[item])])) for row in rows for item in OPEN)
    stored = query(settings, "select item, text from open_answers order by item, text").rows()
    assert sorted(stored) == expected
    assert {t for _, t in stored} == {strip_bidi(t) for t in HOSTILE_TEXTS}
    # the formula in a closed item is quarantined as it was written, and P1 counts the other 9 answers
    assert query(settings, 'select source_row, "column", value from quarantine').rows() == [
        (3, QUESTION["P1"], FORMULA)
    ]
    assert query(settings, "select n from item_indicators where item = 'P1'")["n"].to_list() == [9]
    for table in ("responses", "open_answers", "waves", "item_indicators", "codebook_items"):
        assert query(settings, f"select count(*) as n from {table}")["n"][0] > 0, table


def test_hostile_text_is_escaped_in_every_report_page(hostile_build):
    reports = hostile_build["settings"].reports_dir
    pages = {p.name: p.read_text(encoding="utf-8") for p in sorted(reports.glob("*.html"))}
    assert set(pages) == {"index.html", "waves.html", "panel.html"} | {f"{level}.html" for level in CODEBOOK.levels}
    shown = "".join(pages.values())
    for raw_markup in ("<script>alert", "<img src=x", "</td></tr></table><img", "<b>Bølge</b>"):
        assert raw_markup not in shown, raw_markup
    level_of = {item: CODEBOOK.items[item].level for item in OPEN}
    for r, text in enumerate(HOSTILE_TEXTS):
        item = OPEN[r % len(OPEN)]
        page = pages[f"{level_of[item]}.html"]
        shown_text = CONTROL.sub("\ufffd", strip_bidi(text))  # control characters as U+FFFD (next test), no bidi
        assert html.escape(shown_text, quote=False) in page or html.escape(shown_text) in page, text
    assert "&lt;b&gt;Bølge&lt;/b&gt;" in shown


def test_control_characters_do_not_reach_the_html(hostile_build):
    reports = hostile_build["settings"].reports_dir
    for page in sorted(reports.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text), page.name


def test_formula_text_stays_text_in_the_database_copy(hostile_build):
    """The DuckDB file is for SQL users: text is stored as written (no apostrophe added)."""
    settings = hostile_build["settings"]
    texts = query(settings, "select text from open_answers")["text"].to_list()
    assert {t for t in texts if t[:1] in "=+-@"} == {t for t in HOSTILE_TEXTS if t[:1] in "=+-@"}


def test_parquet_copies_neutralise_formula_prefixes(hostile_build):
    """A spreadsheet opening parquet/*.parquet (Excel Power Query, LibreOffice) must not see a formula: text
    starting with = + - @ (or tab / carriage return) gets a leading apostrophe, as OWASP recommends."""
    parquet = hostile_build["settings"].marts_dir / "parquet"
    texts = pl.read_parquet(parquet / "open_answers.parquet")["text"].to_list()
    expected = sorted("'" + t if t[:1] in "=+-@\t\r" else t for t in map(strip_bidi, HOSTILE_TEXTS))
    assert sorted(set(texts)) == expected
    assert pl.read_parquet(parquet / "quarantine.parquet")["value"].to_list() == ["'" + FORMULA]


def test_dagster_ui_previews_escape_markup(hostile_build):
    previews = hostile_build["previews"]
    shown = [md for md in previews.values() if "alert(" in md]
    assert shown, sorted(previews)  # the hostile text is in some preview (escaped or not)
    for md in shown:
        assert "<script>" not in md and "<img" not in md, md


def read_line(stream, seconds: float = 60) -> str:
    """stream.readline(), failing after `seconds` instead of waiting for ever (a DuckDB CLI that met an error
    prints it on stderr and nothing on stdout)."""
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(seconds)
    if not line:
        raise AssertionError(f"no line from the DuckDB CLI within {seconds} s")
    return line[0]


def test_a_read_write_cli_session_on_the_published_file_does_not_fail_a_rebuild(hostile_build):
    """Runs last (it rebuilds the module's marts): a user's DuckDB CLI holds samskabelse.duckdb read-write
    with a transaction open while a rebuild adds wave 2026. The rebuild publishes; the CLI session keeps
    the old version, a new connection sees the new one."""
    settings = hostile_build["settings"]
    write_csv_wave(settings.raw_dir, "2026", *read_sample_rows(), columns={"Tidsstempel": "submitted_at"})
    cli = subprocess.Popen(
        [str(PROJECT_ROOT / ".venv" / "bin" / "duckdb"), str(settings.published_db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        cli.stdin.write(
            ".mode list\n.headers off\nbegin transaction;\ncreate table scratch as select 1 as x;\n"
            "select 'waves:' || string_agg(wave, ',' order by wave) from waves;\n"
        )
        cli.stdin.flush()
        assert read_line(cli.stdout).strip() == f"waves:{HOSTILE_WAVE}"
        with pytest.raises(duckdb.IOException, match="lock"):  # the session really holds the file
            duckdb.connect(str(settings.published_db)).close()
        out = io.StringIO()
        with dg.instance_for_test() as instance, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = build(settings, instance)
        hostile_build["rebuild"] = out.getvalue()
        assert code == 1  # the five bad waves still fail; 2025 and 2026 build and publish
        assert f"samskabelse: marts published to {settings.published_db}" in out.getvalue()
        cli.stdin.write("select 'waves:' || string_agg(wave, ',' order by wave) from waves;\ncommit;\n")
        cli.stdin.flush()
        assert read_line(cli.stdout).strip() == f"waves:{HOSTILE_WAVE}"  # the session still reads the version it opened
        cli.stdin.close()
        assert cli.wait(timeout=60) == 0, read_line(cli.stderr)
    finally:
        if cli.poll() is None:
            # .venv/bin/duckdb is a wrapper that runs the CLI as its child: stop the whole process group.
            os.killpg(cli.pid, signal.SIGKILL)
            cli.wait()
    assert query(settings, "select wave from waves order by wave")["wave"].to_list() == [HOSTILE_WAVE, "2026"]


def test_the_rebuild_says_that_an_open_session_still_sees_the_old_version(hostile_build):
    """Runs after the rebuild above and reads what it printed."""
    assert "rebuild" in hostile_build
    assert "still sees the old version" in hostile_build["rebuild"]
