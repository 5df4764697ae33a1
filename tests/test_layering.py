"""The package's layering: the runtime never imports the lab, no import cycles, small modules and functions."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path


PACKAGE = Path(__file__).resolve().parent.parent / "cliphead"
#: What inference needs: importing any of these (and building the CLI's parser) must load no lab module.
RUNTIME_ENTRY_POINTS = (
    "cliphead.pipeline",
    "cliphead.outputs",
    "cliphead.explorer",
    "cliphead.mapping.text2head",
    "cliphead.texture.export",
    "cliphead.uv.export",
    "cliphead.heads.fitting",
    "cliphead.heads.io",
    "cliphead.clip.score",
    "cliphead.render",
    "cliphead.cli",
)
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imported(path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules that ``path`` imports anywhere (module level or inside a function)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cliphead"):
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                found.add(name if name in known else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("cliphead")}
    return {name for name in found if name in known}


def test_runtime_modules_never_import_the_lab():
    """Every import in the runtime, also those inside functions; the CLI's lab commands are checked by running."""
    modules = _modules()
    offenders = {
        name: sorted(m for m in _imported(path, modules) if m.startswith("cliphead.lab"))
        for name, path in modules.items()
        if not name.startswith(("cliphead.lab", "cliphead.cli"))
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_runtime_entry_points_load_no_lab_module():
    script = (
        "import importlib, sys\n"
        f"for name in {RUNTIME_ENTRY_POINTS!r}: importlib.import_module(name)\n"
        "from cliphead.cli import build_parser\n"
        "build_parser()\n"
        "print(sorted(m for m in sys.modules if m.startswith('cliphead.lab')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_no_import_cycles():
    """Tarjan's strongly connected components of the module graph (function-level imports included)."""
    modules = _modules()
    graph = {
        name: {m for m in _imported(path, modules) if m != name and not name.startswith(m + ".")}
        for name, path in modules.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph)))
    for node in graph:
        if node not in index:
            visit(node)
    assert cycles == []


def test_modules_are_small():
    sizes = {name: len(path.read_text().splitlines()) for name, path in _modules().items()}
    assert {name: lines for name, lines in sizes.items() if lines > MAX_MODULE_LINES} == {}


def test_functions_are_short():
    long = {}
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{name}.{node.name}"] = lines
    assert long == {}
