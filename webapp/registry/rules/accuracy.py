"""Accuracy (准确无误): ID numbers, birth dates, phones, house locations and cells, credit codes.

ID numbers are checked in SQL first (shape, GB 11643 check character, birth date equal to
the recorded one): at the district scale that leaves a few thousand numbers, not half a
million, for `webapp.validation` to explain one by one.
"""
from __future__ import annotations

import typing
import uuid
from datetime import date
from typing import Any

from sqlalchemy import Integer, Select, and_, case, cast, false, func, literal, or_, select, true

from webapp.models import House, Person, Residency, Unit
from webapp.registry.rules.base import (Context, Flag, date_digits, matches_alnum, matches_digits17x, rule,
                                        term_flags)
from webapp.registry.rules.persons import WHERE_PERSON, add_years, few_residents
from webapp.validation import MIN_BIRTH_YEAR, ValidationError, parse_person_id, parse_uscc
from webapp.validation.ids import CHECK_CHARS_GB11643, WEIGHTS_GB11643


HMT_AREAS = ("810000", "820000", "830000")


def _fast_valid(ctx: Context) -> Any:
    """True for an ID number that certainly passes `parse_person_id` without a finding: for
    GB 11643-style numbers (resident ID, HMT permit, foreign permanent card) the shape, the
    document's prefix, the check character and a birth date equal to the recorded one and
    plausible; for passports the shape. Anything else is explained by `parse_person_id`."""
    col, dialect = Person.id_number, ctx.dialect
    total = sum((cast(func.substr(col, i + 1, 1), Integer) * w for i, w in enumerate(WEIGHTS_GB11643)), literal(0))
    check_ok = func.substr(literal(CHECK_CHARS_GB11643), total % 11 + 1, 1) == func.substr(col, 18, 1)
    birth_ok = and_(func.substr(col, 7, 8) == date_digits(Person.birth_date, dialect),
                    Person.birth_date >= date(MIN_BIRTH_YEAR, 1, 1), Person.birth_date <= ctx.today)
    prefix_ok = or_(
        and_(Person.id_type == "resident", func.substr(col, 1, 1) != "9",
             func.substr(col, 1, 2).not_in(("81", "82", "83"))),
        and_(Person.id_type == "hmt_permit", func.substr(col, 1, 6).in_(HMT_AREAS)),
        and_(Person.id_type == "foreign_permanent", func.substr(col, 1, 1) == "9"))
    shaped = and_(matches_digits17x(col, dialect), Person.birth_date.is_not(None), prefix_ok)
    passport = and_(Person.id_type == "passport", func.length(col).between(5, 17), matches_alnum(col, dialect))
    # Inside CASE so PostgreSQL never casts a letter: the check runs only on 17-digit numbers.
    return case((shaped, and_(check_ok, birth_ok)), (passport, true()), else_=false())


def resident_terms(ctx: Context) -> dict[str, Any]:
    """Findings one resident row shows by itself (grading counts them in its single pass)."""
    age = ctx.settings.phone_required_from_age
    return {
        # A fixed line is a phone; "无电话" and "拒绝提供" are answers: only silence is a gap.
        "no_phone": and_(or_(Person.phone.is_(None), Person.phone == ""),
                         or_(Person.landline.is_(None), Person.landline == ""), Person.phone_status.is_(None),
                         Person.birth_date <= add_years(ctx.today, -age)),
        "birth_date": or_(Person.birth_date > ctx.today, Person.birth_date < date(MIN_BIRTH_YEAR, 1, 1),
                          Person.birth_date > Residency.start_date),
    }


def _resident_flags(ctx: Context) -> list[Flag]:
    if ctx.terms_counted:
        return []
    age = ctx.settings.phone_required_from_age
    terms = resident_terms(ctx)
    out = []
    # Annotated: `term_flags` is untyped. The birth date is set where `bad_birth` is true (it
    # compares it), the only place it is read.
    flagged: Select[uuid.UUID, uuid.UUID, uuid.UUID | None, date, date, bool, bool] = term_flags(
        ctx, terms, Person.birth_date, Residency.start_date)
    for pid, house_id, cell_id, born, start, no_phone, bad_birth in ctx.session.execute(flagged):
        if no_phone:
            out.append(Flag("accuracy", "no_phone", "person", pid, cell_id, house_id,
                            f"{age} 岁以上，未登记联系电话：请{WHERE_PERSON[0]}填写手机或固定电话，"
                            "或选择“无电话”“拒绝提供”",
                            f"Aged {age} or over, no phone recorded: enter a mobile or a fixed line, or choose "
                            f"“has no phone” or “declined” {WHERE_PERSON[1]}", {"from_age": age}))
        if bad_birth:
            # A finding's words reach every role that sees the person: never the birth date,
            # which the policy shows grid leads, committees and police as its year only.
            if born > ctx.today:
                zh, en = "出生日期晚于今天", "The birth date is in the future"
            elif born < date(MIN_BIRTH_YEAR, 1, 1):
                zh, en = f"出生日期早于 {MIN_BIRTH_YEAR} 年", f"The birth date is before {MIN_BIRTH_YEAR}"
            else:
                zh, en = f"出生日期晚于入住日期 {start}", f"The birth date is after moving in on {start}"
            out.append(Flag("accuracy", "birth_date", "person", pid, cell_id, house_id, zh, en))
    return out


def _id_flags(ctx: Context) -> list[Flag]:
    """ID numbers the SQL test cannot pass, found in one pass over the person table (no
    join), explained by the validation module; only those persons are then looked up."""
    suspect = and_(Person.id_number.is_not(None), _fast_valid(ctx).is_(False))
    out: list[Flag] = []
    # Annotated: `few_residents` is untyped. The number is set (`suspect` requires it).
    suspects: Select[uuid.UUID, uuid.UUID, uuid.UUID | None, str, str, date | None] = few_residents(
        ctx, suspect, Person.id_type, Person.id_number, Person.birth_date)
    for pid, house_id, cell_id, id_type, number, born in ctx.session.execute(suspects):
        def flag(kind: str, zh: str, en: str, **numbers: Any) -> None:
            out.append(Flag("accuracy", kind, "person", pid, cell_id, house_id, zh, en, numbers))

        _check_id(flag, id_type, number, born, ctx.today)
    return out


# The validation's words for a number typed in a form quote its birth-date digits (the typist
# sees the number); a finding is read by roles that see it masked: said without them.
QUIET_ID_PROBLEMS = {
    "id.birth_invalid": ("号码中的出生日期不是有效日期", "its birth date is not a real date"),
    "id.birth_future": ("号码中的出生日期晚于今天", "its birth date is in the future"),
}


def _check_id(flag: Any, id_type: str, number: str, born: date | None, today: date) -> None:
    """Explain a number the SQL check could not pass, with the validation module's words."""
    try:
        parsed = parse_person_id(number, id_type, today=today)
    except ValidationError as exc:
        e = exc.errors[0]
        zh, en = QUIET_ID_PROBLEMS.get(e.code, (e.zh, e.en))
        flag("invalid_id", f"证件号码无效：{zh}", f"Invalid ID number: {en}", code=e.code)
        return
    if parsed.legacy and id_type == "resident":
        flag("legacy_id", "旧版15位身份证号码，应换为18位", "Old 15-digit ID number: record the 18-digit one")
    if parsed.birth_date and born and parsed.birth_date != born:
        flag("birth_mismatch", "出生日期与证件号码中的不一致", "The birth date differs from the one in the ID number")


def _house_flags(ctx: Context) -> list[Flag]:
    out = []
    for house_id, cell_id, lon, lat in ctx.session.execute(
            select(House.id, House.cell_id, House.lon, House.lat)
            .where(or_(House.lon.is_(None), House.lat.is_(None), House.cell_id.is_(None)), *ctx.where_house())):
        if lon is None or lat is None:
            out.append(Flag("accuracy", "no_location", "house", house_id, cell_id, house_id,
                            "房屋无坐标", "House without a location"))
        if cell_id is None:
            out.append(Flag("accuracy", "no_cell", "house", house_id, None, house_id,
                            "房屋未划入网格", "House not in any grid cell"))
    return out


def _unit_flags(ctx: Context) -> list[Flag]:
    out = []
    # The credit code is set here (the WHERE), which its column cannot say.
    coded = typing.cast("Select[uuid.UUID, uuid.UUID, uuid.UUID | None, str]",
                        select(Unit.id, House.id, House.cell_id, Unit.uscc).join(House, House.id == Unit.house_id)
                        .where(Unit.deleted_at.is_(None), Unit.uscc.is_not(None), Unit.uscc != "",
                               *ctx.where_house()))
    for unit_id, house_id, cell_id, uscc in ctx.session.execute(coded):
        try:
            parse_uscc(uscc)
        except ValidationError as exc:
            e = exc.errors[0]
            out.append(Flag("accuracy", "invalid_uscc", "unit", unit_id, cell_id, house_id,
                            f"统一社会信用代码无效：{e.zh}", f"Invalid credit code: {e.en}", {"code": e.code}))
    return out


@rule("accuracy", "准确性", "Accuracy", reads=("phone_required_from_age",), resident_terms=resident_terms,
      kinds={"invalid_id": ("证件号码无效", "Invalid ID number"), "legacy_id": ("旧版身份证号码", "Legacy ID number"),
             "birth_mismatch": ("出生日期与证件不符", "Birth date differs from the ID"),
             "birth_date": ("出生日期不可能", "Impossible birth date"), "no_phone": ("无联系电话", "No phone"),
             "no_location": ("房屋无坐标", "House without location"), "no_cell": ("房屋无网格", "House without cell"),
             "invalid_uscc": ("信用代码无效", "Invalid credit code")})
def accuracy(ctx: Context) -> list[Flag]:
    return [*_resident_flags(ctx), *_id_flags(ctx), *_house_flags(ctx), *_unit_flags(ctx)]



