"""Rescue import when the phone's user changed after the work was typed: a coordinator made
police or a reporter, a committee or grid lead, moved to other cells, deactivated. The file is
judged by the user as they are now (sync/rescue.py), and nothing typed is lost: what the user
may not write now waits for the centre as a conflict, kept whole."""
from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.assign import CellFinder
from sync import devices, rescue, resolve
from tests.conftest import csrf_token, login, valid_id
from tests.phones import Phone
from webapp.models import Conflict, Person, Residency, SyncMutation, Visit
from webapp.oversight import accounts, staff

NEWCOMER_ID = valid_id("31011719920202345")  # nobody in the area holds it
CORRECTED_ID = valid_id("31011719800303456")


def _file(phone: Phone, *mutations: dict[str, Any]) -> rescue.RescueFile:
    return rescue.read_file(json.dumps({"device_id": str(phone.device.id), "protocol": 1,
                                        "mutations": list(mutations)}).encode())


def _typed(area, phone: Phone) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A coordinator's day in cell A1: a visit, a changed phone number, a newcomer moved in."""
    house, person, newcomer = area.houses["A1"], area.persons["A1"], uuid.uuid4()
    return [
        phone.mutation("visit", "create", fields={"house_id": str(house.id), "visited_at": "2026-11-26T08:00:00Z",
                                                  "outcome": "verified"}),
        phone.mutation("person", "update", person.id, base_version=person.version,
                       fields={"phone": "13900001111"}, base={"phone": "13812345678"}),
        phone.mutation("person", "create", newcomer, fields={"name": "李四", "id_type": "resident",
                                                             "id_number": NEWCOMER_ID}),
        phone.mutation("residency", "create", fields={"person_id": str(newcomer), "house_id": str(house.id),
                                                      "relation": "tenant", "start_date": "2026-11-01"}),
    ]


def _count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _make(session: Session, area, role: str, committee: str | None = None) -> None:  # type: ignore[no-untyped-def]
    coord, centre = area.users["coordinator"], area.users["centre"]
    staff.update(session, centre, coord, display_name=coord.display_name, role=role,
                 committee_id=area.committees[committee].id if committee else None, phone=None)
    session.commit()


@pytest.fixture
def phone(area, db_session: Session) -> Phone:  # type: ignore[no-untyped-def]
    return Phone(db_session, area.users["coordinator"], "Redmi A")


@pytest.mark.parametrize(("role", "committee"), [("police", None), ("reporter", "A")])
def test_work_of_a_user_made_read_only_waits_for_the_centre_whole(area, db_session, phone, role,
                                                                   committee) -> None:  # type: ignore[no-untyped-def]
    # Was: every mutation `rejected` with role.read_only, which keeps only a receipt; the phone
    # wipes after handing the file over, so the day's work was gone.
    typed = _typed(area, phone)
    _make(db_session, area, role, committee)
    visits, persons = _count(db_session, Visit), _count(db_session, Person)
    result = rescue.import_file(db_session, _file(phone, *typed), CellFinder(db_session))
    db_session.commit()
    assert [o.status for o in result.outcomes] == ["conflict"] * 4, [o.errors for o in result.outcomes]
    held = [db_session.get(Conflict, o.conflict_id) for o in result.outcomes]
    assert all(c is not None and c.kind == "out_of_scope" for c in held)
    assert [c.device_values for c in held if c is not None] == [m["fields"] for m in typed]  # kept whole
    # The centre's to decide, nothing written under a read-only role.
    assert all(c is not None and c.resolved_at is None and c.detail.get("held") == "role_read_only" for c in held)
    assert (_count(db_session, Visit), _count(db_session, Person)) == (visits, persons)
    assert phone.device.last_seq == 4 and phone.device.pending == 0
    # Idempotent as a push: again (even as a coordinator again) nothing twice, the first answer told.
    _make(db_session, area, "coordinator", "A")
    again = rescue.import_file(db_session, _file(phone, *typed), CellFinder(db_session))
    db_session.commit()
    assert [(o.status, o.first_status) for o in again.outcomes] == [("already_applied", "conflict")] * 4
    assert [o.conflict_id for o in again.outcomes] == [o.conflict_id for o in result.outcomes]
    assert _count(db_session, Conflict) == 4 and _count(db_session, SyncMutation) == 4
    # The centre takes the visit as typed: it is written then.
    case = resolve.open_case(db_session, held[0])
    resolve.resolve(db_session, case, {name: resolve.Decision("take") for name in typed[0]["fields"]},
                    area.users["centre"].id, expected_version=None)
    db_session.commit()
    assert _count(db_session, Visit) == visits + 1


def test_a_read_only_users_unreadable_mutation_is_still_refused(area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    good, bad = _typed(area, phone)[0], phone.mutation("person", "update", uuid.uuid4(), base_version=1,
                                                       fields={"sex": "F"})
    _make(db_session, area, "police")
    result = rescue.import_file(db_session, _file(phone, good, bad), CellFinder(db_session))
    db_session.commit()
    assert [o.status for o in result.outcomes] == ["conflict", "rejected"]
    assert "field.not_writable" in [e["code"] for e in result.outcomes[1].errors]  # the push's own answer


@pytest.mark.parametrize("role", ["committee", "grid_lead"])
def test_a_user_who_now_sees_numbers_masked_keeps_the_numbers_they_typed(area, db_session, phone,
                                                                          role: str) -> None:  # type: ignore[no-untyped-def]
    person = area.persons["A1"]
    at_version = phone.mutation("person", "update", person.id, base_version=person.version,
                                fields={"phone": "13900001111"}, base={"phone": "13812345678"})
    behind = phone.mutation("person", "update", person.id, base_version=person.version,
                            fields={"id_number": CORRECTED_ID}, base={"id_number": "11010519491231002X"})
    _make(db_session, area, role, "A")
    if role == "grid_lead":
        staff.set_cells(db_session, area.users["centre"], area.users["coordinator"], {area.cells["A1"].id})
        db_session.commit()
    result = rescue.import_file(db_session, _file(phone, at_version, behind), CellFinder(db_session))
    db_session.commit()
    # At the version it started from the change is taken; behind it (the first one moved the
    # version) a number the role sees masked is never compared: the centre decides, values whole.
    assert [o.status for o in result.outcomes] == ["applied", "conflict"]
    conflict = db_session.get(Conflict, result.outcomes[1].conflict_id)
    assert conflict is not None and conflict.kind == "field"
    assert conflict.device_values == {"id_number": CORRECTED_ID}
    db_session.refresh(person)
    assert person.phone == "13900001111"


def test_a_user_moved_to_other_cells_keeps_the_work_as_out_of_scope_conflicts(area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    typed = _typed(area, phone)
    staff.set_cells(db_session, area.users["centre"], area.users["coordinator"], {area.cells["B1"].id})
    db_session.commit()
    result = rescue.import_file(db_session, _file(phone, *typed), CellFinder(db_session))
    db_session.commit()
    # The newcomer lives nowhere yet (a person is judged by their residency): written; the rest waits.
    assert [o.status for o in result.outcomes] == ["conflict", "conflict", "applied", "conflict"]
    held = {o.seq: db_session.get(Conflict, o.conflict_id) for o in result.outcomes if o.conflict_id}
    for seq, conflict in held.items():
        assert conflict is not None and conflict.kind == "out_of_scope"
        assert conflict.device_values == typed[seq - 1]["fields"]
        assert conflict.cell_id == area.cells["A1"].id  # A1's committee sees it in its queue
    assert _count(db_session, Residency) == 4  # the area's four, the newcomer's waits


@pytest.mark.parametrize("how", ["revoked", "deactivated"])
def test_a_revoked_device_or_a_deactivated_users_work_is_written(area, db_session, phone, how: str) -> None:  # type: ignore[no-untyped-def]
    typed = _typed(area, phone)
    if how == "revoked":
        devices.revoke(db_session, phone.device, area.users["centre"].id)
    else:
        accounts.deactivate(db_session, area.users["coordinator"], area.users["centre"].id)
    db_session.commit()
    assert phone.device.revoked_at is not None
    result = rescue.import_file(db_session, _file(phone, *typed), CellFinder(db_session))
    db_session.commit()
    assert result.counts() == {"applied": 4}


def _upload(client, body: bytes):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/devices/rescue")
    return client.post("/devices/rescue", data={"csrf_token": token, "file": (io.BytesIO(body), "outbox.json")},
                       content_type="multipart/form-data")


@pytest.mark.parametrize(("lang", "words"), [
    ("zh", ["已写入登记", "已完整保留，待中心处理（冲突）", "被拒绝：未写入，所填内容未保留", "此前已导入：已写入登记"]),
    ("en", ["Written to the register", "Kept whole for the centre to decide (conflict)",
            "Refused: not written, and what was typed is not kept", "Imported before: Written to the register"]),
])
def test_the_import_page_says_what_became_of_each_change(client, area, db_session, phone, lang: str,
                                                        words: list[str]) -> None:  # type: ignore[no-untyped-def]
    # Was: the bare protocol words (applied, conflict, rejected), in English on a Chinese page.
    person = area.persons["A1"]
    typed = _typed(area, phone)[:2] + [
        phone.mutation("person", "update", person.id, base_version=0, fields={"phone": "13700001111"},
                       base={"phone": "13812345678"}),
        phone.mutation("person", "update", uuid.uuid4(), base_version=1, fields={"sex": "F"})]
    body = json.dumps({"device_id": str(phone.device.id), "protocol": 1, "mutations": typed}).encode()
    login(client, "centre")
    client.set_cookie("lang", "zh_CN" if lang == "zh" else "en")
    first = _upload(client, body).get_data(as_text=True)
    for word in words[:3]:
        assert word in first, word
    assert words[3] in _upload(client, body).get_data(as_text=True)
