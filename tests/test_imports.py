"""hgq's import structure has no cycle, among modules or among packages.

The layering (docs/architecture.md) runs one way: fixed-point facts → quantizers → layer families (H-layers, proxy
layers, specs) → engines (cost model, calibration, proxy export, hls4ml conversion, profiling, ``quantize_model``)
→ workflows (``fit_pareto``, optimization) → CLI. This test reads every ``import`` of ``src/hgq`` and
``src/hgq_cli.py`` with ``ast`` — function-local ones and those under ``if TYPE_CHECKING`` included, so that no
cycle hides in a function — and fails naming the modules of each cycle it finds:

- among modules: ``a`` imports ``b`` (``import b``, ``from b import x``, or ``from a_pkg import b`` where ``b`` is a
  module);
- among packages: each module stands for its package (``hgq.families.kernel.spec`` for ``hgq.families.kernel``; a
  top-level module such as ``hgq.pareto`` for itself), and a package that imports another must not be imported back
  by it. A package's ``__init__`` importing what lies under it (re-exporting, as ``hgq/__init__.py`` does) is no
  edge.

Only explicit imports count: importing ``hgq.x`` runs ``hgq/__init__.py`` too, but that is not an edge to ``hgq``.
"""

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.once

SRC = Path(__file__).resolve().parent.parent / "src"


def module_files():
    """``{module name: (path, is_package)}`` of every module of hgq and of ``hgq_cli``."""
    files = {"hgq_cli": (SRC / "hgq_cli.py", False)}
    for path in sorted((SRC / "hgq").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        files[".".join(parts)] = (path, is_package)
    return files


def imported_modules(name, path, is_package, modules):
    """The hgq modules that module ``name`` imports explicitly, anywhere in its file."""
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            targets = []
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                targets.append(submodule if submodule in modules else source)
        else:
            continue
        for target in targets:
            # ``import hgq.a.b`` (absolute) names the module itself; keep the longest known prefix.
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def package_of(name, modules):
    """A module's package: its own directory's package, or itself for a top-level module (``hgq.pareto``)."""
    if modules[name][1] or "." not in name:
        return name
    parent = name.rpartition(".")[0]
    return name if parent == "hgq" else parent


def module_graph():
    modules = module_files()
    return {name: imported_modules(name, path, is_pkg, modules) for name, (path, is_pkg) in modules.items()}


def package_graph(graph):
    modules = module_files()
    packages = {}
    for name, targets in graph.items():
        source = package_of(name, modules)
        edges = packages.setdefault(source, set())
        for target in targets:
            target_package = package_of(target, modules)
            # A package's ``__init__`` importing what lies under it (its modules, its subpackages) is no edge.
            if modules[name][1] and target.startswith(name + "."):
                continue
            if target_package != source:
                edges.add(target_package)
    return packages


def cycles(graph):
    """The strongly connected components of more than one node (Tarjan), each sorted, in a sorted list."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def describe(components, graph):
    lines = []
    for component in components:
        members = set(component)
        lines.append("cycle among " + ", ".join(component) + ":")
        for source in component:
            inside = sorted(graph[source] & members)
            lines.append(f"    {source} -> {', '.join(inside)}")
    return "\n".join(lines)


def test_the_reader_resolves_imports():
    """Relative imports, ``from package import module`` and function-local imports all count."""
    graph = module_graph()
    assert "hgq.quantizer.config" in graph["hgq.quantizer"]  # from .config import ...
    assert "hgq.cli.commands" in graph["hgq_cli"]  # function-local
    assert "hgq" not in graph["hgq.quantizer.quantizer"]  # implicit parent imports do not count
    assert all(target.startswith("hgq") for targets in graph.values() for target in targets)
    packages = package_graph(graph)
    assert "hgq.families" in packages["hgq.cost"]
    assert packages["hgq"] == set()  # hgq/__init__.py re-exports what lies under it: no edge


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_back():
    graph = module_graph()
    found = cycles(graph)
    assert not found, "import cycles among hgq's modules:\n" + describe(found, graph)


def test_no_package_imports_itself_back():
    graph = package_graph(module_graph())
    found = cycles(graph)
    assert not found, "import cycles among hgq's packages:\n" + describe(found, graph)
