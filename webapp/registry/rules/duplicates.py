"""Duplicates (不重复): one person or unit recorded twice. Found here, decided by people:
`tasks.raise_tasks` turns each group into a conflict for the centre, never a merge."""
from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from typing import Any, cast

from sqlalchemy import Select, and_, func, or_, select

from webapp.models import House, Person, RecordAlias, Residency, Unit
from webapp.registry.rules.base import Context, Flag, live_person, open_residency, rule, unindexed
from webapp.validation import check_char_gb11643

Member = tuple[uuid.UUID, uuid.UUID | None, uuid.UUID | None]  # record, house, cell


def _group_flag(ctx: Context, kind: str, record_type: str, members: list[Member], zh: str, en: str,
                numbers: dict[str, Any]) -> Flag | None:
    """One flag per group, counted at its first member in the asked-for cells (a pair split
    between two committees is shown to both)."""
    members = sorted(set(members), key=lambda m: str(m[0]))
    seen = [m for m in members if ctx.covers(m[2])
            and (ctx.house_ids is None or m[1] in ctx.house_ids)]
    if not seen:
        return None
    first = seen[0]
    ids = [str(m[0]) for m in members]
    return Flag("duplicates", kind, record_type, first[0], first[2], first[1], zh, en,
                {**numbers, "ids": ids, "count": len(ids), "key": f"{kind}:{','.join(ids)}"})


def _residing(person_ids: Any) -> Select[uuid.UUID, uuid.UUID, uuid.UUID | None]:
    """Persons among `person_ids` (live or tombstoned, not purged) with an open residency in
    a live house."""
    return (select(Person.id, Residency.house_id, House.cell_id).select_from(Residency)
            .join(Person, Person.id == Residency.person_id)
            .join(House, and_(House.id == Residency.house_id, House.deleted_at.is_(None)))
            .where(open_residency(), Residency.person_id.in_(person_ids), Person.purged_at.is_(None)))


def _normal(number: str) -> str:
    """The number as validation stores it: no blanks, upper case, legacy 15 digits as 18."""
    n = "".join(number.split()).upper()
    if len(n) == 15 and n.isdigit():
        first17 = n[:6] + "19" + n[6:]
        n = first17 + check_char_gb11643(first17)
    return n


def _same_id(ctx: Context) -> list[Flag]:
    """One ID number, two open residencies. The live index forbids two live persons with one
    number, so look where it cannot: a tombstone still living somewhere, a legacy 15-digit
    number beside its 18-digit form, a number stored with blanks or in lower case. Those odd
    records are few: find them in one pass over the persons, then look up their twins."""
    # Both queries keep persons with a number only, which the column's type cannot say.
    odd = cast("Select[uuid.UUID, str]", select(Person.id, Person.id_number).where(
        Person.id_number.is_not(None), Person.purged_at.is_(None), or_(
            unindexed(Person.deleted_at).is_not(None), func.length(Person.id_number) != 18,
            Person.id_number != func.upper(func.trim(Person.id_number)))))
    wanted: dict[str, set[uuid.UUID]] = defaultdict(set)
    for pid, number in ctx.session.execute(odd):
        wanted[_normal(number)].add(pid)
    if not wanted:
        return []
    for chunk in _chunks(list(wanted)):
        twins = cast("Select[uuid.UUID, str]",
                     select(Person.id, Person.id_number).where(live_person(), Person.id_number.in_(chunk)))
        for pid, number in ctx.session.execute(twins):
            wanted[number].add(pid)
    # A number held by one record alone (most odd ones: passports, permits) has no twin.
    wanted = {number: ids for number, ids in wanted.items() if len(ids) > 1}
    every = {pid for ids in wanted.values() for pid in ids}
    living: dict[uuid.UUID, Member] = {}
    for chunk in _chunks(list(every)):
        for pid, house_id, cell_id in ctx.session.execute(_residing(chunk)):
            living[pid] = (pid, house_id, cell_id)
    out = []
    for ids in wanted.values():
        members = [living[pid] for pid in ids if pid in living]
        if len(members) < 2:
            continue
        flag = _group_flag(ctx, "same_id", "person", members,
                           f"同一证件号码有 {len(members)} 条在住记录（含已删除、旧版15位或大小写不同的号码）",
                           f"One ID number with {len(members)} current residencies (counting deleted records, the "
                           "old 15-digit form and letter case)", {})
        if flag:
            out.append(flag)
    return out


def _chunks(items: list[Any], size: int = 900) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _merged(ctx: Context) -> list[Flag]:
    """Residencies still pointing at a person record that sync merged into another."""
    out = []
    aliases = select(RecordAlias.alias_id).where(RecordAlias.record_type == "person")
    # Annotated: `add_columns` leaves the row untyped.
    merged: Select[uuid.UUID, uuid.UUID, uuid.UUID | None, uuid.UUID] = (
        _residing(aliases).add_columns(RecordAlias.canonical_id)
        .join(RecordAlias, and_(RecordAlias.alias_id == Person.id, RecordAlias.record_type == "person")))
    for pid, house_id, cell_id, canonical in ctx.session.execute(merged):
        flag = _group_flag(ctx, "merged_record", "person", [(pid, house_id, cell_id)],
                           "在住记录仍指向已合并的人员记录", "A current residency still points at a merged person record",
                           {"canonical_id": str(canonical)})
        if flag:
            out.append(flag)
    return out


def _likely(ctx: Context) -> list[Flag]:
    """Same name, birth date and area code (the ID number's first six digits) under two
    different numbers: usually one person with a mistyped number."""
    area = func.substr(Person.id_number, 1, 6)
    # One pass over the table in order: grouped by name first, or with "name IS NOT NULL" as
    # is, SQLite walks the name index and fetches every person at random (twice the time).
    # Annotated: `func.substr` is typed Any, which leaves the rows untyped. None of the three
    # is NULL here (the WHERE below); in the members' query only the name is sure to be set.
    keys: Select[str, date, str] = (
        select(Person.name, Person.birth_date, area)
        .where(live_person(scan=True), unindexed(Person.name).is_not(None), Person.birth_date.is_not(None),
               Person.id_number.is_not(None))
        .group_by(Person.birth_date, Person.name, area).having(func.count() > 1))
    groups = {(name, birth, code) for name, birth, code in ctx.session.execute(keys)}
    found: dict[tuple[Any, ...], list[Member]] = defaultdict(list)
    # The members, by name (indexed), then kept where birth date and area agree too.
    for chunk in _chunks(sorted({g[0] for g in groups})):
        named: Select[uuid.UUID, uuid.UUID | None, uuid.UUID | None, str, date | None, str | None] = (
            select(Person.id, Residency.house_id, House.cell_id, Person.name, Person.birth_date, area)
            .outerjoin(Residency, and_(Residency.person_id == Person.id, open_residency()))
            .outerjoin(House, House.id == Residency.house_id)
            .where(live_person(), Person.name.in_(chunk)))
        for pid, house_id, cell_id, name, born, area_code in ctx.session.execute(named):
            if (name, born, area_code) in groups:
                found[(name, born, area_code)].append((pid, house_id, cell_id))
    out = []
    for members in found.values():
        # Never the birth date or the area code: with the masked number beside it (first 3, last
        # 4 characters) they are the whole number, for the roles the policy shows it masked.
        flag = _group_flag(ctx, "likely_person", "person", members,
                           f"{len(members)} 人姓名、出生日期和证件地区码相同，号码不同：疑似重复登记",
                           f"{len(members)} persons share name, birth date and area code under different ID numbers: "
                           "possibly one person", {})
        if flag:
            out.append(flag)
    return out


def _units(ctx: Context) -> list[Flag]:
    key = func.upper(func.trim(Unit.uscc))
    dup = (select(key).where(Unit.deleted_at.is_(None), Unit.uscc.is_not(None), Unit.uscc != "")
           .group_by(key).having(func.count() > 1))
    found: dict[str, list[Member]] = defaultdict(list)
    # Annotated: `func.upper` is typed Any, which leaves the rows untyped; the key is set (IN).
    units: Select[uuid.UUID, uuid.UUID | None, uuid.UUID | None, str] = (
        select(Unit.id, Unit.house_id, House.cell_id, key).outerjoin(House, House.id == Unit.house_id)
        .where(Unit.deleted_at.is_(None), key.in_(dup)))
    for uid, house_id, cell_id, k in ctx.session.execute(units):
        found[k].append((uid, house_id, cell_id))
    out = []
    for code, members in found.items():
        flag = _group_flag(ctx, "same_uscc", "unit", members,
                           f"{len(members)} 个单位使用同一统一社会信用代码 {code}",
                           f"{len(members)} units share the credit code {code}", {"uscc": code})
        if flag:
            out.append(flag)
    return out


@rule("duplicates", "重复登记", "Duplicates",
      kinds={"same_id": ("同一证件号码重复在住", "One ID number living twice"),
             "merged_record": ("指向已合并记录", "Points at a merged record"),
             "likely_person": ("疑似同一人", "Likely the same person"),
             "same_uscc": ("信用代码重复", "Credit code used twice")})
def duplicates(ctx: Context) -> list[Flag]:
    return [*_same_id(ctx), *_merged(ctx), *_likely(ctx), *_units(ctx)]
