"""The layer rules of docs/architecture.md, held against every import in otel_agent/ and otel_agent_tools/.

Every import counts: module level, inside functions, and under `if TYPE_CHECKING:` alike. The build fails on an
import circle between modules, on an import from a lower layer into a higher one, and on the library importing the
operator tools.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("otel_agent", "otel_agent_tools")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _imports(module: str) -> set[str]:
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, is_package, node.level, node.module) if node.level else (node.module or "")
            # `from pkg import name`: the module pkg.name when there is one, else pkg itself
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        for name in names:
            # the most specific module this names (`from . import names` names the module otel_agent.telemetry.names)
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
    return targets


GRAPH = {module: _imports(module) for module in MODULES}

# docs/architecture.md § Layers, lowest first: a module may import its own layer and the layers below.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", (r"otel_agent\._version", r"otel_agent\.records", r"otel_agent\.values", r"otel_agent\.safety", r"otel_agent\.redaction",
              r"otel_agent\.ratelog", r"otel_agent\.bounded",
              r"otel_agent\.telemetry\.names",
              r"otel_agent\.config")),
    ("domain", (r"otel_agent\.providers(\..*)?", r"otel_agent\.cost(\..*)?", r"otel_agent\.gpu(\..*)?",
                r"otel_agent\.trajectory(\..*)?", r"otel_agent\.export(\..*)?",
                r"otel_agent\.frameworks(\..*)?")),
    ("telemetry", (r"otel_agent\.telemetry(\..*)?",)),
    ("flow", (r"otel_agent\.capture(\..*)?", r"otel_agent\.pipeline")),
    ("wiring", (r"otel_agent\.otel_sdk", r"otel_agent\.runtime")),
    ("entry", (r"otel_agent\.instrumentors", r"otel_agent")),
    ("tools", (r"otel_agent_tools(\..*)?",)),
]  # fmt: skip


def layer_of(module: str) -> int:
    for index, (_name, patterns) in enumerate(LAYERS):
        if any(re.fullmatch(pattern, module) for pattern in patterns):
            return index
    raise AssertionError(f"{module} is in no layer of docs/architecture.md")


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


def test_no_upward_import() -> None:
    upward = [
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for module, targets in GRAPH.items()
        for target in targets
        if layer_of(target) > layer_of(module)
    ]
    assert not upward, "\n".join(sorted(upward))


def test_the_library_never_imports_the_tools() -> None:
    bad = [(m, t) for m, ts in GRAPH.items() for t in ts if m.startswith("otel_agent.") and t.startswith(PACKAGES[1])]
    assert not bad, bad


def _cycle() -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for target in sorted(GRAPH[module]):
            if state.get(target) == 1:
                return stack[stack.index(target) :] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        state[module] = 2
        return None

    for module in sorted(GRAPH):
        if module not in state:
            found = visit(module)
            if found:
                return found
    return None


def test_no_import_circle() -> None:
    cycle = _cycle()
    assert cycle is None, " -> ".join(cycle or [])


def test_the_checks_see_a_violation() -> None:
    """The checker itself: an upward edge and a circle planted in a copy of the graph are found."""
    saved = {m: set(t) for m, t in GRAPH.items()}
    try:
        GRAPH["otel_agent.records"].add("otel_agent.runtime")
        assert layer_of("otel_agent.runtime") > layer_of("otel_agent.records")
        assert _cycle() is not None
    finally:
        GRAPH.clear()
        GRAPH.update(saved)
    assert _cycle() is None


def test_layers_match_the_doc() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text()
    for name, _patterns in LAYERS:
        assert f"**{name}**" in doc, name
