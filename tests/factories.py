"""Small builders for test data; each adds to the session and flushes, nothing commits."""
from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from webapp.validation import parse_person_id
from webapp.models import Cell, Committee, House, HouseCode, Person, Residency, User

_seq = itertools.count(1)
# One cheap hash for every test user: hashing cost is not what these tests are about.
_PW_HASH = generate_password_hash("pw", method="pbkdf2:sha256:1")


def _square(lon: float, lat: float, size: float = 0.002) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[
        [lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]]}


def committee(s: Session, **kw: Any) -> Committee:
    n = next(_seq)
    obj = Committee(**{"code": f"C{n:03d}", "name": f"测试居委{n}", **kw})
    s.add(obj)
    s.flush()
    return obj


def cell(s: Session, committee_: Committee | None = None, **kw: Any) -> Cell:
    n = next(_seq)
    committee_ = committee_ or committee(s)
    obj = Cell(**{"code": f"G{n:04d}", "name": f"网格{n}", "committee_id": committee_.id,
                  "boundary": _square(121.2 + n * 0.01, 31.0), **kw})
    s.add(obj)
    s.flush()
    return obj


def user(s: Session, username: str, role: str, **kw: Any) -> User:
    obj = User(username=username, display_name=kw.pop("display_name", username),
               password_hash=_PW_HASH, role=role, **kw)
    s.add(obj)
    s.flush()
    return obj


def house(s: Session, cell_: Cell | None, code: str | None = None, **kw: Any) -> House:
    n = next(_seq)
    obj = House(**{"cell_id": cell_.id if cell_ else None, "road": "谷阳北路", "number": str(n),
                   "building": "1", "room": "101", **kw})
    s.add(obj)
    s.flush()
    if code:
        s.add(HouseCode(code=code, kind="plate", house_id=obj.id))
        s.flush()
    return obj


def person(s: Session, name: str = "张三", id_number: str | None = None, **kw: Any) -> Person:
    """A person; sex and birth date come from the ID number, as the forms do it."""
    if id_number:
        parsed = parse_person_id(id_number, kw.get("id_type", "resident"))
        kw = {"sex": parsed.sex, "birth_date": parsed.birth_date, **kw}
    phone = kw.pop("phone", None)
    obj = Person(name=name, category=kw.pop("category", "migrant"), **kw)
    obj.set_id_number(id_number)
    obj.set_phone(phone)
    s.add(obj)
    s.flush()
    return obj


def residency(s: Session, person_: Person, house_: House, **kw: Any) -> Residency:
    obj = Residency(person_id=person_.id, house_id=house_.id,
                    start_date=kw.pop("start_date", date(2025, 1, 1)), **kw)
    s.add(obj)
    s.flush()
    return obj
