"""Units (shops, enterprises, public and social bodies) with valid GB 32100 credit codes."""
from __future__ import annotations

from webapp.models import Unit
from webapp.models.enums import UnitKind
from webapp.registry.demo.records import _House
from webapp.registry.demo.reference import SONGJIANG
from webapp.registry.demo.state import _State
from webapp.registry.demo.vocabulary import (
    _BRAND_CHARS,
    _INDUSTRIES,
    _SHOP_KINDS,
    _SURNAMES,
)
from webapp.registry.demo.writer import _synced
from webapp.validation import ALPHABET, uscc_check_char


class _Units(_State):
    # -- units --

    def all_units(self) -> None:
        self.out.begin("units", len(self.commercial))
        for rec in self.commercial:
            if rec.kind == "office" or self.rng.random() < 0.85:
                self.unit(rec)
            self.out.done += 1
        self.out.flush()

    def unit(self, rec: _House) -> None:
        rng = self.rng
        kind = rng.choices((UnitKind.SHOP, UnitKind.ENTERPRISE, UnitKind.PUBLIC, UnitKind.SOCIAL),
                           cum_weights=(55, 92, 96, 100))[0] if rec.kind == "shop" else UnitKind.ENTERPRISE
        uid = self.new_id()
        contacts = [{"name": self.chinese_name(rng.choice("MF"), 1980), "phone": self.phone(), "role": role}
                    for role in ("法定代表人", "联系人")[: rng.randint(1, 2)]]
        self.out.add(Unit, _synced(
            uid, name=self.unit_name(kind, rec), uscc=self.uscc(kind), house_id=rec.id,
            kind=str(kind), contacts=contacts,
        ))
        if kind in (UnitKind.SHOP, UnitKind.ENTERPRISE):
            self.units.append(uid)

    def unit_name(self, kind: str, rec: _House) -> str:
        rng = self.rng
        for attempt in range(50):
            if kind == UnitKind.SHOP:
                name = f"松江区方松街道{rng.choice(_SURNAMES[:40])}记{rng.choice(_SHOP_KINDS)}"
            elif kind == UnitKind.ENTERPRISE:
                name = f"上海{rng.choice(_BRAND_CHARS)}{rng.choice(_BRAND_CHARS)}{rng.choice(_INDUSTRIES)}有限公司"
            elif kind == UnitKind.PUBLIC:
                name = f"方松街道社区卫生服务站（{rec.addr.road}）"
            else:
                name = f"松江区{rec.addr.road[:2]}{rng.choice(('养老服务社', '志愿者服务中心', '青少年活动中心'))}"
            if attempt > 10:
                name += f"（{rec.addr.road}店）" if kind == UnitKind.SHOP else f"第{attempt}分部"
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        return name

    def uscc(self, kind: str) -> str:
        """GB 32100 code: department + type, Songjiang area code, organisation code, check."""
        prefix: str = {UnitKind.SHOP.value: "92", UnitKind.ENTERPRISE.value: "91", UnitKind.PUBLIC.value: "12",
                       UnitKind.SOCIAL.value: "52"}[kind]
        while True:
            body = self.org_code()
            first17 = prefix + SONGJIANG + body
            code = first17 + uscc_check_char(first17)
            if code not in self.used_ids:
                self.used_ids.add(code)
                return code

    def org_code(self) -> str:
        """A 9-character organisation code (GB 11714: 8 characters + its own check)."""
        rng = self.rng
        if rng.random() < 0.7:  # codes issued since 2015 in Shanghai start with MA1
            head = "MA1" + "".join(rng.choice(ALPHABET) for _ in range(5))
        else:
            head = "".join(rng.choice("0123456789") for _ in range(8))
        # GB 11714 check: letters count 10–35, weights 3 7 9 10 5 8 4 2, 11 − (Σ mod 11).
        weights = (3, 7, 9, 10, 5, 8, 4, 2)
        total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(head, weights, strict=True))
        check = 11 - total % 11
        return head + ("X" if check == 10 else "0" if check == 11 else str(check))
