"""Every conflict kind any code can create has a zh/en label, from one place."""
from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import select

from tests.conftest import csrf_token, login
from webapp.models import Conflict
from webapp.registry.rules.base import RULES
from webapp.registry.rules.tasks import CONFLICT_KINDS, conflict_kinds

ROOT = Path(__file__).resolve().parent.parent
# The functions that make a conflict, and where their `kind` argument sits.
MAKERS = {"conflict_outcome": 3, "row": 1, "hold_for_centre": 3}


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _kinds_in_code() -> set[str]:
    """Kinds passed as literals wherever a conflict is made in sync/, webapp/ and geo/; a
    maker called with a computed kind fails here, so that no new kind can slip by unseen."""
    kinds: set[str] = set()
    for path in [*ROOT.glob("sync/**/*.py"), *ROOT.glob("webapp/**/*.py"), *ROOT.glob("geo/**/*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _call_name(node)
            if name == "Conflict":
                [kind] = [k.value for k in node.keywords if k.arg == "kind"]
                if isinstance(kind, ast.Constant):  # a case made by hand (the console's renumbering)
                    kinds.add(kind.value)
                    continue
                # The rules' one maker: its kinds are CONFLICT_KINDS' values, checked below.
                assert ast.unparse(kind) == "CONFLICT_KINDS[f.kind]", f"{path}: Conflict(kind={ast.unparse(kind)})"
                continue
            if name == "row" and not (isinstance(node.func, ast.Attribute) and ast.unparse(node.func) == "conflicts.row"):
                continue
            if name in MAKERS and len(node.args) > MAKERS[name]:
                arg = node.args[MAKERS[name]]
                if path.name in ("write.py", "moves.py") and name == "row" and ast.unparse(arg) == "kind":
                    continue  # conflict_outcome's and hold_for_centre's own bodies, passing it on
                assert isinstance(arg, ast.Constant), f"{path}:{node.lineno} makes a conflict of a computed kind"
                kinds.add(arg.value)
    return kinds | set(CONFLICT_KINDS.values())


def test_every_kind_made_anywhere_has_a_label() -> None:
    from sync.conflicts import KINDS

    made = _kinds_in_code()
    # The scan finds the sync kinds too (it is not vacuous).
    assert {"field", "out_of_scope", "constraint", "duplicate_person", "rule_same_id"} <= made
    assert made <= set(KINDS), made - set(KINDS)
    for kind in made:
        zh, en = KINDS[kind]
        assert zh and en and zh != en, kind
        assert len(kind) <= Conflict.kind.type.length, kind


def test_rule_labels_come_from_the_rules() -> None:
    from sync.conflicts import KINDS

    duplicates = RULES["duplicates"].kinds
    for finding, kind in CONFLICT_KINDS.items():
        assert KINDS[kind] == duplicates[finding] == conflict_kinds()[kind]


def test_queue_shows_a_rule_conflict_by_its_label(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    person = area.persons["A1"]
    db_session.add(Conflict(kind="rule_same_id", record_type="person", record_id=person.id,
                            house_id=area.houses["A1"].id, cell_id=area.cells["A1"].id,
                            committee_id=area.committees["A"].id, detail={"rule": "duplicates", "key": "k"}))
    db_session.commit()
    assert db_session.scalar(select(Conflict.kind)) == "rule_same_id"
    login(client, "centre")
    page = client.get("/conflicts").get_data(as_text=True)
    assert "同一证件号码重复在住" in page and "rule_same_id<" not in page
    filtered = client.get("/conflicts?kind=rule_same_id").get_data(as_text=True)
    assert "同一证件号码重复在住" in filtered
    client.post("/lang/en", data={"csrf_token": csrf_token(client, "/"), "next": "/"})
    assert "One ID number living twice" in client.get("/conflicts").get_data(as_text=True)
