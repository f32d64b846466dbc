"""The README is the entry point (the two commands, adding a wave, querying); docs/marts.md documents every mart
table and column exactly as schemas/marts.yaml does."""

from pipeline.contract import contract_markdown, load_contract, load_raw_tables, load_staging_tables
from pipeline.settings import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
CONTRACT = load_contract(PROJECT_ROOT / "schemas" / "marts.yaml", PROJECT_ROOT / "sql")


def test_readme_opens_with_the_two_commands():
    head = README[:1500]
    assert "make run" in head and "make test" in head


def test_readme_stays_an_entry_point_and_links_its_reference():
    assert len(README.splitlines()) <= 160
    for doc in (
        "docs/waves.md",
        "docs/marts.md",
        "docs/reports.md",
        "docs/pipeline.md",
        "docs/operations.md",
        "docs/bad-inputs.md",
        "bench/README.md",
    ):
        assert f"({doc})" in README, doc
        assert (PROJECT_ROOT / doc).is_file(), doc


def test_docs_marts_is_the_contract_as_generated():
    """`make docs` writes docs/marts.md; run it after changing schemas/marts.yaml."""
    contract = PROJECT_ROOT / "schemas" / "marts.yaml"
    assert (PROJECT_ROOT / "docs" / "marts.md").read_text(encoding="utf-8") == contract_markdown(
        CONTRACT, load_staging_tables(contract), load_raw_tables(contract)
    )


def test_docs_marts_documents_every_mart_table_and_column():
    text = (PROJECT_ROOT / "docs" / "marts.md").read_text(encoding="utf-8")
    for table in CONTRACT:
        section = text.split(f"## `{table.name}`\n", 1)[1].split("\n## ", 1)[0]
        for column in table.columns:
            assert f"| `{column}` |" in section, (table.name, column)


def test_the_layout_in_docs_pipeline_lists_every_module_of_the_package():
    """docs/pipeline.md's tree names each .py file and folder of pipeline/ (none missing, none that is gone)."""
    import re

    text = (PROJECT_ROOT / "docs" / "pipeline.md").read_text(encoding="utf-8")
    tree = text[text.index("```\npipeline/\n") :]
    tree = tree[: tree.index("\n```")]
    named: set[str] = set()
    folder: list[str] = []
    for line in tree.splitlines()[1:]:
        m = re.match(r"( *)(\S+)", line)
        depth = (len(m.group(1)) - 2) // 2
        if len(m.group(1)) >= 20:  # a description continued: the modules it names are in the folder above
            named.update("/".join([*folder, extra]) for extra in re.findall(r"([a-z_]+\.py)", line))
            continue
        if depth < 0:  # a top-level folder of the project
            continue
        folder = folder[:depth]
        for name in m.group(2).rstrip(",").split(","):
            name = name.strip()
            if name.endswith("/"):
                folder.append(name.rstrip("/"))
                named.add("/".join(folder))
            else:
                named.add("/".join([*folder, name]))
        for extra in re.findall(r"([a-z_]+\.py)", line[m.end() :]):
            named.add("/".join([*folder, extra]))
    package = PROJECT_ROOT / "pipeline"
    actual = {
        str(p.relative_to(package))
        for p in package.rglob("*")
        if (p.suffix in (".py", ".yaml") or p.is_dir()) and "__pycache__" not in p.parts and p.name != "__init__.py"
    }
    assert named == actual
