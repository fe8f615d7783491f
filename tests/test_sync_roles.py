"""Who may change the registry through sync, and who may hold a phone at all.

Only roles that change the registry get a device (PERMISSIONS["device"], the same roles as
`edit`): police (read-only) and community reporters (no registry) are refused at
registration with 403 `role_no_device`, after their password was checked. A phone whose
user's role later became read-only still pushes nothing: every mutation is refused (an
outcome, not a conflict for the centre to sort out), and nothing is written.
"""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from webapp.models import Device, SyncMutation, User, Visit
from webapp.registry.scope import allowed

ROLES = ["coordinator", "grid_lead", "committee", "centre", "police", "reporter"]


@pytest.fixture
def reporter(db_session, area):  # type: ignore[no-untyped-def]
    from tests import factories as f
    user = f.user(db_session, "rep", "reporter", committee_id=area.committees["A"].id)
    db_session.commit()
    return user


def _register(client, username: str):  # type: ignore[no-untyped-def]
    return client.post("/api/devices", json={"username": username, "password": "pw", "label": "t"})


def test_only_editing_roles_hold_a_phone() -> None:
    """No role may hold a device without editing: so no phone pushes only refusals."""
    for role in ROLES:
        assert allowed(role, "device") == allowed(role, "edit"), role


@pytest.mark.parametrize("role", ROLES)
def test_a_phone_is_registered_only_for_roles_that_edit(client, db_session, area, reporter, role) -> None:  # type: ignore[no-untyped-def]
    username = reporter.username if role == "reporter" else area.users[role].username
    response = _register(client, username)
    db_session.rollback()
    devices = db_session.scalar(select(func.count()).select_from(Device))
    if not allowed(role, "device"):
        assert response.status_code == 403, response.get_data(as_text=True)
        body = response.get_json()
        assert body["code"] == "role_no_device" and "token" not in body
        assert "不能登记" in body["detail"] and "cannot register" in body["detail"]
        assert devices == 0
        # A wrong password gets the answer of any wrong password: the role says nothing first.
        wrong = client.post("/api/devices", json={"username": username, "password": "wrong"})
        assert wrong.status_code == 401 and wrong.get_json()["code"] == "login_failed"
        return
    assert response.status_code == 201, response.get_data(as_text=True)
    visit_id = str(uuid.uuid4())
    mutation = {"id": str(uuid.uuid4()), "seq": 1, "type": "visit", "op": "create", "record_id": visit_id,
                "fields": {"house_id": str(area.houses["A1"].id), "visited_at": "2026-11-26T08:00:00Z",
                           "outcome": "verified", "plate_scanned": True}}
    pushed = client.post("/api/sync/push", json={"protocol": 1, "mutations": [mutation]},
                         headers={"Authorization": f"Bearer {response.get_json()['token']}"})
    assert pushed.status_code == 200, pushed.get_data(as_text=True)
    (outcome,) = pushed.get_json()["outcomes"]
    assert outcome["status"] == "applied", outcome
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Visit).where(Visit.id == uuid.UUID(visit_id))) == 1


@pytest.mark.parametrize("became", ["police", "reporter"])
def test_a_phone_whose_user_became_read_only_changes_nothing(client, db_session, area, became) -> None:  # type: ignore[no-untyped-def]
    """Registered as a coordinator, then the login's role changed: the phone's token still
    names it, and every mutation it pushes is refused."""
    registered = _register(client, "coord")
    assert registered.status_code == 201
    db_session.rollback()
    user = db_session.scalar(select(User).where(User.username == "coord"))
    user.role = became
    db_session.commit()
    visit_id = str(uuid.uuid4())
    mutation = {"id": str(uuid.uuid4()), "seq": 1, "type": "visit", "op": "create", "record_id": visit_id,
                "fields": {"house_id": str(area.houses["A1"].id), "visited_at": "2026-11-26T08:00:00Z",
                           "outcome": "verified", "plate_scanned": True}}
    response = client.post("/api/sync/push", json={"protocol": 1, "mutations": [mutation]},
                           headers={"Authorization": f"Bearer {registered.get_json()['token']}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    (outcome,) = response.get_json()["outcomes"]
    assert outcome["status"] == "rejected", outcome
    assert [e["code"] for e in outcome["errors"]] == ["role.read_only"]
    assert "不能修改" in outcome["errors"][0]["zh"] and outcome["errors"][0]["en"]
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Visit).where(Visit.id == uuid.UUID(visit_id))) == 0
    # The refusal is kept like any outcome, so a resend is answered the same way.
    receipt = db_session.scalar(select(SyncMutation).where(SyncMutation.id == uuid.UUID(mutation["id"])))
    assert receipt is not None and receipt.outcome == "rejected"
