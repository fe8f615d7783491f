"""Who may change the registry through sync: the `edit` permission, the same as the console.

Police read every cell and change nothing; a community reporter has no registry at all. A
phone registered by either may pull what its role sees, but every mutation it pushes is
refused (an outcome, not a conflict for the centre to sort out), and nothing is written.
"""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from webapp.models import SyncMutation, Visit
from webapp.registry.scope import allowed

ROLES = ["coordinator", "grid_lead", "committee", "centre", "police", "reporter"]


@pytest.fixture
def reporter(db_session, area):  # type: ignore[no-untyped-def]
    from tests import factories as f
    user = f.user(db_session, "rep", "reporter", committee_id=area.committees["A"].id)
    db_session.commit()
    return user


def _phone(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    response = client.post("/api/devices", json={"username": username, "password": "pw", "label": "t"})
    assert response.status_code == 201, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


@pytest.mark.parametrize("role", ROLES)
def test_only_roles_that_edit_change_the_registry_by_sync(client, db_session, area, reporter, role) -> None:  # type: ignore[no-untyped-def]
    username = reporter.username if role == "reporter" else area.users[role].username
    visit_id = str(uuid.uuid4())
    mutation = {"id": str(uuid.uuid4()), "seq": 1, "type": "visit", "op": "create", "record_id": visit_id,
                "fields": {"house_id": str(area.houses["A1"].id), "visited_at": "2026-11-26T08:00:00Z",
                           "outcome": "verified", "plate_scanned": True}}
    response = client.post("/api/sync/push", json={"protocol": 1, "mutations": [mutation]},
                           headers=_phone(client, username))
    assert response.status_code == 200, response.get_data(as_text=True)
    (outcome,) = response.get_json()["outcomes"]
    db_session.rollback()
    stored = db_session.scalar(select(func.count()).select_from(Visit).where(Visit.id == uuid.UUID(visit_id)))
    if allowed(role, "edit"):
        assert outcome["status"] == "applied", outcome
        assert stored == 1
    else:
        assert outcome["status"] == "rejected", outcome
        assert [e["code"] for e in outcome["errors"]] == ["role.read_only"]
        assert "不能修改" in outcome["errors"][0]["zh"] and outcome["errors"][0]["en"]
        assert stored == 0
        # The refusal is kept like any outcome, so a resend is answered the same way.
        receipt = db_session.scalar(select(SyncMutation).where(SyncMutation.id == uuid.UUID(mutation["id"])))
        assert receipt is not None and receipt.outcome == "rejected"
