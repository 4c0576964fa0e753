"""The package's shape: stages import one way, no cycles, short functions.

The layers, top to bottom: ``cli`` -> ``publish`` -> ``store`` -> ``collection`` ->
``ingest`` -> the base modules (``errors``, ``timing``, ``yamlfile``, ``outputs``). A
module may import from its own layer and the layers below it, never above.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "papershelf"
LAYERS = ["base", "ingest", "collection", "store", "publish", "cli"]
LONGEST_FUNCTION = 60  # lines, decorators excluded


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return parts[1]
    return "cli" if module == "papershelf.cli" else "base"


def _imports(path: Path) -> set[str]:
    """The papershelf modules a file imports, at any depth of the file."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{alias.name}" for alias in node.names]
            found.update(n if _is_module(n) else target for n in names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("papershelf") and name != module}


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_import_goes_down_or_across_the_stages():
    upward = [
        f"{module} ({_layer(module)}) imports {target} ({_layer(target)})"
        for module, targets in _graph().items()
        for target in sorted(targets)
        if target != "papershelf" and LAYERS.index(_layer(target)) > LAYERS.index(_layer(module))
    ]
    assert upward == []


def test_no_import_cycle():
    graph = _graph()
    cycles, state = [], {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                cycles.append(" -> ".join(trail[trail.index(target) :] + [target]))
            elif target not in state:
                visit(target, trail + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_relative_imports_are_read_as_the_modules_they_name():
    """The checks above could pass by seeing no imports: ``from ..x import y`` must resolve."""
    layers_seen = {_layer(target) for targets in _graph().values() for target in targets}
    assert {"base", "ingest", "collection", "store", "publish"} <= layers_seen


def test_every_function_is_shorter_than_sixty_lines():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length >= LONGEST_FUNCTION:
                    long.append(f"{_module_name(path)}.{node.name}: {length} lines")
    assert long == []
