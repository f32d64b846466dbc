import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

# Session- and module-scoped builds run before the autouse fixture below: they get the same settings from the start
# (one pseudonym key, so that pseudonyms and the disclosure decision's keyed tie-break are the same in every run).
for _name in [n for n in os.environ if n.startswith("PIPELINE_")]:
    del os.environ[_name]
os.environ["PIPELINE_PSEUDONYM_KEY"] = "test-key"


@pytest.fixture(scope="session", autouse=True)
def _project_key_file_untouched():
    """No test creates the project's pseudonym key file (a test that did would depend on a random key: its
    pseudonyms and the disclosure decision's tie-break would change from one clean clone to the next)."""
    key_file = Path(__file__).parent.parent / ".secrets" / "pseudonym.key"
    existed = key_file.exists()
    yield
    assert existed or not key_file.exists(), f"a test created {key_file}: give its Settings the tests' key"


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


@pytest.fixture(scope="session")
def sample_documents(sample_build, tmp_path_factory):
    """The sample's documents in Danish with the text of report/da, internal and public profile, rendered once per
    test run from the sample build's published marts (as `make report` does): profile → Documents."""
    from document_helpers import render

    cache = tmp_path_factory.mktemp("document_charts")
    return {profile: render(sample_build, "da", profile, cache) for profile in ("internal", "public")}


@pytest.fixture(scope="session")
def panel_group_build(tmp_path_factory):
    """Two waves of the same people with a background variable and a quarantined cell (document_helpers), built once
    per test run: Settings of the build."""
    import dagster as dg
    from document_helpers import write_panel_group_waves
    from helpers import build, make_settings

    settings = make_settings(tmp_path_factory.mktemp("panel_group_build"))
    write_panel_group_waves(settings.raw_dir)
    with dg.instance_for_test() as instance:
        assert build(settings, instance) == 0
    return settings


def pytest_collection_modifyitems(config, items):
    """Modules marked `build` (they run whole builds, 15–80 s each) are started first: with one worker per core (make
    test runs pytest -n auto --dist loadscope, a module on one worker) the workers then finish together instead of one
    of them starting a long module last. Stable: the order within a module stays."""
    items.sort(key=lambda item: item.get_closest_marker("build") is None)
