"""The layers hold (docs/architecture.md): every module parsed, every import checked.

Bottom to top: base → models → validation → registry → sync | geo → oversight → HTTP.
A module imports only its own layer and those below; `sync/` and `geo/` not each other; no
layer but HTTP imports the web framework; no modules import each other round a loop.
"""
from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import layers

ROOT = Path(__file__).resolve().parent.parent


def test_every_module_is_read() -> None:
    found = layers.modules(ROOT)
    on_disk = {p for pkg in layers.PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    assert set(found.values()) == on_disk | {ROOT / "config.py"}
    assert "sync.push" in found and "webapp.registry.scope" in found and len(found) > 200


def test_no_web_framework_below_http() -> None:
    assert [str(v) for v in layers.web_imports(ROOT)] == []


def test_no_import_reaches_up_or_across() -> None:
    assert [str(v) for v in layers.upward_imports(ROOT)] == []


def test_no_cycles() -> None:
    assert layers.cycles(ROOT) == []


def test_pure_layers_import_without_flask() -> None:
    """Belt and braces at run time: import every module of the layers below HTTP in a fresh
    interpreter and look for the web framework in sys.modules."""
    pure = sorted(m for m in layers.modules(ROOT) if layers.LAYERS[layers.layer_of(m)][0] != "http")
    code = (
        "import importlib, sys\n"
        f"for m in {pure!r}: importlib.import_module(m)\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug', 'wtforms'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == ""
    assert len(pure) > 120  # the walk found the pure modules, not an empty list


def test_http_is_all_that_remains() -> None:
    """Every top-level module of webapp/ is the HTTP layer: the pure ones have their folders."""
    top = [m.name for m in pkgutil.iter_modules([str(ROOT / "webapp")]) if not m.ispkg]
    assert top and all(layers.LAYERS[layers.layer_of(f"webapp.{name}")][0] == "http" for name in top)
    for name in top:
        source = (ROOT / "webapp" / f"{name}.py").read_text(encoding="utf-8")
        uses_web = any(f"import {w}" in source or f"from {w}" in source for w in ("flask", "flask_"))
        assert uses_web or name == "__init__", f"webapp/{name}.py is pure: give it a layer's folder"


# --- The check itself can fail: plant each kind of violation in a copy --------------------

@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for package in layers.PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    shutil.copy(ROOT / "config.py", tmp_path / "config.py")
    return tmp_path


def _plant(root: Path, relative: str, line: str) -> None:
    path = root / relative
    path.write_text(path.read_text(encoding="utf-8") + f"\n\ndef _planted():\n    {line}\n", encoding="utf-8")


def test_planted_flask_import_in_sync_is_caught(tree: Path) -> None:
    _plant(tree, "sync/push.py", "from flask import request")
    found = layers.web_imports(tree)
    assert {v.module for v in found} == {"sync.push"}
    assert "sync.push imports flask: the web framework, below the HTTP layer" in map(str, found)


def test_planted_flask_import_in_registry_is_caught(tree: Path) -> None:
    _plant(tree, "webapp/registry/privacy.py", "import flask_login")
    assert {v.module for v in layers.web_imports(tree)} == {"webapp.registry.privacy"}


def test_planted_upward_import_is_caught(tree: Path) -> None:
    _plant(tree, "webapp/registry/search.py", "from webapp.oversight.grading import score")
    _plant(tree, "webapp/models/house.py", "import webapp.registry.scope")
    found = {(v.module, v.imported) for v in layers.upward_imports(tree)}
    assert ("webapp.registry.search", "webapp.oversight.grading") in found
    assert ("webapp.models.house", "webapp.registry.scope") in found


def test_planted_peer_import_is_caught(tree: Path) -> None:
    _plant(tree, "geo/assign.py", "from sync import reach")
    found = layers.upward_imports(tree)
    assert {v.module for v in found} == {"geo.assign"}
    assert "geo.assign imports sync.reach: geo/ and sync/ are peers" in map(str, found)


def test_planted_cycle_is_caught(tree: Path) -> None:
    _plant(tree, "geo/address_order.py", "from geo.route import walking_order")
    groups = layers.cycles(tree)
    assert len(groups) == 1 and {"geo.address_order", "geo.route"} <= set(groups[0])
