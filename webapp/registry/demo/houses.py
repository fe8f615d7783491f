"""Houses: 小区 buildings, shops, offices and dormitories, their codes, rooms, flags and histories."""
from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta
from typing import Any

from webapp.models import House, HouseCode, HouseEvent, HouseFlag, Room
from webapp.models.enums import HouseCodeKind, HouseEventKind, HouseFlagKind, HouseUse, RoomKind
from webapp.registry.address import place_keys
from webapp.registry.demo.records import _Addr, _Cell, _House, _Site
from webapp.registry.demo.reference import HOUSES_AT_SCALE_1, REFERENCE_TIME
from webapp.registry.demo.state import _State
from webapp.registry.demo.vocabulary import _ROOM_NAMES
from webapp.registry.demo.writer import _synced


class _Houses(_State):
    # -- houses --

    def all_houses(self) -> None:
        per_cell = HOUSES_AT_SCALE_1 * self.scale / len(self.cells)
        self.out.begin("houses", len(self.cells))
        for cell in self.cells:
            budget = round(per_cell * self.rng.uniform(0.75, 1.25))
            for site in self.place(cell, self.sites(cell, budget)):
                self.expand(cell, site)
            self.out.done += 1
        self.house_extras()
        self.out.flush()

    def sites(self, cell: _Cell, budget: int) -> list[_Site]:
        rng = self.rng
        sites = [self.site("shop", cell, 1, 1, 1) for _ in range(rng.randint(2, 4))]
        if rng.random() < 0.25:
            sites.append(self.site("office", cell, 1, rng.randint(2, 4), rng.randint(1, 2)))
        if rng.random() < 0.10:
            sites.append(self.site("dorm", cell, 1, rng.randint(2, 3), rng.randint(3, 5)))
        left = budget - sum(s.units * s.floors * s.per_floor for s in sites)
        while left > 0:
            left -= self.compound(cell, left, sites)
        return sites

    def site(self, kind: str, cell: _Cell, units: int, floors: int, per_floor: int) -> _Site:
        road = self.rng.choice(cell.roads)
        self.lane_counter[road] += self.rng.randint(2, 24)
        building = "宿舍楼" if kind == "dorm" else None
        return _Site(kind, road, str(self.lane_counter[road]), building, units, floors, per_floor)

    def compound(self, cell: _Cell, left: int, sites: list[_Site]) -> int:
        """A 小区 on a lane (弄) with numbered buildings (号楼); returns how many houses it holds."""
        rng = self.rng
        road = rng.choice(cell.roads)
        self.lane_counter[road] += rng.randint(2, 24)
        lane, total, n = f"{self.lane_counter[road]}弄", 0, 0
        while total < left:
            n += 1
            if left - total >= 60 and rng.random() < 0.2:  # high-rise
                dims = (rng.randint(1, 2), rng.randint(11, 18), rng.randint(2, 4))
            else:  # the 6-storey walk-ups of the 1990s 新村
                dims = (rng.randint(1, 3), rng.choice((5, 6, 6, 6, 7)), 2)
            sites.append(_Site("block", road, lane, str(n), *dims))
            total += dims[0] * dims[1] * dims[2]
            if n >= 12:
                break
        return total

    def place(self, cell: _Cell, sites: list[_Site]) -> list[_Site]:
        """Shops in a row near the road side, buildings on a jittered grid, all well inside."""
        rng = self.rng
        shops = [s for s in sites if s.kind == "shop"]
        others = [s for s in sites if s.kind != "shop"]
        for i, s in enumerate(shops):
            s.u, s.v = 0.1 + 0.8 * (i + 0.5) / len(shops), 0.07
        g = max(1, math.ceil(math.sqrt(len(others))))
        for i, s in enumerate(others):
            r, c = divmod(i, g)
            s.u = 0.1 + 0.75 * (c + 0.5 + rng.uniform(-0.3, 0.3)) / g
            s.v = 0.15 + 0.7 * (r + 0.5 + rng.uniform(-0.3, 0.3)) / g
        return sites

    def expand(self, cell: _Cell, site: _Site) -> None:
        for unit in range(1, site.units + 1):
            # Entrances of one building sit side by side along it.
            lon, lat = cell.quad.point(site.u + 0.012 * (unit - 1), site.v)
            for floor in range(1, site.floors + 1):
                for k in range(1, site.per_floor + 1):
                    self.house(cell, site, unit, floor, k, lon, lat)

    def house(self, cell: _Cell, site: _Site, unit: int, floor: int, k: int, lon: float, lat: float) -> None:
        rng = self.rng
        room = None if site.kind == "shop" else f"{floor}{k:02d}"
        addr = _Addr(site.road, site.number, site.building, str(unit) if site.units > 1 else None, room)
        use, floor_area, living = self.house_use(site.kind)
        rec = _House(self.new_id(), cell.index, lon, lat, use, addr, site.kind, [])
        self.houses.append(rec)
        # The address keys too (address_keys.py would set them at commit): 660,000 rows at the
        # district scale need not be read back and written twice.
        key, room_key = place_keys({"road": addr.road, "number": addr.number, "building": addr.building, "room": room})
        self.out.add(House, _synced(
            rec.id, cell_id=cell.id, cell_manual=False, road=addr.road, number=addr.number,
            building=addr.building, unit=addr.unit, floor=floor, room=room, lon=lon, lat=lat,
            use=use, floor_area=floor_area, living_area=living,
            note="单位宿舍" if site.kind == "dorm" else None, address_key=key, room_key=room_key,
        ))
        self.code(rec.id, self.plate_code(), HouseCodeKind.PLATE)
        if rng.random() < 0.3:  # the police address code, where the house has one
            self.code(rec.id, f"SJ{self._apply(self.ext_perm, len(self.houses)):010d}", HouseCodeKind.EXTERNAL)
        if use == HouseUse.RENTED:
            self.rooms(rec, living or 40.0)
        if site.kind == "office" or site.kind == "shop":
            self.commercial.append(rec)

    def house_use(self, kind: str) -> tuple[str, float, float | None]:
        """Use, floor area and living area (m²) of a new house of a site kind."""
        rng = self.rng
        if kind in ("shop", "office"):
            return HouseUse.COMMERCIAL.value, round(rng.uniform(20, 400), 1), None
        if kind == "dorm":
            area = round(rng.uniform(20, 40), 1)
            return HouseUse.DORMITORY.value, area, round(area * 0.75, 1)
        area = round(rng.uniform(45, 140), 1)
        use = rng.choices(
            (HouseUse.OWNER_OCCUPIED, HouseUse.RENTED, HouseUse.IDLE, HouseUse.OTHER),
            cum_weights=(58, 88, 98.5, 100),
        )[0]
        return use.value, area, round(area * rng.uniform(0.55, 0.7), 1)

    def code(self, house_id: uuid.UUID, code: str, kind: str, retired: datetime | None = None) -> None:
        self.out.add(HouseCode, _synced(
            self.new_id(), code=code, kind=str(kind), house_id=house_id, retired_at=retired,
        ))

    def rooms(self, rec: _House, living: float) -> None:
        """Rented flats are let by the room; a few are partitioned for group renting (群租)."""
        rng = self.rng
        rec.group_rent = rng.random() < 0.06
        if not rec.group_rent and rng.random() < 0.3:
            return  # let whole to one household: no rooms recorded
        names = list(_ROOM_NAMES[: rng.randint(2, 3)])
        if rec.group_rent:
            names = list(_ROOM_NAMES) + ["客厅隔间1", "客厅隔间2", "阳台隔间"][: rng.randint(1, 3)]
        for name in names:
            small = "隔间" in name
            area = round(rng.uniform(4, 7) if small else max(6.0, living / len(names) * rng.uniform(0.8, 1.2)), 1)
            rid = self.new_id()
            rec.rooms.append(rid)
            self.out.add(Room, _synced(rid, house_id=rec.id, name=name, kind=room_kind(name), living_area=area))

    def house_extras(self) -> None:
        """Flags on a few percent of houses, and a handful of split / re-plated histories."""
        for rec in self.houses:
            kind = self.flag_kind(rec)
            if kind is not None:
                self.flag(rec, kind)
        blocks = [h for h in self.houses if h.kind == "block"]
        for _ in range(max(2, len(self.houses) // 800)):
            self.replate(self.rng.choice(blocks))
        splits = max(2, len(self.houses) // 1500)
        for _ in range(splits * 20):  # most draws are not a split-able pair; stop at the quota
            splits -= self.split(self.rng.randrange(1, len(self.houses)))
            if splits == 0:
                break

    def flag_kind(self, rec: _House) -> str | None:
        r = self.rng.random()
        if rec.group_rent:
            return HouseFlagKind.GROUP_RENT
        if rec.use == HouseUse.IDLE and r < 0.2:
            return HouseFlagKind.VACANT
        if rec.kind == "shop" and r < 0.08:
            rec.lived_in_shop = True  # somebody sleeps in the shop: 非改居
            return HouseFlagKind.NONRES_TO_RES
        if rec.use == HouseUse.OWNER_OCCUPIED and r < 0.004:
            return HouseFlagKind.RES_TO_NONRES
        if rec.kind == "block" and r > 0.996:
            return HouseFlagKind.ILLEGAL_BUILDING
        return None

    def flag(self, rec: _House, kind: str) -> None:
        rng = self.rng
        notes: dict[str, str] = {
            HouseFlagKind.GROUP_RENT: "客厅隔断出租，居住人数多",
            HouseFlagKind.VACANT: "多次上门无人，水电表读数未变",
            HouseFlagKind.NONRES_TO_RES: "商铺内有人居住",
            HouseFlagKind.RES_TO_NONRES: "住宅用作办公或仓库",
            HouseFlagKind.ILLEGAL_BUILDING: "屋顶违章搭建",
        }
        raised = REFERENCE_TIME - timedelta(days=rng.randint(1, 200), minutes=rng.randint(0, 600))
        # Some vacancy flags were later cleared (the house was let again).
        cleared = None
        if kind == HouseFlagKind.VACANT and rng.random() < 0.2:
            cleared = raised + timedelta(days=rng.randint(1, 30))
        self.out.add(HouseFlag, _synced(
            self.new_id(), house_id=rec.id, kind=str(kind), note=notes[kind],
            raised_by_id=self.rng.choice(self.cells[rec.cell].coordinators),
            raised_at=raised, cleared_at=cleared,
        ))

    def replate(self, rec: _House) -> None:
        """The old plate was damaged and replaced: it stays on file, retired, and still resolves."""
        at = REFERENCE_TIME - timedelta(days=self.rng.randint(5, 300))
        old = self.plate_code()
        self.code(rec.id, old, HouseCodeKind.PLATE, retired=at)
        self.event(rec.id, HouseEventKind.REPLATED, at, [], {"old_code": old, "reason": "门牌损坏"})

    def split(self, i: int) -> int:
        """A flat divided into two; its neighbour in the list is the other half. Returns 1 if done."""
        rec, other = self.houses[i], self.houses[i - 1]
        if rec.kind != "block" or other.addr[:3] != rec.addr[:3]:
            return 0
        at = REFERENCE_TIME - timedelta(days=self.rng.randint(30, 900))
        self.event(rec.id, HouseEventKind.SPLIT, at, [str(other.id)], {"note": "一套拆分为两套，分别登记"})
        return 1

    def event(self, house_id: uuid.UUID, kind: str, at: datetime, related: list[str], detail: dict[str, Any]) -> None:
        self.out.add(HouseEvent, _synced(
            self.new_id(), house_id=house_id, kind=str(kind), at=at, related_house_ids=related, detail=detail,
        ))


def room_kind(name: str) -> str:
    """A demo room's kind from its name: the partitions of a group-rented flat (a balcony among
    them) are what the 群租 rule's room kinds find."""
    if "阳台" in name:
        return RoomKind.BALCONY.value
    if "隔间" in name:
        return RoomKind.PARTITIONED.value
    return RoomKind.BEDROOM.value
