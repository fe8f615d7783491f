"""Differential test: a role that sees a resident's field masked or not at all (grid leads,
committees, police: webapp/registry/privacy.py) must get the same answers from every door
whatever that field holds, as long as what it may see of it (the mask) is the same.

The privacy matrix (tests/test_privacy_matrix.py) looks for the value in what a door shows.
Leaks found since hid in a door's *answers* instead: a push answering `merged` for the right
guess of a phone and `conflict` for a wrong one, a finding quoting the birth date. A door
that decides anything by the hidden value can tell it, in a status, a version, a notice, a
count, an order of rows, a finding's words. Listing such answers one by one misses the next
one; comparing all of them does not.

Two worlds, run one after the other in one test on the same (emptied) database: the same
committees, cells, houses, users and residents, built with fixed codes and names, except
that one resident ("王目标") holds value A of a field in the first world and value B in the
second, both with the same mask. The role then walks the same sequence of requests through
every door it has — pages, search, exports, findings, the phone's push (guesses at the
field: behind and at the version, with and without `base`, a registration and a correction
carrying the guess) and the pull that follows — and each answer is normalised (record ids
named by what they are, other ids numbered by first appearance, timestamps, CSRF tokens and
cursors dropped). The two worlds' answers must be equal, door by door.

Why two runs rather than two residents side by side: a door that shows several residents
would show both values in one answer, and an answer's wording about "the other" resident
cannot be told apart from a leak. Emptying the tables between runs costs a few hundred ms.

The guess sent in every push is world A's value: right in A, wrong in B. A neighbour in the
same house holds a value lying between A and B, so a door that sorts by the hidden value
orders the two residents differently in the two worlds.

The doors where a role acts (conflict decisions, combine, reviews, edit forms), the exports,
statistics, coverage, campaigns, the audit log and the public plate page, and a task's
call-back number: tests/test_hidden_value_oracle_actions.py.

Not varied here, on purpose: whether a hukou address is the address lived at (人户分离 is a
rule every role reads, by its finding, not by the address), and a birth date across a rule's
age threshold (the rule's finding says the age bracket): both values here keep every rule's
verdict. Values are chosen so that the ID number's birth digits agree with the birth date.
"""
from __future__ import annotations

import difflib
import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import _empty_tables, login
from webapp.models import Person

NOW = "2026-11-26T08:00:00Z"
ROLES = {"grid_lead": "lead", "committee": "comm", "police": "police"}


@dataclass(frozen=True)
class Hidden:
    """One personal field's two values (same mask), the neighbour's value between them, and
    any field that must move with it for the record to stay consistent."""

    field: str
    a: Any
    b: Any
    neighbour: Any
    with_a: dict[str, Any] = field(default_factory=dict)
    with_b: dict[str, Any] = field(default_factory=dict)


# The target's record outside the varied field (the privacy matrix's resident).
TARGET = {"id_number": "11010519491231002X", "birth_date": date(1949, 12, 31), "sex": "F",
          "phone": "13812345678", "landline": "021-57812345", "hukou_region": "110105",
          "hukou_address": "北京市朝阳区某路8号", "hukou_road": "朝阳门南大街", "hukou_number": "甲8号",
          "hukou_building": "乙3栋", "hukou_room": "1701室", "permit_number": "P310000123456",
          "permit_expiry": date(2030, 1, 1), "note": "独居老人需关注"}
NEIGHBOUR = {"id_number": "110105194906150015", "birth_date": date(1949, 6, 15), "sex": "M",
             "phone": "13850005678", "landline": "021-60002345", "hukou_region": "110106",
             "hukou_address": "北京市丰台区某路1号", "hukou_road": "丰台路", "hukou_number": "1号",
             "hukou_building": "2栋", "hukou_room": "301室", "permit_number": "P310500003456",
             "permit_expiry": date(2030, 1, 1), "note": "邻居"}

HIDDEN = [
    Hidden("phone", "13812345678", "13899995678", NEIGHBOUR["phone"]),
    Hidden("landline", "021-57812345", "021-69992345", NEIGHBOUR["landline"]),
    # The middle digits differ (the county, 110105 or 110113), the check character the same.
    Hidden("id_number", "11010519491231002X", "11011319491231002X", "110106197001010018"),
    # Within 1949; the ID number's birth digits move with it, its mask does not.
    Hidden("birth_date", date(1949, 12, 31), date(1949, 1, 8), NEIGHBOUR["birth_date"],
           {"id_number": "11010519491231002X"}, {"id_number": "11010519490108002X"}),
    Hidden("hukou_region", "110105", "110108", NEIGHBOUR["hukou_region"]),
    Hidden("hukou_address", "北京市朝阳区某路8号", "北京市海淀区另一路99号", "北京市东城区某路1号"),
    Hidden("hukou_road", "朝阳门南大街", "学院路", "丰台路"),
    # The parts each alone (the address keys the 人户分离 rule compares are made of them).
    Hidden("hukou_number", "甲8号", "丙99号", "乙5号"),
    Hidden("hukou_building", "乙3栋", "戊9栋", "己5栋"),
    Hidden("hukou_room", "1701室", "2903室", "2001室"),
    Hidden("permit_number", "P310000123456", "P319999993456", NEIGHBOUR["permit_number"]),
]


def _wire(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


# ---------------------------------------------------------------------------------------
# A world


@dataclass
class World:
    labels: dict[str, str]  # record id → what it is
    target: uuid.UUID
    neighbour: uuid.UUID
    versions: dict[str, int]


def _build(s: Session, hidden: Hidden, value: Any, extra: dict[str, Any]) -> World:
    """The `area` fixture's shape with fixed codes: two committees, cells A1, A2 (the lead's)
    and B1, users of every role, and the target and a neighbour in house A1."""
    # Fixed ids too: rows that tie in a sort come in the order of their ids.
    com_a = f.committee(s, id=_fixed(1), code="CA", name="甲居委")
    com_b = f.committee(s, id=_fixed(2), code="CB", name="乙居委")
    lead = f.user(s, "lead", "grid_lead")
    a1 = f.cell(s, com_a, id=_fixed(3), code="GA1", name="网格A1", grid_lead_id=lead.id, boundary=f._square(121.40, 31.20))
    a2 = f.cell(s, com_a, id=_fixed(4), code="GA2", name="网格A2", grid_lead_id=lead.id, boundary=f._square(121.41, 31.20))
    b1 = f.cell(s, com_b, id=_fixed(5), code="GB1", name="网格B1", boundary=f._square(121.42, 31.20))
    coord = f.user(s, "coord", "coordinator")
    a1.coordinators.append(coord)
    f.user(s, "comm", "committee", committee_id=com_a.id)
    f.user(s, "centre", "centre")
    f.user(s, "police", "police")
    houses = {key: f.house(s, cell, id=_fixed(10 + n), number=str(n), lon=121.401 + 0.01 * (n - 1), lat=31.201)
              for n, (key, cell) in enumerate([("A1", a1), ("A2", a2), ("B1", b1)], start=1)}
    target_values = {**TARGET, **extra, hidden.field: value}
    target = _person(s, 21, "王目标", target_values)
    neighbour = _person(s, 22, "李邻居", {**NEIGHBOUR, hidden.field: hidden.neighbour})
    f.residency(s, target, houses["A1"], start_date=date(2024, 3, 1), id=_fixed(31))
    f.residency(s, neighbour, houses["A1"], start_date=date(2024, 3, 1), id=_fixed(32))
    others = {key: _person(s, 23 + i, f"赵{key}", {"id_number": number, "phone": "13700001111"})
              for i, (key, number) in enumerate( (("A2", "440524188001010014"), ("B1", "310117199001011235")))}
    for i, (key, p) in enumerate(others.items()):
        f.residency(s, p, houses[key], start_date=date(2024, 3, 1), id=_fixed(33 + i))
    s.commit()
    labels = {str(com_a.id): "committee A", str(com_b.id): "committee B", str(a1.id): "cell A1",
              str(a2.id): "cell A2", str(b1.id): "cell B1", str(target.id): "target",
              str(neighbour.id): "neighbour", **{str(h.id): f"house {k}" for k, h in houses.items()},
              **{str(p.id): f"person {k}" for k, p in others.items()}, str(NEW_PERSON): "new registration"}
    return World(labels, target.id, neighbour.id, {"target": target.version, "neighbour": neighbour.version})


def _fixed(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-7000-8000-{n:012d}")


NEW_PERSON = _fixed(40)  # the id the phone gives its new registration


def _person(s: Session, n: int, name: str, values: dict[str, Any]) -> Person:
    values = dict(values)
    number, phone = values.pop("id_number"), values.pop("phone")
    p = Person(id=_fixed(n), name=name, category="migrant", **values)
    p.set_id_number(number)
    p.set_phone(phone)
    s.add(p)
    s.flush()
    return p


# ---------------------------------------------------------------------------------------
# Normalising an answer


UUID_RE = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")
# Times of this run (not dates: a birth date is what is compared).
TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?|\d{8}-\d{4}")
CSRF_RES = [re.compile(r'(csrf_token"[^>]*value=")[^"]+'), re.compile(r'(name="csrf-token" content=")[^"]+'),
            re.compile(r'("cursor": ?")[^"]+'), re.compile(r'("token": ?")[^"]+')]


@dataclass
class Answers:
    world: World
    ids: dict[str, str] = field(default_factory=dict)  # ids made during the run → their order
    seen: dict[str, str] = field(default_factory=dict)  # door → normalised answer

    def name(self, match: re.Match[str]) -> str:
        raw = match.group(0).replace("-", "")
        key = str(uuid.UUID(raw))
        if key in self.world.labels:
            return f"<{self.world.labels[key]}>"
        return f"<id{self.ids.setdefault(key, str(len(self.ids) + 1))}>"

    def add(self, door: str, response: Any) -> Any:
        text = response.get_data(as_text=True)
        for pattern in CSRF_RES:
            text = pattern.sub(r"\1<token>", text)
        text = TIME_RE.sub("<time>", UUID_RE.sub(self.name, text))
        # A phone is shown by its id's first 8 characters.
        text = re.sub(r'(<small class="mono">)[0-9a-f]{8}(</small>)', r"\1<short id>\2", text)
        where = TIME_RE.sub("<time>", UUID_RE.sub(self.name, response.headers.get("Location", "")))
        disposition = TIME_RE.sub("<time>", response.headers.get("Content-Disposition", ""))
        self.seen[door] = f"{response.status_code} {response.mimetype} {where} {disposition}\n{text}"
        return response


# ---------------------------------------------------------------------------------------
# The doors


def _mutation(seq: int, kind: str, op: str, record_id: uuid.UUID | str, fields: dict[str, Any],
              base_version: int | None = None, base: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "seq": seq, "type": kind, "op": op, "record_id": str(record_id),
            "base_version": base_version, "fields": fields, "base": base or {}, "at": NOW}


def _phone_doors(client: Any, out: Answers, username: str, hidden: Hidden) -> None:
    """The phone's push (guesses of world A's value) and the pull after it."""
    r = out.add("register device", client.post("/api/devices", json={
        "username": username, "password": "pw", "label": "phone"}))
    if r.status_code != 201:
        return  # no phone for this role (police): the refusal is compared
    token = {"Authorization": f"Bearer {r.get_json()['token']}"}
    world, guess = out.world, {hidden.field: _wire(hidden.a)}
    target, neighbour = world.target, world.neighbour
    new_person = NEW_PERSON
    fresh = {"name": "新登记", "category": "migrant", "id_number": "110105198001011238"}
    batches = {
        # Behind the registry's version (the phone's copy is older), with and without the guess
        # as base; one push each, so that their conflicts are in the same order in both worlds.
        "push behind the version": [
            _mutation(1, "person", "update", target, guess, world.versions["target"] + 3, guess)],
        "push behind the version without base": [
            _mutation(2, "person", "update", target, guess, world.versions["target"] + 3)],
        # A new resident carrying the guess, and the neighbour's record corrected to it.
        "push registration and correction": [
            _mutation(3, "person", "create", new_person, {**fresh, **guess}),
            _mutation(4, "residency", "create", uuid.uuid4(), {
                "person_id": str(new_person), "house_id": _house_id(world, "A1"), "relation": "other",
                "start_date": "2026-11-01"}),
            _mutation(5, "person", "update", neighbour, guess, world.versions["neighbour"])],
        # At the version: the guess is taken as the new value (in world A, the value it holds).
        "push at the version": [_mutation(6, "person", "update", target, guess, world.versions["target"], guess)],
        "push again at the old version": [
            _mutation(7, "person", "update", target, {"note": "复核"}, world.versions["target"], {"note": TARGET["note"]})],
    }
    for door, mutations in batches.items():
        answer = client.post("/api/sync/push", headers=token, json={"protocol": 2, "mutations": mutations})
        for outcome in (answer.get_json() or {}).get("outcomes", []):
            if outcome.get("conflict_id"):  # named by the mutation that raised it
                world.labels[outcome["conflict_id"]] = f"conflict of seq {outcome['seq']}"
        out.add(door, answer)
    for protocol in ("1", "2"):
        out.add(f"pull protocol {protocol}", client.get("/api/sync/pull", headers=token,
                                                        query_string={"protocol": protocol, "limit": 10000}))
    out.add("walk", client.get("/api/walk", headers=token))


def _house_id(world: World, key: str) -> str:
    return next(i for i, label in world.labels.items() if label == f"house {key}")


def _console_doors(client: Any, out: Answers, hidden: Hidden, stage: str) -> None:
    world = out.world
    a1 = _house_id(world, "A1")
    cell_a1 = next(i for i, label in world.labels.items() if label == "cell A1")
    guess = str(_wire(hidden.a))
    pages = {
        "home": "/", "person": f"/persons/{world.target}", "neighbour": f"/persons/{world.neighbour}",
        "person edit form": f"/persons/{world.target}/edit", "person history": f"/persons/{world.target}/history",
        "house": f"/houses/{a1}", "house history": f"/houses/{a1}/history", "cell": f"/cells/{cell_a1}",
        "search by name": "/search?q=王目标", "search by surname": "/search?q=李",
        "search by the last digits": f"/search?q={guess[-4:]}", "search by the guess": f"/search?q={guess}",
        "search by the year": "/search?q=1949", "search by the mask's digits": f"/search?q={guess[:3]}",
        "tasks": "/tasks", "conflicts": "/conflicts", "reviews": "/reviews", "statistics": "/statistics",
        "statistics persons": "/statistics/persons", "coverage data": "/coverage/data.json",
        "coverage cell": f"/coverage/cells/{cell_a1}.json",
        "extract persons": "/extract/export/persons.csv", "extract residencies": "/extract/export/residencies.csv",
        "reports": "/reports",
        **{f"list {name}": f"/reports/lists/{name}" for name in
           ("arrivals", "departures", "permits", "omissions", "duplicates", "separated")},
        **{f"list {name} csv": f"/reports/lists/{name}.csv" for name in
           ("arrivals", "permits", "duplicates", "separated", "flags")},
        **{f"findings {rule}": f"/reports/lists/flags?rule={rule}" for rule in
           ("accuracy", "duplicates", "hukou_separation", "permits", "omission")},
        "grading": "/reports/grading", "grading csv": "/reports/grading/export.csv",
    }
    if stage != "before":  # what the pushes may have changed
        pages = {door: url for door, url in pages.items() if door in AFTER_PUSHES}
    for door, url in pages.items():
        out.add(f"{stage}: {door}", client.get(url))


AFTER_PUSHES = ("person", "person history", "neighbour", "house", "house history", "search by the guess",
                "search by the last digits", "conflicts", "tasks", "extract persons", "list duplicates",
                "findings accuracy", "findings duplicates")


def _walk(app: Any, engine: Engine, s: Session, hidden: Hidden, role: str, value: Any,
          extra: dict[str, Any]) -> Answers:
    s.rollback()
    _empty_tables(engine)
    out = Answers(_build(s, hidden, value, extra))
    client = app.test_client()
    login(client, ROLES[role])
    _console_doors(client, out, hidden, "before")
    _phone_doors(client, out, ROLES[role], hidden)
    _console_doors(client, out, hidden, "after the pushes")
    for conflict, label in list(out.world.labels.items()):
        if label.startswith("conflict"):
            out.add(label, client.get(f"/conflicts/{conflict}"))
    # The phone's new resident, registered with the guess (held for the centre in world A).
    out.add("new registration", client.get(f"/persons/{NEW_PERSON}"))
    out.add("new registration's history", client.get(f"/persons/{NEW_PERSON}/history"))
    return out


@pytest.mark.parametrize("hidden", HIDDEN, ids=[h.field for h in HIDDEN])
@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_answer_is_the_same_whatever_the_hidden_value(app: Any, engine: Engine, db_session: Session,
                                                            role: str, hidden: Hidden) -> None:
    from webapp.registry import privacy

    assert privacy.show(role, "person", hidden.field) is not privacy.Show.CLEAR
    assert privacy.seen(role, "person", hidden.field, hidden.a) == privacy.seen(role, "person", hidden.field, hidden.b)
    a = _walk(app, engine, db_session, hidden, role, hidden.a, hidden.with_a)
    b = _walk(app, engine, db_session, hidden, role, hidden.b, hidden.with_b)
    assert_alike(a, b, f"{role} tells {hidden.field} A from B")


def assert_alike(a: Answers, b: Answers, who: str) -> None:
    """The two worlds' answers, door by door: equal, or a diff of each door that differs."""
    assert list(a.seen) == list(b.seen)
    differing = [door for door in a.seen if a.seen[door] != b.seen[door]]
    report = []
    for door in differing:
        diff = difflib.unified_diff(a.seen[door].splitlines(), b.seen[door].splitlines(), "A", "B", n=1, lineterm="")
        report.append(f"--- {door}\n" + "\n".join(list(diff)[2:40]))
    assert not differing, f"{who} through:\n" + "\n".join(report)

