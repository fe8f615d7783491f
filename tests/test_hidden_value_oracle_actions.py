"""The differential test of tests/test_hidden_value_oracle.py (read its docstring), through
the doors where a masked role *acts* rather than reads, and the doors it left out: the
conflict queue's decisions (keep, take the device's value, type one, combine two records,
found by what the role types), the review queue's decisions, the console's edit forms saved
with a guess at the hidden value (right in world A, wrong in B), coverage, statistics,
campaigns, the audit log, the yearly and other exports (CSV and XLSX, read cell by cell),
and the public plate page (anonymous: a resident's declaration carrying the guess).

Also varied here: a task's call-back number (masked for the police only).

Same worlds as the first file (its `_build`), plus a task, a campaign, a plate and two
pending reviews; for the roles with a phone, three field conflicts raised by their own push
of the guess behind the version, decided one way each.
"""
from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.conftest import _empty_tables, csrf_token, login
from tests.test_hidden_value_oracle import (HIDDEN, NEIGHBOUR, ROLES, TARGET, Answers, Hidden, _build, _fixed,
                                            _house_id, _mutation, _wire, assert_alike)
from webapp.models import Campaign, House, HouseCode, Review

# A task's call-back number (the police see it masked); the neighbour's task's lies between.
CONTACT = Hidden("contact_phone", "13812345678", "13899995678", "13850005678")
UNVARIED = Hidden("phone", TARGET["phone"], TARGET["phone"], NEIGHBOUR["phone"])

REVIEWS = {"target": _fixed(51), "neighbour": _fixed(52)}
CAMPAIGN = 7


@dataclass(frozen=True)
class Case:
    hidden: Hidden
    record: str  # the record type the field belongs to

    @property
    def person(self) -> bool:
        return self.record == "person"


CASES = [Case(h, "person") for h in HIDDEN] + [Case(CONTACT, "task")]


def _cases() -> list[Any]:
    from webapp.registry import privacy

    return [pytest.param(role, case, id=f"{role}-{case.hidden.field}") for role in sorted(ROLES) for case in CASES
            if privacy.show(role, case.record, case.hidden.field) is not privacy.Show.CLEAR
            and case.hidden.field in FIELDS_OF.get(role, {case.hidden.field})]


# The run time's share: committees (every door: they act and export) with every field; grid
# leads (the same actions; of the exports, the ones `see_statistics`, `see_coordinators` and
# `view` open: coverage, statistics, campaigns, the coordinators' work and the year; the rest
# refused) with a number, a phone, a hukou part, and the two fields statistics count by (age,
# province); the police (no actions: exports, lists and tasks) with the call-back number,
# which only they see masked.
FIELDS_OF = {"grid_lead": {"id_number", "phone", "hukou_room", "birth_date", "hukou_region"},
             "police": {"contact_phone"}}


# ---------------------------------------------------------------------------------------
# The world, and what the new doors need in it


def _world(engine: Engine, s: Session, case: Case, value: Any, extra: dict[str, Any]) -> Answers:
    s.rollback()
    _empty_tables(engine)
    hidden = case.hidden if case.person else UNVARIED
    world = _build(s, hidden, value if case.person else hidden.a, extra)
    from webapp.models import Residency, User
    from webapp.registry.plates import assign_plates
    from webapp.registry.tasks import create_task

    a1 = s.get(House, uuid.UUID(_house_id(world, "A1")))
    coord = s.scalar(select(User).where(User.username == "coord"))
    assert a1 is not None and coord is not None
    assign_plates(s, House.id == a1.id)
    # The target's house's report, with the call-back number varied for the task case.
    contact = value if not case.person else CONTACT.a
    create_task(s, a1, "problem", "楼道漏水", contact_phone=contact)
    create_task(s, a1, "problem", "门铃坏了", contact_phone=CONTACT.neighbour)
    for key, person_id, residency in (("target", world.target, _fixed(31)), ("neighbour", world.neighbour, _fixed(32))):
        s.add(Review(id=REVIEWS[key], house_id=a1.id, cell_id=a1.cell_id, residency_id=residency, person_id=person_id,
                     person_name=s.get(Residency, residency).person.name, kind="registration", status="pending",
                     submitted_by_id=coord.id, changed_by_id=coord.id))
    s.add(Campaign(id=CAMPAIGN, name="重点区域", starts_on=date(2026, 11, 1), due_on=date(2026, 12, 31),
                   cells=[a1.cell]))
    s.commit()
    world.labels.update({str(i): f"review of {k}" for k, i in REVIEWS.items()})
    return Answers(world)


class _Form(HTMLParser):
    """The values a browser would post from a page's form (the first one with `action`)."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.values = action, False, {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action", "") in ("", self.action) and a.get("method", "").lower() == "post"
        elif not self.inside:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.values.setdefault(a["name"], a.get("value", ""))
        elif tag == "select":
            self.select = a.get("name")
        elif tag == "option" and self.select and ("selected" in a or self.select not in self.values):
            self.values[self.select] = a.get("value", "")  # the first option, unless one is selected
        elif tag == "textarea":
            self.textarea = a.get("name")
            self.values[self.textarea or ""] = ""

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.values[self.textarea] += data.strip("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def _form(client: Any, url: str, action: str) -> dict[str, str]:
    return _form_values(client.get(url).get_data(as_text=True), action)


def _form_values(html: str, action: str) -> dict[str, str]:
    parser = _Form(action)
    parser.feed(html)
    return parser.values


class _Sheet:
    """An XLSX answer as its cells' text (the file's own times and zip order are not an answer)."""

    def __init__(self, response: Any) -> None:
        from openpyxl import load_workbook

        self.status_code, self.mimetype, self.headers = response.status_code, response.mimetype, response.headers
        if response.status_code == 200:
            book = load_workbook(io.BytesIO(response.data))
            self.text = "\n".join(f"[{ws.title}]\n" + "\n".join(
                "\t".join("" if v is None else str(v) for v in row) for row in ws.iter_rows(values_only=True))
                for ws in book.worksheets)
        else:
            self.text = response.get_data(as_text=True)

    def get_data(self, as_text: bool = True) -> str:
        return self.text


def _get(client: Any, out: Answers, door: str, url: str) -> Any:
    response = client.get(url)
    return out.add(door, _Sheet(response) if url.endswith(".xlsx") else response)


# ---------------------------------------------------------------------------------------
# The doors


def _conflict_doors(client: Any, out: Answers, username: str, case: Case, decisions: tuple[str, ...]) -> None:
    """The role's own push of the guess behind the version (a field conflict each), then each
    decided its way: keep the registry's value, take the device's value, type the guess."""
    world, hidden = out.world, case.hidden
    r = client.post("/api/devices", json={"username": username, "password": "pw", "label": "phone"})
    if r.status_code != 201 or not case.person:
        out.add("register device", r)
        return
    token = {"Authorization": f"Bearer {r.get_json()['token']}"}
    guess = {hidden.field: _wire(hidden.a)}
    conflicts = []
    for seq in range(1, len(decisions) + 1):
        answer = client.post("/api/sync/push", headers=token, json={"protocol": 2, "mutations": [
            _mutation(seq, "person", "update", world.target, guess, world.versions["target"] + 3, guess)]})
        for outcome in answer.get_json().get("outcomes", []):
            if outcome.get("conflict_id"):
                world.labels[outcome["conflict_id"]] = f"conflict of seq {outcome['seq']}"
                conflicts.append(outcome["conflict_id"])
        out.add(f"push {seq}", answer)
    for conflict, how in zip(conflicts, decisions):
        form = _form(client, f"/conflicts/{conflict}", f"/conflicts/{conflict}/resolve")
        for name in [n for n in form if n.startswith("choice__")]:
            form[name] = how
            if how == "edit":
                form[f"value__{name.removeprefix('choice__')}"] = str(_wire(hidden.a))
        out.add(f"resolve: {how}", client.post(f"/conflicts/{conflict}/resolve", data=form))
        out.add(f"after resolve {how}: conflict", client.get(f"/conflicts/{conflict}"))
    out.add(f"after {'/'.join(decisions)}: history", client.get(f"/persons/{world.target}/history"))


def _review_doors(client: Any, out: Answers) -> None:
    out.add("reviews", client.get("/reviews?status=all"))
    token = csrf_token(client, "/reviews")
    for key, action, reason in (("target", "approve", ""), ("neighbour", "return", "请核对户籍地址")):
        out.add(f"review {action}", client.post(f"/reviews/{REVIEWS[key]}/{action}", data={
            "csrf_token": token, "version": "1", "reason": reason}))
    out.add("reviews after", client.get("/reviews?status=all"))


def _edit_doors(client: Any, out: Answers, case: Case, note: str | None) -> None:
    """The console's person form saved as the page gives it, with the guess typed in (and a
    note changed with it, or not)."""
    world, hidden = out.world, case.hidden
    person = f"/persons/{world.target}/edit"
    page = out.add(f"edit form ({note})", client.get(person))
    form = _form_values(page.get_data(as_text=True), person)
    typed = {"birth_date": ("id_number", hidden.with_a.get("id_number"))}.get(hidden.field, (hidden.field, _wire(hidden.a)))
    if typed[0] in form:  # a field the form has (the police have no form)
        out.add(f"edit: the guess, note {note}", client.post(person, data={
            **form, typed[0]: typed[1], **({"note": note} if note else {})}))
    out.add(f"after the edit ({note}): history", client.get(f"/persons/{world.target}/history"))


def _house_edit(client: Any, out: Answers) -> None:
    house = f"/houses/{_house_id(out.world, 'A1')}/edit"
    page = out.add("house edit form", client.get(house))
    form = _form_values(page.get_data(as_text=True), house)
    if form:
        out.add("house edit", client.post(house, data={**form, "note": "门牌已换"}))


def _report_doors(client: Any, out: Answers) -> None:
    """Every role walks all of them: a door it is refused must refuse it alike in both worlds
    (a 403 costs next to nothing)."""
    world = out.world
    cell_a1 = next(i for i, label in world.labels.items() if label == "cell A1")
    committee_a = next(i for i, label in world.labels.items() if label == "committee A")
    year = date.today().year
    urls = {
        "coverage dots": "/coverage/dots.json?bbox=121.3,31.1,121.5,31.3",
        "statistics": "/statistics", "campaigns": "/campaigns", "campaign cells": "/campaigns/cells.json",
        "campaign": f"/campaigns/{CAMPAIGN}", "audit": "/audit", "audit of the target": f"/audit/persons/{world.target}",
        "audit export": "/audit/export.csv", "tasks": "/tasks?status=all",
        "coordinators": "/reports/coordinators", "year": f"/reports/year/{year}",
        "grading committee": f"/reports/grading/committees/{committee_a}",
        **{f"statistics persons {chart}": f"/statistics/persons?chart={chart}&key={key}" for chart, key in
           (("age", "60-79"), ("province", "11"), ("permits", "later"))},
    }
    # XLSX is the same table through another writer: read for a few exports only.
    urls.update({f"{door} xlsx": f"{url}.xlsx" for door, url in (
        ("coverage export", "/coverage/export"), ("year", f"/reports/year/{year}"),
        ("extract persons", "/extract/export/persons"))})
    for fmt in ("csv",):
        urls.update({
            f"coverage export {fmt}": f"/coverage/export.{fmt}", f"campaign export {fmt}": f"/campaigns/{CAMPAIGN}/export.{fmt}",
            f"coordinators {fmt}": f"/reports/coordinators.{fmt}", f"year {fmt}": f"/reports/year/{year}.{fmt}",
            f"grading {fmt}": f"/reports/grading/export.{fmt}",
            **{f"statistics {chart} {fmt}": f"/statistics/export/{chart}.{fmt}" for chart in
               ("age", "pyramid", "province", "permits", "findings", "category", "sex")},
            **{f"extract {shape} {fmt}": f"/extract/export/{shape}.{fmt}" for shape in ("persons", "residencies")},
            **{f"drill {metric} {fmt}": f"/reports/grading/committees/{committee_a}/drill/{metric}.{fmt}"
               for metric in ("incomplete", "violations")},
            **{f"list {name} {fmt}": f"/reports/lists/{name}.{fmt}" for name in ("permits", "separated", "flags")},
        })
    urls["coverage cell"] = f"/coverage/cells/{cell_a1}.json"
    for door, url in urls.items():
        _get(client, out, door, url)


PLATE_RE = re.compile(r"(/h/|>)[0-9A-Z]{4}[ -]?[0-9A-Z]{4}")


def _public_doors(app: Any, out: Answers, case: Case, s: Session) -> None:
    """The plate's page, anonymous: a declaration with the guess as its call-back number."""
    code = s.scalar(select(HouseCode.code).where(HouseCode.house_id == uuid.UUID(_house_id(out.world, "A1"))))
    client = app.test_client()
    page = client.get(f"/h/{code}")
    out.add("plate page", page)
    form = {**_form_values(page.get_data(as_text=True), f"/h/{code}"), "kind": "problem", "text": "楼道灯坏了"}
    guess = str(_wire(case.hidden.a)) if case.hidden.field in ("phone", "contact_phone") else TARGET["phone"]
    out.add("plate declaration", client.post(f"/h/{code}", data={**form, "contact_phone": guess}))
    out.add("plate page after", client.get(f"/h/{code}"))
    for door in ("plate page", "plate declaration", "plate page after"):
        out.seen[door] = out.seen[door].replace(code, "<plate>")


def _walk(app: Any, engine: Engine, s: Session, case: Case, role: str, value: Any, extra: dict[str, Any]) -> Answers:
    """Four worlds in turn (each door that writes the guess gets one where the value is still
    A or B); the answers of all four in one record."""
    out: Answers | None = None
    steps: list[Any] = [
        lambda c, o: (_report_doors(c, o), _review_doors(c, o), _combine_doors(c, o, case),
                      _public_doors(app, o, case, s), _conflict_doors(c, o, ROLES[role], case, ("keep", "take"))),
        lambda c, o: _conflict_doors(c, o, ROLES[role], case, ("edit",)),
        lambda c, o: (_edit_doors(c, o, case, None), _house_edit(c, o)),
        lambda c, o: (_edit_doors(c, o, case, "上门核对"), _merge(c, o)),
    ]
    for step in steps:
        world = _world(engine, s, case, value, extra)
        if out is not None:  # one record: ids made in a later world are numbered on
            world.ids, world.seen = out.ids, out.seen
        out = world
        client = app.test_client()
        login(client, ROLES[role])
        step(client, out)
    assert out is not None
    return out


def _combine_doors(client: Any, out: Answers, case: Case) -> None:
    """The combine form finds the two records by what the role types: the guess, as text
    (twice, and with a record outside the area: refused either way, the target kept)."""
    world, guess = out.world, str(_wire(case.hidden.a))
    outside = next(i for i, label in world.labels.items() if label == "person B1")
    token = csrf_token(client, "/conflicts")
    for door, survivor, loser in (("the guess twice", guess, guess), ("the guess and outside", guess, outside),
                                  ("the last digits", guess[-4:], str(world.neighbour))):
        query = {"record_type": "person", "survivor": survivor, "loser": loser}
        out.add(f"combine {door}: page", client.get("/conflicts/combine", query_string=query))
        out.add(f"combine {door}: post", client.post("/conflicts/combine", data={**query, "csrf_token": token}))


def _merge(client: Any, out: Answers) -> None:
    world = out.world
    query = {"record_type": "person", "survivor": str(world.target), "loser": str(world.neighbour)}
    out.add("merge: page", client.get("/conflicts/combine", query_string=query))
    out.add("merge: post", client.post("/conflicts/combine", data={**query, "csrf_token": csrf_token(client, "/conflicts")}))
    out.add("after merging: target", client.get(f"/persons/{world.target}"))


@pytest.mark.parametrize(("role", "case"), _cases())
def test_every_action_is_answered_the_same_whatever_the_hidden_value(app: Any, engine: Engine, db_session: Session,
                                                                     role: str, case: Case) -> None:
    from webapp.registry import privacy

    hidden = case.hidden
    assert privacy.seen(role, case.record, hidden.field, hidden.a) == privacy.seen(role, case.record, hidden.field, hidden.b)
    a = _walk(app, engine, db_session, case, role, hidden.a, hidden.with_a)
    b = _walk(app, engine, db_session, case, role, hidden.b, hidden.with_b)
    assert_alike(a, b, f"{role} tells {case.record}.{hidden.field} A from B")

