"""Person rules: residence permits (居住证) to renew or endorse, 人户分离, possible omissions."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import aliased

from webapp.models import House, Person, Residency
from webapp.models.enums import PersonCategory
from webapp.registry.rules.base import Context, Flag, address_part, live_person, open_residency, rule, term_flags


def add_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def few_residents(ctx: Context, wanted: Any, *columns: Any) -> Any:
    """Like `base.residents`, for a condition on persons that few meet: the qualifying ids
    are read from the person table in order, so only their residencies and houses are looked up."""
    chosen = select(Person.id).where(live_person(scan=True), wanted)
    return (select(Person.id, House.id.label("house_id"), House.cell_id, *columns).select_from(Residency)
            .join(Person, Person.id == Residency.person_id).join(House, House.id == Residency.house_id)
            .where(open_residency(), Residency.person_id.in_(chosen), *ctx.where_house()))


@rule("permits", "居住证到期与签注", "Residence permits to renew or endorse",
      reads=("permit_expiry_warn_days", "permit_endorse_window_days", "permit_validity_years"),
      kinds={"expired": ("居住证已过期", "Permit expired"), "expiring": ("居住证即将到期", "Permit expiring"),
             "endorsement": ("年度签注到期", "Yearly endorsement due")}, finds_errors=False)
def permits(ctx: Context) -> list[Flag]:
    """Expired permits, permits expiring within the warning days, and yearly endorsements
    due: the card is endorsed in the window before each anniversary of its issue, and the
    issue date is its expiry less the validity (only the expiry is recorded)."""
    if ctx.errors_only:
        return []
    cfg, today = ctx.settings, ctx.today
    warn_until = today + timedelta(days=cfg.permit_expiry_warn_days)
    window_end = today + timedelta(days=cfg.permit_endorse_window_days)
    # Anniversary A = expiry − k years lies in [today, window end] ⇔ expiry lies in these ranges.
    anniversaries = [(k, add_years(today, k), add_years(window_end, k)) for k in range(1, cfg.permit_validity_years)]
    wanted = or_(Person.permit_expiry <= warn_until,
                 *[Person.permit_expiry.between(lo, hi) for _k, lo, hi in anniversaries])
    rows = ctx.session.execute(few_residents(ctx, and_(Person.permit_expiry.is_not(None), wanted),
                                             Person.permit_expiry))
    out = []
    for person_id, house_id, cell_id, expiry in rows:
        days = (expiry - today).days
        if expiry < today:
            out.append(Flag("permits", "expired", "person", person_id, cell_id, house_id,
                            f"居住证已于 {expiry} 到期（已过 {-days} 天，功能中止）",
                            f"Residence permit expired on {expiry} ({-days} days ago; its functions are suspended)",
                            {"expiry": expiry.isoformat(), "days": days}, error=False))
        elif expiry <= warn_until:
            out.append(Flag("permits", "expiring", "person", person_id, cell_id, house_id,
                            f"居住证将于 {expiry} 到期（{days} 天后；提前 {cfg.permit_expiry_warn_days} 天提醒）",
                            f"Residence permit expires on {expiry} (in {days} days; warned "
                            f"{cfg.permit_expiry_warn_days} days ahead)",
                            {"expiry": expiry.isoformat(), "days": days}, error=False))
        for k, lo, hi in anniversaries:
            if lo <= expiry <= hi:
                due = add_years(expiry, -k)
                left = (due - today).days
                out.append(Flag("permits", "endorsement", "person", person_id, cell_id, house_id,
                                f"居住证须在 {due} 前办理年度签注（满 {k} 年，还有 {left} 天）",
                                f"Yearly endorsement due by {due} (year {k} of the card; {left} days left)",
                                {"due": due.isoformat(), "days": left, "year": k}, error=False))
    return out


def _same_address(ctx: Context) -> Any:
    pairs = [(Person.hukou_road, House.road), (Person.hukou_number, House.number),
             (Person.hukou_building, House.building)]
    if ctx.settings.hukou_match_level == "house":
        pairs.append((Person.hukou_room, House.room))
    return and_(*(_same_part(mine, theirs) for mine, theirs in pairs))


def hukou_terms(ctx: Context) -> dict[str, Any]:
    """The data errors one resident row shows (grading counts them in its single pass)."""
    same, known = _same_address(ctx), Person.hukou_road.is_not(None)
    return {
        "no_hukou_address": and_(Person.category.in_(LOCAL), Person.hukou_road.is_(None)),
        "should_be_separated": and_(Person.category == PersonCategory.HUJI, known, ~same),
        "not_separated": and_(Person.category == PersonCategory.SEPARATED, known, same),
    }


LOCAL = (PersonCategory.HUJI, PersonCategory.SEPARATED)


@rule("hukou_separation", "人户分离", "Living away from the hukou address",
      reads=("hukou_match_level",), resident_terms=hukou_terms,
      kinds={"separated": ("人户分离", "Lives away from the hukou address"),
             "should_be_separated": ("应登记为人户分离", "Recorded as local hukou, but lives elsewhere"),
             "not_separated": ("登记为人户分离但人户一致", "Recorded as separated, but lives at the hukou address"),
             "no_hukou_address": ("缺少结构化户籍地址", "No structured hukou address")})
def hukou_separation(ctx: Context) -> list[Flag]:
    """Local-hukou persons compared by structured address (road, number, building; and room
    at "house" level), not by the free-text hukou address."""
    terms = {} if ctx.terms_counted else hukou_terms(ctx)
    if not ctx.errors_only:
        # Not an error: the list of 人户分离 residents, recorded where they live.
        terms["separated"] = and_(Person.category == PersonCategory.SEPARATED, Person.hukou_road.is_not(None),
                                  ~_same_address(ctx))
    if not terms:
        return []
    level = ctx.settings.hukou_match_level
    where, where_en = ("楼栋", "building") if level == "building" else ("房屋", "house")
    texts = {
        "no_hukou_address": ("本市户籍人员缺少结构化户籍地址（路、门牌、楼栋），无法判断是否人户分离",
                             "Local hukou holder without a structured hukou address (road, number, building): "
                             "人户分离 cannot be judged"),
        "should_be_separated": (f"登记为户籍人口，但户籍地址与居住地不在同一{where}：应登记为人户分离",
                                f"Recorded as local hukou, but the hukou address is not the {where_en} lived in: "
                                "should be recorded as 人户分离"),
        "not_separated": (f"登记为人户分离，但户籍地址与居住地为同一{where}",
                          f"Recorded as 人户分离, but lives in the hukou {where_en}"),
        "separated": (f"人户分离：户籍地址与居住地不在同一{where}，在居住地登记",
                      f"Lives away from the hukou address (another {where_en}): recorded where they live"),
    }
    out = []
    for person_id, house_id, cell_id, *shown in ctx.session.execute(term_flags(ctx, terms)):
        for kind, on in zip(terms, shown, strict=True):
            if on:
                zh, en = texts[kind]
                out.append(Flag("hukou_separation", kind, "person", person_id, cell_id, house_id, zh, en,
                                {"level": level}, error=kind != "separated"))
    return out


def _same_part(mine: Any, theirs: Any) -> Any:
    """Equal as written (cheap, and true for most), else equal once normalised."""
    return or_(and_(mine.is_not(None), theirs.is_not(None), mine == theirs), address_part(mine) == address_part(theirs))


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
