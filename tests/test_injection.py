"""SQL and script injection in every text field: stored verbatim, rendered inert.

Each case submits a payload through the real route (a form with its CSRF token, a sync push,
the phone registration, the command line), checks that the row holds exactly the text sent,
then fetches the pages that show it: the payload must appear escaped and never as markup.
`test_every_text_field_is_covered` derives the text fields from the models, so a new one
fails here until it has a case or an entry in an allow-list that says why none is needed.
Console forms of houses and persons and the sync of houses, persons, units and visits are in
tests/test_hostile_input.py.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy import String, select

from tests import factories as f
from tests.conftest import csrf_token, login

INJECTIONS = [
    '<script>alert("x")</script>',
    '"><img src=x onerror=alert(1)>',
    "x'); DROP TABLE person; --",
    "王' OR '1'='1",
    "{{ 7*7 }}<svg/onload=alert(1)>",
]
IDS = ["script", "attribute", "sql", "sql-or", "template"]


def assert_inert(html: str, value: str, shown: bool = True) -> None:
    """The stored value never appears as markup; where the page shows it, it is escaped."""
    if "<" in value:
        assert value not in html, f"raw markup rendered: {value!r}"
    if shown:
        assert str(escape(value)) in html, f"{value!r} not shown (escaped) on the page"


def _get(client, url: str) -> str:  # type: ignore[no-untyped-def]
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return r.get_data(as_text=True)  # type: ignore[no-any-return]


@pytest.fixture
def phone(client, area) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/devices", json={"username": "coord", "password": "pw", "label": "t"})
    assert r.status_code == 201
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


_SEQ = iter(range(1, 10**6))  # a phone never reuses a sequence number


def _push(client, phone, *mutations: dict[str, Any]) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    for m in mutations:
        m.setdefault("id", str(uuid.uuid4()))
        m.setdefault("seq", next(_SEQ))
        m.setdefault("record_id", str(uuid.uuid4()))
    r = client.post("/api/sync/push", json={"protocol": 1, "mutations": list(mutations)}, headers=phone)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return r.get_json()["outcomes"]  # type: ignore[no-any-return]


def _pulled(client, phone, kind: str, record_id: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    page = client.get("/api/sync/pull?protocol=1&limit=10000", headers=phone).get_json()
    return next(r for r in page["changes"][kind] if r["id"] == str(record_id))  # type: ignore[no-any-return]


# ---- the cases -------------------------------------------------------------------------

@pytest.mark.parametrize("payload", INJECTIONS, ids=IDS)
def test_public_task_text(client, app, area, db_session, payload: str) -> None:  # type: ignore[no-untyped-def]
    from webapp.models import Task

    from tests.plating import give_plate

    url = f"/h/{give_plate(db_session, area.houses['A1'])}"
    r = client.post(url, data={"csrf_token": csrf_token(client, url), "kind": "problem", "text": payload})
    assert r.status_code == 303, r.get_data(as_text=True)[:300]
    db_session.rollback()
    task = db_session.scalar(select(Task).where(Task.source == "public"))
    assert task.text == payload
    assert_inert(_get(client, url), payload, shown=False)  # the public page never shows tasks
    login(client, "centre")
    assert_inert(_get(client, "/tasks"), payload)
    assert_inert(_get(client, f"/houses/{area.houses['A1'].id}"), payload)


@pytest.mark.parametrize("payload", INJECTIONS, ids=IDS)
def test_community_report_text(client, area, db_session, payload: str) -> None:  # type: ignore[no-untyped-def]
    from webapp.models import Task

    f.user(db_session, "rep", "reporter", committee_id=area.committees["A"].id)
    db_session.commit()
    login(client, "rep")
    url = f"/community/houses/{area.houses['A1'].id}/report"
    r = client.post(url, data={"csrf_token": csrf_token(client, url), "kind": "problem",
                               "reporting_as": "volunteer", "text": payload})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    db_session.rollback()
    assert db_session.scalar(select(Task.text).where(Task.source == "volunteer")) == payload
    assert_inert(_get(client, "/community"), payload)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/community")})
    login(client, "centre")
    assert_inert(_get(client, "/tasks"), payload)


@pytest.mark.parametrize("payload", INJECTIONS, ids=IDS)
def test_task_outcome_from_a_phone_and_the_console(client, area, db_session, phone, payload: str) -> None:  # type: ignore[no-untyped-def]
    from webapp.models import Task
    from webapp.registry.tasks import create_task

    house = area.houses["A1"]
    first, second = (create_task(db_session, house, "moved_in", "线索") for _ in range(2))
    db_session.commit()
    visit_id = str(uuid.uuid4())
    outcomes = _push(client, phone,
                     {"type": "visit", "op": "create", "record_id": visit_id,
                      "fields": {"house_id": str(house.id), "visited_at": "2026-11-26T08:00:00Z", "outcome": "verified"}},
                     {"type": "task", "op": "update", "record_id": str(first.id), "base_version": first.version,
                      "fields": {"status": "done", "outcome": payload, "result": "no_change",
                                 "closed_at": "2026-11-26T08:00:00Z", "closed_visit_id": visit_id}})
    assert [o["status"] for o in outcomes] == ["applied", "applied"], outcomes
    login(client, "centre")
    r = client.post(f"/tasks/{second.id}/close", data={"csrf_token": csrf_token(client, "/"), "version": str(second.version),
                                                      "status": "done", "outcome": payload, "result": "no_change"})
    assert r.status_code == 302
    db_session.rollback()
    assert [db_session.get(Task, t.id).outcome for t in (first, second)] == [payload, payload]
    html = _get(client, "/tasks?status=done")
    assert_inert(html, payload)
    assert_inert(_get(client, f"/houses/{house.id}"), payload, shown=False)


@pytest.mark.parametrize("payload", INJECTIONS, ids=IDS)
def test_house_flag_note_unit_name_and_contacts(client, area, db_session, phone, payload: str) -> None:  # type: ignore[no-untyped-def]
    """Shown on the phones (pulled back verbatim as JSON); the console's house page must stay inert."""
    from webapp.models import HouseFlag, Unit

    house = area.houses["A1"]
    flag_id, unit_id = uuid.uuid4(), uuid.uuid4()
    contacts = [{"name": payload, "phone": "13900001111", "role": payload}]
    outcomes = _push(client, phone,
                     {"type": "house_flag", "op": "create", "record_id": str(flag_id),
                      "fields": {"house_id": str(house.id), "kind": "group_rent", "note": payload}},
                     {"type": "unit", "op": "create", "record_id": str(unit_id),
                      "fields": {"house_id": str(house.id), "name": payload, "kind": "enterprise", "contacts": contacts}})
    assert [o["status"] for o in outcomes] == ["applied", "applied"], outcomes
    db_session.rollback()
    assert db_session.get(HouseFlag, flag_id).note == payload
    unit = db_session.get(Unit, unit_id)
    assert (unit.name, unit.contacts) == (payload, contacts)
    assert _pulled(client, phone, "house_flag", flag_id)["note"] == payload
    pulled = _pulled(client, phone, "unit", unit_id)
    # A unit's contacts stay on the server (no phone screen shows them: privacy.NOT_ON_PHONES).
    assert pulled["name"] == payload and "contacts" not in pulled
    login(client, "centre")
    assert_inert(_get(client, f"/houses/{house.id}"), payload, shown=False)


@pytest.mark.parametrize("payload", INJECTIONS, ids=IDS)
def test_residency_end_reason(client, area, db_session, phone, payload: str) -> None:  # type: ignore[no-untyped-def]
    from webapp.models import Residency

    person, house = area.persons["A1"], area.houses["A1"]
    residency_id = uuid.uuid4()
    outcomes = _push(client, phone, {"type": "residency", "op": "create", "record_id": str(residency_id), "fields": {
        "person_id": str(person.id), "house_id": str(house.id), "relation": "tenant", "start_date": "2025-01-01",
        "end_date": "2026-01-01", "end_reason": payload}})
    assert outcomes[0]["status"] == "applied", outcomes
    db_session.rollback()
    assert db_session.get(Residency, residency_id).end_reason == payload
    login(client, "centre")
    assert_inert(_get(client, f"/houses/{house.id}"), payload)
    assert_inert(_get(client, f"/persons/{person.id}"), payload, shown=False)


@pytest.mark.parametrize("payload", INJECTIONS, ids=IDS)
def test_conflict_resolution_typed_value(client, area, db_session, payload: str) -> None:  # type: ignore[no-untyped-def]
    from tests.phones import Phone
    from webapp.models import House

    house = area.houses["A1"]
    house.note = "中心改过"
    db_session.commit()
    conflict_id = Phone(db_session, area.users["coordinator"]).conflict(
        "house", "update", house.id, base_version=1, fields={"note": payload}, base={"note": None})
    login(client, "centre")
    assert_inert(_get(client, f"/conflicts/{conflict_id}"), payload)  # the device's value, in dispute
    db_session.rollback()
    version = db_session.get(House, house.id).version
    r = client.post(f"/conflicts/{conflict_id}/resolve", data={
        "csrf_token": csrf_token(client, "/"), "version": str(version), "choice__note": "edit", "value__note": payload})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    db_session.rollback()
    assert db_session.get(House, house.id).note == payload
    assert_inert(_get(client, f"/houses/{house.id}/edit"), payload)  # the house page does not show notes
    assert_inert(_get(client, f"/houses/{house.id}"), payload, shown=False)
    assert_inert(_get(client, f"/conflicts/{conflict_id}"), payload, shown=False)


@pytest.mark.parametrize("payload", INJECTIONS, ids=IDS)
def test_committee_and_cell_names_from_geojson(runner, client, area, db_session, tmp_path, payload: str) -> None:  # type: ignore[no-untyped-def]
    from webapp.models import Cell, Committee

    code = payload[:20]
    ring = [[121.30, 31.10], [121.31, 31.10], [121.31, 31.11], [121.30, 31.11], [121.30, 31.10]]
    document = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"code": code, "name": payload[:64], "committee_code": code, "committee_name": payload[:64]}}]}
    path = tmp_path / "cells.geojson"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["cells", "import", str(path), "--no-assign"])
    assert result.exit_code == 0, result.output
    db_session.rollback()
    cell = db_session.scalar(select(Cell).where(Cell.code == code))
    committee = db_session.scalar(select(Committee).where(Committee.code == code))
    assert (cell.name, committee.name) == (payload[:64], payload[:64])
    login(client, "centre")
    for page, value in (("/", payload[:64]), (f"/cells/{cell.id}", payload[:64]), (f"/cells/{cell.id}", code),
                        ("/coverage", payload[:64]), ("/reports/grading", payload[:64])):
        assert_inert(_get(client, page), value)


@pytest.mark.parametrize("payload", INJECTIONS, ids=IDS)
def test_user_display_name_and_device_label(runner, client, area, db_session, payload: str) -> None:  # type: ignore[no-untyped-def]
    from webapp.models import Device, User

    name = payload[:64]
    result = runner.invoke(args=["create-user", "evil", "--role", "coordinator", "--name", name,
                                 "--password", "evil-but-long-enough"])
    assert result.exit_code == 0, result.output
    db_session.rollback()
    user = db_session.scalar(select(User).where(User.username == "evil"))
    assert user.display_name == name
    area.cells["A1"].coordinators.append(user)
    db_session.commit()
    r = client.post("/api/devices", json={"username": "evil", "password": "evil-but-long-enough", "label": payload})
    assert r.status_code == 201
    db_session.rollback()
    assert db_session.scalar(select(Device.label).where(Device.user_id == user.id)) == payload
    login(client, "evil", "evil-but-long-enough")
    assert_inert(_get(client, "/"), name)  # the page header names the user
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "centre")
    html = _get(client, "/devices")
    assert_inert(html, name)
    assert_inert(html, payload)
    assert_inert(_get(client, "/tasks"), name)  # in the assignee choices


@pytest.mark.parametrize("payload", INJECTIONS, ids=IDS)
def test_residence_check_note(client, area, db_session, payload: str) -> None:  # type: ignore[no-untyped-def]
    from webapp.models import ResidenceCheck

    house = area.houses["A1"]
    login(client, "centre")
    r = client.post(f"/reports/houses/{house.id}/residence-check",
                    data={"csrf_token": csrf_token(client, "/"), "result": "stable", "note": payload})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    db_session.rollback()
    assert db_session.scalar(select(ResidenceCheck.note).where(ResidenceCheck.house_id == house.id)) == payload
    assert_inert(_get(client, f"/houses/{house.id}"), payload)


@pytest.mark.parametrize("payload", INJECTIONS, ids=IDS)
def test_review_return_reason(client, area, db_session, payload: str) -> None:  # type: ignore[no-untyped-def]
    from webapp.models import Review

    person, house = area.persons["A1"], area.houses["A1"]
    review = Review(house_id=house.id, cell_id=house.cell_id, residency_id=person.residencies[0].id,
                    person_id=person.id, kind="registration", status="pending",
                    submitted_by_id=area.users["coordinator"].id)
    db_session.add(review)
    db_session.commit()
    login(client, "lead")
    r = client.post(f"/reviews/{review.id}/return", data={"csrf_token": csrf_token(client, "/reviews"),
                                                          "version": str(review.version), "reason": payload})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    db_session.rollback()
    assert db_session.get(Review, review.id).reason == payload
    for page in ("/reviews?status=returned", f"/houses/{house.id}"):
        assert_inert(_get(client, page), payload)
    assert_inert(_get(client, f"/persons/{person.id}"), payload, shown=False)


@pytest.mark.parametrize("payload", INJECTIONS, ids=IDS)
def test_campaign_name_and_note(client, area, db_session, payload: str) -> None:  # type: ignore[no-untyped-def]
    from webapp.models import Campaign

    login(client, "centre")
    r = client.post("/campaigns/new", data={
        "csrf_token": csrf_token(client, "/campaigns/new"), "name": payload, "note": payload,
        "starts_on": "2026-01-01", "due_on": "2030-01-01", "area_kind": "cells", "cells": str(area.cells["A1"].id)})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    db_session.rollback()
    campaign = db_session.scalar(select(Campaign))
    assert (campaign.name, campaign.note) == (payload, payload)
    assert_inert(_get(client, "/campaigns"), payload)
    assert_inert(_get(client, f"/campaigns/{campaign.id}"), payload)
    logout = {"csrf_token": csrf_token(client, "/")}
    client.post("/logout", data=logout)
    login(client, "coord")
    assert_inert(_get(client, "/campaigns"), payload)


# ---- enumerations: an injected value is refused, never stored ------------------------------

def test_enumerated_fields_refuse_injected_values(client, area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    """Short payloads (within the column) so the refusal is the closed list's, not the length's."""
    from sync.validate import ENUM_FIELDS, REQUIRED_ON_CREATE
    from webapp.models import Review
    from webapp.registry.tasks import create_task

    person, house = area.persons["A1"], area.houses["A1"]
    existing = {"house": house.id, "task": create_task(db_session, house, "moved_in", "线索").id}
    review = Review(house_id=house.id, cell_id=house.cell_id, residency_id=person.residencies[0].id,
                    person_id=person.id, kind="registration", status="pending")
    db_session.add(review)
    db_session.commit()
    existing["review"] = review.id
    required = {"house_id": str(house.id), "person_id": str(person.id), "code": "ZZ-INJECT-1", "name": "x",
                "id_number": person.id_number, "start_date": "2026-01-01", "visited_at": "2026-11-26T08:00:00Z"}
    for kind, field in ENUM_FIELDS:
        editing = kind in existing
        fields = {} if editing else {n: required[n] for n in REQUIRED_ON_CREATE.get(kind, ()) if n != field}
        for payload in ("<i>x</i>", "'OR 1=1"):
            mutation = {"type": kind, "op": "update" if editing else "create",
                        "record_id": str(existing.get(kind) or uuid.uuid4()), "fields": {**fields, field: payload}}
            if editing:
                mutation["base_version"] = 1
            outcome = _push(client, phone, mutation)[0]
            assert outcome["status"] == "rejected", (kind, field, outcome)
            assert [e["code"] for e in outcome["errors"] if e["field"] == field] == ["field.choice"], (kind, outcome)


# ---- every text field has a case -----------------------------------------------------------

# (Model, column) → the test that puts a payload in it.
COVERED: dict[tuple[str, str], str] = {
    **{("House", c): "test_hostile_input.py::test_injection_in_console_forms"
       for c in ("road", "number", "building", "unit", "room", "note")},
    **{("Person", c): "test_hostile_input.py::test_injection_in_console_forms"
       for c in ("name", "hukou_address", "permit_number", "note")},
    ("Visit", "note"): "test_hostile_input.py::test_injection_through_sync",
    ("Room", "name"): "test_hostile_input.py::test_injection_through_sync",
    **{("Person", c): "test_hostile_input.py::test_injection_through_sync"
       for c in ("hukou_road", "hukou_number", "hukou_building", "hukou_room")},
    ("Task", "text"): "test_public_task_text test_community_report_text",
    ("Task", "outcome"): "test_task_outcome_from_a_phone_and_the_console",
    ("HouseFlag", "note"): "test_house_flag_note_unit_name_and_contacts",
    ("Unit", "name"): "test_house_flag_note_unit_name_and_contacts",
    ("Residency", "end_reason"): "test_residency_end_reason",
    ("Cell", "code"): "test_committee_and_cell_names_from_geojson",
    ("Cell", "name"): "test_committee_and_cell_names_from_geojson",
    ("Committee", "code"): "test_committee_and_cell_names_from_geojson",
    ("Committee", "name"): "test_committee_and_cell_names_from_geojson",
    ("User", "display_name"): "test_user_display_name_and_device_label",
    ("Device", "label"): "test_user_display_name_and_device_label",
    ("ResidenceCheck", "note"): "test_residence_check_note",
    ("Review", "reason"): "test_review_return_reason",
    ("Campaign", "name"): "test_campaign_name_and_note",
    ("Campaign", "note"): "test_campaign_name_and_note",
}
# Closed lists: a phone's value outside the enumeration is a field rejection
# (test_enumerated_fields_refuse_injected_values); forms offer them as radio choices.
ENUMERATED = {
    ("House", "use"), ("HouseFlag", "kind"), ("HouseCode", "kind"), ("Person", "category"), ("Person", "id_type"),
    ("Residency", "relation"), ("Visit", "outcome"), ("Unit", "kind"), ("Task", "status"), ("Task", "result"),
    ("Task", "kind"), ("Review", "status"), ("Review", "kind"), ("HouseEvent", "kind"),
    ("Person", "phone_status"), ("Room", "kind"), ("ResidenceCheck", "basis"),
}
# Text that is not free text, with why no injection case is needed.
NOT_FREE_TEXT = {
    ("Person", "id_number"): "parsed as a GB 11643 ID or a document number of its type; anything else is refused",
    ("Person", "id_rev"): "the server's reversed copy of id_number, for suffix search",
    ("Person", "phone"): "parsed as a phone number; anything else is refused",
    ("Person", "phone_rev"): "the server's reversed copy of phone, for suffix search",
    ("Person", "sex"): "derived by the server from the ID number",
    ("Person", "hukou_region"): "a current GB/T 2260 county code (parse_region); anything else is refused",
    ("Person", "landline"): "parsed as a fixed-line number (parse_landline); anything else is refused",
    **{(m, c): "a key the server computes from the address parts (address_keys.py), never shown"
       for m, c in (("Person", "hukou_key"), ("Person", "hukou_room_key"), ("House", "address_key"),
                    ("House", "room_key"))},
    ("ResidenceCheck", "certificate_no"): "made by the server (residence_decisions.py), digits and a prefix",
    ("ResidenceCheck", "check_code"): "made by the server from the certificate (residence_decisions.py)",
    ("HouseCode", "code"): "parsed as a plate code (webapp.validation.parse_house_code); anything else is refused",
    ("Unit", "uscc"): "a unified social credit code, checked with its check character",
    ("Task", "contact_phone"): "parsed as a mainland mobile number by the task form; anything else is refused",
    ("Task", "source"): "set by the server from the route (public, reporter roles, generators)",
    ("Task", "client_ip_hash"): "a keyed hash computed by the server",
    ("Task", "origin_key"): "a generator's key made by the server, never sent to phones",
    ("Residency", "source"): "set by the server (phone, console, import)",
    ("User", "username"): "chosen by the centre at the command line; a login name, shown next to display_name",
    ("User", "password_hash"): "a scrypt hash, never shown",
    ("User", "role"): "a closed list (click.Choice of Role)",
    ("User", "locale"): "a closed list (zh_CN, en)",
    ("User", "phone"): "not set by any route yet",
    ("Device", "token_hash"): "SHA-256 of the token, never shown",
    ("Device", "app_version"): "a phone's version string, cut to 32 characters and shown nowhere in the console",
    ("ResidenceCheck", "result"): "a closed list (radio field)",
    ("Review", "person_name"): "the server's copy of Person.name (covered) when the review is made; no route writes it",
}
# Not yet covered: each needs a case (listed in RELIABILITY.md "Not yet covered").
NOT_YET: dict[tuple[str, str], str] = {
    ("Unit", "external_code"): "written by the extract import only; shown on the unit page",
}
# Non-synced models with free text people type, checked like the synced ones.
ALSO = ("User", "Device", "ResidenceCheck", "Campaign")


def _text_fields() -> set[tuple[str, str]]:
    from webapp.models import Base
    from webapp.models.base import Synced

    fields = set()
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if issubclass(cls, Synced) or cls.__name__ in ALSO:
            fields |= {(cls.__name__, c.key) for c in mapper.columns if isinstance(c.type, String)}
    return fields


def test_every_text_field_is_covered() -> None:
    from tests import test_hostile_input

    fields = _text_fields()
    accounted = COVERED.keys() | ENUMERATED | NOT_FREE_TEXT.keys() | NOT_YET.keys()
    assert fields - accounted == set(), "text fields without an injection case or a reason"
    assert accounted - fields == set(), "listed fields that no longer exist"
    for where in COVERED.values():
        for name in where.split():
            module, _, test = name.rpartition("::")
            assert hasattr(test_hostile_input, test) if module else test in globals(), name


def test_enumerated_list_matches_the_sync_rules() -> None:
    """Every enumerated field a phone may write is in ENUMERATED (and so refused above)."""
    from sync.validate import ENUM_FIELDS
    from sync.wire import RECORD_TYPES

    assert {(RECORD_TYPES[k].model.__name__, c) for k, c in ENUM_FIELDS} <= ENUMERATED
