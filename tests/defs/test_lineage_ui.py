"""The real Dagster UI, started with `make ui` (dg dev, 127.0.0.1, a free port) on a built sample, read through its
GraphQL API: the asset graph raw → staging → marts → reports → publish with the wave partitions; each page's
upstream set is exactly the marts its code reads; every staging and mart table has a column schema whose types are
the DuckDB table's; descriptions keep their placeholders; checks say what failing means; the sensor and the schedule
are described and a tick that starts nothing says which folder waits and why; nothing is printed as a warning on
start; every process it started is stopped."""

import re
import time

import dagster as dg
import duckdb
import pytest
from helpers import build, copy_sample_wave, make_settings
from waves_helpers import DagsterDev

from pipeline.contract import load_contract, load_staging_tables
from pipeline.defs.assets import reports
from pipeline.settings import PROJECT_ROOT
from pipeline.warehouse import table_columns

pytestmark = pytest.mark.build  # runs whole builds: such modules start first (conftest.py)

GRAPH_QUERY = """
{ assetNodes { assetKey { path } dependencyKeys { path } groupName isPartitioned partitionKeys description
    metadataEntries { label __typename
        ... on TableSchemaMetadataEntry { schema { columns { name type description } } } }
    assetChecksOrError { ... on AssetChecks { checks { name description blocking } } } } }
"""
TICKS_QUERY = """
{ sensorOrError(sensorSelector: {repositoryName: "__repository__", repositoryLocationName: "samskabelse",
                                 sensorName: "raw_folder_sensor"}) {
    ... on Sensor { sensorState { ticks(limit: 10) { status skipReason } } } } }
"""
AUTOMATION_QUERY = """
{ repositoriesOrError { ... on RepositoryConnection { nodes { name
    sensors { name description minIntervalSeconds sensorState { status } }
    schedules { name description cronSchedule scheduleState { status } }
    jobs { name description } } } } }
"""
LAUNCH_MUTATION = """
mutation Launch($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
    ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } ... on InvalidSubsetError { message } } }
"""
RUN_QUERY = """
query Run($id: ID!) { runOrError(runId: $id) { ... on Run { status stepKeysToExecute
    assetMaterializations { assetKey { path } } } } }
"""
CONTRACT = PROJECT_ROOT / "schemas" / "marts.yaml"


def materialise_one_mart(dev, path: list[str]) -> dict:
    """Launch a run of one mart through the UI's GraphQL API (what "Materialize" on one asset does) and wait for it."""
    params = {
        "selector": {
            "repositoryLocationName": "samskabelse",
            "repositoryName": "__repository__",
            "jobName": "__ASSET_JOB",
            "assetSelection": [{"path": path}],
        },
        "mode": "default",
        "executionMetadata": {"tags": []},
    }
    launched = dev.graphql(LAUNCH_MUTATION, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.monotonic() + 120
    while True:
        run = dev.graphql(RUN_QUERY, {"id": run_id})["runOrError"]
        if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            return run
        assert time.monotonic() < deadline, dev.stderr[-3000:]
        time.sleep(1)


def outside_code(text: str) -> str:
    """Markdown text without its code spans (where the UI shows `<wave>` as written)."""
    return re.sub(r"`[^`]*`", "", text or "")


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    """The sample built into a marts folder, a wave folder that waits (no wave.yaml), then `make ui` on the same
    instance: the GraphQL answers, the work database's column types and what the UI printed on stderr."""
    root = tmp_path_factory.mktemp("ui")
    settings = make_settings(root, pseudonym_key="test-key")
    copy_sample_wave(settings.raw_dir)
    dev = DagsterDev(root, settings.raw_dir, settings.marts_dir)
    with pytest.MonkeyPatch.context() as mp, dg.DagsterInstance.from_config(str(dev.home)) as instance:
        # the key make ui gets (this module fixture runs before conftest's, which sets it for each test)
        mp.setenv("PIPELINE_PSEUDONYM_KEY", "test-key")
        assert build(settings, instance) == 0  # what make run does, in this process
        built_runs = sorted(r.run_id for r in instance.get_runs())
    (settings.raw_dir / "2025").mkdir()
    tables = {}
    with duckdb.connect(str(settings.work_db), read_only=True) as con:
        for schema, specs in (
            ("marts", load_contract(CONTRACT, PROJECT_ROOT / "sql")),
            ("staging", [t for t in load_staging_tables(CONTRACT) if t.asset]),
        ):
            tables.update({f"{schema}/{t.name}": table_columns(con, schema, t.name) for t in specs})
    with dev:
        nodes = dev.graphql(GRAPH_QUERY)["assetNodes"]
        (repo,) = dev.graphql(AUTOMATION_QUERY)["repositoriesOrError"]["nodes"]
        deadline = time.monotonic() + 90
        while True:  # the daemon's first sensor tick
            ticks = dev.graphql(TICKS_QUERY)["sensorOrError"]["sensorState"]["ticks"]
            if any(t["status"] == "SKIPPED" for t in ticks):
                break
            assert time.monotonic() < deadline, dev.stderr[-3000:]
            time.sleep(1)
        with dg.DagsterInstance.from_config(str(dev.home)) as instance:
            # the daily schedule (05:00 Oslo) may rightly fire while this runs; the sensor must launch nothing
            launched = [
                (r.job_name, dict(r.tags))
                for r in instance.get_runs()
                if r.run_id not in built_runs and "dagster/schedule_name" not in r.tags
            ]
        one_mart = materialise_one_mart(dev, ["marts", "item_indicators"])
        stderr, stdout = dev.stderr, dev.log.read_text(errors="replace")
    assert dev.group_pids() == []
    return {
        "nodes": {"/".join(n["assetKey"]["path"]): n for n in nodes},
        "repo": repo,
        "tables": tables,
        "ticks": ticks,
        "launched": launched,
        "built_runs": built_runs,
        "one_mart": one_mart,
        "stderr": stderr,
        "stdout": stdout,
        "raw_dir": settings.raw_dir,
    }


def upstream(node: dict) -> set[str]:
    return {"/".join(d["path"]) for d in node["dependencyKeys"]}


def test_the_graph_runs_raw_staging_marts_reports_publish_with_wave_partitions(ui):
    key = ui["nodes"]
    edges = {(src, k) for k, n in key.items() for src in upstream(n)}
    expected = {
        ("raw/wave_export", "staging/responses"),
        ("raw/wave_export", "staging/respondent_groups"),
        ("staging/responses", "marts/responses"),
        ("staging/codebook", "marts/codebook_items"),
        ("marts/responses", "marts/item_distribution"),
        ("marts/item_distribution", "marts/item_indicators"),
        ("marts/waves", "marts/wave_pairs"),  # wave_change reads the waves through their consecutive pairs
        ("marts/wave_pairs", "marts/wave_change"),
        ("marts/item_indicators", "marts/indicators_personal"),
        ("staging/respondent_groups", "marts/group_distribution"),
        ("marts/group_distribution", "marts/disclosure"),
        ("marts/disclosure", "marts/item_by_group"),
        ("marts/item_by_group", "marts/level_by_group"),
        ("staging/respondents", "marts/panel_members"),
        ("marts/panel_members", "marts/panel_retention"),
    }
    assert expected <= edges, expected - edges
    assert {k.split("/")[0]: key[k]["groupName"] for k in key} == {
        "raw": "raw",
        "staging": "staging",
        "marts": "marts",
        "reports": "reports",
        "publish": "publish",
    }
    partitioned = sorted(k for k, n in key.items() if n["isPartitioned"])
    assert partitioned == [
        "raw/wave_export",
        "staging/open_answers",
        "staging/quarantine",
        "staging/respondent_groups",
        "staging/respondents",
        "staging/responses",
    ]
    assert all(key[k]["partitionKeys"] == ["2024"] for k in partitioned)


def test_each_page_depends_on_exactly_the_marts_its_code_reads_and_publishing_comes_last(ui):
    key = ui["nodes"]
    marts = lambda names: {f"marts/{n}" for n in names}  # noqa: E731
    assert (
        upstream(key["reports/index"])
        == marts(reports.PAGE_READS["index"])
        == {"marts/item_disclosure", "marts/item_indicators", "marts/waves"}
    )
    assert upstream(key["reports/figures"]) == marts(reports.PAGE_READS["figures"])
    for level in ("personal", "institutional", "citizen", "visibility"):
        assert (
            upstream(key[f"reports/{level}"])
            == marts(reports.PAGE_READS["level"])
            == {
                "marts/item_by_group",
                "marts/item_disclosure",
                "marts/item_indicators",
                "marts/open_answers",
                "marts/waves",
            }
        )
    assert (
        upstream(key["reports/waves"])
        == marts(reports.WAVES_READS)
        == {"marts/item_disclosure", "marts/item_indicators", "marts/wave_change", "marts/waves"}
    )
    assert (
        upstream(key["reports/panel"])
        == marts(reports.PANEL_READS)
        == {"marts/panel_change", "marts/panel_retention", "marts/waves"}
    )
    # publishing: the DuckDB file copies every mart; the pages go public after it; nothing reads either
    all_marts = {k for k in key if k.startswith("marts/")}
    assert upstream(key["publish/samskabelse_duckdb"]) == all_marts
    report_keys = {k for k in key if k.startswith("reports/")}
    assert upstream(key["publish/reports"]) == report_keys | {"publish/samskabelse_duckdb"}
    assert not [
        k
        for k, n in key.items()
        if upstream(n) & ({"publish/samskabelse_duckdb", "publish/reports"}) and not k.startswith("publish/")
    ]
    assert not [k for k, n in key.items() if upstream(n) & report_keys and k != "publish/reports"]


def test_every_staging_and_mart_table_has_a_column_schema_with_the_duckdb_types(ui):
    key = ui["nodes"]
    for name, columns in ui["tables"].items():
        entries = [e for e in key[name]["metadataEntries"] if e["label"] == "dagster/column_schema"]
        assert len(entries) == 1, name
        schema = entries[0]["schema"]["columns"]
        assert [(c["name"], c["type"]) for c in schema] == columns, name
        assert all(c["description"] for c in schema), name
    assert len(ui["tables"]) == 24 + 5
    responses = {
        c["name"]: c
        for c in next(
            e for e in key["marts/item_indicators"]["metadataEntries"] if e["label"] == "dagster/column_schema"
        )["schema"]["columns"]
    }
    assert responses["headline_pct"]["type"] == "DOUBLE"
    assert responses["headline_pct"]["description"] == "The headline share in percent."


def test_descriptions_keep_their_placeholders_and_say_what_they_describe(ui):
    key, repo = ui["nodes"], ui["repo"]
    texts = {k: n["description"] for k, n in key.items()}
    texts.update(
        {
            f"check {k}:{c['name']}": c["description"]
            for k, n in key.items()
            for c in (n["assetChecksOrError"].get("checks") or [])
        }
    )
    texts.update({f"sensor {s['name']}": s["description"] for s in repo["sensors"]})
    texts.update({f"schedule {s['name']}": s["description"] for s in repo["schedules"]})
    texts.update({f"job {j['name']}": j["description"] for j in repo["jobs"] if not j["name"].startswith("__")})
    assert all(texts.values()), [k for k, v in texts.items() if not v]
    # the UI renders Markdown: an angle-bracket placeholder outside a code span would vanish
    assert {k: re.findall(r"<[^>]*>", outside_code(v)) for k, v in texts.items() if "<" in outside_code(v)} == {}
    assert "`data/raw/<wave>/`" in texts["raw/wave_export"]
    assert "`reports/figures/<wave>/`" in texts["reports/figures"]
    assert "`make remove-wave WAVE=<key>`" in texts["sensor raw_folder_sensor"]


def test_checks_are_described_and_the_reproduction_check_blocks(ui):
    checks = {(k, c["name"]): c for k, n in ui["nodes"].items() for c in (n["assetChecksOrError"].get("checks") or [])}
    assert sorted(checks) == [
        ("marts/item_distribution", "matches_contract"),
        ("marts/item_distribution", "pct_sums_to_100"),
        ("marts/item_indicators", "matches_contract"),
        ("marts/item_indicators", "reproduces_published_2024"),
        ("marts/wave_change", "published_cells_are_protected"),
        ("staging/quarantine", "quarantine_below_limit"),
        ("staging/responses", "matches_contract"),
    ]
    assert checks[("marts/item_indicators", "reproduces_published_2024")]["blocking"] is True
    assert checks[("staging/responses", "matches_contract")]["blocking"] is True
    assert checks[("marts/wave_change", "published_cells_are_protected")]["blocking"] is True
    assert all("Failing" in c["description"] or "fails" in c["description"] for c in checks.values())


def test_automation_is_described_and_a_quiet_tick_says_which_folder_waits(ui):
    repo = ui["repo"]
    (sensor,) = repo["sensors"]
    assert (sensor["name"], sensor["minIntervalSeconds"], sensor["sensorState"]["status"]) == (
        "raw_folder_sensor",
        15,
        "RUNNING",
    )
    assert [(s["name"], s["cronSchedule"], s["scheduleState"]["status"]) for s in repo["schedules"]] == [
        ("daily_rebuild", "0 5 * * *", "RUNNING")
    ]
    skipped = [t["skipReason"] for t in ui["ticks"] if t["status"] == "SKIPPED"]
    assert skipped and skipped[0].endswith(
        "wave folder 2025 waits: "
        + str(ui["raw_dir"] / "2025" / "wave.yaml")
        + ": missing; add a wave.yaml (see README, 'Adding a wave')"
    )
    # starting the UI after make run launches nothing: wave 2024 is up to date (the fingerprint make run recorded)
    assert "2024" not in skipped[0]
    assert len(ui["built_runs"]) == 2  # ingest_wave and build_marts of the build
    assert ui["launched"] == []


def test_make_ui_prints_no_warning(ui):
    assert "Serving dagster-webserver on http://127.0.0.1:" in ui["stdout"]
    for stream in ("stderr", "stdout"):
        assert not [line for line in ui[stream].splitlines() if "warn" in line.lower()], ui[stream][-3000:]


def test_one_mart_is_materialised_alone_from_the_ui(ui):
    """A user can materialise (or retry) one mart from the UI: the run builds that mart only (and runs its checks),
    and succeeds."""
    run = ui["one_mart"]
    assert run["status"] == "SUCCESS"
    assert sorted(run["stepKeysToExecute"]) == ["indicator_checks", "marts__item_indicators"]
    assert {"/".join(m["assetKey"]["path"]) for m in run["assetMaterializations"]} == {"marts/item_indicators"}
