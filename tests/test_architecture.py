"""The package's shape, checked from its source (ast): no import cycle, function-local imports only for
heavy or optional dependencies, modules readable in one sitting, functions that fit on a screen."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "srbench_eval"
ROOT = PACKAGE.name

HEAVY = frozenset(
    {
        "torch",
        "torchvision",
        "numba",
        "scipy",
        "cv2",
        "matplotlib",
        "lpips",
        "pytorch_fid",
        "spandrel",
        "pyrtools",
        "DISTS_pytorch",
        "skimage",
        "numpy",
        "pandas",
        "requests",
        "urllib3",
        "pooch",
        "tqdm",
        "jinja2",
        "tabulate",
        "PIL",
        "pyspng",
    }
)
"""Packages slow to import or optional: the only ones a function may import locally, so that listing
commands (``--help``, ``models list``, ``protocols``, ``metrics``) start without them. Beside the network
and numerics libraries, each measured on this project's 2-core machine (``python -X importtime``): numpy
154 ms, pandas 278 ms, requests 127 ms (urllib3 with it), pooch 51 ms, tqdm 37 ms, jinja2 32 ms, tabulate
27 ms, Pillow 21 ms; pyspng is optional. A local import of one of the package's own modules is allowed
only where that module loads one of these at its top (its closure of module-level imports does)."""

MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80
WRITTEN_OUT_KERNELS = frozenset({"metrics/fidelity_kernels.py"})
"""Numba kernels written out loop by loop (one loop per moment, rows in blocks): exempt from the size
limits, since splitting them would cost the speed they exist for (``benchmarks/bench_ssim.py``)."""


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the import nodes under ``if TYPE_CHECKING:`` (type-only, never run)."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(n) for b in node.body for n in ast.walk(b))
    return hidden


def _imports(name: str, path: Path) -> Iterator[tuple[str, bool, int]]:
    """(imported module, whether the import is inside a function, line) of every runtime import."""
    tree = ast.parse(path.read_text())
    hidden = _type_checking_nodes(tree)
    local: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            local.update(id(n) for n in ast.walk(node) if n is not node)
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):  # ``try: import x / except ImportError:``: an optional dependency
        if isinstance(node, ast.Try) and any(
            h.type is not None
            and any(n in ast.unparse(h.type) for n in ("ImportError", "ModuleNotFoundError"))
            for h in node.handlers
        ):
            hidden_optional = {
                id(n) for b in node.body + [x for h in node.handlers for x in h.body] for n in ast.walk(b)
            }
            local -= hidden_optional
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".") if is_package else name.split(".")[:-1]
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for target in targets:
            yield target, id(node) in local, node.lineno


def _internal(target: str) -> str | None:
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for target, _, _ in _imports(name, path):
            inner = _internal(target) if target.startswith(ROOT) else None
            if inner and inner != name:
                graph[name].add(inner)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_import_graph_has_no_cycle() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _loads_heavy_at_top() -> dict[str, bool]:
    """Whether importing each module (its module-level imports and its packages' ``__init__``,
    transitively) loads a heavy package."""
    top: dict[str, set[str]] = {}
    direct: dict[str, bool] = {}
    for name, path in MODULES.items():
        top[name] = set()
        direct[name] = False
        for target, is_local, _ in _imports(name, path):
            if is_local:
                continue
            if target.split(".")[0] in HEAVY:
                direct[name] = True
            inner = _internal(target) if target.startswith(ROOT) else None
            if inner and inner != name:
                top[name].add(inner)
        parent = name.rpartition(".")[0]  # importing a.b.c runs a/__init__ and a/b/__init__ first
        while parent:
            top[name].add(parent)
            parent = parent.rpartition(".")[0]
    heavy: dict[str, bool] = {}

    def closure(name: str, seen: set[str]) -> bool:
        if name in heavy:
            return heavy[name]
        seen.add(name)
        result = direct[name] or any(closure(t, seen) for t in top[name] if t not in seen)
        heavy[name] = result
        return result

    for name in MODULES:
        closure(name, set())
    return heavy


def test_function_local_imports_are_only_of_heavy_dependencies() -> None:
    heavy = _loads_heavy_at_top()
    offences = []
    for name, path in MODULES.items():
        for target, is_local, line in _imports(name, path):
            if not is_local or target.split(".")[0] in HEAVY or target == "__future__":
                continue
            inner = _internal(target) if target.startswith(ROOT) else None
            if inner and heavy[inner]:
                continue
            offences.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target} in a function")
    assert not offences, "\n".join(offences)


def _sizes() -> Iterator[tuple[str, int, list[tuple[str, int]]]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        text = path.read_text()
        functions = [
            (node.name, node.end_lineno - node.lineno + 1)
            for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno
        ]
        yield rel, text.count("\n"), functions


@pytest.mark.parametrize("limit", [MAX_MODULE_LINES])
def test_modules_and_functions_are_small(limit: int) -> None:
    too_long = []
    for rel, lines, functions in _sizes():
        if rel in WRITTEN_OUT_KERNELS:
            continue
        if lines > limit:
            too_long.append(f"{rel}: {lines} lines")
        too_long += [f"{rel}: {fn}() {n} lines" for fn, n in functions if n > MAX_FUNCTION_LINES]
    assert not too_long, "\n".join(too_long)
