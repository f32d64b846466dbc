"""The real Dagster UI (`dagster dev` as `make ui` starts it, 127.0.0.1, a free port) serves the asset
graph raw → staging → marts → reports/publish with the wave partitions; every process it started is stopped."""

import dagster as dg

from helpers import make_settings
from waves_helpers import DagsterDev

GRAPH_QUERY = """
{ assetNodes { assetKey { path } dependencyKeys { path } groupName isPartitioned partitionKeys } }
"""
AUTOMATION_QUERY = """
{ repositoriesOrError { ... on RepositoryConnection { nodes { name
    sensors { name minIntervalSeconds sensorState { status } }
    schedules { name cronSchedule scheduleState { status } } } } } }
"""


def test_ui_serves_the_asset_graph_with_wave_partitions(tmp_path):
    settings = make_settings(tmp_path)  # an empty raw folder: the daemon has nothing to run
    dev = DagsterDev(tmp_path, settings.raw_dir, settings.marts_dir)
    with dg.DagsterInstance.from_config(str(dev.home)) as instance:
        instance.add_dynamic_partitions("wave", ["2024", "2025"])
    with dev:
        nodes = dev.graphql(GRAPH_QUERY)["assetNodes"]
        automation = dev.graphql(AUTOMATION_QUERY)["repositoriesOrError"]["nodes"]
    assert dev.group_pids() == []

    key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    edges = {("/".join(d["path"]), k) for k, n in key.items() for d in n["dependencyKeys"]}
    expected = {
        ("raw/wave_export", "staging/responses"),
        ("raw/wave_export", "staging/respondents"),
        ("raw/wave_export", "staging/quarantine"),
        ("raw/wave_export", "staging/open_answers"),
        ("staging/responses", "marts/responses"),
        ("staging/codebook", "marts/codebook_items"),
        ("marts/responses", "marts/item_distribution"),
        ("marts/item_distribution", "marts/item_indicators"),
        ("marts/item_indicators", "marts/wave_change"),
        ("marts/waves", "marts/wave_pairs"),  # wave_change reads the waves through their consecutive pairs
        ("marts/wave_pairs", "marts/wave_change"),
        ("marts/item_indicators", "reports/index"),
        ("marts/indicators_personal", "reports/personal"),
        ("marts/wave_change", "reports/waves"),
        ("marts/waves", "reports/waves"),
        ("marts/wave_change", "publish/samskabelse_duckdb"),
        ("publish/samskabelse_duckdb", "reports/index"),
        ("publish/samskabelse_duckdb", "reports/waves"),
        ("raw/wave_export", "staging/respondent_groups"),
        ("staging/respondent_groups", "marts/item_by_group"),
        ("marts/item_by_group", "marts/level_by_group"),
        ("marts/item_by_group", "reports/personal"),
        ("staging/respondents", "marts/panel_members"),
        ("marts/panel_members", "marts/panel_retention"),
        ("marts/panel_retention", "marts/wave_change"),
        ("marts/panel_change", "reports/panel"),
        ("marts/panel_retention", "reports/panel"),
    }
    assert expected <= edges, expected - edges
    assert {k.split("/")[0]: key[k]["groupName"] for k in key} == {
        "raw": "raw", "staging": "staging", "marts": "marts", "reports": "reports", "publish": "publish"}
    # nothing reads a report; only the reports follow the published file (pages are written after publish);
    # every report reads marts and the publish step only
    assert not [e for e in edges if e[0].startswith("reports/")]
    assert all(dst.startswith("reports/") for src, dst in edges if src.startswith("publish/"))
    assert all(src.startswith(("marts/", "publish/")) for src, dst in edges if dst.startswith("reports/"))

    partitioned = sorted(k for k, n in key.items() if n["isPartitioned"])
    assert partitioned == ["raw/wave_export", "staging/open_answers", "staging/quarantine",
                           "staging/respondent_groups", "staging/respondents", "staging/responses"]
    assert all(key[k]["partitionKeys"] == ["2024", "2025"] for k in partitioned)
    assert key["marts/wave_change"]["partitionKeys"] == []

    (repo,) = automation
    assert [(s["name"], s["minIntervalSeconds"], s["sensorState"]["status"]) for s in repo["sensors"]] == [
        ("raw_folder_sensor", 15, "RUNNING")]
    assert [(s["name"], s["cronSchedule"], s["scheduleState"]["status"]) for s in repo["schedules"]] == [
        ("daily_rebuild", "0 5 * * *", "RUNNING")]
