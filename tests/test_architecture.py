"""The layering the README promises, checked on the source: the engine never imports the
server or the MCP SDK, and nothing imports itself back through others, so every module
can be read, tested and imported on its own.

An import is an edge wherever its statement stands: at the top, inside a function, or
under ``TYPE_CHECKING`` (a type checker follows those too, and a function-level import
that closes a cycle only moves the failure to run time). Importing a module also runs
the ``__init__`` of every package above it, so those are edges too; that is why package
``__init__`` files stay docstring-only and a package is no place for code its own
modules import."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from tests.support.env import REPO

PACKAGES = ("lifecycle", "server")

# The two root facades are no implicit edge: ``lifecycle/__init__`` loads its names on
# first use (module ``__getattr__``; its imports are under ``TYPE_CHECKING``) and
# ``server/__init__`` imports nothing, so running them on the way to a submodule loads
# nothing else. An explicit ``from lifecycle import X`` still counts.
LAZY_FACADES = frozenset(PACKAGES)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}


def _ancestors(module: str) -> list[str]:
    """The packages whose ``__init__`` runs before ``module`` does, root facades aside."""
    parts = module.split(".")
    found = [".".join(parts[:i]) for i in range(1, len(parts))]
    return [p for p in found if p not in LAZY_FACADES]


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module of ours that importing ``name`` runs: each import statement's
    modules, wherever the statement is, and the packages above them."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # ``from package import module`` runs the package on the way, like any
            # submodule import; ``from package import name`` uses the package itself
            subs = [f"{base}.{alias.name}" for alias in node.names]
            targets = [s for s in subs if s in known]
            if len(targets) < len(subs):
                targets.append(base)
        else:
            continue
        for target in targets:
            found |= {*_ancestors(target), target} if target in known else set()
    found.discard(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per back edge a depth-first walk finds (none when the graph is a DAG)."""
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    return cycles


def _shown(cycles: Iterable[list[str]]) -> str:
    return "; ".join(" -> ".join(c) for c in cycles)


def _box(module: str) -> str | None:
    """The box a module is drawn in: its subpackage of ``lifecycle``/``server``, or the
    loose module itself; None for the root facades, which are no layer."""
    parts = module.split(".")
    return None if len(parts) < 2 else ".".join(parts[:2])


def test_the_engine_imports_neither_the_server_nor_mcp() -> None:
    for name, path in _modules().items():
        if not name.startswith("lifecycle"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level:
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not roots & {"server", "mcp"}, f"{name} imports {roots}"


def test_no_module_imports_itself_back_through_others() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "import cycles: " + _shown(cycles)


def test_the_arrows_between_subpackages_all_point_down() -> None:
    """Drawn one box per subpackage (and per loose module), no box reaches back up to
    a box that reaches it: the layers can be read from the bottom up."""
    boxes: dict[str, set[str]] = {}
    for name, targets in _graph().items():
        box = _box(name)
        if box is None:
            continue
        arrows = boxes.setdefault(box, set())
        arrows |= {b for t in targets if (b := _box(t)) is not None and b != box}
    cycles = _cycles(boxes)
    assert not cycles, "subpackages that import each other: " + _shown(cycles)


def test_the_engine_packages_hold_only_their_docstring() -> None:
    """Every module import runs the ``__init__`` of each package above it, so code there
    runs for every caller and is imported back by its own modules: it goes in a module."""
    for name, path in _modules().items():
        if path.name != "__init__.py" or not name.startswith("lifecycle."):
            continue
        body = ast.parse(path.read_text()).body
        assert body and ast.get_docstring(ast.Module(body=body, type_ignores=[])), name
        assert len(body) == 1, f"{name}: move the code of {path} into a module"


MAX_MODULE_LINES = 600


def test_no_module_is_longer_than_a_sitting() -> None:
    """A module past ~600 lines holds more than one job: split it by job (the stores'
    ``schema``, ``connections``, ``transaction``) rather than let it grow."""
    long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_the_checks_see_function_level_and_package_edges(tmp_path: Path) -> None:
    """The graph counts an import inside a function and the ``__init__`` a
    submodule import runs, so the cycle the store package once had is caught."""
    source = "def f() -> None:\n    from lifecycle.store.sqlite.files import x\n"
    module = tmp_path / "probe.py"
    module.write_text(source)
    known = {"lifecycle.store", "lifecycle.store.sqlite", "lifecycle.store.sqlite.files"}
    assert _imports("lifecycle.probe", module, known) == known
    module.write_text("from lifecycle import store\nfrom server import clients\n")
    facade = {"lifecycle", "server", "lifecycle.store", "server.clients"}
    assert _imports("lifecycle.probe", module, facade) == {"lifecycle.store", "server.clients"}
    module.write_text("from lifecycle import MemoryLifecycleManager\n")
    assert _imports("lifecycle.probe", module, facade) == {"lifecycle"}
    assert _cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]
