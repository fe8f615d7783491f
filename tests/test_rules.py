"""Registry rules on hand-made cases, at and around each threshold (SQLite and PostgreSQL)."""
from __future__ import annotations

import itertools
import subprocess
import sys
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import valid_id
from webapp.models import (Conflict, House, HouseFlag, Person, RecordAlias, ResidenceCheck, Residency, Room, Task,
                           Unit, Visit)
from webapp.registry.rules import RULES, Flag, RuleSettings, evaluate, raise_tasks, residence_verdict
from webapp.registry.rules.base import Context
from webapp.validation import uscc_check_char

TODAY = date(2026, 11, 26)
S = RuleSettings()


def run(s: Session, code: str, settings: RuleSettings = S, **kw: Any) -> list[Flag]:
    s.flush()
    return evaluate(s, today=TODAY, settings=settings, codes=(code,), **kw)


def by_record(flags: list[Flag]) -> dict[uuid.UUID, list[Flag]]:
    out: dict[uuid.UUID, list[Flag]] = {}
    for fl in flags:
        out.setdefault(fl.record_id, []).append(fl)
    return out


_ids = itertools.cycle(range(100, 1000))  # sequence digits: unique within a test


def pid(born: date = date(1990, 1, 1), area: str = "310117") -> str:
    return valid_id(f"{area}{born:%Y%m%d}{next(_ids)}")


def person(s: Session, born: date = date(1990, 1, 1), **kw: Any) -> Person:
    kw.setdefault("phone", "13812345678")
    return f.person(s, name=kw.pop("name", "张三"), id_number=kw.pop("id_number", None) or pid(born), **kw)


def live_in(s: Session, house: House, n: int = 1, room: Room | None = None, household: uuid.UUID | None = None,
            relation: str = "tenant", **kw: Any) -> list[Person]:
    """n persons living in the house (and room); one household when `household` is given."""
    out = []
    for _ in range(n):
        p = person(s, **kw)
        f.residency(s, p, house, room_id=room.id if room else None, relation=relation,
                    household_id=household or uuid.uuid4())
        out.append(p)
    return out


def room(s: Session, house: House, name: str, area: float | None, kind: str = "bedroom") -> Room:
    r = Room(house_id=house.id, name=name, living_area=area, kind=kind)
    s.add(r)
    s.flush()
    return r


@pytest.fixture
def cell(db_session: Session):  # type: ignore[no-untyped-def]
    return f.cell(db_session)


def test_rules_are_data_with_titles_settings_and_kinds() -> None:
    assert list(RULES) == ["group_rent", "landlord_register", "legal_residence", "permits", "hukou_separation",
                           "omission", "duplicates", "accuracy"]
    fields = set(RuleSettings.__dataclass_fields__)
    for r in RULES.values():
        assert r.zh and r.en and r.kinds
        assert set(r.reads) <= fields, r.code


def test_settings_come_from_config_and_refuse_nonsense() -> None:
    cfg = RuleSettings.from_config({"ROOM_MAX_PERSONS": "3", "GRADE_THRESHOLDS": "95,85,70"})
    assert (cfg.room_max_persons, cfg.thresholds()) == (3, (95.0, 85.0, 70.0))
    assert RuleSettings().weights() == {"completeness": 25, "accuracy": 25, "timeliness": 20, "coverage": 20,
                                        "backlog": 10}
    for bad in ({"hukou_match_level": "street"}, {"grade_thresholds": "60,80,90"},
                {"grade_weights": "speed:10"}):
        with pytest.raises(ValueError):
            RuleSettings(**bad)  # type: ignore[arg-type]


def test_rules_and_grading_do_not_import_flask() -> None:
    code = ("import sys, webapp.registry.rules, webapp.oversight.grading, webapp.oversight.grading.drill, "
            "webapp.registry.reports\n"
            "print(','.join(sorted(m for m in sys.modules if m == 'flask' or m.startswith(('flask.', 'flask_')))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --- 群租 -------------------------------------------------------------------------------

def test_group_rent_counts_persons_not_of_one_household_per_room(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    at_limit, over, family = (f.house(s, cell, use="rented") for _ in range(3))
    live_in(s, at_limit, 2, room(s, at_limit, "301", 30.0))  # 2 strangers: allowed
    live_in(s, over, 3, room(s, over, "301", 30.0))  # 3 strangers: over the limit
    live_in(s, family, 3, room(s, family, "301", 30.0), household=uuid.uuid4())  # one family of 3: allowed
    flags = by_record(run(s, "group_rent"))
    assert set(flags) == {over.id}
    (fl,) = flags[over.id]
    assert fl.en == "3 persons not of one household in room 301 (limit 2)"
    assert fl.zh == "房间“301”住 3 人，非同一户（上限 2 人）"
    assert fl.numbers["basis"] == "house" and not fl.error  # the area basis (GROUP_RENT_AREA_BASIS)
    # A looser setting lets the three strangers be.
    assert run(s, "group_rent", RuleSettings(room_max_persons=3)) == []


PER_ROOM = RuleSettings(group_rent_area_basis="room")


def test_group_rent_area_per_person_per_room(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    exact, small = f.house(s, cell, use="rented"), f.house(s, cell, use="rented")
    fam = uuid.uuid4()
    live_in(s, exact, 2, room(s, exact, "主卧", 10.0), household=fam)  # 5.0 m² each: allowed
    live_in(s, small, 2, room(s, small, "次卧", 9.9), household=uuid.uuid4())  # 4.95 m² each
    (fl,) = run(s, "group_rent", PER_ROOM)
    assert fl.record_id == small.id
    assert fl.en == "4.9 m² living area per person in room 次卧 (minimum 5 m², computed per room)"


def test_group_rent_area_is_per_dwelling_by_default(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    """Issue 18: per room, a family of two in a 9.9 m² bedroom of any let flat was 群租嫌疑;
    Shanghai's 5 m² is commonly read over the dwelling, the default basis now."""
    s = db_session
    flat = f.house(s, cell, use="rented", living_area=60.0)
    live_in(s, flat, 2, room(s, flat, "次卧", 9.9), household=uuid.uuid4())
    live_in(s, flat, 2, room(s, flat, "主卧", 14.0), household=uuid.uuid4())
    assert run(s, "group_rent") == []
    # Crowded: fourteen persons in the same 60 m² (5 a head would need 70), counted over the flat.
    for name in ("301A", "301B", "301C", "301D", "301E"):
        live_in(s, flat, 2, room(s, flat, name, 6.0), household=uuid.uuid4())
    (fl,) = run(s, "group_rent")
    assert fl.en == "4.2 m² living area per person for 14 persons (minimum 5 m², computed per house)"
    assert fl.numbers["basis"] == "house"
    # A flat without its own living area recorded is measured by its rooms, when all have one.
    rooms_only = f.house(s, cell, use="rented")
    live_in(s, rooms_only, 3, room(s, rooms_only, "A", 7.0), household=uuid.uuid4())  # a family: not crowded
    found = {x.record_id: x for x in run(s, "group_rent")}
    assert found[rooms_only.id].en.endswith("computed per house, the rooms' areas added up)")
    room(s, rooms_only, "B", None)
    assert rooms_only.id not in {x.record_id for x in run(s, "group_rent")}


def test_rooms_that_may_not_be_let_are_findings_of_their_own(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    h = f.house(s, cell, use="rented", living_area=80.0)
    live_in(s, h, 1, room(s, h, "北阳台", 4.0, kind="balcony"))
    live_in(s, h, 1, room(s, h, "隔断2", 8.0, kind="partitioned"))
    live_in(s, h, 1, room(s, h, "主卧", 15.0))
    own = f.house(s, cell, use="owner_occupied")
    live_in(s, own, 1, room(s, own, "地下室", 20.0, kind="basement"), relation="family")  # not let
    (fl,) = run(s, "group_rent")
    assert (fl.record_id, fl.kind) == (h.id, "unfit_room")
    assert fl.zh == "阳台“北阳台”有 1 人居住（厨房、卫生间、阳台、储藏室不得出租居住）；隔断间“隔断2”出租居住 1 人"
    assert [r["room"] for r in fl.numbers["rooms"]] == ["北阳台", "隔断2"]


def test_group_rent_per_house_when_no_rooms_are_recorded(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    exact, small, own = (f.house(s, cell, use=u, living_area=15.0) for u in ("rented", "rented", "owner_occupied"))
    live_in(s, exact, 3)  # 5.0 m² each
    live_in(s, small, 4)  # 3.75 m² each
    live_in(s, own, 4, relation="family")  # not let out: the rental rules do not apply
    (fl,) = run(s, "group_rent", PER_ROOM)
    assert fl.record_id == small.id
    assert fl.en == ("3.7 m² living area per person for 4 persons (minimum 5 m², computed per house: "
                     "no rooms recorded)")
    assert fl.numbers["basis"] == "house"
    # An owner-occupied flat with a tenant in it is let out too.
    live_in(s, own, 1, relation="tenant")
    assert {x.record_id for x in run(s, "group_rent", PER_ROOM)} == {small.id, own.id}


# --- 出租人登记义务 --------------------------------------------------------------------

def _landlord(s: Session, cell, houses: int, rooms_each: int, tenants_each: int,  # type: ignore[no-untyped-def]
              owner: Person | None = None) -> Person:
    owner = owner or person(s, name="房东")
    for _ in range(houses):
        h = f.house(s, cell, use="rented")
        f.residency(s, owner, h, relation="owner", start_date=date(2010, 1, 1), end_date=date(2015, 1, 1))
        rs = [room(s, h, f"{k + 1}", 12.0) for k in range(rooms_each)]
        for k in range(tenants_each):
            live_in(s, h, 1, rs[k % len(rs)] if rs else None)
    return owner


def test_landlord_register_at_ten_rooms(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    nine = _landlord(s, cell, 3, 3, 3)  # 9 rooms, 9 occupants
    ten = _landlord(s, cell, 5, 2, 2)  # 10 rooms, 10 occupants
    (fl,) = run(s, "landlord_register")
    assert fl.record_id == ten.id and fl.record_type == "person" and fl.record_id != nine.id
    assert fl.en == ("Lets 10 rooms in 5 houses to 10 occupants (an occupant register is required from "
                     "10 rooms or 15 occupants)")


def test_landlord_register_at_fifteen_occupants(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    fourteen = _landlord(s, cell, 2, 0, 7)  # let whole: 2 "rooms", 14 occupants
    fifteen = _landlord(s, cell, 3, 0, 5)
    flags = run(s, "landlord_register")
    assert [x.record_id for x in flags] == [fifteen.id]
    assert flags[0].numbers == {**flags[0].numbers, "rooms": 3, "occupants": 15, "houses": 3}
    assert fourteen.id not in {x.record_id for x in flags}


def test_landlord_sold_flats_and_own_household_do_not_count(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    owner = _landlord(s, cell, 5, 2, 2)
    first = s.scalars(select(Residency).where(Residency.person_id == owner.id).order_by(Residency.id)).first()
    assert first is not None
    buyer = person(s, name="买家")
    f.residency(s, buyer, s.get(House, first.house_id), relation="owner", start_date=date(2016, 1, 1),  # type: ignore[arg-type]
                end_date=date(2016, 2, 1))
    assert run(s, "landlord_register") == []  # 8 rooms left with the first owner
    # The owner's own family living in a let flat are not occupants let to.
    home = f.house(s, cell)
    fam = uuid.uuid4()
    f.residency(s, owner, home, relation="owner", household_id=fam)
    live_in(s, home, 5, relation="family", household=fam)
    assert run(s, "landlord_register") == []


# --- 合法稳定住所 ----------------------------------------------------------------------

def test_legal_residence_refuses_flagged_houses_with_registrants(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    illegal, cleared, nobody, clean = (f.house(s, cell) for _ in range(4))
    for h in (illegal, cleared, clean):
        live_in(s, h, 1, category="migrant")
    raised = datetime(2026, 5, 1, 2, tzinfo=timezone.utc)
    s.add_all([HouseFlag(house_id=illegal.id, kind="illegal_building", raised_at=raised),
               HouseFlag(house_id=cleared.id, kind="group_rent", cleared_at=raised),
               HouseFlag(house_id=nobody.id, kind="res_to_nonres")])
    (fl,) = run(s, "legal_residence")
    assert fl.record_id == illegal.id and fl.kind == "illegal_building"
    assert fl.en == "Cannot back a residence registration: Flagged illegal building (since 2026-05-01)"
    # The house page says why even when nobody is registered there yet.
    ctx = Context(s, S, TODAY)
    assert residence_verdict(ctx, nobody.id).reasons == [("标记为居改非", "Flagged dwelling used as non-dwelling")]
    assert residence_verdict(ctx, clean.id).ok and residence_verdict(ctx, clean.id).registrants == 1


def test_legal_residence_not_lived_in_and_committee_refusal(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    vacant, refused, shop = f.house(s, cell), f.house(s, cell), f.house(s, cell, use="commercial")
    for h in (vacant, refused, shop):
        live_in(s, h, 1, category="separated")
    s.add_all([Visit(house_id=vacant.id, visited_at=datetime(2026, 10, 1, 2, tzinfo=timezone.utc), outcome="verified"),
               Visit(house_id=vacant.id, visited_at=datetime(2026, 11, 1, 2, tzinfo=timezone.utc), outcome="vacant"),
               ResidenceCheck(house_id=refused.id, result="stable", checked_at=datetime(2026, 9, 1, tzinfo=timezone.utc)),
               ResidenceCheck(house_id=refused.id, result="refused", note="实为仓库",
                              checked_at=datetime(2026, 10, 1, tzinfo=timezone.utc))])
    flags = by_record(run(s, "legal_residence"))
    assert flags[vacant.id][0].kind == "last_visit_vacant"
    assert "the last visit (2026-11-01) found it vacant" in flags[vacant.id][0].en
    assert flags[refused.id][0].en.endswith("The committee refused it on 2026-10-01: 实为仓库")
    assert flags[shop.id][0].kind == "commercial_use"
    # A later acceptance replaces the refusal; a later ordinary visit the vacancy.
    s.add_all([ResidenceCheck(house_id=refused.id, result="stable", checked_at=datetime(2026, 11, 1, tzinfo=timezone.utc)),
               Visit(house_id=vacant.id, visited_at=datetime(2026, 11, 20, 2, tzinfo=timezone.utc), outcome="verified")])
    assert set(by_record(run(s, "legal_residence"))) == {shop.id}


def test_the_verdict_names_local_days(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    # A vacant visit at 07:00 in Shanghai on 1 December is 23:00 UTC on 30 November: the
    # reason said "最近一次走访（2026-11-30）", and so did the certificate's stored reasons.
    s = db_session
    vacant = f.house(s, cell)
    live_in(s, vacant, 1, category="separated")
    s.add(Visit(house_id=vacant.id, visited_at=datetime(2026, 11, 30, 23, tzinfo=timezone.utc), outcome="vacant"))
    [flag] = by_record(run(s, "legal_residence"))[vacant.id]
    assert "（2026-12-01）" in flag.zh and "(2026-12-01)" in flag.en


def test_computed_group_renting_weighs_in_the_legal_residence_verdict(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    """Issue 18: a 群租嫌疑 the rules computed did not affect the verdict; now it refuses it."""
    s = db_session
    h = f.house(s, cell, use="rented", living_area=60.0)
    live_in(s, h, 3, room(s, h, "301", 20.0), category="migrant")  # three strangers in one room
    verdict = residence_verdict(Context(s, S, TODAY), h.id)
    assert not verdict.ok and verdict.registrants == 3
    assert verdict.reasons == [("群租嫌疑（按登记计算）：房间“301”住 3 人，非同一户（上限 2 人）",
                                "Suspected group renting (from the records): 3 persons not of one household in room 301 "
                                "(limit 2)")]
    assert [fl.kind for fl in run(s, "legal_residence")] == ["group_rent_found"]


# --- 居住证 ----------------------------------------------------------------------------

def test_permits_expiring_expired_and_endorsements_due(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    h = f.house(s, cell)
    endorsed = date(2026, 1, 1)  # the last anniversary's endorsement, where one passed
    cards = {
        "warn_edge": {"permit_expiry": TODAY + timedelta(days=30)},
        "after_warn": {"permit_expiry": TODAY + timedelta(days=31), "permit_endorsed_on": endorsed},
        "expired": {"permit_expiry": TODAY - timedelta(days=1)}, "today": {"permit_expiry": TODAY},
        # Issued 2024-12-26 (expiry − 3 years): the second anniversary is 30 days ahead.
        "endorse_edge": {"permit_expiry": date(2027, 12, 26), "permit_endorsed_on": endorsed},
        "endorse_after": {"permit_expiry": date(2027, 12, 27), "permit_endorsed_on": endorsed},  # 31 days ahead
        "endorse_year1": {"permit_expiry": date(2028, 11, 26)},  # first anniversary today
        "endorsed_early": {"permit_expiry": date(2028, 11, 26), "permit_endorsed_on": date(2026, 11, 1)},
        # An issue date recorded: its anniversaries, not expiry − k years.
        "issued": {"permit_issued": date(2025, 12, 10), "permit_expiry": date(2028, 12, 1)},
        "overdue": {"permit_issued": date(2025, 11, 20), "permit_expiry": date(2028, 11, 20)},
        "endorsed_late": {"permit_issued": date(2025, 11, 20), "permit_expiry": date(2028, 11, 20),
                          "permit_endorsed_on": date(2026, 11, 24)},
        "far": {"permit_expiry": date(2029, 6, 1)},
    }
    who = {k: live_in(s, h, 1, permit_number="SH1", **v)[0] for k, v in cards.items()}
    found = {(fl.record_id, fl.kind): fl for fl in run(s, "permits")}
    names = {(next(k for k, p in who.items() if p.id == rid), kind) for rid, kind in found}
    assert names == {("warn_edge", "expiring"), ("today", "expiring"), ("expired", "expired"),
                     ("endorse_edge", "endorsement"), ("endorse_year1", "endorsement"),
                     ("issued", "endorsement"), ("overdue", "endorsement_overdue")}
    assert found[(who["warn_edge"].id, "expiring")].en == (
        "Residence permit expires on 2026-12-26 (in 30 days; warned 30 days ahead)")
    assert found[(who["endorse_edge"].id, "endorsement")].en == (
        "Year 2 endorsement due by 2026-12-26 (30 days left): once done, record it (Record endorsement) on the "
        "person's page or the phone")
    assert found[(who["endorse_year1"].id, "endorsement")].numbers["year"] == 1
    assert found[(who["issued"].id, "endorsement")].numbers == {"due": "2026-12-10", "days": 14, "year": 1}
    assert found[(who["overdue"].id, "endorsement_overdue")].numbers == {"due": "2026-11-20", "days": -6, "year": 1}
    # With one-year cards there is no endorsement between issue and expiry.
    one_year = RuleSettings(permit_validity_years=1)
    assert {fl.kind for fl in run(s, "permits", one_year) if fl.record_id not in
            {who["issued"].id, who["overdue"].id}} == {"expiring", "expired"}


# --- 人户分离 --------------------------------------------------------------------------

def test_hukou_separation_compares_structured_addresses(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    h = f.house(s, cell, road="谷阳北路", number="88弄", building="3", room="301")
    home = {"hukou_region": "310117", "hukou_road": "谷阳北路", "hukou_number": "88弄", "hukou_building": "3号楼"}
    at_home = live_in(s, h, 1, category="huji", **{**home, "hukou_building": "三栋"}, hukou_room="３０１室")[0]
    same_bldg = live_in(s, h, 1, category="huji", **home, hukou_room="502")[0]
    elsewhere = live_in(s, h, 1, category="huji", **{**home, "hukou_building": "4"})[0]
    other_district = live_in(s, h, 1, category="huji", **{**home, "hukou_region": "310104"}, hukou_room="301")[0]
    wrong_sep = live_in(s, h, 1, category="separated", **home, hukou_room="301")[0]
    real_sep = live_in(s, h, 1, category="separated", **{**home, "hukou_road": "人民路"})[0]
    no_addr = live_in(s, h, 1, category="huji", hukou_address="上海市松江区谷阳北路88弄")[0]
    no_region = live_in(s, h, 1, category="separated", **{**home, "hukou_region": None})[0]
    jiangsu = live_in(s, h, 1, category="huji", **{**home, "hukou_region": "320682"})[0]
    live_in(s, h, 1, category="migrant")  # not local hukou: not this rule's business
    flags = {fl.record_id: fl.kind for fl in run(s, "hukou_separation")}
    # The default ("address") compares the flat: another flat of the building is elsewhere, and
    # so is the same address in another district.
    assert flags == {same_bldg.id: "should_be_separated", elsewhere.id: "should_be_separated",
                     other_district.id: "should_be_separated", wrong_sep.id: "not_separated",
                     real_sep.id: "separated", no_addr.id: "no_hukou_address", no_region.id: "no_hukou_region",
                     jiangsu.id: "not_shanghai_hukou"}
    assert at_home.id not in flags  # 三栋 = 3号楼, ３０１室 = 301: one normaliser
    # At building level the other flat is the same place; the district still counts.
    building = {fl.record_id: fl.kind for fl in run(s, "hukou_separation", RuleSettings(hukou_match_level="building"))}
    assert same_bldg.id not in building and building[other_district.id] == "should_be_separated"
    # Grading reads only the errors: the separated resident is a fact, not a fault.
    errors = evaluate(s, today=TODAY, settings=S, codes=("hukou_separation",), errors_only=True)
    assert {fl.record_id for fl in errors} == set(flags) - {real_sep.id}


def test_hukou_findings_say_what_to_enter_and_where(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    """Issue 18: "缺少结构化户籍地址" named nothing anyone could fix; now the finding says which
    field to fill and on which page, and filling it there clears it."""
    s = db_session
    h = f.house(s, cell, road="谷阳北路", number="88弄", building="3", room="301")
    p = live_in(s, h, 1, category="separated")[0]
    [flag] = run(s, "hukou_separation")
    assert "户籍地址（区县、路、门牌号、楼号、室号）" in flag.zh and "修改此人" in flag.zh and "手机" in flag.zh
    p.hukou_road, p.hukou_number, p.hukou_building = "人民北路", "105号", None
    [flag] = run(s, "hukou_separation")
    assert flag.kind == "no_hukou_region" and "户籍区县" in flag.zh
    p.hukou_region = "310117"
    assert [fl.kind for fl in run(s, "hukou_separation")] == ["separated"]


def test_address_keys_are_kept_whatever_writes_the_row(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    """The keys follow the parts at every commit, for ORM and Core writes alike."""
    from sqlalchemy import update

    s = db_session
    h = f.house(s, cell, road="谷阳北路", number="88弄", building="3", room="301")
    p = live_in(s, h, 1, category="huji", hukou_region="310117", hukou_road="谷阳北路", hukou_number="88弄",
                hukou_building="3栋", hukou_room="301室")[0]
    s.commit()
    assert (p.hukou_key, p.hukou_room_key, h.address_key, h.room_key) == ("谷阳北路|88弄|3", "301", "谷阳北路|88弄|3", "301")
    s.execute(update(Person).where(Person.id == p.id).values(hukou_room="一零零一"))
    s.commit()
    s.refresh(p)
    assert p.hukou_room_key == "1001"


# --- 疑似漏登 --------------------------------------------------------------------------

def test_omissions_are_persons_without_a_current_residency(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    h, gone = f.house(s, cell), f.house(s, cell)
    live_in(s, h, 1)
    left = person(s, name="迁出")
    f.residency(s, left, h, end_date=date(2026, 3, 1))
    never = person(s, name="无址")
    in_removed = person(s, name="房已删")
    f.residency(s, in_removed, gone)
    gone.deleted_at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    flags = {fl.record_id: fl for fl in run(s, "omission")}
    assert set(flags) == {left.id, never.id, in_removed.id}
    assert flags[left.id].en == ("No current residency; last lived at a house until 2026-03-01: possibly not "
                                 "recorded where they live now, or moved away")
    assert flags[never.id].cell_id is None
    # A committee sees those last known in its cells, never the unplaced ones.
    assert {fl.record_id for fl in run(s, "omission", cell_ids=frozenset({cell.id}))} == {left.id, in_removed.id}


# --- 重复 ------------------------------------------------------------------------------

def test_duplicates_same_id_across_tombstones_and_legacy_numbers(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    h1, h2 = f.house(s, cell), f.house(s, cell)
    number = pid(date(1975, 5, 5))
    alive = live_in(s, h1, 1, id_number=number)[0]
    ghost = live_in(s, h2, 1)[0]
    ghost.deleted_at = datetime(2026, 1, 1, tzinfo=timezone.utc)  # a tombstone still living in h2…
    ghost.set_id_number(number)  # …under the same number
    # A legacy 15-digit number and its 18-digit form, both living somewhere.
    new_form = live_in(s, h1, 1, id_number=valid_id("31011719680101123"))[0]
    old_form = live_in(s, h2, 1)[0]
    old_form.set_id_number("310117680101123")
    flags = [fl for fl in run(s, "duplicates") if fl.kind == "same_id"]
    assert {frozenset(uuid.UUID(i) for i in fl.numbers["ids"]) for fl in flags} == {
        frozenset({alive.id, ghost.id}), frozenset({new_form.id, old_form.id})}
    assert all(fl.error and fl.en.startswith("One ID number with 2 current residencies") for fl in flags)


def test_likely_duplicates_and_units_become_conflicts_once(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    h = f.house(s, cell)
    born = date(1988, 8, 8)
    a = live_in(s, h, 1, name="李四", born=born)[0]
    b = live_in(s, h, 1, name="李四", born=born)[0]  # another sequence number: a typo?
    live_in(s, h, 1, name="李四", born=date(1988, 8, 9))  # another day: another person
    code = "91310117MA1FL0000" + uscc_check_char("91310117MA1FL0000")
    u1, u2 = Unit(name="甲公司", uscc=code, house_id=h.id), Unit(name="甲公司分部", uscc=code.lower(), house_id=h.id)
    s.add_all([u1, u2, Unit(name="乙公司", uscc="91310117MA1FL0001", house_id=h.id)])
    s.add(RecordAlias(alias_id=a.id, canonical_id=b.id, record_type="person"))
    flags = {fl.kind: fl for fl in run(s, "duplicates")}
    assert set(flags) == {"likely_person", "same_uscc", "merged_record"}
    assert {uuid.UUID(i) for i in flags["likely_person"].numbers["ids"]} == {a.id, b.id}
    assert flags["likely_person"].en.startswith("2 persons share name, birth date and area code")
    assert flags["same_uscc"].numbers["count"] == 2 and flags["same_uscc"].record_type == "unit"
    raised = raise_tasks(s, flags.values(), None)
    assert (raised.conflicts, raised.tasks) == (3, 0)
    kinds = set(s.scalars(select(Conflict.kind)))
    assert kinds == {"rule_likely_duplicate", "rule_same_uscc", "rule_merged_record"}
    # Nothing merged, and a second run raises nothing new (even after one is decided).
    assert s.get(Person, a.id).deleted_at is None and s.get(Unit, u2.id).deleted_at is None  # type: ignore[union-attr]
    s.scalars(select(Conflict)).first().resolved_at = datetime.now(timezone.utc)  # type: ignore[union-attr]
    again = raise_tasks(s, run(s, "duplicates"), None)
    assert (again.conflicts, again.skipped) == (0, 3)


def test_group_rent_and_landlords_become_tasks_for_the_cell(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    h = f.house(s, cell, use="rented")
    live_in(s, h, 3, room(s, h, "301", 30.0))
    raised = raise_tasks(s, run(s, "group_rent"), None)
    task = s.scalars(select(Task)).one()
    assert raised.tasks == 1 and task.source == "rules" and task.cell_id == cell.id and task.kind == "problem"
    assert task.text.startswith("【规则检查·群租嫌疑】房间“301”住 3 人")
    assert raise_tasks(s, run(s, "group_rent"), None).tasks == 0


# --- 准确性 ----------------------------------------------------------------------------

def test_accuracy_ids_and_birth_dates(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    h = f.house(s, cell)
    good = live_in(s, h, 1)[0]
    bad_check = live_in(s, h, 1)[0]
    n = bad_check.id_number or ""
    bad_check.set_id_number(n[:17] + ("0" if n[17] != "0" else "1"))
    legacy = live_in(s, h, 1, born=date(1968, 1, 1))[0]
    legacy.set_id_number("310117680101123")
    mismatch = live_in(s, h, 1, born=date(1990, 1, 1))[0]
    mismatch.birth_date = date(1990, 1, 2)
    newborn = person(s, born=date(2025, 6, 1))
    f.residency(s, newborn, h, start_date=date(2025, 5, 1))  # "moved in" before birth
    hmt = live_in(s, h, 1, id_type="hmt_permit", id_number=valid_id("81000019900101123"))[0]
    passport = live_in(s, h, 1, id_type="passport", id_number="E12345678")[0]
    flags = {(fl.record_id, fl.kind): fl for fl in run(s, "accuracy") if fl.record_type == "person"}
    assert set(flags) == {(bad_check.id, "invalid_id"), (legacy.id, "legacy_id"), (mismatch.id, "birth_mismatch"),
                          (newborn.id, "birth_date")}
    assert flags[(bad_check.id, "invalid_id")].en == "Invalid ID number: ID number failed its check: compare every character with the card"
    assert flags[(newborn.id, "birth_date")].en == "The birth date is after moving in on 2025-05-01"
    assert not {good.id, hmt.id, passport.id} & {rid for rid, _k in flags}


def test_no_finding_spells_out_a_birth_date_or_the_digits_a_mask_hides(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    # A finding's words reach every role that sees the person, grid leads, committees and police
    # among them, beside the masked number (first 3, last 4 characters). A birth date and an
    # area code in them were the rest of the number: a "likely the same person" finding gave
    # it whole, a birth-date finding left a handful of candidates.
    s = db_session
    h = f.house(s, cell)
    twins = [live_in(s, h, 1, name="李四", born=date(1988, 8, 8))[0] for _ in range(2)]
    mismatch = live_in(s, h, 1, born=date(1990, 1, 1))[0]
    mismatch.birth_date = date(1990, 1, 2)
    ancient = live_in(s, h, 1, born=date(1880, 3, 4), id_number=valid_id("11010518800304123"))[0]
    newborn = person(s, born=date(2025, 6, 1))
    f.residency(s, newborn, h, start_date=date(2025, 5, 1))
    bad_day = live_in(s, h, 1)[0]
    bad_day.set_id_number("11010519491331" + "0021")  # 31 December... of a 13th month
    findings = [fl for fl in evaluate(s, today=TODAY, settings=S) if fl.record_type == "person"]
    said = {fl.kind for fl in findings}
    assert {"likely_person", "birth_mismatch", "birth_date", "invalid_id"} <= said, said
    for who in (*twins, mismatch, ancient, newborn, bad_day):
        number = who.id_number or ""
        secrets = {number[:6], number[6:14], number[6:10] + "-" + number[10:12] + "-" + number[12:14]}
        secrets |= {who.birth_date.isoformat()} if who.birth_date else set()
        for fl in findings:
            if who.id in {fl.record_id, *(uuid.UUID(i) for i in fl.numbers.get("ids", []))}:
                words = fl.zh + fl.en + str(fl.numbers)
                assert not {x for x in secrets if x and x in words}, (fl.kind, words)


def test_accuracy_phones_at_the_age_threshold(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    h = f.house(s, cell)
    sixteen = live_in(s, h, 1, born=date(2010, 11, 26), phone=None)[0]  # 16 today
    almost = live_in(s, h, 1, born=date(2010, 11, 27), phone=None)[0]  # 16 tomorrow
    (fl,) = [x for x in run(s, "accuracy") if x.record_type == "person"]
    assert (fl.record_id, fl.kind) == (sixteen.id, "no_phone")
    assert fl.en.startswith("Aged 16 or over, no phone recorded: enter a mobile or a fixed line")
    assert "无电话" in fl.zh and "修改此人" in fl.zh  # what to enter, and where
    assert almost.id != fl.record_id


def test_a_landline_or_a_recorded_answer_is_a_phone(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    """Issue 18: elderly residents with only a fixed line, or none at all, were accuracy errors."""
    s = db_session
    h = f.house(s, cell)
    landline = live_in(s, h, 1, born=date(1940, 1, 1), phone=None, landline="021-57812345")[0]
    none = live_in(s, h, 1, born=date(1940, 1, 1), phone=None, phone_status="none")[0]
    refused = live_in(s, h, 1, born=date(1980, 1, 1), phone=None, phone_status="refused")[0]
    silent = live_in(s, h, 1, born=date(1980, 1, 1), phone=None)[0]
    found = {x.record_id for x in run(s, "accuracy") if x.kind == "no_phone"}
    assert found == {silent.id} and not {landline.id, none.id, refused.id} & found


def test_accuracy_houses_and_units(db_session: Session, cell) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    placed = f.house(s, cell, lon=121.2, lat=31.0)
    nowhere = f.house(s, cell)
    loose = f.house(s, None, lon=121.2, lat=31.0)
    check = uscc_check_char("91310117MA1FL0000")
    s.add(Unit(name="错码公司", uscc="91310117MA1FL0000" + ("1" if check != "1" else "2"), house_id=placed.id))
    flags = {(fl.record_id, fl.kind) for fl in run(s, "accuracy")}
    kinds = {k for _r, k in flags}
    assert (nowhere.id, "no_location") in flags and (loose.id, "no_cell") in flags and "invalid_uscc" in kinds
    assert not any(r == placed.id and k != "invalid_uscc" for r, k in flags)
    # A committee's scope never includes houses in no cell.
    scoped = {(fl.record_id, fl.kind) for fl in run(s, "accuracy", cell_ids=frozenset({cell.id}))}
    assert (loose.id, "no_cell") not in scoped


def test_every_rule_runs_on_an_empty_registry(db_session: Session) -> None:
    assert evaluate(db_session, today=TODAY, settings=S) == []
    assert db_session.scalar(select(func.count()).select_from(Person)) == 0
