"""Layer 1: the Dagster definitions load, with the expected assets, groups, jobs and checks."""

import subprocess

import dagster as dg
from helpers import make_settings

from pipeline.definitions import build_definitions
from pipeline.settings import PROJECT_ROOT


def test_definitions_have_every_layer(tmp_path):
    defs = build_definitions(make_settings(tmp_path))
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {
        "raw/wave_export",
        "staging/codebook",
        "staging/responses",
        "staging/quarantine",
        "staging/respondents",
        "staging/open_answers",
    } <= keys
    for table in (
        "responses",
        "waves",
        "item_distribution",
        "item_indicators",
        "indicators_personal",
        "indicators_institutional",
        "indicators_citizen",
        "indicators_visibility",
        "quarantine",
        "open_answers",
    ):
        assert f"marts/{table}" in keys
    assert {
        "reports/index",
        "reports/personal",
        "reports/institutional",
        "reports/citizen",
        "reports/visibility",
        "publish/samskabelse_duckdb",
        "publish/reports",
    } <= keys
    groups = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups["raw/wave_export"] == "raw"
    assert groups["staging/responses"] == "staging"
    assert groups["marts/indicators_personal"] == "marts"
    assert groups["reports/index"] == "reports"


def test_lineage_follows_the_sql(tmp_path):
    graph = build_definitions(make_settings(tmp_path)).resolve_asset_graph()

    def parents(key: str) -> set[str]:
        return {p.to_user_string() for p in graph.get(dg.AssetKey.from_user_string(key)).parent_keys}

    assert parents("staging/responses") == {"raw/wave_export"}
    assert parents("marts/responses") == {"staging/responses", "staging/codebook"}
    assert parents("marts/indicators_citizen") == {"marts/item_indicators"}
    assert "marts/item_distribution" in parents("marts/item_indicators")
    # a page's parents are the marts its code reads, not the level's indicators view (that one is for analysts)
    assert parents("reports/visibility") == {
        "marts/item_by_group",
        "marts/item_disclosure",
        "marts/item_indicators",
        "marts/open_answers",
        "marts/waves",
    }
    assert parents("publish/reports") >= {"publish/samskabelse_duckdb", "reports/index", "reports/waves"}


def test_every_asset_has_a_description(tmp_path):
    graph = build_definitions(make_settings(tmp_path)).resolve_asset_graph()
    missing = [k.to_user_string() for k in graph.get_all_asset_keys() if not graph.get(k).description]
    assert missing == []


def test_workspace_validates():
    result = subprocess.run(
        [str(PROJECT_ROOT / ".venv" / "bin" / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
