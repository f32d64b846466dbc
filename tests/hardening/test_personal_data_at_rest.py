"""Nothing personal at rest: a whole build of an export with e-mails, phones, IPs, identity numbers and names planted
(name and e-mail columns, free text, a background column, the status, a closed item's cell) leaves none of them in any
table of any DuckDB file under the marts folder (the work database included), in any other file there (pages, SVG,
Parquet, JSON), in the Dagster instance (run history, event log, compute logs) or in what the build printed and
logged."""

from __future__ import annotations

import logging
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from helpers import build, make_settings
from planted import ORDINARY, PLANTED, write_planted_wave

pytestmark = pytest.mark.build  # runs a whole build: such modules start first (conftest.py)


def found_in_text(text: str) -> list[str]:
    folded = text.casefold()
    return [p for p in PLANTED if p.casefold() in folded]


def found_in_frame(frame: pl.DataFrame) -> list[str]:
    hits = []
    for column in frame.columns:
        values = frame.get_column(column).drop_nulls().to_list()  # lists and structs too, as their text
        hits += found_in_text("\n".join(map(str, values)))
    return hits


def database_tables(path: Path) -> dict[str, pl.DataFrame]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.execute("select table_schema, table_name from information_schema.tables order by all").fetchall()
        return {
            f"{schema}.{name}": pl.from_arrow(con.sql(f'select * from "{schema}"."{name}"').to_arrow_table())
            for schema, name in names
        }
    finally:
        con.close()


def test_a_build_leaves_no_planted_personal_data_anywhere(tmp_path, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    settings = make_settings(tmp_path)
    write_planted_wave(settings.raw_dir, "2025")
    instance_dir = tmp_path / "instance"
    instance_dir.mkdir()
    with dg.instance_for_test(temp_dir=str(instance_dir)) as instance:
        assert build(settings, instance) == 0
    printed = capfd.readouterr()

    leaks: dict[str, list[str]] = {}
    databases = sorted(settings.marts_dir.rglob("*.duckdb"))
    assert [p.relative_to(settings.marts_dir).as_posix() for p in databases] == [
        ".build/warehouse.duckdb",
        "samskabelse.duckdb",
    ]
    tables = 0
    for path in databases:
        for name, frame in database_tables(path).items():
            tables += 1
            if hits := found_in_frame(frame):
                leaks[f"{path.name}:{name}"] = hits
    files = [p for p in sorted(settings.marts_dir.rglob("*")) if p.is_file() and p.suffix != ".duckdb"]
    for path in files:
        if path.suffix == ".parquet":
            hits = found_in_frame(pl.read_parquet(path))
        else:
            hits = found_in_text(path.read_bytes().decode("utf-8", errors="replace"))
        if hits:
            leaks[str(path.relative_to(settings.marts_dir))] = hits
    history = [p for p in sorted(instance_dir.rglob("*")) if p.is_file()]
    for path in history:
        if hits := found_in_text(path.read_bytes().decode("utf-8", errors="replace")):
            leaks[f"dagster instance: {path.relative_to(instance_dir)}"] = hits
    for name, text in (("stdout", printed.out), ("stderr", printed.err), ("log", caplog.text)):
        if hits := found_in_text(text):
            leaks[name] = hits
    assert leaks == {}
    assert tables > 20 and len(files) > 20 and len(history) > 0  # the scan saw the build, not an empty folder

    # what was planted is there, masked, with the ordinary number as written
    con = duckdb.connect(str(settings.marts_dir / ".build" / "warehouse.duckdb"), read_only=True)
    try:
        quarantined = con.execute(
            'select source_row, "column", value from staging.quarantine order by source_row, "column"'
        ).fetchall()
        texts = [
            r[0] for r in con.execute("select text from staging.open_answers where text like 'Hilsen%'").fetchall()
        ]
    finally:
        con.close()
    assert texts == [
        "Hilsen [navn fjernet] ([e-post fjernet], tlf [telefonnummer fjernet], fra [IP-adresse fjernet]). Fnr "
        "[personnummer fjernet], CPR [personnummer fjernet], pn [personnummer fjernet]; kundenr 12345678901 evil"
    ]
    assert [(row, value) for row, _, value in quarantined] == [
        (2, "[navn fjernet], tlf [telefonnummer fjernet]"),
        (3, "Sendt av [navn fjernet] [e-post fjernet] fra [IP-adresse fjernet]"),
        (4, "ring [telefonnummer fjernet] / [navn fjernet]"),
    ]
    page = (settings.reports_dir / "personal.html").read_text(encoding="utf-8")
    assert ORDINARY in page and "[personnummer fjernet]" in page
