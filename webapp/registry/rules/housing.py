"""Housing rules: suspected group renting (群租), rooms that may not be let, and the landlord's
register duty."""
from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any, cast

from sqlalchemy import Result, Select, and_, case, distinct, exists, false, func, or_, select, union
from sqlalchemy.orm import aliased

from webapp.models import House, Person, Residency, Room
from webapp.models.enums import NOT_TO_LET, SUSPECT_ROOMS, HouseUse, Relation, RoomKind
from webapp.registry.rules.base import Context, Flag, floor1, live_person, open_residency, rule, tombstones


def let_out(ctx: Context) -> Any:
    """Ids of houses let to others: recorded as rented or a dormitory, or with a tenant
    living in them."""
    by_use = select(House.id).where(House.use.in_((HouseUse.RENTED, HouseUse.DORMITORY)), *ctx.where_house())
    # Not joined to its house: the callers keep only live houses in the asked-for cells.
    by_tenant = select(Residency.house_id).where(open_residency(scan=True), Residency.relation == Relation.TENANT)
    return union(by_use, by_tenant)


@rule("group_rent", "群租嫌疑", "Suspected group renting",
      reads=("room_max_persons", "min_living_area_per_person_m2", "group_rent_area_basis"),
      kinds={"group_rent": ("群租嫌疑", "Suspected group renting"),
             "unfit_room": ("违规出租房间", "Rooms let that may not be")}, finds_errors=False)
def group_rent(ctx: Context) -> list[Flag]:
    """In let houses: more persons in a room than allowed and not one household, or too little
    living area per person (over the dwelling, or per room with GROUP_RENT_AREA_BASIS=room);
    and, a finding of its own, people living in a partitioned room, a basement, or a kitchen,
    bathroom, balcony or storage room. One flag per house and kind, every reason listed."""
    if ctx.errors_only:
        return []
    s, limit, minimum = ctx.session, ctx.settings.room_max_persons, ctx.settings.min_living_area_per_person_m2
    per_room_area = ctx.settings.group_rent_area_basis == "room"
    let = let_out(ctx)
    # Persons without a household count as a household of their own.
    household = func.coalesce(Residency.household_id, Residency.person_id)
    living = [open_residency(scan=True), Residency.person_id.not_in(tombstones()), Residency.house_id.in_(let)]
    per_room = (select(Residency.room_id.label("room_id"), func.count(Residency.id).label("persons"),
                       func.count(distinct(household)).label("households"))
                .where(*living, Residency.room_id.is_not(None)).group_by(Residency.room_id).subquery())
    crowded = and_(per_room.c.persons > limit, per_room.c.households > 1)
    small = and_(Room.living_area.is_not(None), Room.living_area < minimum * per_room.c.persons) \
        if per_room_area else false()
    unfit = Room.kind.in_(NOT_TO_LET | SUSPECT_ROOMS)
    # Ten columns are more than `select()`'s typed overloads take (and the subquery's are
    # untyped): the room's persons and households are counts, then three booleans.
    rooms: Select[uuid.UUID, uuid.UUID | None, str, str, float | None, int, int, bool, bool, bool] = (
        select(House.id, House.cell_id, Room.name, Room.kind, Room.living_area, per_room.c.persons,
               per_room.c.households, crowded.label("crowded"), small.label("small"), unfit.label("unfit"))
        .join(per_room, per_room.c.room_id == Room.id).join(House, House.id == Room.house_id)
        .where(Room.deleted_at.is_(None), or_(crowded, small, unfit), *ctx.where_house())
        .order_by(House.id, Room.name))
    found: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}

    def finding(house_id: uuid.UUID, cell_id: uuid.UUID | None, kind: str) -> dict[str, Any]:
        return found.setdefault((house_id, kind), {"cell_id": cell_id, "zh": [], "en": [], "rooms": []})

    for house_id, cell_id, name, kind, area, persons, households, is_crowded, is_small, is_unfit in s.execute(rooms):
        room_numbers = {"room": name, "kind": kind, "persons": persons, "households": households, "living_area": area}
        if is_crowded or is_small:
            f = finding(house_id, cell_id, "group_rent")
            f["rooms"].append(room_numbers)
        if is_crowded:
            f["zh"].append(f"房间“{name}”住 {persons} 人，非同一户（上限 {limit} 人）")
            f["en"].append(f"{persons} persons not of one household in room {name} (limit {limit})")
        if is_small:
            # A small room has its living area (`small` is false where it is NULL).
            each = floor1(cast(float, area) / persons)
            f["zh"].append(f"房间“{name}”人均居住面积 {each} m²（不少于 {minimum:g} m²，按房间计）")
            f["en"].append(f"{each} m² living area per person in room {name} (minimum {minimum:g} m², computed per room)")
        if is_unfit:
            u = finding(house_id, cell_id, "unfit_room")
            u["rooms"].append(room_numbers)
            zh, en = RoomKind(kind).labels()[kind]
            if kind in NOT_TO_LET:
                u["zh"].append(f"{zh}“{name}”有 {persons} 人居住（厨房、卫生间、阳台、储藏室不得出租居住）")
                u["en"].append(f"{persons} persons live in the {en.lower()} {name} (kitchens, bathrooms, balconies "
                               "and storage rooms may not be let to live in)")
            else:
                u["zh"].append(f"{zh}“{name}”出租居住 {persons} 人")
                u["en"].append(f"{persons} persons live in the {en.lower()} {name}, let as a room")
    for house_id, cell_id, area, persons, with_rooms in _area_per_house(ctx, living, minimum, per_room_area):
        each = floor1(area / persons)
        f = finding(house_id, cell_id, "group_rent")
        f.update(persons=persons, living_area=area)
        if per_room_area:
            f["zh"].append(f"{persons} 人，人均居住面积 {each} m²（不少于 {minimum:g} m²，未登记房间，按整套计）")
            f["en"].append(f"{each} m² living area per person for {persons} persons (minimum {minimum:g} m², "
                           "computed per house: no rooms recorded)")
        else:
            rooms_note = ("，按各房间面积之和" if with_rooms else "", ", the rooms' areas added up" if with_rooms else "")
            f["zh"].append(f"{persons} 人，人均居住面积 {each} m²（不少于 {minimum:g} m²，按整套计{rooms_note[0]}）")
            f["en"].append(f"{each} m² living area per person for {persons} persons (minimum {minimum:g} m², "
                           f"computed per house{rooms_note[1]})")
    return [Flag("group_rent", kind, "house", house_id, f["cell_id"], house_id, "；".join(f["zh"]),
                 "; ".join(f["en"]), {"basis": "room" if per_room_area and f["rooms"] else "house",
                                      **{k: v for k, v in f.items() if k not in ("zh", "en", "cell_id")}},
                 error=False)
            for (house_id, kind), f in found.items()]


def _area_per_house(ctx: Context, living: list[Any], minimum: float,
                    per_room_area: bool) -> Result[uuid.UUID, uuid.UUID | None, float, int, bool]:
    """Houses with less living area per person than the minimum: (house, cell, area, persons,
    whether the area is the rooms' sum). Over the whole dwelling; with the per-room basis only
    houses without rooms are counted this way. A house without its own living area recorded is
    counted by its rooms' areas, when every live room has one."""
    live_room = and_(Room.house_id == House.id, Room.deleted_at.is_(None))
    room_sum = select(func.sum(Room.living_area)).where(live_room).correlate(House).scalar_subquery()
    rooms_unmeasured = exists().where(live_room, Room.living_area.is_(None))
    with_rooms = select(Room.house_id).where(Room.deleted_at.is_(None))
    counted = [*living] + ([Residency.house_id.not_in(with_rooms)] if per_room_area else [])
    per_house = (select(Residency.house_id.label("house_id"), func.count(Residency.id).label("persons"))
                 .where(*counted).group_by(Residency.house_id).subquery())
    area = case((House.living_area.is_not(None), House.living_area), (rooms_unmeasured, None), else_=room_sum)
    # Annotated: the subquery's count is untyped. The area is set (the WHERE).
    short: Select[uuid.UUID, uuid.UUID | None, float, int, bool] = (
        select(House.id, House.cell_id, area, per_house.c.persons, House.living_area.is_(None))
        .join(per_house, per_house.c.house_id == House.id)
        .where(area.is_not(None), area < minimum * per_house.c.persons, *ctx.where_house()))
    return ctx.session.execute(short)


@rule("landlord_register", "出租人登记义务", "Landlord must keep an occupant register",
      reads=("landlord_register_min_rooms", "landlord_register_min_occupants"),
      kinds={"landlord_register": ("须建立承租人登记簿", "Occupant register required")}, finds_errors=False)
def landlord_register(ctx: Context) -> list[Flag]:
    """Owners (the owner relation on residencies) letting many rooms or to many occupants.

    Counted over every house the owner lets, in or out of the asked-for cells: the duty is
    the owner's, wherever the rooms are. A house let without rooms recorded counts as one.
    """
    if ctx.errors_only or ctx.house_ids is not None:
        return []
    s, cfg = ctx.session, ctx.settings
    owner, later, occ = aliased(Residency), aliased(Residency), aliased(Residency)
    occupant_person = aliased(Person)
    # An ended owner residency still makes its owner the landlord, unless someone else
    # became the owner later (the flat was sold).
    sold = exists().where(later.house_id == owner.house_id, later.relation == Relation.OWNER,
                          later.deleted_at.is_(None), later.person_id != owner.person_id,
                          later.start_date > owner.start_date)
    rows = s.execute(
        select(owner.person_id, owner.house_id, House.cell_id,
               func.count(distinct(occ.room_id)),
               func.count(distinct(case((occ.room_id.is_not(None), occ.id)))),
               func.count(distinct(occ.id)))
        .join(Person, Person.id == owner.person_id)
        .join(occ, and_(occ.house_id == owner.house_id, occ.person_id != owner.person_id,
                        occ.relation != Relation.OWNER, open_residency(occ),
                        or_(owner.household_id.is_(None), occ.household_id.is_(None),
                            occ.household_id != owner.household_id)))
        .join(occupant_person, and_(occupant_person.id == occ.person_id, live_person(occupant_person)))
        .join(House, and_(House.id == owner.house_id, House.deleted_at.is_(None)))
        .where(owner.relation == Relation.OWNER, owner.deleted_at.is_(None), live_person(),
               owner.house_id.in_(let_out(Context(s, cfg, ctx.today))), or_(owner.end_date.is_(None), ~sold))
        .group_by(owner.person_id, owner.house_id, House.cell_id)
    ).all()
    totals: dict[uuid.UUID, dict[str, Any]] = defaultdict(lambda: {"houses": [], "rooms": 0, "occupants": 0})
    for person_id, house_id, cell_id, rooms, with_room, occupants in rows:
        t = totals[person_id]
        # Occupants without a room: the house (or that part of it) is let as one room.
        t["rooms"] += rooms + (1 if with_room < occupants else 0)
        t["occupants"] += occupants
        t["houses"].append((occupants, house_id, cell_id))
    out = []
    for person_id, t in totals.items():
        if t["rooms"] < cfg.landlord_register_min_rooms and t["occupants"] < cfg.landlord_register_min_occupants:
            continue
        houses = sorted(t["houses"], key=lambda h: (-h[0], str(h[1])))
        seen = [h for h in houses if ctx.covers(h[2])]
        if not seen:
            continue
        n = len(houses)
        out.append(Flag(
            "landlord_register", "landlord_register", "person", person_id, seen[0][2], seen[0][1],
            f"出租 {n} 套房屋共 {t['rooms']} 间，承租居住 {t['occupants']} 人"
            f"（{cfg.landlord_register_min_rooms} 间或 {cfg.landlord_register_min_occupants} 人起须建立承租人登记簿）",
            f"Lets {t['rooms']} rooms in {n} houses to {t['occupants']} occupants (an occupant register is "
            f"required from {cfg.landlord_register_min_rooms} rooms or {cfg.landlord_register_min_occupants} occupants)",
            {"houses": n, "rooms": t["rooms"], "occupants": t["occupants"],
             "house_ids": [str(h[1]) for h in houses]}, error=False))
    return out
