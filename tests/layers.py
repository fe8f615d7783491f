"""The layer order, read from the source: which module may import which.

Every module under `webapp/`, `sync/` and `geo/` (and `config.py`) is parsed, and every
import in it counts, inside functions too: a lazy import is still a dependency, it only
hides it. docs/architecture.md explains the order; this file is what holds it.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

# Bottom to top. A module may import its own layer and the layers below it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("config", "webapp.base")),
    ("models", ("webapp.models",)),
    ("validation", ("webapp.validation",)),
    ("registry", ("webapp.registry",)),
    ("sync", ("sync",)),
    ("geo", ("geo",)),
    ("oversight", ("webapp.oversight",)),
    ("http", ("webapp",)),  # everything else under webapp/: blueprints, app, CLI
)
# `sync/` and `geo/` stand side by side: neither may import the other.
PEERS = frozenset({"sync", "geo"})
# Every layer but the top one must run without a request: no web framework in them.
WEB_PACKAGES = ("flask", "flask_", "werkzeug", "wtforms", "jinja2", "flask_wtf", "flask_babel")
PACKAGES = ("webapp", "sync", "geo")


@dataclass(frozen=True)
class Violation:
    module: str
    imported: str
    why: str

    def __str__(self) -> str:
        return f"{self.module} imports {self.imported}: {self.why}"


def modules(root: Path) -> dict[str, Path]:
    found = {"config": root / "config.py"} if (root / "config.py").exists() else {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def layer_of(module: str) -> int:
    best, index = -1, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, index = len(prefix), i
    return index


def imports(module: str, path: Path) -> set[str]:
    """Every module name this file imports (absolute, relative resolved), at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names


def graph(root: Path) -> dict[str, set[str]]:
    """Internal imports only: `from webapp.models import House` counts as webapp.models."""
    known = modules(root)
    edges: dict[str, set[str]] = {}
    for module, path in known.items():
        edges[module] = {n for n in imports(module, path) if n in known and n != module and n != "webapp"}
    return edges


def web_imports(root: Path) -> list[Violation]:
    found = []
    for module, path in modules(root).items():
        if LAYERS[layer_of(module)][0] == "http":
            continue
        for name in imports(module, path):
            if name.split(".")[0].startswith(WEB_PACKAGES):
                found.append(Violation(module, name, "the web framework, below the HTTP layer"))
    return found


def upward_imports(root: Path) -> list[Violation]:
    found = []
    for module, targets in graph(root).items():
        mine = layer_of(module)
        for target in targets:
            theirs = layer_of(target)
            a, b = LAYERS[mine][0], LAYERS[theirs][0]
            if a in PEERS and b in PEERS and a != b:
                found.append(Violation(module, target, f"{a}/ and {b}/ are peers"))
            elif theirs > mine and not (a in PEERS and b in PEERS):
                found.append(Violation(module, target, f"layer {b} is above {a}"))
    return found


def cycles(root: Path) -> list[list[str]]:
    """Groups of modules that import each other, directly or round a loop. A package's
    `__init__` importing its own submodules is how a Flask blueprint registers its views,
    so that edge does not count."""
    edges = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in graph(root).items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return groups
