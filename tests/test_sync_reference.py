"""docs/sync.md and /api/openapi.json cannot drift from the code: the doc's reference section is
what sync/reference.py generates now, and every code, value and kind the code uses is listed
(each guard shown to fail on a planted violation)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from sync import reference
from sync.codes import MUTATION_ERRORS, OUTCOMES, REQUEST_ERRORS
from sync.conflicts import KINDS
from webapp.api.openapi import document

ROOT = Path(__file__).resolve().parent.parent
# Where a push's per-mutation problems are made (the console's own codes live elsewhere).
MUTATION_SOURCES = [*ROOT.glob("sync/*.py"), *ROOT.glob("webapp/validation/*.py"), ROOT / "webapp/registry/review.py"]
CONSOLE_ONLY = {"sync/resolve_rules.py", "sync/codes.py", "sync/reference.py", "sync/rescue.py", "sync/combine.py"}
CODE = re.compile(r"""["']((?:field|id|phone|uscc|house_code|residency|task|review|op|record|ref|base_version|seq|role)"""
                  r"""\.[a-z_]+)["']""")
# Calls that refuse a whole request, and the argument holding the code.
REFUSERS = {"problem": 2, "BatchInvalid": 0, "ProtocolRefused": 0, "DeviceRefused": 0, "BodyRefused": 1,
            "EncodingRefused": 1}
REQUEST_SOURCES = [*ROOT.glob("webapp/api/*.py"), ROOT / "sync/batch.py", ROOT / "sync/protocol.py",
                   ROOT / "sync/devices.py"]


def mutation_codes(paths: list[Path]) -> set[str]:
    return {c for p in paths if str(p.relative_to(ROOT)) not in CONSOLE_ONLY
            for c in CODE.findall(p.read_text(encoding="utf-8"))}


def request_codes(sources: dict[str, str]) -> set[str]:
    out = set()
    for text in sources.values():
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            at = REFUSERS.get(name or "")
            if at is not None and len(node.args) > at and isinstance(node.args[at], ast.Constant):
                out.add(node.args[at].value)
    return out


def test_the_docs_reference_is_what_the_code_generates() -> None:
    doc = (ROOT / "docs" / "sync.md").read_text(encoding="utf-8")
    assert reference.current_doc(doc) == reference.markdown(), "run: .venv/bin/python -m sync.reference --write"


def test_every_mutation_error_code_is_listed_and_every_listed_one_used() -> None:
    used = mutation_codes(MUTATION_SOURCES)
    assert used - set(MUTATION_ERRORS) == set()
    assert set(MUTATION_ERRORS) - used == set()


def test_every_request_error_code_is_listed() -> None:
    sources = {str(p): p.read_text(encoding="utf-8") for p in REQUEST_SOURCES}
    used = request_codes(sources)
    assert used - set(REQUEST_ERRORS) == set()
    assert {"device_unknown", "protocol_outdated", "body_too_large", "invalid_limit"} <= used


def test_the_guards_catch_a_planted_code(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text('x = {"code": "field.planted"}\nproblem(400, "d", "planted_code")\n', encoding="utf-8")
    assert "field.planted" in {c for c in CODE.findall(planted.read_text())} - set(MUTATION_ERRORS)
    assert request_codes({"planted": planted.read_text()}) - set(REQUEST_ERRORS) == {"planted_code"}


def test_the_doc_test_fails_on_a_stale_value(monkeypatch: pytest.MonkeyPatch) -> None:
    stale = reference.markdown()
    monkeypatch.setitem(MUTATION_ERRORS, "field.planted", "planted")
    assert reference.markdown() != stale


def test_openapi_lists_every_value_outcome_kind_and_code() -> None:
    d = document()
    schemas = d["components"]["schemas"]
    for (record_type, field), values in reference.allowed_values().items():
        enum = schemas[f"Fields_{record_type}"]["properties"][field]["enum"]
        assert [v for v in enum if v is not None] == [v for v, _zh, _en in values], (record_type, field)
    assert schemas["Outcome"]["properties"]["status"]["enum"] == list(OUTCOMES)
    assert schemas["Outcome"]["properties"]["errors"]["items"]["properties"]["code"]["enum"] == sorted(MUTATION_ERRORS)
    assert schemas["ConflictNews"]["properties"]["kind"]["enum"] == list(KINDS)
    assert schemas["Problem"]["properties"]["code"]["enum"] == sorted(REQUEST_ERRORS)
    assert d["info"]["version"] == "2"
