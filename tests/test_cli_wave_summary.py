"""The run as a user sees it when a question is reworded between waves (pipeline.cli build, wave_summary_lines, with
pipeline.ingest.continuity reading the other waves' headers from the work database): the reworded V2 stops the
wave with the message; ignored, the wave builds and the run summary names the header and V2 as not asked; mapped,
V2 is asked. Three builds of one raw folder, for real (Dagster + DuckDB)."""

from __future__ import annotations

import contextlib
import io

import dagster as dg
import pytest
import yaml
from helpers import build, copy_sample_wave, make_settings, query, read_sample_rows
from waves_helpers import CODEBOOK, write_second_wave

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)

V2 = CODEBOOK.items["V2"].question["nb"]
REWORDED = "Samskapingen har gitt biblioteket et større nettverk"


NEW = "Hvor mange arrangementer hadde biblioteket i fjor?"  # a new question, like no item


def _reword(headers, rows):
    headers[headers.index(V2)] = REWORDED
    headers.append(NEW)
    for n, row in enumerate(rows):
        row.append(str(10 + n))


def _set_wave_yaml(folder, **values) -> None:
    spec = yaml.safe_load((folder / "wave.yaml").read_text(encoding="utf-8"))
    spec.update(values)
    (folder / "wave.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """(settings, [(exit code, stdout, stderr, waves mart rows)] of: reworded; ignored; mapped)."""
    settings = make_settings(tmp_path_factory.mktemp("continuity"))
    copy_sample_wave(settings.raw_dir)
    headers, _ = read_sample_rows()
    assert V2 in headers
    folder = write_second_wave(settings.raw_dir, "2026", change=_reword)
    out = []
    with pytest.MonkeyPatch.context() as mp, dg.instance_for_test() as instance:
        mp.setenv("PIPELINE_PSEUDONYM_KEY", "test-key")
        for step in ("reworded", "ignored", "mapped"):
            if step == "ignored":
                _set_wave_yaml(folder, ignore=[REWORDED])
            if step == "mapped":
                _set_wave_yaml(folder, ignore=[], columns={"Tidsstempel": "submitted_at", REWORDED: "V2"})
            stdout, stderr = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                code = build(settings, instance)
            waves = (
                query(settings, "select wave, not_asked from waves order by wave").rows()
                if settings.published_db.exists()
                else []
            )
            out.append((code, stdout.getvalue(), stderr.getvalue(), waves))
    return settings, out


def test_the_reworded_question_stops_the_wave_with_the_message(runs):
    settings, out = runs
    code, stdout, stderr, waves = out[0]
    assert code == 1
    export = settings.raw_dir / "2026" / "export.csv"
    assert (
        f"  wave 2026: FAILED – {export}: header '{REWORDED}' looks like V2 ('{V2}', 84 % alike, question "
        f"(codebook)): map it in `columns:` of wave.yaml ('{REWORDED}': V2) if it is the same question reworded, or "
        "list it under `ignore:` if it is a new one; otherwise the item would show as not asked"
    ) in stderr.splitlines()
    assert [w for w, _ in waves] == ["2024"]  # 2024 built and published; 2026 never reached a page


def test_ignored_it_builds_and_the_run_summary_names_the_header_and_the_item_not_asked(runs):
    _, out = runs
    code, stdout, stderr, waves = out[1]
    assert code == 0, stderr
    lines = stdout.splitlines()
    [line] = [s for s in lines if s.startswith("  2026: ")]
    assert line == (
        f"  2026: generic (csv), 10 rows, 10 complete / 0 partial, 0 quarantined cell(s), 1 unmapped header(s): '{NEW}'"
    )
    at = lines.index(line)
    assert lines[at + 1] == (
        "    complete/partial: `Status`: its values decide (codebook status_values; a blank status counts as complete)"
    )
    assert lines[at + 2] == "    not asked (no column in the export): V2"
    assert lines[at + 3] == f"    left out as wave.yaml's ignore: says: {REWORDED!r}"
    assert dict(waves)["2026"] == ["V2"] and dict(waves)["2024"] == []


def test_mapped_v2_is_asked_in_both_waves(runs):
    settings, out = runs
    code, stdout, stderr, waves = out[2]
    assert code == 0, stderr
    assert dict(waves) == {"2024": [], "2026": []}
    n = query(settings, "select wave, n from item_indicators where item = 'V2' order by wave").rows()
    assert n == [("2024", 10), ("2026", 10)]
