"""The house: imports only go down (geography -> matcher -> scenarios -> placematch), and no
two modules import each other, at the top of a file or inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("geography", "matcher", "scenarios", "placematch")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for layer in LAYERS:
        for path in (ROOT / layer).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _graph() -> nx.DiGraph:
    modules = _modules()
    graph = nx.DiGraph()
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                targets = [base, *(f"{base}.{a.name}" for a in node.names)]
            else:
                continue
            graph.add_edges_from((name, t) for t in targets if t in modules and t != name)
    return graph


def test_no_two_modules_import_each_other() -> None:
    cycles = [c for c in nx.strongly_connected_components(_graph()) if len(c) > 1]
    assert not cycles, sorted(sorted(c) for c in cycles)


def test_imports_only_go_down_the_layers() -> None:
    def layer(module: str) -> int:
        return LAYERS.index(module.partition(".")[0])

    up = sorted((a, b) for a, b in _graph().edges if layer(b) > layer(a))
    assert not up
