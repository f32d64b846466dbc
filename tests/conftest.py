import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No test reads the developer's PIPELINE_* settings or writes the project's DAGSTER_HOME."""
    for name in list(os.environ):
        if name.startswith("PIPELINE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PIPELINE_PSEUDONYM_KEY", "test-key")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory):
    """The sample wave (data/raw/2024) built once per test run (real Dagster instance and DuckDB): Settings of the
    build. Shared by every test that only reads a standard build; a test that changes files builds its own."""
    from reports_helpers import build_sample

    return build_sample(tmp_path_factory.mktemp("sample_build"))


# Modules that take longest (make test's --durations), started first: with one worker per core (make test runs
# pytest -n auto --dist loadscope, a module on one worker) the workers then finish together instead of one of them
# starting a long module last.
LONGEST_FIRST = ("test_ingest_presets.py", "test_waves_daemon.py", "test_cli_fingerprints.py", "test_cli.py",
                 "test_cli_nothing_changed.py",
                 "test_hardening_crash.py", "test_publish_atomic.py", "test_reports.py", "test_hardening_bad_inputs.py",
                 "test_sensor_raw_folder.py", "test_marts_by_group.py", "test_lineage_ui.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the order within a module stays
