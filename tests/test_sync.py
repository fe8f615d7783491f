"""Sync services: push outcomes, merge, moves, duplicates, scope, and pull in commit order."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import valid_id
from sync import devices
from sync.batch import parse_batch
from sync.pull import pull
from sync.push import apply_batch
from sync.wire import PULLED_MODELS, public_columns, row_to_wire
from webapp.models import Conflict, Person, Residency, SyncMutation, Task, Visit
from geo.assign import CellFinder

NOW = "2026-11-26T08:00:00Z"


@pytest.fixture
def field(db_session: Session) -> SimpleNamespace:
    """Cell A (the coordinator's) with houses a1, a2; cell B (someone else's) with b1; a person
    living in a1; a registered device."""
    s = db_session
    committee = f.committee(s)
    cell_a, cell_b = f.cell(s, committee), f.cell(s, committee)
    coord = f.user(s, "xg", "coordinator")
    cell_a.coordinators.append(coord)
    a1, a2, b1 = f.house(s, cell_a), f.house(s, cell_a), f.house(s, cell_b)
    person = f.person(s, name="王五", id_number=valid_id("31011719800101123"), phone="13800001111")
    f.residency(s, person, a1, start_date=date(2024, 3, 1))
    reg = devices.register(s, coord, "test phone", "0.1")
    s.commit()
    return SimpleNamespace(s=s, a1=a1, a2=a2, b1=b1, person=person, device=reg.device, token=reg.token,
                           cell_a=cell_a, cell_b=cell_b, coord=coord, seq=iter(range(1, 10_000)))


def mutation(field: SimpleNamespace, kind: str, op: str, record_id: Any = None, **extra: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "seq": next(field.seq), "type": kind, "op": op,
            "record_id": str(record_id or uuid.uuid4()), "at": NOW, **extra}


def push(field: SimpleNamespace, *mutations: dict[str, Any]) -> list[dict[str, Any]]:
    batch = parse_batch({"protocol": 1, "app_version": "0.1", "clock": NOW, "mutations": list(mutations)})
    result = apply_batch(field.s, field.device, batch, locate=CellFinder(field.s))
    field.s.commit()
    return [o.to_wire() for o in result.outcomes]


def new_person(field: SimpleNamespace, first17: str, name: str = "赵六", **fields: Any) -> dict[str, Any]:
    return mutation(field, "person", "create", fields={"name": name, "id_number": valid_id(first17),
                                                      "category": "migrant", **fields})


def test_new_occupant_with_residency_and_visit(field: SimpleNamespace) -> None:
    p = new_person(field, "42010119950505123")
    r = mutation(field, "residency", "create", fields={"person_id": p["record_id"], "house_id": str(field.a2.id),
                                                       "start_date": "2026-11-20", "relation": "tenant"})
    v = mutation(field, "visit", "create", fields={"house_id": str(field.a2.id), "visited_at": NOW,
                                                   "outcome": "verified", "plate_scanned": True})
    outcomes = push(field, p, r, v)
    assert [o["status"] for o in outcomes] == ["applied", "applied", "applied"]
    person = field.s.get(Person, uuid.UUID(p["record_id"]))
    assert person is not None and person.sex == "M" and person.birth_date == date(1995, 5, 5)
    assert person.id_rev == person.id_number[::-1] and person.seq is not None  # type: ignore[index]
    assert field.device.last_seq == v["seq"]
    # A retried batch applies nothing twice.
    again = push(field, p, r, v)
    assert [(o["status"], o["first_status"]) for o in again] == [("already_applied", "applied")] * 3
    assert field.s.scalar(select(func.count()).select_from(Visit)) == 1
    assert field.s.scalar(select(func.count()).select_from(SyncMutation)) == 3


def test_rejected_creation_blocks_its_dependants_but_not_the_queue(field: SimpleNamespace) -> None:
    bad = mutation(field, "person", "create", fields={"name": "坏", "id_number": "110105194912310021"})
    dependant = mutation(field, "residency", "create", fields={
        "person_id": bad["record_id"], "house_id": str(field.a1.id), "start_date": "2026-11-01"})
    visit = mutation(field, "visit", "create", fields={"house_id": str(field.a1.id), "visited_at": NOW,
                                                       "outcome": "no_answer"})
    outcomes = push(field, bad, dependant, visit)
    assert [o["status"] for o in outcomes] == ["rejected", "blocked", "applied"]
    assert outcomes[0]["errors"][0]["code"] == "id.check" and outcomes[0]["errors"][0]["field"] == "id_number"
    assert outcomes[1]["blocked_by"] == bad["id"]
    # A lost response: resending tells the phone what happened the first time.
    again = push(field, bad, dependant)
    assert [(o["status"], o["first_status"]) for o in again] == [("already_applied", "rejected"),
                                                                  ("already_applied", "blocked")]
    assert again[0]["errors"][0]["code"] == "id.check" and again[1]["blocked_by"] == bad["id"]
    # Resent later, the dependant is still blocked by the stored rejection of its person.
    retry = mutation(field, "residency", "create", fields={
        "person_id": bad["record_id"], "house_id": str(field.a1.id), "start_date": "2026-11-01"})
    assert [(o["status"], o.get("blocked_by")) for o in push(field, retry)] == [("blocked", bad["id"])]
    # Fixed and resent together (new mutation ids, the same record ids): both go through.
    fixed = mutation(field, "person", "create", bad["record_id"], fields={"name": "坏", "id_number": "11010519491231002X"})
    again = mutation(field, "residency", "create", retry["record_id"], fields=retry["fields"])
    assert [o["status"] for o in push(field, fixed, again)] == ["applied", "applied"]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"name": "x", "id_number": "11010519491231002X", "secret": 1}, "field.not_writable"),
        ({"name": "x"}, "field.required"),
        ({"name": "x", "id_number": "11010519491231002X", "category": "alien"}, "field.choice"),
        ({"name": "x", "id_number": "11010519491231002X", "phone": "12345"}, "phone.format"),
        ({"name": "x" * 100, "id_number": "11010519491231002X"}, "field.too_long"),
    ],
)
def test_field_errors_are_named(field: SimpleNamespace, fields: dict[str, Any], code: str) -> None:
    outcome = push(field, mutation(field, "person", "create", fields=fields))[0]
    assert outcome["status"] == "rejected"
    assert code in {e["code"] for e in outcome["errors"]}


def test_edits_merge_field_by_field(field: SimpleNamespace) -> None:
    person = field.person
    person.note = "中心改过"  # the registry changed meanwhile: version 2
    field.s.commit()
    assert person.version == 2
    phone = mutation(field, "person", "update", person.id, base_version=1,
                     fields={"phone": "13900002222"}, base={"phone": "13800001111"})
    clash = mutation(field, "person", "update", person.id, base_version=1,
                     fields={"note": "手机改的"}, base={"note": None})
    outcomes = push(field, phone, clash)
    assert [o["status"] for o in outcomes] == ["merged", "conflict"]
    field.s.refresh(person)
    assert (person.phone, person.note) == ("13900002222", "中心改过")
    conflict = field.s.get(Conflict, uuid.UUID(outcomes[1]["conflict_id"]))
    assert conflict is not None and conflict.kind == "field"
    assert (conflict.base_values, conflict.registry_values, conflict.device_values) == (
        {"note": None}, {"note": "中心改过"}, {"note": "手机改的"})
    assert conflict.cell_id == field.cell_a.id


def test_moving_house_ends_the_old_residency_and_asks_for_confirmation(field: SimpleNamespace) -> None:
    move = mutation(field, "residency", "create", fields={"person_id": str(field.person.id),
                                                          "house_id": str(field.a2.id), "start_date": "2026-11-10"})
    assert push(field, move)[0]["status"] == "applied"
    rows = field.s.scalars(select(Residency).where(Residency.person_id == field.person.id)
                           .order_by(Residency.start_date)).all()
    assert [(r.house_id, r.end_date) for r in rows] == [(field.a1.id, date(2026, 11, 9)), (field.a2.id, None)]
    task = field.s.scalar(select(Task))
    assert task is not None and (task.house_id, task.kind, task.source, task.status) == (field.a1.id, "moved_out", "sync", "open")


def test_overlapping_residencies_are_a_conflict(field: SimpleNamespace) -> None:
    earlier = mutation(field, "residency", "create", fields={"person_id": str(field.person.id),
                                                             "house_id": str(field.a2.id), "start_date": "2024-01-01"})
    outcome = push(field, earlier)[0]
    assert outcome["status"] == "conflict"
    assert field.s.get(Conflict, uuid.UUID(outcome["conflict_id"])).kind == "overlapping_residency"  # type: ignore[union-attr]
    assert field.s.scalar(select(func.count()).select_from(Residency)) == 1


def test_the_same_person_created_twice_is_merged(field: SimpleNamespace) -> None:
    twin = mutation(field, "person", "create", fields={"name": "王五", "id_number": field.person.id_number,
                                                       "permit_number": "SH2026"})
    outcome = push(field, twin)[0]
    assert (outcome["status"], outcome["canonical_id"]) == ("merged", str(field.person.id))
    field.s.refresh(field.person)
    assert field.person.permit_number == "SH2026"  # filled in where the registry had nothing
    # A later mutation naming the phone's id reaches the one person.
    visit_edit = mutation(field, "person", "update", twin["record_id"], base_version=field.person.version,
                          fields={"note": "核实"}, base={"note": None})
    assert push(field, visit_edit)[0]["status"] == "applied"
    field.s.refresh(field.person)
    assert field.person.note == "核实"
    assert field.s.scalar(select(func.count()).select_from(Person)) == 1


def test_edits_outside_the_cells_go_to_the_queue(field: SimpleNamespace) -> None:
    outside = mutation(field, "house", "update", field.b1.id, base_version=1, fields={"use": "rented"},
                       base={"use": "owner_occupied"})
    outcome = push(field, outside)[0]
    assert outcome["status"] == "conflict"
    assert field.s.get(Conflict, uuid.UUID(outcome["conflict_id"])).kind == "out_of_scope"  # type: ignore[union-attr]
    field.s.refresh(field.b1)
    assert field.b1.use == "owner_occupied"


def test_edit_of_a_deleted_record(field: SimpleNamespace) -> None:
    residency = field.s.scalar(select(Residency))
    residency.tombstone(None)
    field.s.commit()
    edit = mutation(field, "residency", "update", residency.id, base_version=1, fields={"relation": "owner"},
                    base={"relation": "tenant"})
    outcome = push(field, edit)[0]
    assert field.s.get(Conflict, uuid.UUID(outcome["conflict_id"])).kind == "edit_deleted"  # type: ignore[union-attr]


def test_revoked_device_is_refused(field: SimpleNamespace) -> None:
    assert devices.authenticate(field.s, field.token).id == field.device.id
    devices.revoke(field.s, field.device, field.coord.id)
    field.s.commit()
    with pytest.raises(devices.DeviceRefused) as refused:
        devices.authenticate(field.s, field.token)
    assert refused.value.code == "device_revoked"


def _collect(field: SimpleNamespace, cursor: str | None, limit: int = 2000) -> tuple[dict[str, list[Any]], str]:
    seen: dict[str, list[Any]] = {}
    while True:
        page = pull(field.s, field.device, cursor, limit=limit)
        field.s.commit()
        for table, rows in page.changes.items():
            seen.setdefault(table, []).extend(r["id"] for r in rows)
        cursor = page.cursor
        if not page.more:
            return seen, cursor


def test_first_pull_is_the_devices_cells_only(field: SimpleNamespace) -> None:
    seen, _ = _collect(field, None)
    assert set(seen["house"]) == {str(field.a1.id), str(field.a2.id)}
    assert seen["person"] == [str(field.person.id)]
    assert seen["cell"] == [str(field.cell_a.id)]


def test_paging_delivers_every_row_exactly_once(field: SimpleNamespace) -> None:
    for _ in range(7):
        f.house(field.s, field.cell_a)
    field.s.commit()
    paged, _ = _collect(field, None, limit=2)
    whole, _ = _collect(field, None)
    for table, ids in whole.items():
        assert sorted(paged[table]) == sorted(ids) and len(set(ids)) == len(ids)


def test_paged_first_pull_of_persons_committed_together(field: SimpleNamespace) -> None:
    """A snapshot page is driven by the device's scope (sync/pull.py `_rows`): persons and
    residencies that share one change number arrive page by page, each once, and only those
    living in the device's cells (an ended residency, a tombstoned one or another cell's
    house does not bring its person)."""
    s = field.s
    inside, moved_out, gone, elsewhere = [], [], [], []
    for i in range(7):
        p = f.person(s, name=f"甲{i}")
        f.residency(s, p, field.a1 if i % 2 else field.a2, start_date=date(2024, 1, 1))
        inside.append(str(p.id))
    for i in range(3):
        p = f.person(s, name=f"乙{i}")
        f.residency(s, p, field.a1, start_date=date(2024, 1, 1), end_date=date(2025, 1, 1))
        moved_out.append(str(p.id))
        q = f.person(s, name=f"丙{i}")
        f.residency(s, q, field.a2, start_date=date(2024, 1, 1)).tombstone(None)
        gone.append(str(q.id))
        r = f.person(s, name=f"丁{i}")
        f.residency(s, r, field.b1, start_date=date(2024, 1, 1))
        elsewhere.append(str(r.id))
    s.commit()  # one commit: every row above carries the same number
    paged, _ = _collect(field, None, limit=2)
    assert sorted(paged["person"]) == sorted([*inside, str(field.person.id)])
    assert len(paged["residency"]) == len(set(paged["residency"])) == 8
    whole, _ = _collect(field, None)
    assert sorted(whole["person"]) == sorted(paged["person"])


def test_later_person_pages_of_a_first_pull_keep_their_order(field: SimpleNamespace) -> None:
    """A first sync's later person pages look ahead by resident id (sync/pull.py
    `_snapshot_persons`): persons of several commits, some sharing a number, one who lived in two
    of the device's houses, a deleted one and one whose residency ended arrive in exactly the
    order and pages of the whole round, (number, id), each once, whatever the page size."""
    s = field.s
    expected = {str(field.person.id)}
    for batch in range(4):
        for i in range(batch * 2 + 1):  # commits of 1, 3, 5 and 7 persons
            p = f.person(s, name=f"戊{batch}{i}")
            f.residency(s, p, field.a1 if i % 2 else field.a2, start_date=date(2024, 1, 1))
            expected.add(str(p.id))
        if batch == 1:
            both = f.person(s, name="己")
            f.residency(s, both, field.a1, start_date=date(2023, 1, 1), end_date=date(2024, 1, 1))
            f.residency(s, both, field.a2, start_date=date(2024, 1, 1))
            expected.add(str(both.id))
            dead = f.person(s, name="庚")
            f.residency(s, dead, field.a1, start_date=date(2024, 1, 1))
            dead.tombstone(None)
            ended = f.person(s, name="辛")
            f.residency(s, ended, field.a2, start_date=date(2024, 1, 1), end_date=date(2025, 1, 1))
        s.commit()
    whole, _ = _collect(field, None)
    order = [str(i) for i in s.scalars(select(Person.id).where(Person.id.in_([uuid.UUID(x) for x in expected]))
                                       .order_by(Person.seq, Person.id))]
    assert whole["person"] == order
    for limit in (1, 2, 3, 4, 7):
        paged, _ = _collect(field, None, limit=limit)
        assert paged["person"] == order, limit


def test_first_pull_rows_are_the_stored_rows_on_the_wire(field: SimpleNamespace) -> None:
    """A snapshot page reads ids and times as text made by the database (sync/pull.py
    `_as_stored`): each row is what `row_to_wire` makes of the stored record (ids, times with
    and without microseconds, empty values)."""
    s = field.s
    whole = f.person(s, name="壬", phone="13900002222")
    f.residency(s, whole, field.a2, start_date=date(2024, 1, 1))
    s.flush()
    whole.changed_at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)  # no microseconds
    s.commit()
    page = pull(s, field.device, None, limit=2000)
    s.commit()
    assert not page.more
    for name in ("house", "person", "residency"):
        model = next(m for m in PULLED_MODELS if m.__tablename__ == name)
        columns = public_columns(model.__table__)
        stored = {str(r.id): row_to_wire(r, columns) for r in s.scalars(select(model))}
        assert page.changes[name] and all(row == stored[row["id"]] for row in page.changes[name]), name
    sent = next(r for r in page.changes["person"] if r["id"] == str(whole.id))
    assert sent["changed_at"] == "2026-03-04T05:06:07Z" and sent["deleted_at"] is None


def test_incremental_pull_sees_only_new_changes_in_scope(field: SimpleNamespace) -> None:
    _, cursor = _collect(field, None)
    field.b1.note = "elsewhere"
    field.s.commit()
    changes, cursor = _collect(field, cursor)
    assert changes == {}
    field.a1.note = "here"
    field.s.commit()
    changes, cursor = _collect(field, cursor)
    assert changes == {"house": [str(field.a1.id)]}


def test_moving_within_the_cells_evicts_nothing(field: SimpleNamespace) -> None:
    _, cursor = _collect(field, None)
    move = mutation(field, "residency", "create", fields={"person_id": str(field.person.id),
                                                          "house_id": str(field.a2.id), "start_date": "2026-11-10"})
    push(field, move)
    page = pull(field.s, field.device, cursor)
    assert page.evict == {}
    assert str(field.person.id) in {p["id"] for p in page.changes["person"]}


def test_moving_out_of_the_cells_evicts_the_person(field: SimpleNamespace) -> None:
    _, cursor = _collect(field, None)
    # Another coordinator, whose cells include B, records the person moving to b1.
    other = f.user(field.s, "xg2", "coordinator")
    field.cell_b.coordinators.append(other)
    field.cell_a.coordinators.append(other)
    device_b = devices.register(field.s, other, None, None).device
    field.s.commit()
    body = {"protocol": 1, "mutations": [mutation(field, "residency", "create", fields={
        "person_id": str(field.person.id), "house_id": str(field.b1.id), "start_date": "2026-11-10"})]}
    assert apply_batch(field.s, device_b, parse_batch(body), locate=CellFinder(field.s)).outcomes[0].status == "applied"
    field.s.commit()
    page = pull(field.s, field.device, cursor)
    assert page.evict == {"person": [str(field.person.id)]}


def test_a_late_commit_is_never_skipped(field: SimpleNamespace, engine: Any, backend: str) -> None:
    """T1 writes first but commits last; a pull between the two commits must not jump past T1."""
    _, cursor = _collect(field, None)
    late, early = Session(engine), Session(engine)
    if backend == "sqlite":
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): no interleaving to test")
    house_late = late.get(type(field.a1), field.a1.id)
    house_late.note = "late"  # type: ignore[union-attr]
    late.flush()  # written, uncommitted
    house_early = early.get(type(field.a2), field.a2.id)
    house_early.note = "early"  # type: ignore[union-attr]
    early.commit()
    between, cursor = _collect(field, cursor)
    assert between == {"house": [str(field.a2.id)]}
    late.commit()
    after, _ = _collect(field, cursor)
    assert after == {"house": [str(field.a1.id)]}
    late.close()
    early.close()


def test_device_clock_is_kept_with_its_offset(field: SimpleNamespace) -> None:
    v = mutation(field, "visit", "create", fields={"house_id": str(field.a1.id), "visited_at": NOW,
                                                   "outcome": "verified"})
    push(field, v)
    receipt = field.s.get(SyncMutation, uuid.UUID(v["id"]))
    assert receipt is not None and receipt.device_time == datetime(2026, 11, 26, 8, tzinfo=timezone.utc)
    assert receipt.clock_offset_ms is not None


def test_a_house_moved_to_another_cell_moves_between_phones(field: SimpleNamespace) -> None:
    from geo.assign import assign_houses
    from shapely.geometry import shape

    other = f.user(field.s, "xg2", "coordinator")
    field.cell_b.coordinators.append(other)
    device_b = devices.register(field.s, other, None, None).device
    field.s.commit()
    _, cursor_a = _collect(field, None)
    page_b = pull(field.s, device_b, None)
    field.s.commit()
    assert str(field.a1.id) not in {h["id"] for h in page_b.changes.get("house", [])}
    # The boundary work puts a1 inside cell B.
    inside_b = shape(field.cell_b.boundary).representative_point()
    field.a1.lon, field.a1.lat = inside_b.x, inside_b.y
    field.s.commit()
    assign_houses(field.s)
    field.s.commit()
    evicted = pull(field.s, field.device, cursor_a)
    field.s.commit()
    assert str(field.a1.id) in evicted.evict.get("house", [])
    arrived = pull(field.s, device_b, page_b.cursor)
    field.s.commit()
    assert str(field.a1.id) in {h["id"] for h in arrived.changes["house"]}
    assert str(field.person.id) in {p["id"] for p in arrived.changes["person"]}
    assert {r["house_id"] for r in arrived.changes["residency"]} == {str(field.a1.id)}
