"""Whether a house can back a residence registration (合法稳定住所, seed art. 5(2)): not if it
is an illegal building, used against its purpose (居改非, 非改居), group-rented (a raised flag,
or what the group_rent rule computes from the rooms and occupants), or not actually lived in;
nor once the committee's check refused it."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, TypeVarTuple, Unpack

from sqlalchemy import Select, and_, func, select

from webapp.base.timeutil import local_date
from webapp.models import House, HouseFlag, Person, ResidenceCheck, Residency, Visit
from webapp.models.enums import HouseFlagKind, HouseUse, PersonCategory, ResidenceCheckResult, VisitOutcome
from webapp.registry.rules.base import Context, Flag, live_person, open_residency, rule
from webapp.registry.rules.housing import group_rent

_Ts = TypeVarTuple("_Ts")

# House flags that refuse a residence registration (seed art. 5(2)); "vacant" means the
# house is not actually lived in.
REFUSING_FLAGS = (HouseFlagKind.ILLEGAL_BUILDING, HouseFlagKind.RES_TO_NONRES, HouseFlagKind.NONRES_TO_RES,
                  HouseFlagKind.GROUP_RENT, HouseFlagKind.VACANT)
# Who registers their residence at a house (rather than living at their hukou address).
REGISTRANTS = (PersonCategory.MIGRANT, PersonCategory.SEPARATED)

_RESIDENCE_KINDS = {
    **{str(k): HouseFlagKind(k).labels()[k] for k in REFUSING_FLAGS},
    "last_visit_vacant": ("最近一次走访：空置", "Last visit found it vacant"),
    "commercial_use": ("登记用途为商用", "Recorded use is commercial"),
    "group_rent_found": ("群租嫌疑（按登记计算）", "Suspected group renting (from the records)"),
    "refused": ("居委会核实不予认定", "Refused by the committee's check"),
}


def residence_reasons(ctx: Context, *, require_registrants: bool = True) -> dict[uuid.UUID, dict[str, Any]]:
    """Per house: why it cannot back a residence registration ({"cell_id", "kinds", "zh", "en"})."""
    s = ctx.session

    def scoped(stmt: Select[Unpack[_Ts]]) -> Select[Unpack[_Ts]]:
        return stmt.where(*ctx.where_house())

    out: dict[uuid.UUID, dict[str, Any]] = {}

    def add(house_id: uuid.UUID, cell_id: uuid.UUID | None, kind: str, zh: str, en: str) -> None:
        f = out.setdefault(house_id, {"cell_id": cell_id, "kinds": [], "zh": [], "en": []})
        f["kinds"].append(kind)
        f["zh"].append(zh)
        f["en"].append(en)

    for house_id, cell_id, kind, raised in s.execute(scoped(
            select(House.id, House.cell_id, HouseFlag.kind, HouseFlag.raised_at)
            .join(HouseFlag, HouseFlag.house_id == House.id)
            .where(HouseFlag.kind.in_(REFUSING_FLAGS), HouseFlag.cleared_at.is_(None), HouseFlag.deleted_at.is_(None)))
            .order_by(House.id, HouseFlag.kind)):
        zh, en = _RESIDENCE_KINDS[kind]
        since = f"（{local_date(raised)} 起）" if raised else ""
        since_en = f" (since {local_date(raised)})" if raised else ""
        if kind == HouseFlagKind.VACANT:
            add(house_id, cell_id, kind, f"未实际居住：标记为{zh}{since}", f"Not actually lived in: flagged {en.lower()}{since_en}")
        else:
            add(house_id, cell_id, kind, f"标记为{zh}{since}", f"Flagged {en.lower()}{since_en}")

    last = (select(Visit.house_id.label("house_id"), func.max(Visit.visited_at).label("at"))
            .where(Visit.deleted_at.is_(None)).group_by(Visit.house_id).subquery())
    for house_id, cell_id, at in s.execute(scoped(
            select(House.id, House.cell_id, Visit.visited_at).join(last, last.c.house_id == House.id)
            .join(Visit, and_(Visit.house_id == House.id, Visit.visited_at == last.c.at, Visit.deleted_at.is_(None)))
            .where(Visit.outcome == VisitOutcome.VACANT))):
        add(house_id, cell_id, "last_visit_vacant", f"未实际居住：最近一次走访（{local_date(at)}）为空置",
            f"Not actually lived in: the last visit ({local_date(at)}) found it vacant")

    # 群租 the rules compute from who lives in which room (the group_rent rule), raised or not.
    for flag in group_rent(Context(s, ctx.settings, ctx.today, ctx.cell_ids, ctx.house_ids)):
        assert flag.house_id is not None
        add(flag.house_id, flag.cell_id, "group_rent_found", f"群租嫌疑（按登记计算）：{flag.zh}",
            f"Suspected group renting (from the records): {flag.en}")

    for house_id, cell_id in s.execute(scoped(select(House.id, House.cell_id).where(House.use == HouseUse.COMMERCIAL))):
        add(house_id, cell_id, "commercial_use", "登记用途为商用，不是居住房屋（疑似非改居）",
            "Recorded use is commercial, not a dwelling (possibly used as one)")

    # The house's own verification only (no person): an applicant's refusal is about them (a
    # missing lease), and refused every other resident, its reason shown as the house's.
    house_checks = ResidenceCheck.person_id.is_(None)
    newest = (select(ResidenceCheck.house_id.label("house_id"), func.max(ResidenceCheck.checked_at).label("at"))
              .where(house_checks).group_by(ResidenceCheck.house_id).subquery())
    for house_id, cell_id, at, note in s.execute(scoped(
            select(House.id, House.cell_id, ResidenceCheck.checked_at, ResidenceCheck.note)
            .join(newest, newest.c.house_id == House.id)
            .join(ResidenceCheck, and_(ResidenceCheck.house_id == House.id, ResidenceCheck.checked_at == newest.c.at,
                                       house_checks))
            .where(ResidenceCheck.result == ResidenceCheckResult.REFUSED))):
        add(house_id, cell_id, "refused", f"居委会于 {local_date(at)} 核实不予认定{('：' + note) if note else ''}",
            f"The committee refused it on {local_date(at)}{(': ' + note) if note else ''}")
    if require_registrants and out:
        # Reasons are few; count who is registered only in those houses.
        counts = registrants(s, list(out))
        out = {h: {**f, "registrants": counts[h]} for h, f in out.items() if counts.get(h)}
    return out


def registrants(session: Any, house_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Per house: live persons with an open residency who register their residence there."""
    out: dict[uuid.UUID, int] = {}
    for i in range(0, len(house_ids), 900):
        out.update((h, n) for h, n in session.execute(
            select(Residency.house_id, func.count(Residency.id)).join(Person, Person.id == Residency.person_id)
            .where(Residency.house_id.in_(house_ids[i:i + 900]), open_residency(), live_person(),
                   Person.category.in_(REGISTRANTS))
            .group_by(Residency.house_id)).all())
    return out


@rule("legal_residence", "合法稳定住所", "Legal stable residence",
      kinds=_RESIDENCE_KINDS, finds_errors=False)
def legal_residence(ctx: Context) -> list[Flag]:
    """Houses where someone is registered who cannot back a residence registration."""
    if ctx.errors_only:
        return []
    return [Flag("legal_residence", f["kinds"][0], "house", house_id, f["cell_id"], house_id,
                 "不能作为居住登记的合法稳定住所：" + "；".join(f["zh"]),
                 "Cannot back a residence registration: " + "; ".join(f["en"]),
                 {"reasons": f["kinds"], "registrants": f["registrants"]}, error=False)
            for house_id, f in residence_reasons(ctx).items()]


@dataclass(frozen=True)
class ResidenceVerdict:
    """What the house page says: can this house back a residence registration, and why not."""

    ok: bool
    reasons: list[tuple[str, str]]  # (zh, en)
    registrants: int


def residence_verdict(ctx: Context, house_id: uuid.UUID) -> ResidenceVerdict:
    one = Context(ctx.session, ctx.settings, ctx.today, ctx.cell_ids, frozenset({house_id}))
    found = residence_reasons(one, require_registrants=False).get(house_id)
    reasons = list(zip(found["zh"], found["en"], strict=True)) if found else []
    return ResidenceVerdict(not reasons, reasons, registrants(ctx.session, [house_id]).get(house_id, 0))
