"""Who a person is on paper: name, ID document, hukou and residence permit."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from webapp.models.enums import PersonCategory
from webapp.registry.demo.records import _Addr, _address, _House
from webapp.registry.demo.reference import REFERENCE_DATE, SONGJIANG
from webapp.registry.demo.state import _State
from webapp.registry.demo.vocabulary import (
    _FOREIGN,
    _MIGRANT_CUM,
    _MIGRANT_PREFIXES,
    _SH_OLD_CODES,
    _SH_ROADS,
)
from webapp.registry.address import place_keys
from webapp.registry.rules.permit_due import add_years, anniversaries
from webapp.validation import IdType, area_full_name, check_char_gb11643, county_codes

PERMIT_YEARS = 3  # the card's validity (PERMIT_VALIDITY_YEARS' default)


class _Identities(_State):
    # -- identities --

    def identity(self, spec: dict[str, Any], rec: _House) -> dict[str, Any]:
        """Name, ID document, hukou and permit columns for a person of a category."""
        cat, born, sex = spec["category"], spec["birth"], spec["sex"]
        row: dict[str, Any] = dict.fromkeys(
            ("hukou_region", "hukou_road", "hukou_number", "hukou_building", "hukou_room",
             "hukou_address", "permit_number", "permit_issued", "permit_expiry", "permit_endorsed_on"))
        if cat == PersonCategory.OVERSEAS:
            row.update(self.overseas(born, sex))
        else:
            home = spec["home"]
            if "region" not in home:  # a family shares its hukou region (and address below)
                home["region"] = self.hukou_region(cat)
            region = home["region"]
            row["name"] = self.family_name(spec, region.startswith("31"))
            row["id_type"] = IdType.RESIDENT.value
            row["id_number"] = self.resident_id(self.birth_area(region, born), born, sex)
            row["hukou_region"] = region
            if cat == PersonCategory.MIGRANT:
                row["hukou_address"] = area_full_name(region)
                row.update(self.permit(born))
            elif cat == PersonCategory.HUJI:
                row.update(self.hukou_address(region, rec))
            else:
                if "hukou" not in home:
                    home["hukou"] = self.hukou_address(region, None)
                row.update(home["hukou"])
        row["id_rev"] = row["id_number"][::-1]
        # The keys the 人户分离 rule compares (address_keys.py keeps them; set here for speed).
        row["hukou_key"], row["hukou_room_key"] = place_keys({
            "road": row["hukou_road"], "number": row["hukou_number"], "building": row["hukou_building"],
            "room": row["hukou_room"]})
        return row

    def family_name(self, spec: dict[str, Any], local: bool) -> str:
        home, born = spec["home"], spec["birth"]
        name = self.chinese_name(spec["sex"], born.year, local, surname=home.get("surname") if spec["kin"] else None)
        if spec["kin"]:
            home.setdefault("surname", name[0])
        return name

    def hukou_region(self, cat: str) -> str:
        rng = self.rng
        if cat == PersonCategory.MIGRANT:
            prefix = rng.choices(_MIGRANT_PREFIXES, cum_weights=_MIGRANT_CUM)[0]
            return rng.choice(self.county_list(prefix))
        if cat == PersonCategory.SEPARATED and rng.random() < 0.4:
            return rng.choice(self.county_list("31"))
        return SONGJIANG

    def county_list(self, prefix: str) -> list[str]:
        if prefix not in self.counties:
            self.counties[prefix] = county_codes(prefix)
        return self.counties[prefix]

    def birth_area(self, region: str, born: date) -> str:
        """The area code on the ID card: where the person was first registered."""
        rng = self.rng
        if region.startswith("31") and rng.random() < 0.12:  # moved their hukou to Shanghai
            return rng.choice(self.county_list(rng.choice(_MIGRANT_PREFIXES)))
        if born.year < 1998 and region in _SH_OLD_CODES and rng.random() < 0.7:
            return _SH_OLD_CODES[region]
        return region

    def resident_id(self, area: str, born: date, sex: str) -> str:
        """An unused GB 11643 number; the 17th digit is odd for men, even for women."""
        while True:
            seq = self.rng.randrange(100) * 10 + self.rng.randrange(5) * 2 + (1 if sex == "M" else 0)
            first17 = f"{area}{born.year:04d}{born.month:02d}{born.day:02d}{seq:03d}"
            number = first17 + check_char_gb11643(first17)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def hukou_address(self, region: str, rec: _House | None) -> dict[str, Any]:
        """户籍: registered at the house they live in; 人户分离: registered elsewhere in Shanghai,
        half of those in the subdistrict (another flat of its 小区, written as people write it:
        "3栋", "1001室")."""
        rng = self.rng
        if rec is None and region == SONGJIANG and getattr(self, "residential", None) and rng.random() < 0.5:
            other = rng.choice(self.residential).addr
            return {"hukou_road": other.road, "hukou_number": other.number,
                    "hukou_building": f"{other.building}栋" if other.building else None,
                    "hukou_room": f"{other.room}室" if other.room else None,
                    "hukou_address": f"{area_full_name(region)}{_address(other)}"}
        if rec is not None:
            addr = rec.addr
        else:
            roads = _SH_ROADS.get(region) or tuple(self.cells[rng.randrange(len(self.cells))].roads)
            addr = _Addr(rng.choice(roads), f"{rng.randint(1, 900)}弄", str(rng.randint(1, 40)), None,
                         f"{rng.randint(1, 6)}0{rng.randint(1, 4)}")
        return {
            "hukou_road": addr.road, "hukou_number": addr.number, "hukou_building": addr.building,
            "hukou_room": addr.room, "hukou_address": f"{area_full_name(region) or '上海市'}{_address(addr)}",
        }

    def permit(self, born: date) -> dict[str, Any]:
        """居住证 for most adult migrants; some expired, some expiring within 30 days."""
        rng = self.rng
        if (REFERENCE_DATE - born).days < 16 * 365 or rng.random() < 0.25:
            return {}
        r = rng.random()
        if r < 0.06:
            expiry = REFERENCE_DATE - timedelta(days=rng.randint(1, 365))
        elif r < 0.12:
            expiry = REFERENCE_DATE + timedelta(days=rng.randint(0, 30))
        else:
            expiry = REFERENCE_DATE + timedelta(days=rng.randint(31, 1095))
        issued = add_years(expiry, -PERMIT_YEARS)
        # The last anniversary's endorsement, recorded for most cards (the rest are overdue).
        passed = [at for _k, at in anniversaries(expiry, issued, PERMIT_YEARS) if at <= REFERENCE_DATE]
        endorsed = passed[-1] - timedelta(days=rng.randint(0, 25)) if passed and rng.random() < 0.85 else None
        return {"permit_number": f"SH{issued.year}{rng.randrange(10**8):08d}", "permit_issued": issued,
                "permit_expiry": expiry, "permit_endorsed_on": endorsed}

    def overseas(self, born: date, sex: str) -> dict[str, Any]:
        rng = self.rng
        r = rng.random()
        if r < 0.45:  # Hong Kong, Macao, Taiwan residence permit: GB 11643 rules, areas 81/82/83
            area = rng.choices(("810000", "820000", "830000"), cum_weights=(45, 55, 100))[0]
            return {"name": self.chinese_name(sex, born.year), "id_type": IdType.HMT_PERMIT.value,
                    "id_number": self.resident_id(area, born, sex)}
        nation, given, surnames, pattern = rng.choice(_FOREIGN)
        name = f"{rng.choice(surnames)} {rng.choice(given)}"
        if r < 0.65:  # 2023 permanent residence card: 9 + province + nationality + birth + seq + check
            province = rng.choices(("31", "11", "44", "32"), cum_weights=(70, 80, 90, 100))[0]
            return {"name": name, "id_type": IdType.FOREIGN_PERMANENT.value,
                    "id_number": self.resident_id(f"9{province}{nation}", born, sex)}
        return {"name": name, "id_type": IdType.PASSPORT.value, "id_number": self.passport(pattern)}

    def passport(self, pattern: str) -> str:
        pools = {"#": "0123456789", "@": "ABCDEFGHJKLMNPRSTUVWXYZ"}
        while True:
            number = "".join(self.rng.choice(pools[p]) if p in pools else p for p in pattern)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number
