"""The README documents what users rely on: the two commands and every mart table of the contract."""

from pipeline.contract import load_contract
from pipeline.settings import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands():
    head = README[:1500]
    assert "make run" in head and "make test" in head


def test_readme_documents_every_mart_table_and_column():
    for table in load_contract(PROJECT_ROOT / "schemas" / "marts.yaml", PROJECT_ROOT / "sql"):
        row = next((line for line in README.splitlines() if line.startswith(f"| `{table.name}` |")), None)
        assert row is not None, table.name
        for column in table.columns:
            assert f"`{column}`" in row, (table.name, column)
