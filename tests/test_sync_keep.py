"""A client written from docs/sync.md (tests/sync_client.py, which prunes by "What the phone
keeps") holds exactly what a fresh snapshot would, after pulls of any page size with the
registry changing between pages: residencies ending, tasks closing, reviews approved, visits
older than the window, persons moving away. Both backends."""
from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync import devices
from sync.pull import RECENT_VISITS, needs_record, pull, record
from tests import factories as f
from tests.conftest import valid_id
from tests.sync_client import Phone
from webapp.models import Device, House, Person, Residency, Review, Task, Visit
from webapp.registry.tasks import create_task
from webapp.base.timeutil import utcnow
from geo.assign import CellFinder


def _snapshot(s: Session, device: Device) -> dict[str, dict[str, int]]:
    page = pull(s, device, None, limit=10**6)
    s.commit()
    return {t: {r["id"]: r["version"] for r in rows} for t, rows in page.changes.items() if rows}


def _replica(phone: Phone) -> dict[str, dict[str, int]]:
    return {t: {k: r["version"] for k, r in rows.items()} for t, rows in phone.rows.items() if rows}


class World:
    def __init__(self, s: Session, rng: random.Random) -> None:
        self.s, self.rng = s, rng
        committee = f.committee(s)
        self.cell, self.elsewhere = f.cell(s, committee), f.cell(s, committee)
        self.houses = [f.house(s, self.cell) for _ in range(5)]
        self.away = f.house(s, self.elsewhere)
        for house in self.houses:
            f.residency(s, self.newcomer(), house)
        user = f.user(s, f"keep{uuid.uuid4().hex[:6]}", "coordinator")
        self.cell.coordinators.append(user)
        s.flush()
        self.device = devices.register(s, user, None, None).device
        s.commit()

    def newcomer(self) -> Person:
        born = date(1960, 1, 1) + timedelta(days=self.rng.randrange(15000))
        return f.person(self.s, name="新人", id_number=valid_id(f"310117{born:%Y%m%d}{self.rng.randrange(1000):03d}"))

    def _open(self) -> list[Residency]:
        return list(self.s.scalars(select(Residency).where(
            Residency.house_id.in_([h.id for h in self.houses]), Residency.end_date.is_(None)).order_by(Residency.id)))

    def write(self) -> None:
        s, rng = self.s, self.rng
        kind = rng.choice(["arrive", "leave", "move_away", "visit", "old_visit", "task", "close", "review", "approve"])
        stays = self._open()
        if kind == "arrive" or not stays:
            f.residency(s, self.newcomer(), rng.choice(self.houses), start_date=date.today())
        elif kind == "leave":
            rng.choice(stays).end_date = date.today()
        elif kind == "move_away":
            stay = rng.choice(stays)
            stay.end_date = date.today() - timedelta(days=1)
            f.residency(s, s.get(Person, stay.person_id), self.away, start_date=date.today())
        elif kind in ("visit", "old_visit"):
            s.add(Visit(house_id=rng.choice(self.houses).id, outcome="verified",
                        visited_at=utcnow() - timedelta(days=100 if kind == "old_visit" else 0)))
        elif kind == "task":
            create_task(s, rng.choice(self.houses), "problem", "楼道堆物")
        elif kind == "close":
            tasks = list(s.scalars(select(Task).where(Task.cell_id == self.cell.id, Task.status == "open").order_by(Task.id)))
            if tasks:
                rng.choice(tasks).status = "done"
        elif kind == "review":
            stay = rng.choice(stays)
            if s.scalar(select(Review).where(Review.residency_id == stay.id)) is None:
                s.add(Review(house_id=stay.house_id, cell_id=self.cell.id, residency_id=stay.id, person_id=stay.person_id,
                             kind="registration", status="pending"))
        elif kind == "approve":
            waiting = list(s.scalars(select(Review).where(Review.cell_id == self.cell.id, Review.status == "pending")
                                     .order_by(Review.id)))
            if waiting:
                rng.choice(waiting).status = "approved"
        s.commit()


@pytest.mark.parametrize("seed", range(4))
def test_a_client_following_the_doc_equals_a_fresh_snapshot(db_session: Session, seed: int) -> None:
    s, rng = db_session, random.Random(seed)
    world = World(s, rng)
    writing = {"on": False}

    def send(kind: str, body: dict[str, Any] | None, cursor: str | None) -> dict[str, Any]:
        assert kind == "pull"
        if writing["on"] and rng.random() < 0.5:
            world.write()  # committed between two pages of one round
        answer = pull(s, world.device, cursor, limit=rng.randint(1, 25)).to_wire()
        s.commit()
        return json.loads(json.dumps(answer))

    phone = Phone(send)
    phone.pull()
    pruned = 0
    for _ in range(15):
        for _ in range(rng.randint(0, 5)):
            world.write()
        writing["on"] = True
        phone.pull()
        writing["on"] = False
        phone.pull()
        assert _replica(phone) == _snapshot(s, world.device)
        pruned += 1
    # The registry holds what the phone pruned: ended residencies, closed tasks, old visits.
    houses = [h.id for h in world.houses]
    assert s.scalar(select(Residency.id).where(Residency.house_id.in_(houses), Residency.end_date.is_not(None)))
    assert s.scalar(select(Visit.id).where(Visit.house_id.in_(houses), Visit.visited_at < utcnow() - RECENT_VISITS))
    assert pruned == 15 and s.get(House, world.away.id) is not None


def test_a_cell_taken_away_leaves_nothing_behind(db_session: Session) -> None:
    """The cell, its houses and what hangs off them, and a committee none of the device's cells
    is in any more: all evicted, so the replica again equals a fresh snapshot."""
    s = db_session
    world = World(s, random.Random(9))
    other_committee = f.committee(s)
    far = f.cell(s, other_committee)
    f.residency(s, world.newcomer(), f.house(s, far))
    user = world.device.user
    far.coordinators.append(user)
    s.commit()

    def send(kind: str, body: dict[str, Any] | None, cursor: str | None) -> dict[str, Any]:
        page = pull(s, world.device, cursor, limit=3)
        if needs_record(world.device, page):  # as /api/sync/pull does: the cells of the round
            record(world.device, page)
        s.commit()
        return json.loads(json.dumps(page.to_wire()))

    phone = Phone(send)
    phone.pull()
    assert str(far.id) in phone.rows["cell"] and str(other_committee.id) in phone.rows["committee"]
    far.coordinators.remove(user)
    s.commit()
    phone.pull()
    assert str(far.id) not in phone.rows["cell"] and str(other_committee.id) not in phone.rows["committee"]
    assert _replica(phone) == _snapshot(s, world.device)


def _pusher(s: Session, role: str, cells: list[Any]) -> Any:
    """A phone of another user (a grid lead's of `cells`, or the centre's) pushing one edit."""
    from sync.batch import parse_batch
    from sync.push import apply_batch

    user = f.user(s, f"{role[:4]}{uuid.uuid4().hex[:6]}", role)
    for cell in cells:
        cell.grid_lead_id = user.id
    device = devices.register(s, user, None, None).device
    s.commit()

    def push(kind: str, record_id: Any, fields: dict[str, Any], version: int) -> str:
        batch = parse_batch({"protocol": 2, "mutations": [{
            "id": str(uuid.uuid4()), "seq": 1, "type": kind, "op": "update", "record_id": str(record_id),
            "base_version": version, "fields": fields, "at": "2026-11-26T08:00:00Z"}]})
        [outcome] = apply_batch(s, device, batch, locate=CellFinder(s)).outcomes
        s.commit()
        return outcome.status
    return push


def _coordinators_phone(s: Session, world: World) -> Phone:
    def send(kind: str, body: dict[str, Any] | None, cursor: str | None) -> dict[str, Any]:
        page = pull(s, world.device, cursor, limit=1000)
        if needs_record(world.device, page):
            record(world.device, page)
        s.commit()
        return json.loads(json.dumps(page.to_wire()))
    phone = Phone(send)
    phone.pull()
    return phone


@pytest.mark.parametrize("role", ["grid_lead", "centre"])
def test_a_house_a_push_moves_to_another_cell_leaves_the_old_cells_phone(db_session: Session, role: str) -> None:
    # Only `flask cells assign` and merges wrote the "leave" a pull evicts by: a lead's or the
    # centre's phone giving a house another cell left it, its residents and their full
    # numbers on the old cell's phones for good.
    s = db_session
    world = World(s, random.Random(3))
    phone = _coordinators_phone(s, world)
    house = world.houses[0]
    resident = s.scalar(select(Residency.person_id).where(Residency.house_id == house.id))
    assert str(house.id) in phone.rows["house"] and str(resident) in phone.rows["person"]
    push = _pusher(s, role, [world.cell, world.elsewhere])
    assert push("house", house.id, {"cell_id": str(world.elsewhere.id)}, house.version) == "applied"
    phone.pull()
    assert str(house.id) not in phone.rows["house"] and str(resident) not in phone.rows["person"]
    assert _replica(phone) == _snapshot(s, world.device)


@pytest.mark.parametrize("covered", [False, True], ids=["to another cell", "within the device's cells"])
def test_a_stay_a_push_moves_to_another_house_goes_with_its_cell(db_session: Session, covered: bool) -> None:
    # To a house outside the device's cells its person and the stay leave the phone; to one
    # of its other cells both stay.
    s = db_session
    world = World(s, random.Random(4))
    if covered:
        world.elsewhere.coordinators.append(world.device.user)
        s.commit()
    phone = _coordinators_phone(s, world)
    stay = world._open()[0]
    assert str(stay.person_id) in phone.rows["person"]
    push = _pusher(s, "centre", [])
    assert push("residency", stay.id, {"house_id": str(world.away.id)}, stay.version) == "applied"
    phone.pull()
    assert (str(stay.person_id) in phone.rows["person"], str(stay.id) in phone.rows["residency"]) == (covered, covered)
    assert _replica(phone) == _snapshot(s, world.device)


def test_a_house_the_centre_moves_by_deciding_a_conflict_leaves_the_old_cells_phone(db_session: Session) -> None:
    from sync.resolve import Decision, open_case, resolve
    from webapp.models import Conflict

    s = db_session
    world = World(s, random.Random(5))
    phone = _coordinators_phone(s, world)
    house = world.houses[1]
    centre = f.user(s, f"ctr{uuid.uuid4().hex[:6]}", "centre")
    conflict = Conflict(kind="field", record_type="house", record_id=house.id, house_id=house.id,
                        cell_id=world.cell.id, base_values={"cell_id": str(world.cell.id)},
                        registry_values={"cell_id": str(world.cell.id)},
                        device_values={"cell_id": str(world.elsewhere.id)}, detail={"op": "update"})
    s.add(conflict)
    s.commit()
    case = open_case(s, conflict)
    resolve(s, case, {"cell_id": Decision("take")}, centre.id, expected_version=house.version)
    s.commit()
    assert s.get(House, house.id).cell_id == world.elsewhere.id  # type: ignore[union-attr]
    phone.pull()
    assert str(house.id) not in phone.rows["house"]
    assert _replica(phone) == _snapshot(s, world.device)


class Puller:
    """The server's side of a phone's pulls, as /api/sync/pull does it (`pull`, then `record`
    when `needs_record`), `limit` rows a page. `hooks`: (condition, change) pairs; before a page
    is read, the first whose condition holds is committed and dropped (a centre changing the
    phone's cells between two pages). `lost`: numbers of pages whose answer never reaches the
    phone, which then asks again with the same cursor."""

    def __init__(self, s: Session, device: Device, limit: int) -> None:
        self.s, self.device, self.limit = s, device, limit
        self.pages = 0
        self.hooks: list[tuple[Callable[[], bool], Callable[[], None]]] = []
        self.lost: set[int] = set()

    def __call__(self, kind: str, body: dict[str, Any] | None, cursor: str | None) -> dict[str, Any]:
        assert kind == "pull"
        while True:
            self.pages += 1
            for hook in self.hooks:
                if hook[0]():
                    self.hooks.remove(hook)
                    hook[1]()
                    self.s.commit()
                    break
            page = pull(self.s, self.device, cursor, limit=self.limit)
            if needs_record(self.device, page):
                record(self.device, page)
            self.s.commit()
            if self.pages not in self.lost:
                return json.loads(json.dumps(page.to_wire()))


class Far:
    """A cell of another committee with a house and its resident, given to the world's
    coordinator (`give`) or taken away (`take`)."""

    def __init__(self, world: World) -> None:
        s = world.s
        self.world, self.committee = world, f.committee(s)
        self.cell = f.cell(s, self.committee)
        self.house = f.house(s, self.cell)
        self.person = world.newcomer()
        f.residency(s, self.person, self.house)
        s.commit()

    def give(self) -> None:
        self.cell.coordinators.append(self.world.device.user)

    def take(self) -> None:
        self.cell.coordinators.remove(self.world.device.user)

    def on(self, phone: Phone) -> set[str]:
        """What of the far cell the phone holds."""
        ids = {str(self.committee.id), str(self.cell.id), str(self.house.id), str(self.person.id)}
        return ids & {k for rows in phone.rows.values() for k in rows}


def _holding_far(s: Session, seed: int, limit: int) -> tuple[World, Far, Puller, Phone]:
    """A world whose device was given the far cell, and a phone that has pulled it."""
    world = World(s, random.Random(seed))
    far = Far(world)
    far.give()
    s.commit()
    server = Puller(s, world.device, limit)
    phone = Phone(server)
    phone.pull()
    return world, far, server, phone


def _several_pages(world: World) -> None:
    for _ in range(12):  # changes in the world's own cell: the next round is several pages of 3
        world.write()


def test_a_cell_taken_away_between_two_pages_of_a_round_is_evicted(db_session: Session) -> None:
    """D2: the round's evictions were worked out on its first page only, and its last page
    recorded the cells as they were then: a cell taken away in between was never evicted, and
    its houses and residents (full ID numbers) stayed on the phone for good."""
    s = db_session
    world, far, server, phone = _holding_far(s, 11, 3)
    assert far.on(phone) == {str(far.committee.id), str(far.cell.id), str(far.house.id), str(far.person.id)}
    _several_pages(world)
    start = server.pages
    server.hooks.append((lambda: server.pages == start + 2, far.take))
    phone.pull()
    assert not server.hooks and server.pages >= start + 2  # taken away before the round's second page
    assert far.on(phone) == set()
    assert _replica(phone) == _snapshot(s, world.device)
    phone.pull()
    assert _replica(phone) == _snapshot(s, world.device)


def test_a_cell_taken_away_during_the_first_snapshot_is_evicted(db_session: Session) -> None:
    """The same during a first sync that spans pages: the snapshot's early pages brought the
    far cell's house and resident, and it is taken away before the snapshot's last page."""
    s = db_session
    world = World(s, random.Random(12))
    far = Far(world)
    far.give()
    s.commit()
    server = Puller(s, world.device, 3)
    phone = Phone(server)
    server.hooks.append((lambda: str(far.person.id) in phone.rows.get("person", {}), far.take))
    phone.pull()
    assert not server.hooks  # taken away after the resident had come, before the round ended
    assert far.on(phone) == set()
    assert _replica(phone) == _snapshot(s, world.device)


@pytest.mark.parametrize("first_sync", [False, True])
def test_a_cell_given_between_two_pages_arrives_whole(db_session: Session, first_sync: bool) -> None:
    """A cell given mid-round (or mid-snapshot) arrives in full by the round's end: its pages
    already read (committee, cell, house...) did not hold it, and the next round, seeing the
    cells recorded by this one, did not send it either."""
    s = db_session
    world = World(s, random.Random(13))
    far = Far(world)
    server = Puller(s, world.device, 3)
    phone = Phone(server)
    if not first_sync:
        phone.pull()
        assert far.on(phone) == set()
        _several_pages(world)
    start = server.pages
    server.hooks.append((lambda: server.pages == start + 2, far.give))
    phone.pull()
    assert not server.hooks and server.pages >= start + 2  # given before the round's second page
    assert far.on(phone) == {str(far.committee.id), str(far.cell.id), str(far.house.id), str(far.person.id)}
    assert _replica(phone) == _snapshot(s, world.device)
    pages = server.pages
    phone.pull()  # the next round: the cell came whole, and is not sent again
    assert server.pages == pages + 1 and _replica(phone) == _snapshot(s, world.device)


def test_a_lost_answer_that_evicted_a_cell_is_evicted_again(db_session: Session) -> None:
    """The page that evicts a cell taken away, answered but never heard (a weak signal): the
    phone asks again with the same cursor and must be told again. A one-page round recorded the
    new cells on the device row as it answered, so the second asking evicted nothing."""
    s = db_session
    world, far, server, phone = _holding_far(s, 14, 10_000)
    assert str(far.house.id) in phone.rows["house"]
    far.take()
    s.commit()
    server.lost = {server.pages + 1}
    phone.pull()
    assert far.on(phone) == set()
    assert _replica(phone) == _snapshot(s, world.device)


def test_a_house_that_left_a_cell_taken_away_is_evicted(db_session: Session) -> None:
    """A house moves out of the far cell (to a cell not the phone's), then the cell is taken
    away, before the phone pulls again: the round's moves are read for the cells the device has
    now, and the cell's houses are those in it now, so the house fell between the two."""
    from webapp.registry.scope_changes import record_house_moves
    s = db_session
    world, far, _server, phone = _holding_far(s, 15, 3)
    assert str(far.house.id) in phone.rows["house"] and str(far.person.id) in phone.rows["person"]
    far.house.cell_id = world.elsewhere.id
    record_house_moves(s, [(far.house.id, far.cell.id, world.elsewhere.id)])
    s.commit()
    far.take()
    s.commit()
    phone.pull()
    assert far.on(phone) == set()
    assert _replica(phone) == _snapshot(s, world.device)


@pytest.mark.parametrize("seed", range(3))
def test_cells_given_and_taken_between_any_pages_leave_the_phone_as_a_snapshot(db_session: Session,
                                                                             seed: int) -> None:
    """Cells given and taken away at random between pages of rounds and snapshots (also given
    and taken again within one round), with writes, pages of random sizes and answers lost at
    random: after a round with no change of its own (what changed during the last one comes
    in the next), the phone holds exactly what a fresh snapshot would."""
    s, rng = db_session, random.Random(seed)
    world = World(s, rng)
    fars = [Far(world) for _ in range(3)]
    server = Puller(s, world.device, 1)
    churn = {"on": True}

    def between_pages() -> bool:
        if churn["on"] and rng.random() < 0.3:
            far = rng.choice(fars)
            if world.device.user in far.cell.coordinators:
                far.take()
            else:
                far.give()
            s.commit()
        if churn["on"] and rng.random() < 0.3:
            world.write()
        server.limit = rng.randint(1, 12)
        if rng.random() < 0.1:
            server.lost.add(server.pages)
        return False

    server.hooks.append((between_pages, lambda: None))
    phone = Phone(server)
    for _ in range(8):
        churn["on"] = True
        phone.pull()
        churn["on"] = False
        phone.pull()
        assert _replica(phone) == _snapshot(s, world.device)
        if rng.random() < 0.2:
            phone.cursor = None  # a snapshot again
