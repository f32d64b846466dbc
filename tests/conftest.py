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


def pytest_collection_modifyitems(config, items):
    """Modules marked `build` (they run whole builds, 15–80 s each) are started first: with one worker per core (make
    test runs pytest -n auto --dist loadscope, a module on one worker) the workers then finish together instead of one
    of them starting a long module last. Stable: the order within a module stays."""
    items.sort(key=lambda item: item.get_closest_marker("build") is None)
