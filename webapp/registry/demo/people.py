"""People: households in each house (families, tenants, dormitory workers) and their residencies."""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from webapp.models import Person, Residency
from webapp.models.enums import HouseUse, PersonCategory, PhoneStatus, Relation, Source
from webapp.registry.demo.identities import _Identities
from webapp.registry.demo.records import _House, _Member
from webapp.registry.demo.reference import REFERENCE_DATE
from webapp.registry.demo.writer import _synced


class _People(_Identities):
    # -- people --

    def all_people(self) -> None:
        self.out.begin("persons", len(self.houses))
        self.residential = [h for h in self.houses if h.kind == "block"]
        for rec in self.houses:
            for household in self.households(rec):
                hid = self.new_id()
                for relation, room, person in household:
                    self.person(person, rec, relation, room, hid)
            self.out.done += 1
        self.out.flush()

    def households(self, rec: _House) -> list[list[_Member]]:
        """The people living in a house, grouped by household: (relation, room, person)."""
        rng = self.rng
        if rec.use == HouseUse.OWNER_OCCUPIED:
            return [self.family(rng.choices(range(1, 7), cum_weights=(12, 42, 72, 87, 97, 100))[0])]
        if rec.use == HouseUse.RENTED:
            n = rng.randint(5, 8) if rec.group_rent else rng.choices((1, 2, 3), cum_weights=(70, 92, 100))[0]
            return [self.tenants(rec, i, 2 if rec.group_rent else 4) for i in range(n)]
        if rec.use == HouseUse.DORMITORY:
            employer = self.dorm_unit(rec)
            return [[(Relation.EMPLOYEE, None, self.adult("migrant", employer))] for _ in range(rng.randint(2, 6))]
        if rec.lived_in_shop:
            return [self.tenants(rec, 0, 3)]
        if rec.use == HouseUse.OTHER and rng.random() < 0.5:
            return [[(Relation.OTHER, None, self.adult(self.category(False), None))]]
        return []  # idle flats and ordinary shops: nobody lives there

    def dorm_unit(self, rec: _House) -> uuid.UUID | None:
        key = (rec.addr.road, rec.addr.number)
        if key not in self.dorm_employer and self.units:
            self.dorm_employer[key] = self.rng.choice(self.units)
        return self.dorm_employer.get(key)

    def category(self, owner: bool) -> str:
        weights = (62, 87, 97, 100) if owner else (2, 15, 95, 100)
        return self.rng.choices(
            (PersonCategory.HUJI, PersonCategory.SEPARATED, PersonCategory.MIGRANT, PersonCategory.OVERSEAS),
            cum_weights=weights,
        )[0]

    def family(self, size: int) -> list[_Member]:
        """Owner, spouse, children, grandparents: ages consistent with each other."""
        rng = self.rng
        cat = self.category(True)
        head_age = rng.randint(25, 88)
        head_sex = rng.choice("MF")
        home: dict[str, Any] = {}  # what the household shares: surname, hukou region and address
        members = [(Relation.OWNER, self.spec(cat, head_age, head_sex, home))]
        if size >= 2 and rng.random() < 0.85:
            spouse_age = max(20, min(95, head_age + rng.randint(-6, 6)))
            spouse_sex = "F" if head_sex == "M" else "M"
            members.append((Relation.FAMILY, self.spec(cat, spouse_age, spouse_sex, home, kin=False)))
        while len(members) < size:
            if head_age + 25 <= 95 and head_age < 55 and rng.random() < 0.25:  # a grandparent
                age = rng.randint(head_age + 22, min(95, head_age + 32))
            else:
                age = rng.randint(max(0, head_age - 45), max(0, head_age - 22))
            members.append((Relation.FAMILY, self.spec(cat, age, rng.choice("MF"), home)))
        return [(rel, None, spec) for rel, spec in members]

    def tenants(self, rec: _House, index: int, max_size: int) -> list[_Member]:
        rng = self.rng
        room = rec.rooms[index % len(rec.rooms)] if rec.rooms else None
        cat = self.category(False)
        size = rng.choices(range(1, max_size + 1), cum_weights=(35, 70, 90, 100)[:max_size])[0]
        home: dict[str, Any] = {}
        head_age = rng.randint(20, 58)
        out: list[_Member] = [(Relation.TENANT, room, self.spec(cat, head_age, rng.choice("MF"), home))]
        for i in range(1, size):  # a partner of about the same age, then children
            age = max(18, head_age + rng.randint(-6, 6)) if i == 1 else rng.randint(0, min(17, head_age - 20))
            out.append((Relation.FAMILY, room, self.spec(cat, age, rng.choice("MF"), home, kin=i > 1)))
        return out

    def adult(self, cat: str, employer: uuid.UUID | None) -> dict[str, Any]:
        spec = self.spec(cat, self.rng.randint(18, 58), self.rng.choice("MF"), {})
        spec["employer"] = employer
        return spec

    def spec(self, cat: str, age: int, sex: str, home: dict[str, Any], kin: bool = True) -> dict[str, Any]:
        """A person to be: `kin` members carry the household's surname (spouses keep theirs)."""
        return {"category": cat, "birth": self.birth_date(age), "sex": sex, "employer": None,
                "home": home, "kin": kin}

    def person(self, spec: dict[str, Any], rec: _House, relation: str, room: uuid.UUID | None, hid: uuid.UUID) -> None:
        pid = self.new_id()
        row = self.identity(spec, rec)
        age = (REFERENCE_DATE - spec["birth"]).days // 365
        phone = self.phone() if age >= 16 and self.rng.random() < (0.6 if age > 80 else 0.95) else None
        landline, status = self.no_mobile(age) if age >= 16 and phone is None else (None, None)
        if phone is not None and age >= 65 and self.rng.random() < 0.3:
            landline = self.landline()  # many elderly 户籍 residents keep the flat's line too
        employer = spec["employer"]
        if employer is None and 18 <= age <= 60 and self.units and self.rng.random() < 0.3:
            employer = self.rng.choice(self.units)
        self.out.add(Person, _synced(
            pid, **row, sex=spec["sex"], birth_date=spec["birth"], phone=phone,
            phone_rev=phone[::-1] if phone else None, landline=landline, phone_status=status,
            category=str(spec["category"]),
            employer_unit_id=employer, note=None,
        ))
        self.residencies(pid, spec["birth"], rec, relation, room, hid)

    def no_mobile(self, age: int) -> tuple[str | None, str | None]:
        """Someone without a mobile: the elderly mostly have a fixed line; others said they have
        no phone or would not give one; a few were not asked (an accuracy finding)."""
        r = self.rng.random()
        if age >= 60 and r < 0.75:
            return self.landline(), None
        if r < 0.85:
            return None, PhoneStatus.NONE.value if r < 0.6 else PhoneStatus.REFUSED.value
        return None, None

    def landline(self) -> str:
        """A Songjiang fixed line: 021 and eight digits starting 57."""
        return f"021-57{self.rng.randrange(10**6):06d}"

    # -- residencies --

    def residencies(self, pid: uuid.UUID, born: date, rec: _House, relation: str,
                    room: uuid.UUID | None, hid: uuid.UUID) -> None:
        rng = self.rng
        years = 25 if relation in (Relation.OWNER, Relation.FAMILY) else 5
        start = max(born, self.days_ago(10, years * 365))
        end, reason = None, None
        if rng.random() < 0.02:  # moved away: no current residency any more
            end, reason = self.days_ago(1, 300), "已搬离"
            start = max(born, min(start, end - timedelta(days=30)))
            if end <= start:  # a new-born cannot have left before arriving
                end, reason = None, None
        self.residency(pid, rec.id, room, relation, hid, start, end, reason)
        if rng.random() < 0.08 and (start - born).days > 400:
            self.earlier(pid, born, start)

    def earlier(self, pid: uuid.UUID, born: date, before: date) -> None:
        """Where the person lived before: another house, ended before the current move."""
        rng = self.rng
        end = before - timedelta(days=rng.randint(1, 60))
        start = max(born, end - timedelta(days=rng.randint(90, 3 * 365)))
        if end <= start:
            return
        other = rng.choice(self.residential)
        reason = rng.choice(("租约到期", "搬迁", "购房迁居"))
        self.residency(pid, other.id, None, Relation.TENANT, self.new_id(), start, end, reason)

    def residency(self, pid: uuid.UUID, house_id: uuid.UUID, room: uuid.UUID | None, relation: str,
                  hid: uuid.UUID, start: date, end: date | None, reason: str | None) -> None:
        self.out.add(Residency, _synced(
            self.new_id(), person_id=pid, house_id=house_id, room_id=room, relation=str(relation),
            household_id=hid, start_date=start, end_date=end, end_reason=reason, source=Source.DEMO.value,
        ))
