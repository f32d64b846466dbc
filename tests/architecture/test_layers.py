"""The package's shape: the import graph follows the data flow (no module imports a layer above its own, and there is
no import cycle), and each table of the work database is declared once, in schemas/marts.yaml."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from pipeline.settings import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "pipeline"
# Layers from the bottom: a module may import its own layer and the layers below it, never one above.
LAYERS = {
    "pipeline.settings": 0,
    "pipeline.files": 0,
    "pipeline.codebook": 0,
    "pipeline.contract": 1,
    "pipeline.warehouse": 2,
    "pipeline.ingest": 3,
    "pipeline.staging": 4,
    "pipeline.marts": 5,
    "pipeline.reports": 6,
    "pipeline.publish": 7,
    "pipeline.defs": 8,
    "pipeline.definitions": 9,
    "pipeline.cli": 9,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    for prefix, rank in sorted(LAYERS.items(), key=lambda kv: -len(kv[0])):
        if module == prefix or module.startswith(prefix + "."):
            return rank
    raise AssertionError(f"{module} is in no layer: add it to LAYERS (and to docs/pipeline.md)")


def imports() -> dict[str, set[str]]:
    """module → the pipeline modules it imports, anywhere in its body (function-level imports too)."""
    out: dict[str, set[str]] = {}
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found |= {t for t in targets if t in modules}
        out[name] = found - {name}
    return out


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{a} → {b}" for a, deps in graph.items() for b in deps if layer(b) > layer(a))


def cycles(graph: dict[str, set[str]]) -> list[str]:
    """Every back edge of a depth-first walk, as the cycle it closes (empty: the graph has no cycle)."""
    state: dict[str, int] = {}
    found: list[str] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                found.append(" → ".join([*trail[trail.index(dep) :], node, dep] if dep in trail else [node, dep]))
            elif dep not in state:
                visit(dep, [*trail, node])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    return found


def test_no_module_imports_a_layer_above_its_own():
    assert upward_imports(imports()) == []


def test_the_import_graph_has_no_cycle():
    assert cycles(imports()) == []


def test_an_upward_import_and_a_cycle_are_caught():
    graph = {"pipeline.ingest.wave": {"pipeline.staging.stage"}, "pipeline.staging.stage": {"pipeline.ingest.wave"}}
    assert upward_imports(graph) == ["pipeline.ingest.wave → pipeline.staging.stage"]
    assert cycles(graph) == ["pipeline.ingest.wave → pipeline.staging.stage → pipeline.ingest.wave"]


def test_each_work_database_table_is_declared_once():
    """The raw and staging tables are declared in schemas/marts.yaml only: no DDL in sql/, and no list of their names
    in the code (the staging step, the assets, pandera and the fingerprints all read the contract)."""
    contract = yaml.safe_load((PROJECT_ROOT / "schemas" / "marts.yaml").read_text(encoding="utf-8"))
    marts = set(contract["tables"])  # open_answers and quarantine are marts as well: a list of marts may name them
    staging = set(contract["staging"]) - marts
    raw = set(contract["raw"]) - marts
    ddl = [
        str(p.relative_to(PROJECT_ROOT))
        for p in sorted((PROJECT_ROOT / "sql").rglob("*.sql"))
        if re.search(
            r"create\s+(or\s+replace\s+)?table[^;]*\b(raw|staging)\.", p.read_text(encoding="utf-8"), re.IGNORECASE
        )
    ]
    assert ddl == []
    listed = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict)):
                elements = node.keys if isinstance(node, ast.Dict) else node.elts
                names = {
                    e.value.split(".")[-1] for e in elements if isinstance(e, ast.Constant) and isinstance(e.value, str)
                }
                for declared in (staging, raw):
                    if len(names & declared) >= 2:
                        listed.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}: {sorted(names & declared)}")
    assert listed == []
