"""Injection. Wave folder names and codebook codes are checked against strict patterns before use;
SQL gets values only as bound parameters and identifiers only from the checked codebook/contract."""

from __future__ import annotations

import ast
from pathlib import Path

import polars as pl
import pytest
import yaml
from helpers import work_settings
from hostile import CODEBOOK, outcome, wave_settings

from pipeline.codebook import CodebookError, parse_codebook
from pipeline.ingest.waves import WaveError, check_wave_key, load_wave
from pipeline.settings import PROJECT_ROOT
from pipeline.warehouse import connect, qualified, replace_wave, table_frame

RULE = "use letters, digits, '-' and '_' (at most 64, no dots or quotes)"
CODEBOOK_TEXT = (PROJECT_ROOT / "schemas" / "codebook.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "key",
    [
        "x'; drop table responses; --",
        "..",
        "../2024",
        ".",
        ".hidden",
        "a...b",
        "2024\n",
        "2024 ",
        'x"y',
        "-lead",
        "_lead",
        "ølbølge",
        "a/b",
        "a\\b",
        "",
        "x" * 65,
        "2024\x00",
        "$(touch pwned)",
    ],
)
def test_wave_keys_outside_the_pattern_are_refused(key):
    with pytest.raises(WaveError) as err:
        check_wave_key(key)
    assert str(err.value) == f"wave folder name {key!r} is not allowed: {RULE}"


@pytest.mark.parametrize("key", ["2024", "2024-autumn", "runde_2", "A", "x" * 64])
def test_plain_wave_keys_pass(key):
    assert check_wave_key(key) == key


def test_a_wave_key_cannot_reach_outside_the_raw_folder(tmp_path):
    """A valid wave.yaml and export one level above the raw folder: `..` never reads them."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (tmp_path / "export.csv").write_text("P1\nJa\n", encoding="utf-8")
    (tmp_path / "wave.yaml").write_text("label: Outside\ninvited: 1\nexport: export.csv\n", encoding="utf-8")
    for key in ("..", "../raw", "."):
        with pytest.raises(WaveError, match="is not allowed"):
            load_wave(raw, key, CODEBOOK)


@pytest.mark.parametrize(
    "name",
    [
        "../2024/export.csv",
        "/etc/passwd",
        ".wave.yaml",
        "sub/export.csv",
        "..\\export.csv",
        "export.csv\n",
        "e\x00.csv",
        "x" * 260,
    ],
)
def test_file_names_in_wave_yaml_stay_inside_the_wave_folder(tmp_path, name):
    settings = wave_settings(tmp_path)
    folder = settings.raw_dir / "w"
    folder.mkdir()
    (folder / "export.csv").write_text("P1\nJa\n", encoding="utf-8")
    (folder / "wave.yaml").write_text(yaml.safe_dump({"label": "W", "invited": 1, "export": name}), encoding="utf-8")
    result = outcome(settings, "w")
    shown = repr(name) if len(repr(name)) <= 200 else repr(name)[:200] + f"… ({len(repr(name))} characters)"
    assert result == (
        "error",
        f"{folder / 'wave.yaml'}: export: {shown} must name the export file inside the wave "
        "folder (a plain file name, no folder, not starting with a dot)",
    )


def _codebook_with(change) -> str:
    raw = yaml.safe_load(CODEBOOK_TEXT)
    change(raw)
    return yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)


def _rename(mapping: dict, old: str, new: str) -> None:
    items = list(mapping.items())
    mapping.clear()
    mapping.update((new if k == old else k, v) for k, v in items)


@pytest.mark.parametrize(
    "where, change, shown",
    [
        (
            "item",
            lambda raw: _rename(raw["items"], "P1", "P1'; drop table responses; --"),
            '"P1\'; drop table responses; --"',
        ),
        ("item", lambda raw: _rename(raw["items"], "P1", 'P1" or "1"="1'), '\'P1" or "1"="1\''),
        ("level", lambda raw: _rename(raw["levels"], "personal", "personal; select 1"), "'personal; select 1'"),
        (
            "scale degree category",
            lambda raw: _rename(raw["scales"]["degree"]["categories"], "high", "high) --"),
            "'high) --'",
        ),
        ("scale", lambda raw: _rename(raw["scales"], "yes_no", "../yes_no"), "'../yes_no'"),
    ],
    ids=["item-quote", "item-double-quote", "level-semicolon", "category-paren", "scale-path"],
)
def test_codebook_codes_outside_the_pattern_are_refused(where, change, shown):
    with pytest.raises(CodebookError) as err:
        parse_codebook(_codebook_with(change), Path("codebook.yaml"))
    assert str(err.value) == (
        f"codebook: {where} {shown} is not a valid key: use letters, digits and _ (starting with a letter)"
    )


def test_a_code_or_table_name_with_a_trailing_newline_is_refused():
    with pytest.raises(CodebookError):
        parse_codebook(_codebook_with(lambda raw: _rename(raw["items"], "P1", "P1\n")), Path("codebook.yaml"))
    with pytest.raises(ValueError, match="not a valid table name"):
        qualified("raw.waves\n")


@pytest.mark.parametrize("name", ['marts."x"', "marts.x; drop table y", "a.b.c", "marts.x--", ""])
def test_table_names_outside_the_pattern_never_reach_sql(name):
    with pytest.raises(ValueError, match="not a valid table name"):
        qualified(name)


def test_a_hostile_wave_key_is_only_ever_a_bound_value(tmp_path):
    """Even a key that got past the folder check would be data: rows written and deleted by it, tables intact."""
    key = "x'; drop table raw.waves; --"
    frame = pl.DataFrame(
        {"wave": [key, key], "respondent_key": ["a", "b"], "source_row": [1, 2], "complete": [True, False]}
    )
    with connect(work_settings(tmp_path)) as con:
        replace_wave(con, "staging.respondents", key, frame)
        replace_wave(con, "staging.respondents", "2024", frame.with_columns(pl.lit("2024").alias("wave")))
        assert table_frame(con, "staging.respondents", key).select("wave", "respondent_key").rows() == [
            (key, "a"),
            (key, "b"),
        ]
        replace_wave(con, "staging.respondents", key, frame.head(0))
        assert con.execute("select wave, count(*) from staging.respondents group by wave").fetchall() == [("2024", 2)]
        assert {
            t for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()
        } >= {"waves", "wave_export", "wave_respondents"}


SQL_CALLS = {"execute", "executemany", "sql", "query"}


def sql_violations(path: Path, label: str) -> list[str]:
    """Calls like con.execute(<sql>, ...) whose SQL text is an f-string, %-formatted or .format()-ed."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_CALLS
            and node.args
        ):
            continue
        for part in ast.walk(node.args[0]):
            if (
                isinstance(part, ast.JoinedStr)
                or (isinstance(part, ast.BinOp) and isinstance(part.op, ast.Mod))
                or (isinstance(part, ast.Call) and isinstance(part.func, ast.Attribute) and part.func.attr == "format")
            ):
                out.append(f"{label}:{node.lineno}: {ast.unparse(node.args[0])[:80]}")
                break
    return sorted(out, key=lambda v: int(v.split(":")[1]))


def test_no_sql_is_built_by_string_formatting():
    """Values reach SQL only as bound parameters: no f-string / % / .format() SQL anywhere in the pipeline
    (identifiers are joined with `+` from qualified() and sql_literal(), which check and quote them)."""
    files = sorted((PROJECT_ROOT / "pipeline").rglob("*.py"))
    assert len(files) > 20
    assert [v for f in files for v in sql_violations(f, str(f.relative_to(PROJECT_ROOT)))] == []


def test_the_sql_check_sees_formatted_sql(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "def f(con, wave):\n    con.execute(f\"delete from t where wave = '{wave}'\")\n"
        "    con.sql('select %s' % wave)\n    con.execute('select {}'.format(wave))\n"
        "    con.execute('select ?', [wave])\n",
        encoding="utf-8",
    )
    assert [v.split(": ", 1)[0] for v in sql_violations(probe, "probe.py")] == [
        "probe.py:2",
        "probe.py:3",
        "probe.py:4",
    ]
