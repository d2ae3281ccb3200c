"""ptune's import graph, module- and function-level imports alike: no cycle, and no import from a higher layer.

Layers, bottom to top: errors and registry; hub_access (it raises an error of ptune.errors); model and tasks (neither
imports the other); config; store; train; reports; sweeps; cli. A module may import its own package and any lower layer.
"""
from __future__ import annotations

import ast
from pathlib import Path

import ptune

PACKAGE = Path(ptune.__file__).parent
LAYERS = {"errors": 0, "registry": 0, "hub_access": 1, "model": 2, "tasks": 2, "config": 3, "store": 4, "train": 5,
          "reports": 6, "sweeps": 7, "cli": 8}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Every ptune module -> the ptune modules it imports anywhere in its body."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names if alias.name.startswith("ptune")}
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ptune"):
                # `from ptune.train import resume` imports the module ptune.train.resume
                found |= {f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                          for alias in node.names}
        graph[name] = {target for target in found if target in modules and target != name}
    return graph


def layer(module: str) -> tuple[int, str]:
    top = module.split(".")[1] if "." in module else "ptune"
    return LAYERS.get(top, -1), top


def test_the_graph_is_read_from_every_module():
    graph = imports()
    assert {"ptune.cli", "ptune.train.runner", "ptune.model.methods.deep_prompt", "ptune.tasks.qa.squad"} <= set(graph)
    assert "ptune.train.loop" in graph["ptune.train.runner"]


def test_no_module_imports_a_higher_layer_or_a_peer_layer():
    wrong = []
    for module, targets in imports().items():
        (rank, top) = layer(module)
        for target in targets:
            target_rank, target_top = layer(target)
            if target_top != top and target_top != "ptune" and target_rank >= rank:
                wrong.append(f"{module} -> {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_cycle():
    graph, state, cycles = imports(), {}, []

    def visit(module, path):
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(cycles)


def test_every_package_says_what_it_is():
    for init in PACKAGE.rglob("__init__.py"):
        assert ast.get_docstring(ast.parse(init.read_text())), f"{init} has no docstring"


def test_the_architecture_page_names_every_module_of_every_layer():
    """docs/architecture.md is the map a newcomer reads: a layer's module it leaves out is one they cannot find.
    (Below a layer's package, methods/ and the benchmark subpackages hold one module per implementation.)"""
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    modules = [name for name in imports() if name.count(".") == 2 or name.count(".") == 1]
    missing = [name for name in modules if name.rsplit(".", 1)[-1] not in text]
    assert not missing, f"docs/architecture.md does not name: {missing}"
