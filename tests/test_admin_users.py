"""/admin/users: who manages which logins, creating one (temporary password, changed at the
first login), editing, deactivating, resetting, and cells from the user's side and the cell's
side. Everything audited, never a password."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import csrf_token, login, logout
from tests.phones import Phone
from tests.sync_client import registered_phone
from webapp.models import AuditEntry, Cell, Device, User, cell_coordinator
from webapp.oversight import staff

PASSWORD_RE = re.compile(r'id="temporary-password"[^>]*>([a-z0-9-]+)<')


@pytest.fixture
def people(area, db_session: Session):  # type: ignore[no-untyped-def]
    """The coordinator and lead belong to committee A; committee B has its own coordinator."""
    area.users["coordinator"].committee_id = area.committees["A"].id
    area.users["grid_lead"].committee_id = area.committees["A"].id
    area.users["coord_b"] = f.user(db_session, "coordb", "coordinator", committee_id=area.committees["B"].id)
    area.users["comm_b"] = f.user(db_session, "commb", "committee", committee_id=area.committees["B"].id)
    db_session.commit()
    return area


def _audits(db_session: Session, action: str) -> list[AuditEntry]:
    db_session.rollback()
    return list(db_session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def _post(client, url: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf_token": csrf_token(client, "/admin/users"), **data})


# (actor, target, may manage): the centre every login but its own; a committee only its own
# coordinators and grid leads.
MANAGES = [
    ("centre", "coordinator", True), ("centre", "police", True), ("centre", "committee", True),
    ("centre", "centre", False), ("committee", "coordinator", True), ("committee", "grid_lead", True),
    ("committee", "coord_b", False), ("committee", "police", False), ("committee", "committee", False),
    ("comm_b", "coord_b", True), ("comm_b", "coordinator", False),
]


@pytest.mark.parametrize(("actor", "target", "may"), MANAGES)
def test_who_manages_whom(client, people, actor: str, target: str, may: bool) -> None:  # type: ignore[no-untyped-def]
    login(client, people.users[actor].username)
    user_id = people.users[target].id
    assert client.get(f"/admin/users/{user_id}").status_code == (200 if may else 404)
    listed = client.get("/admin/users?status=all").get_data(as_text=True)
    assert (f"/admin/users/{user_id}\"" in listed) == may


def test_centre_creates_a_login_that_must_change_its_password(client, people, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    response = _post(client, "/admin/users/new", username="xg99", display_name="新协管员", role="coordinator",
                     committee=str(people.committees["A"].id), phone="13900009999")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    password = PASSWORD_RE.search(response.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    assert response.headers["Cache-Control"] == "no-store"
    db_session.rollback()
    user = db_session.scalar(select(User).where(User.username == "xg99"))
    assert user is not None and user.must_change_password and user.committee_id == people.committees["A"].id
    [entry] = _audits(db_session, "create_user")
    assert entry.object_id == str(user.id) and entry.user_id == people.users["centre"].id
    assert password not in str(entry.detail) and user.password_hash not in str(entry.detail)
    # The first login leads to /account, and nothing else opens until the password is changed.
    logout(client)
    assert client.post("/login", data={"csrf_token": csrf_token(client), "username": "xg99",
                                       "password": password}).headers["Location"].endswith("/account")
    assert client.get("/").headers["Location"].endswith("/account")


@pytest.mark.parametrize(("fields", "error"), [
    ({"username": "coord"}, "该用户名已被使用|This username is taken"),
    ({"username": "COORD"}, "已被使用|taken"),
    ({"username": "a b"}, "用户名为|A username is"),
    ({"role": "committee", "committee": ""}, "需要选择居委会|needs a committee"),
    ({"phone": "12345"}, "手机|mobile"),
])
def test_a_refused_login_is_not_created(client, people, db_session, fields, error) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    data = {"username": "fresh", "display_name": "某人", "role": "coordinator", "committee": "", "phone": "", **fields}
    response = _post(client, "/admin/users/new", **data)
    assert response.status_code == 422
    assert re.search(error, response.get_data(as_text=True)), error
    db_session.rollback()
    assert db_session.scalar(select(User).where(User.username == data["username"], User.display_name == "某人")) is None


def test_a_committee_creates_its_own_coordinators_only(client, people, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "comm")
    # Another committee is no choice; none chosen, the login is the committee's own.
    assert _post(client, "/admin/users/new", username="xgB", display_name="乙协管", role="coordinator",
                 committee=str(people.committees["B"].id)).status_code == 422
    assert _post(client, "/admin/users/new", username="xgA", display_name="甲协管", role="coordinator",
                 committee="").status_code == 200
    db_session.rollback()
    assert db_session.scalar(select(User).where(User.username == "xgB")) is None
    assert db_session.scalar(select(User.committee_id).where(User.username == "xgA")) == people.committees["A"].id
    # A role it cannot give is not a choice.
    assert _post(client, "/admin/users/new", username="boss", display_name="冒充", role="centre").status_code == 422
    assert db_session.scalar(select(User).where(User.username == "boss")) is None


def test_a_new_role_ends_sessions_takes_cells_and_phones(client, people, db_session) -> None:  # type: ignore[no-untyped-def]
    coord = people.users["coordinator"]
    phone = Phone(db_session, coord)
    generation = coord.session_generation
    login(client, "centre")
    response = _post(client, f"/admin/users/{coord.id}", display_name="改为派出所", role="police", committee="", phone="")
    assert response.status_code == 302
    db_session.rollback()
    user = db_session.get(User, coord.id)
    assert user is not None and user.role == "police" and user.committee_id is None
    assert user.session_generation > generation
    assert db_session.get(Device, phone.device.id).revoked_at is not None  # type: ignore[union-attr]
    assert not db_session.scalars(select(cell_coordinator.c.cell_id).where(cell_coordinator.c.user_id == coord.id)).all()
    [entry] = _audits(db_session, "edit_user")
    assert entry.detail["role"] == ["coordinator", "police"] and entry.detail["phone_changed"] is False
    assert (entry.detail["devices_revoked"], entry.detail["devices_revoked_because"]) == (1, "no_device")


# A coordinator's phone holds residents' ID numbers and phones in clear; a committee or grid
# lead sees them only masked (webapp/registry/privacy.py). Later pulls send only records that
# change, so the clear copies would stay on the phone for good: the phone's login must end, and
# a new login's snapshot brings the numbers masked. Each case says whether the phone's login
# ends, and in which language the admin is told why.
@pytest.mark.parametrize(("before", "after", "ends", "language", "told"), [
    ("coordinator", "committee", True, "zh-CN", "只能看到脱敏的身份证号和手机号"),
    ("coordinator", "grid_lead", True, "en", "sees ID numbers and phones only masked"),
    ("grid_lead", "committee", False, "en", None),  # masked before and after: nothing to take back
    ("grid_lead", "coordinator", False, "en", None),  # sees more: the phone may keep what it has
])
def test_a_new_role_that_sees_numbers_masked_ends_the_phone_logins(  # type: ignore[no-untyped-def]
        client, people, db_session, before: str, after: str, ends: bool, language: str, told: str | None) -> None:
    user = people.users[before]
    person = people.persons["A1"]
    pid = str(person.id)
    handset = client.application.test_client()
    phone = registered_phone(handset, user.username)
    held = phone.rows["person"][pid]
    assert ("id_number" in held) == (before == "coordinator")  # as the old role sees it

    login(client, "centre")
    response = client.post(f"/admin/users/{user.id}", headers={"Accept-Language": language}, data={
        "csrf_token": csrf_token(client, "/admin/users"), "display_name": user.display_name, "role": after,
        "committee": str(people.committees["A"].id), "phone": ""})
    assert response.status_code == 302
    page = client.get(response.headers["Location"], headers={"Accept-Language": language}).get_data(as_text=True)
    db_session.rollback()
    [entry] = _audits(db_session, "edit_user")
    assert entry.detail["role"] == [before, after]
    pulled = handset.get("/api/sync/pull?protocol=1", headers=phone.headers)
    if not ends:
        assert pulled.status_code == 200 and "devices_revoked" not in entry.detail
        assert db_session.scalars(select(Device).where(Device.user_id == user.id, Device.revoked_at.is_not(None))).all() == []
        return
    # The phone hears it at its next sync, and hands its unsynced work over before wiping.
    assert pulled.status_code == 403 and pulled.get_json()["code"] == "device_revoked"
    assert (entry.detail["devices_revoked"], entry.detail["devices_revoked_because"]) == (1, "sees_less")
    assert told is not None and told in page
    # Logged in again (after the wipe), the phone's snapshot holds the numbers masked only.
    if after == "grid_lead":
        staff.set_cells(db_session, people.users["centre"], db_session.get(User, user.id), {people.cells["A1"].id})
        db_session.commit()
    again = registered_phone(handset, user.username)
    held = again.rows["person"][pid]
    assert "id_number" not in held and "phone" not in held, held
    assert held["id_number_masked"] != person.id_number and held["phone_masked"]


def test_a_role_sees_less_when_a_field_it_read_is_masked_or_hidden_for_the_new_one() -> None:
    assert staff.sees_less("coordinator", "committee") and staff.sees_less("centre", "grid_lead")
    assert staff.sees_less("committee", "police")  # notes: shown to committees, hidden from the police
    assert not staff.sees_less("grid_lead", "committee") and not staff.sees_less("committee", "grid_lead")
    assert not staff.sees_less("committee", "coordinator") and not staff.sees_less("coordinator", "centre")


def test_deactivation_ends_everything_and_reactivation_needs_a_new_password(client, people, db_session) -> None:  # type: ignore[no-untyped-def]
    coord = people.users["coordinator"]
    phone = Phone(db_session, coord)
    worker = client.application.test_client()
    login(worker, "coord")
    assert worker.get("/").status_code == 200
    login(client, "comm")
    assert _post(client, f"/admin/users/{coord.id}/deactivate").status_code == 302
    assert worker.get("/").status_code == 302  # the open session ended at once
    db_session.rollback()
    assert db_session.get(Device, phone.device.id).revoked_at is not None  # type: ignore[union-attr]
    assert _audits(db_session, "deactivate_user")[0].detail["devices_revoked"] == 1
    assert login(worker, "coord").status_code == 401
    response = _post(client, f"/admin/users/{coord.id}/reactivate")
    password = PASSWORD_RE.search(response.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    db_session.rollback()
    user = db_session.get(User, coord.id)
    assert user is not None and user.active and user.must_change_password
    assert login(worker, "coord", password).headers["Location"].endswith("/account")


def test_a_committee_resets_its_coordinators_password_not_others(client, people, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "comm")
    assert _post(client, f"/admin/users/{people.users['coordinator'].id}/reset-password").status_code == 200
    assert _post(client, f"/admin/users/{people.users['coord_b'].id}/reset-password").status_code == 404
    assert [e.object_id for e in _audits(db_session, "password_reset")] == [str(people.users["coordinator"].id)]


def test_cells_for_a_coordinator_many_at_once(client, people, db_session) -> None:  # type: ignore[no-untyped-def]
    coord, a1, a2, b1 = people.users["coordinator"], people.cells["A1"], people.cells["A2"], people.cells["B1"]
    login(client, "comm")
    page = client.get(f"/admin/users/{coord.id}/cells").get_data(as_text=True)
    assert a1.code in page and a2.code in page and b1.code not in page  # only its committee's
    data = client.get(f"/admin/users/{coord.id}/cells.json").get_json()
    assert {c["code"]: c["state"] for c in data["cells"]} == {a1.code: "mine", a2.code: "free"}
    response = client.post(f"/admin/users/{coord.id}/cells", data={
        "csrf_token": csrf_token(client, "/admin/users"), "cells": [str(a2.id)]})
    assert response.status_code == 302
    db_session.rollback()
    assert set(db_session.scalars(select(cell_coordinator.c.cell_id).where(cell_coordinator.c.user_id == coord.id))) == {a2.id}
    [entry] = _audits(db_session, "assign_cells")
    assert (entry.detail["added"], entry.detail["removed"]) == ([a2.code], [a1.code])
    # Another committee's cell is not the committee's to give.
    refused = client.post(f"/admin/users/{coord.id}/cells", data={
        "csrf_token": csrf_token(client, "/admin/users"), "cells": [str(b1.id)]})
    assert refused.status_code == 422


def test_a_cell_given_to_a_lead_is_taken_from_the_other(client, people, db_session) -> None:  # type: ignore[no-untyped-def]
    other = f.user(db_session, "lead2", "grid_lead", committee_id=people.committees["A"].id)
    db_session.commit()
    login(client, "centre")
    data = client.get(f"/admin/users/{other.id}/cells.json").get_json()
    assert {c["state"] for c in data["cells"]} == {"other"}  # both cells of A are led by `lead`
    client.post(f"/admin/users/{other.id}/cells", data={"csrf_token": csrf_token(client, "/admin/users"),
                                                         "cells": [str(people.cells["A2"].id)]})
    db_session.rollback()
    assert db_session.get(Cell, people.cells["A2"].id).grid_lead_id == other.id  # type: ignore[union-attr]
    assert db_session.get(Cell, people.cells["A1"].id).grid_lead_id == people.users["grid_lead"].id  # type: ignore[union-attr]
    assert _audits(db_session, "assign_cells")[0].detail["taken_from"] == {people.cells["A2"].code: "lead"}


def test_a_cells_people_from_its_own_page(client, people, db_session) -> None:  # type: ignore[no-untyped-def]
    a2 = people.cells["A2"]
    new = f.user(db_session, "xgnew", "coordinator", committee_id=people.committees["A"].id)
    db_session.commit()
    login(client, "comm")
    page = client.get(f"/cells/{a2.id}").get_data(as_text=True)
    assert f"/admin/cells/{a2.id}" in page  # the cell's page leads to who works it
    form = client.get(f"/admin/cells/{a2.id}").get_data(as_text=True)
    assert "xgnew" in form and "coordb" not in form  # another committee's coordinator is no choice
    response = client.post(f"/admin/cells/{a2.id}", data={"csrf_token": csrf_token(client, "/admin/users"), "lead": "",
                                                          "coordinators": [str(new.id), str(people.users["coordinator"].id)]})
    assert response.status_code == 302
    db_session.rollback()
    cell = db_session.get(Cell, a2.id)
    assert cell is not None and {u.username for u in cell.coordinators} == {"xgnew", "coord"} and cell.grid_lead_id is None
    assert "xgnew" in client.get(f"/cells/{a2.id}").get_data(as_text=True)


def test_the_service_refuses_what_the_pages_hide(db_session: Session, people) -> None:  # type: ignore[no-untyped-def]
    """The rules hold in the service, not only in the forms."""
    comm, coord_b = people.users["committee"], people.users["coord_b"]
    with pytest.raises(staff.StaffError):
        staff.set_cells(db_session, comm, coord_b, {people.cells["B1"].id})
    with pytest.raises(staff.StaffError):
        staff.set_cells(db_session, comm, people.users["coordinator"], {people.cells["B1"].id})
    with pytest.raises(staff.StaffError):
        staff.update(db_session, comm, people.users["coordinator"], display_name="x", role="centre",
                     committee_id=None, phone=None)
    with pytest.raises(staff.StaffError):
        staff.deactivate(db_session, comm, comm)


def test_cli_creates_a_committee_login(runner, people, db_session) -> None:  # type: ignore[no-untyped-def]
    code = people.committees["A"].code
    result = runner.invoke(args=["create-user", "jwnew", "--role", "committee", "--committee", code],
                           input="a-Long-enough-passphrase\na-Long-enough-passphrase\n")
    assert result.exit_code == 0, result.output
    db_session.rollback()
    assert db_session.scalar(select(User.committee_id).where(User.username == "jwnew")) == people.committees["A"].id
    refused = runner.invoke(args=["create-user", "jwbad", "--role", "committee"],
                            input="a-Long-enough-passphrase\na-Long-enough-passphrase\n")
    assert refused.exit_code != 0 and "committee" in refused.output


def test_the_coverage_maps_cell_panel_leads_admins_to_the_cells_people(client, people) -> None:  # type: ignore[no-untyped-def]
    login(client, "comm")
    assert 'data-href-template="/admin/cells/00000000-0000-0000-0000-000000000000"' in client.get("/coverage").get_data(as_text=True)
    coordinator = client.application.test_client()
    login(coordinator, "coord")
    assert "/admin/cells/" not in coordinator.get("/coverage").get_data(as_text=True)


@pytest.mark.parametrize("user_id", ["2147483648", "9223372036854775808", "0", "99999999999999999999999"])
@pytest.mark.parametrize(("method", "path"), [("GET", ""), ("GET", "/cells"), ("GET", "/cells.json"),
                                              ("GET", "/reset-password"), ("POST", "/deactivate"),
                                              ("POST", "/reactivate"), ("POST", "/reset-password")])
def test_an_id_past_the_column_is_not_found(client, people, method: str, path: str, user_id: str) -> None:  # type: ignore[no-untyped-def]
    # Past a 32-bit INTEGER the database refused the number (a 500 on PostgreSQL past 2^31,
    # on SQLite past 2^63): an id no row can have is simply not there.
    login(client, "centre")
    data = {"csrf_token": csrf_token(client, "/")} if method == "POST" else None
    assert client.open(f"/admin/users/{user_id}{path}", method=method, data=data).status_code == 404
