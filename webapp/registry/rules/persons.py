"""Person rules: residence permits (居住证) to renew or endorse, 人户分离, possible omissions."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Unpack

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from webapp.models import House, Person, Residency
from webapp.models.enums import PersonCategory
from webapp.registry.rules.base import Context, Flag, live_person, open_residency, rule, term_flags
from webapp.registry.rules.permit_due import add_years, permit_due

__all__ = ["add_years", "few_residents", "permit_due"]


def few_residents(ctx: Context, wanted: Any, *columns: Any) -> Any:
    """Like `base.residents`, for a condition on persons that few meet: the qualifying ids
    are read from the person table in order, so only their residencies and houses are looked up."""
    chosen = select(Person.id).where(live_person(scan=True), wanted)
    return (select(Person.id, House.id.label("house_id"), House.cell_id, *columns).select_from(Residency)
            .join(Person, Person.id == Residency.person_id).join(House, House.id == Residency.house_id)
            .where(open_residency(), Residency.person_id.in_(chosen), *ctx.where_house()))


# Where a finding's fix is entered: the person's page in the console, the occupant's form on the phone.
WHERE_PERSON = ("在控制台人员页“修改此人”或手机上该住户的“修改”页", "on the person's page in the console (Correct this person) or the occupant's form on the phone")


@rule("permits", "居住证到期与签注", "Residence permits to renew or endorse",
      reads=("permit_expiry_warn_days", "permit_endorse_window_days", "permit_validity_years"),
      kinds={"expired": ("居住证已过期", "Permit expired"), "expiring": ("居住证即将到期", "Permit expiring"),
             "endorsement": ("年度签注到期", "Yearly endorsement due"),
             "endorsement_overdue": ("年度签注逾期", "Yearly endorsement overdue")}, finds_errors=False)
def permits(ctx: Context) -> list[Flag]:
    """Expired permits, permits expiring within the warning days, and yearly endorsements due
    or overdue (webapp/registry/rules/permit_due.py, the phone's rule too). Cleared by a
    recorded endorsement or a renewed card."""
    if ctx.errors_only:
        return []
    cfg, today = ctx.settings, ctx.today
    # Annotated: `few_residents` takes any columns and is untyped. The expiry is set (the
    # condition the persons are chosen by).
    permitted: Select[uuid.UUID, uuid.UUID, uuid.UUID | None, date, date | None, date | None] = few_residents(
        ctx, Person.permit_expiry.is_not(None), Person.permit_expiry, Person.permit_issued, Person.permit_endorsed_on)
    out = []
    for person_id, house_id, cell_id, expiry, issued, endorsed in ctx.session.execute(permitted):
        due = permit_due(today=today, expiry=expiry, issued=issued, endorsed_on=endorsed,
                         warn=cfg.permit_expiry_warn_days, window=cfg.permit_endorse_window_days,
                         validity=cfg.permit_validity_years)
        if due is None:
            continue
        days = due.days
        if due.expired:
            out.append(Flag("permits", "expired", "person", person_id, cell_id, house_id,
                            f"居住证已于 {expiry} 到期（已过 {-days} 天，功能中止）：换领后在人员页填写新的有效期",
                            f"Residence permit expired on {expiry} ({-days} days ago; its functions are suspended): "
                            "record the new card's dates on the person's page",
                            {"expiry": expiry.isoformat(), "days": days}, error=False))
        elif due.expiring:
            out.append(Flag("permits", "expiring", "person", person_id, cell_id, house_id,
                            f"居住证将于 {expiry} 到期（{days} 天后；提前 {cfg.permit_expiry_warn_days} 天提醒）",
                            f"Residence permit expires on {expiry} (in {days} days; warned "
                            f"{cfg.permit_expiry_warn_days} days ahead)",
                            {"expiry": expiry.isoformat(), "days": days}, error=False))
        e = due.endorsement
        if e is not None and not e.overdue:
            out.append(Flag("permits", "endorsement", "person", person_id, cell_id, house_id,
                            f"居住证须在 {e.due} 前办理第 {e.year} 年签注（还有 {e.days} 天）：办理后在人员页或手机上“记录签注”",
                            f"Year {e.year} endorsement due by {e.due} ({e.days} days left): once done, record it "
                            "(Record endorsement) on the person's page or the phone",
                            {"due": e.due.isoformat(), "days": e.days, "year": e.year}, error=False))
        elif e is not None:
            out.append(Flag("permits", "endorsement_overdue", "person", person_id, cell_id, house_id,
                            f"居住证第 {e.year} 年签注逾期（应于 {e.due} 前办理，已过 {-e.days} 天，功能中止）：办理后“记录签注”",
                            f"Year {e.year} endorsement overdue (due {e.due}, {-e.days} days ago; the card's functions "
                            "are suspended): once done, record it (Record endorsement)",
                            {"due": e.due.isoformat(), "days": e.days, "year": e.year}, error=False))
    return out


def _same_place(ctx: Context) -> Any:
    """At home: the hukou region is the subdistrict's and the address keys agree (the room's
    too at the "address" level): `webapp.registry.address.hukou_place`, over the stored keys."""
    same = and_(Person.hukou_region == ctx.settings.home_region, Person.hukou_key == House.address_key)
    if ctx.settings.hukou_match_level == "address":
        same = and_(same, func.coalesce(Person.hukou_room_key, "") == func.coalesce(House.room_key, ""))
    return same


LOCAL = (PersonCategory.HUJI, PersonCategory.SEPARATED)


def hukou_terms(ctx: Context) -> dict[str, Any]:
    """The data errors one resident row shows (grading counts them in its single pass)."""
    local, known = Person.category.in_(LOCAL), and_(Person.hukou_key.is_not(None), Person.hukou_region.is_not(None))
    shanghai, same = Person.hukou_region.like("31%"), _same_place(ctx)
    return {
        "no_hukou_address": and_(local, Person.hukou_key.is_(None)),
        "no_hukou_region": and_(local, Person.hukou_key.is_not(None), Person.hukou_region.is_(None)),
        "not_shanghai_hukou": and_(local, known, ~shanghai),
        "should_be_separated": and_(Person.category == PersonCategory.HUJI, known, shanghai, ~same),
        "not_separated": and_(Person.category == PersonCategory.SEPARATED, known, same),
    }


@rule("hukou_separation", "人户分离", "Living away from the hukou address",
      reads=("hukou_match_level", "home_region"), resident_terms=hukou_terms,
      kinds={"separated": ("人户分离", "Lives away from the hukou address"),
             "should_be_separated": ("应登记为人户分离", "Recorded as local hukou, but lives elsewhere"),
             "not_separated": ("登记为人户分离但人户一致", "Recorded as separated, but lives at the hukou address"),
             "not_shanghai_hukou": ("户籍不在本市", "Hukou outside Shanghai"),
             "no_hukou_address": ("缺少户籍地址", "No structured hukou address"),
             "no_hukou_region": ("缺少户籍区县", "No hukou district")})
def hukou_separation(ctx: Context) -> list[Flag]:
    """Local-hukou persons compared by their structured hukou address (region, road, number,
    building; the room at the "address" level) with the house they live in, by the one rule
    the phone uses too (webapp/registry/address.py), not by the free-text hukou address."""
    terms = {} if ctx.terms_counted else hukou_terms(ctx)
    if not ctx.errors_only:
        # Not an error: the list of 人户分离 residents, recorded where they live.
        terms["separated"] = and_(Person.category == PersonCategory.SEPARATED, Person.hukou_key.is_not(None),
                                  Person.hukou_region.like("31%"), ~_same_place(ctx))
    if not terms:
        return []
    level = ctx.settings.hukou_match_level
    where, where_en = ("楼栋", "building") if level == "building" else ("房屋（室）", "flat")
    at_zh, at_en = WHERE_PERSON
    texts = {
        "no_hukou_address": (f"本市户籍人员缺少户籍地址，无法判断是否人户分离：请{at_zh}填写户籍地址（区县、路、门牌号、楼号、室号）",
                             "Local hukou holder without a structured hukou address, so 人户分离 cannot be judged: "
                             f"enter the hukou address (district, road, number, building, room) {at_en}"),
        "no_hukou_region": (f"本市户籍人员缺少户籍所在区县：请{at_zh}的“户籍区县”中选择",
                            f"Local hukou holder without a hukou district: choose it (Hukou district) {at_en}"),
        "not_shanghai_hukou": (f"户籍区县不在上海，却登记为本市户籍：请核对户籍区县，或{at_zh}将人员类别改为来沪",
                               "Recorded as a Shanghai hukou, but the hukou district is outside Shanghai: check the "
                               f"district, or change the category to 来沪 {at_en}"),
        "should_be_separated": (f"登记为户籍人口，但户籍地址与居住地不在同一{where}：请{at_zh}将人员类别改为人户分离",
                                f"Recorded as local hukou, but the hukou address is not the {where_en} lived in: "
                                f"change the category to 人户分离 {at_en}"),
        "not_separated": (f"登记为人户分离，但户籍地址与居住地为同一{where}：请{at_zh}将人员类别改为户籍",
                          f"Recorded as 人户分离, but lives in the hukou {where_en}: change the category to 户籍 {at_en}"),
        "separated": (f"人户分离：户籍地址与居住地不在同一{where}，在居住地登记",
                      f"Lives away from the hukou address (another {where_en}): recorded where they live"),
    }
    out = []
    # Annotated: `term_flags` is untyped; one boolean per term after the ids.
    flagged: Select[uuid.UUID, uuid.UUID, uuid.UUID | None, Unpack[tuple[bool, ...]]] = term_flags(ctx, terms)
    for person_id, house_id, cell_id, *shown in ctx.session.execute(flagged):
        for kind, on in zip(terms, shown, strict=True):
            if on:
                zh, en = texts[kind]
                out.append(Flag("hukou_separation", kind, "person", person_id, cell_id, house_id, zh, en,
                                {"level": level}, error=kind != "separated"))
    return out


@rule("omission", "疑似漏登", "Possible omission",
      kinds={"left": ("无当前居住登记", "No current residency"), "never": ("从未登记居住地", "Never had a residency")},
      finds_errors=False)
def omission(ctx: Context) -> list[Flag]:
    """Live persons with no current residency anywhere: not recorded where they live now,
    or moved away without anyone noting where. Counted at their last known house."""
    if ctx.errors_only:
        return []
    # Not among the open residencies, or open only in a removed house.
    removed_houses = select(House.id).where(House.deleted_at.is_not(None))
    if ctx.session.get_bind().dialect.name == "postgresql":
        # As anti- and semi-joins: PostgreSQL hashes `NOT IN (subquery)` only while the hash fits
        # in work_mem, and 660,000 open residencies do not, so it rescanned them for every person
        # (over 30 minutes at 674,000 persons; hash anti-join: ~2 s).
        res = aliased(Residency)  # not the outer query's last residency
        mine = and_(res.person_id == Person.id, open_residency(res))
        missing = or_(~exists().where(mine), exists().where(mine, res.house_id.in_(removed_houses)))
    else:
        # SQLite reads the open residencies' ids from their index once (faster here than a
        # probe per person).
        missing = or_(Person.id.not_in(select(Residency.person_id).where(open_residency())),
                      Person.id.in_(select(Residency.person_id).where(
                          open_residency(), Residency.house_id.in_(removed_houses))))
    last = (select(Residency.id).where(Residency.person_id == Person.id, Residency.deleted_at.is_(None))
            .order_by(Residency.start_date.desc(), Residency.id).limit(1).correlate(Person).scalar_subquery())
    stmt = (select(Person.id, House.id, House.cell_id, Residency.end_date)
            .outerjoin(Residency, Residency.id == last).outerjoin(House, House.id == Residency.house_id)
            .where(live_person(scan=True), Person.purged_at.is_(None),
                   missing))
    if ctx.cell_ids is not None:
        stmt = stmt.where(House.cell_id.in_(list(ctx.cell_ids)))
    if ctx.house_ids is not None:
        stmt = stmt.where(House.id.in_(list(ctx.house_ids)))
    out = []
    for person_id, house_id, cell_id, ended in ctx.session.execute(stmt):
        if house_id is None:
            out.append(Flag("omission", "never", "person", person_id, None, None,
                            "从未登记居住地：疑似漏登", "Never recorded as living anywhere: possibly an omission",
                            {}, error=False))
        else:
            until = f"，最后居住至 {ended}" if ended else ""
            until_en = f"; last lived at a house until {ended}" if ended else ""
            out.append(Flag("omission", "left", "person", person_id, cell_id, house_id,
                            f"无当前居住登记{until}：疑似漏登或已迁出未登记去向",
                            f"No current residency{until_en}: possibly not recorded where they live now, or moved away",
                            {"ended": ended.isoformat() if ended else None}, error=False))
    return out
