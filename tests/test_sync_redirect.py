"""A create the server merged into another record (`canonical_id`), heard late: the phone
moves what names its own id to the canonical one and drops its local copy; the registry's
record is the one it holds (or the pull brings), never its copy under the canonical id.

Found by tests/test_sync_property.py: a phone's residency create for someone already living
in that house (merged into the open residency), its answer lost; the residency ended
meanwhile, so the pull after the lost answer dropped it; the retried push answered
`already_applied` / `merged`, and the phone put its copy back under the canonical id: an
ended residency current again on the phone, which no later pull corrected.
"""
from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests import factories as f
from webapp.models import Conflict, Residency
from tests.conftest import valid_id
from tests.sync_client import Phone, direct, expand_page
from sync import devices
from sync.pull import pull

TABLES = ("house", "person", "residency")


def _phone(s: Session, cell: Any, name: str, protocol: int) -> Phone:
    user = f.user(s, f"{name}{uuid.uuid4().hex[:6]}", "coordinator")
    cell.coordinators.append(user)
    s.flush()
    device = devices.register(s, user, None, None).device
    s.commit()

    phone = Phone(direct(s, device, protocol), protocol=protocol)
    phone.device = device  # type: ignore[attr-defined]
    phone.pull()
    return phone


def _snapshot(s: Session, phone: Phone) -> dict[str, dict[str, Any]]:
    truth = expand_page(pull(s, phone.device, None, limit=100_000, protocol=2).to_wire(2))["changes"]  # type: ignore[attr-defined]
    s.commit()
    return {t: {r["id"]: r for r in truth.get(t, [])} for t in TABLES}


def _held(phone: Phone) -> dict[str, dict[str, Any]]:
    return {t: {rid: {k: row.get(k) for k in row} for rid, row in phone.rows.get(t, {}).items()} for t in TABLES}


def _assert_equal(s: Session, phone: Phone) -> None:
    truth = _snapshot(s, phone)
    held = _held(phone)
    for table in TABLES:
        assert set(held[table]) == set(truth[table]), table
        for rid, row in truth[table].items():
            assert {k: held[table][rid].get(k) for k in row} == row, (table, rid)


def _fresh_number() -> str:
    """A valid ID number no other test has (the database is shared by the session's tests)."""
    n = uuid.uuid4().int
    return valid_id(f"310117{1950 + n % 50}{1 + n // 50 % 12:02d}{1 + n // 600 % 28:02d}{n // 16800 % 1000:03d}")


@pytest.fixture
def world(db_session: Session) -> dict[str, Any]:
    s = db_session
    committee = f.committee(s)
    cell = f.cell(s, committee)
    house = f.house(s, cell)
    person = f.person(s, name="原住", id_number=_fresh_number())
    stay = f.residency(s, person, house, start_date=date(2020, 1, 1))
    s.commit()
    return {"cell": cell, "house": str(house.id), "person": str(person.id), "residency": str(stay.id)}


@pytest.mark.parametrize("protocol", [1, 2])
def test_a_merged_create_heard_late_does_not_revive_what_ended(db_session: Session, world: dict[str, Any],
                                                                protocol: int) -> None:
    s = db_session
    phone = _phone(s, world["cell"], "a", protocol)
    other = _phone(s, world["cell"], "b", protocol)
    # The same fact recorded again offline: merged into the open residency.
    mine = str(uuid.uuid4())
    phone.queue("residency", "create", mine, {"person_id": world["person"], "house_id": world["house"],
                                              "start_date": "2026-11-01"})
    phone.push(drop_response=True)  # applied, the answer lost
    # Meanwhile another phone records the move-out.
    other.queue("residency", "update", world["residency"], {"end_date": "2026-11-20", "end_reason": "搬走"})
    other.sync()
    assert not other.outbox and not other.failed
    phone.pull()  # the ended residency leaves the phone; its own create is still queued
    assert world["residency"] not in phone.rows.get("residency", {})
    outcomes = phone.push()  # the retry learns the merge
    status = [(o["status"], o.get("first_status"), o.get("canonical_id")) for o in outcomes]
    assert status == [("already_applied", "merged", world["residency"])]
    phone.pull()
    assert world["residency"] not in phone.rows.get("residency", {})
    assert mine not in phone.rows.get("residency", {})
    _assert_equal(s, phone)


@pytest.mark.parametrize("protocol", [1, 2])
def test_a_merged_create_leaves_the_canonical_record_as_the_registry_has_it(
        db_session: Session, world: dict[str, Any], protocol: int) -> None:
    """The canonical record unchanged since the phone's last pull: no pull brings it again, so
    the phone's copy must never replace it (the field app's redirect did)."""
    s = db_session
    phone = _phone(s, world["cell"], "a", protocol)
    mine = str(uuid.uuid4())
    phone.queue("residency", "create", mine, {"person_id": world["person"], "house_id": world["house"],
                                              "start_date": "2026-11-01", "relation": "tenant"})
    phone.push(drop_response=True)
    outcomes = phone.push()
    assert [(o.get("first_status"), o.get("canonical_id")) for o in outcomes] == [("merged", world["residency"])]
    phone.pull()
    held = phone.rows["residency"][world["residency"]]
    assert (held["start_date"], held["version"]) == ("2020-01-01", 1)
    _assert_equal(s, phone)


@pytest.mark.parametrize("protocol", [1, 2])
def test_an_edit_of_a_merged_copy_reaches_the_registrys_record(db_session: Session, world: dict[str, Any],
                                                                protocol: int) -> None:
    """The answer that said "merged" was lost, so the phone still holds its copy and edits it
    offline (the occupant moved out). The edit, sent with the retried create, ends the
    registry's residency: it is not an out_of_scope case for the centre."""
    s = db_session
    phone = _phone(s, world["cell"], "a", protocol)
    mine = str(uuid.uuid4())
    phone.queue("residency", "create", mine, {"person_id": world["person"], "house_id": world["house"],
                                              "start_date": "2026-11-01"})
    phone.push(drop_response=True)
    phone.queue("residency", "update", mine, {"end_date": "2026-11-20", "end_reason": "搬走"})
    outcomes = phone.push()
    # The edit was made on a copy the server never had (version 0): merged into the registry's.
    assert [(o["status"], o.get("first_status"), o.get("canonical_id")) for o in outcomes] == [
        ("already_applied", "merged", world["residency"]), ("merged", None, None)], outcomes
    s.expire_all()
    stay = s.get(Residency, uuid.UUID(world["residency"]))
    assert stay is not None and (str(stay.end_date), stay.end_reason) == ("2026-11-20", "搬走")
    assert s.query(Conflict).filter(Conflict.device_id == phone.device.id).count() == 0  # type: ignore[attr-defined]
    phone.pull()
    _assert_equal(s, phone)


@pytest.mark.parametrize("protocol", [1, 2])
def test_a_merged_create_sent_again_under_a_new_mutation_id_is_merged_again(
        db_session: Session, world: dict[str, Any], protocol: int) -> None:
    """A client that rebuilt its outbox (new mutation ids) sends the merged create again, with
    other values: the same answer as the first time, not an id_reused case for the centre."""
    s = db_session
    phone = _phone(s, world["cell"], "a", protocol)
    mine = str(uuid.uuid4())
    fields = {"person_id": world["person"], "house_id": world["house"], "start_date": "2026-11-01"}
    phone.queue("residency", "create", mine, fields)
    assert [o.get("canonical_id") for o in phone.push()] == [world["residency"]]
    phone.queue("residency", "create", mine, {**fields, "start_date": "2026-11-02"})
    outcomes = phone.push()
    assert [(o["status"], o.get("canonical_id")) for o in outcomes] == [("merged", world["residency"])]
    phone.pull()
    _assert_equal(s, phone)
