"""The records behind each number of a grade (drill-down), as findings to list and export.

Always the records as they are now: for a closed cycle the frozen figure may differ from
today's list, and the page says so.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import Session

from geo.coverage import PLANNED_VISITS
from geo.cycles import utc_bounds
from webapp.models import Conflict, Cycle, House, Person, Residency, Review, Task, Unit, Visit
from webapp.models.enums import HouseUse, PersonCategory, ReviewKind, ReviewStatus
from webapp.oversight.grading.figures import changes, recent_window
from webapp.registry.review import LATE_AFTER_DAYS
from webapp.registry.rules import Flag, evaluate
from webapp.registry.rules.base import live_person, open_residency
from webapp.registry.rules.settings import RuleSettings
from webapp.base.timeutil import local_date, to_local

Drill = Callable[[Session, Cycle, date, frozenset[uuid.UUID] | None, RuleSettings], list[Flag]]
METRICS: dict[str, tuple[str, str]] = {
    "incomplete": ("必填项缺失", "Required fields missing"),
    "violations": ("规则违反", "Rule violations"),
    "late": ("登记不及时", "Changes recorded late"),
    "changes": ("本周期变动", "Changes in the cycle"),
    "stale": ("久未走访", "Not visited recently"),
    "unvisited": ("本周期未走访", "Not visited this cycle"),
    "unscanned": ("走访未扫码", "Visited without a plate scan"),
    "tasks": ("未处理线索", "Open tasks"),
    "conflicts": ("未处理冲突", "Open conflicts"),
    "reviews": ("待审核/已退回", "Reviews waiting (pending or returned)"),
}


def _houses(cell_ids: frozenset[uuid.UUID] | None) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = [House.deleted_at.is_(None)]
    if cell_ids is not None:
        out.append(House.cell_id.in_(list(cell_ids)) if cell_ids else false())
    return out


def _f(metric: str, kind: str, record_type: str, record_id: uuid.UUID, cell_id: uuid.UUID | None,
       house_id: uuid.UUID | None, zh: str, en: str, **numbers: object) -> Flag:
    return Flag(metric, kind, record_type, record_id, cell_id, house_id, zh, en, dict(numbers), error=False)


_PERSON_FIELDS = (("name", "姓名", "name"), ("id_number", "证件号码", "ID number"), ("sex", "性别", "sex"),
                  ("birth_date", "出生日期", "birth date"), ("hukou_region", "户籍地", "hukou region"))


def incomplete(s: Session, cycle: Cycle, today: date, cell_ids: frozenset[uuid.UUID] | None,
               cfg: RuleSettings) -> list[Flag]:
    out = []
    blank = [or_(getattr(Person, f).is_(None), getattr(Person, f) == "") if f in ("name", "id_number", "hukou_region")
             else getattr(Person, f).is_(None) for f, _zh, _en in _PERSON_FIELDS]
    for row in s.execute(
            select(Person.id, Residency.house_id, House.cell_id, Person.category,
                   *[getattr(Person, f) for f, _zh, _en in _PERSON_FIELDS])
            .join(Residency, and_(Residency.person_id == Person.id, open_residency()))
            .join(House, House.id == Residency.house_id).where(live_person(), or_(*blank), *_houses(cell_ids))):
        missing = [(zh, en) for (f, zh, en), v in zip(_PERSON_FIELDS, row[4:], strict=True)
                   if v in (None, "") and not (f == "hukou_region" and row[3] == PersonCategory.OVERSEAS)]
        if missing:
            out.append(_f("incomplete", "person", "person", row[0], row[2], row[1], "缺少" + "、".join(m[0] for m in missing),
                          "Missing " + ", ".join(m[1] for m in missing)))
    dwelling = House.use != HouseUse.COMMERCIAL
    for house_id, cell_id, floor_area, living_area, use in s.execute(
            select(House.id, House.cell_id, House.floor_area, House.living_area, House.use)
            .where(or_(House.floor_area.is_(None), and_(dwelling, House.living_area.is_(None))), *_houses(cell_ids))):
        missing = [("建筑面积", "floor area")] if floor_area is None else []
        if living_area is None and use != HouseUse.COMMERCIAL:
            missing.append(("居住面积", "living area"))
        out.append(_f("incomplete", "house", "house", house_id, cell_id, house_id, "缺少" + "、".join(m[0] for m in missing),
                      "Missing " + ", ".join(m[1] for m in missing)))
    for unit_id, house_id, cell_id, name, uscc in s.execute(
            select(Unit.id, House.id, House.cell_id, Unit.name, Unit.uscc).join(House, House.id == Unit.house_id)
            .where(Unit.deleted_at.is_(None), or_(Unit.name.is_(None), Unit.name == "", Unit.uscc.is_(None),
                                                  Unit.uscc == ""), *_houses(cell_ids))):
        missing = [m for v, m in ((name, ("名称", "name")), (uscc, ("统一社会信用代码", "credit code"))) if not v]
        out.append(_f("incomplete", "unit", "unit", unit_id, cell_id, house_id, "缺少" + "、".join(m[0] for m in missing),
                      "Missing " + ", ".join(m[1] for m in missing)))
    return out


def violations(s: Session, cycle: Cycle, today: date, cell_ids: frozenset[uuid.UUID] | None,
               cfg: RuleSettings) -> list[Flag]:
    return evaluate(s, today=today, settings=cfg, cell_ids=cell_ids, errors_only=True)


def _changes(late_only: bool) -> Drill:
    def drill(s: Session, cycle: Cycle, today: date, cell_ids: frozenset[uuid.UUID] | None,
              cfg: RuleSettings) -> list[Flag]:
        out = []
        for ch in changes(s, cycle, cell_ids):
            late = ch.late(cfg.timely_record_days)
            if late_only and not late:
                continue
            what = ("入住", "moved in") if ch.kind == "arrival" else ("迁出", "moved out")
            found = (f"，{local_date(ch.found_at)} 走访发现，{ch.lag_days} 天后登记" if ch.found_at
                     else "，登记时尚无走访")
            found_en = (f"; found by the visit on {local_date(ch.found_at)}, recorded {ch.lag_days} days later"
                        if ch.found_at else "; recorded before any visit")
            limit = f"（应在 {cfg.timely_record_days} 天内）" if late else ""
            limit_en = f" (within {cfg.timely_record_days} days expected)" if late else ""
            out.append(_f("late" if late_only else "changes", ch.kind, "person", ch.person_id, ch.cell_id, ch.house_id,
                          f"{ch.on} {what[0]}{found}{limit}", f"{what[1].capitalize()} on {ch.on}{found_en}{limit_en}",
                          date=ch.on.isoformat(), lag_days=ch.lag_days, late=late))
        return out

    return drill


def stale(s: Session, cycle: Cycle, today: date, cell_ids: frozenset[uuid.UUID] | None,
          cfg: RuleSettings) -> list[Flag]:
    lo, _hi = recent_window(min(today, cycle.ends_on), cfg)
    last = (select(Visit.house_id.label("house_id"), func.max(Visit.visited_at).label("at"))
            .where(Visit.deleted_at.is_(None)).group_by(Visit.house_id).subquery())
    out = []
    # Annotated: the subquery's column is untyped; the last visit's time, NULL when never visited.
    houses: Select[uuid.UUID, uuid.UUID | None, datetime | None] = (
        select(House.id, House.cell_id, last.c.at).outerjoin(last, last.c.house_id == House.id)
        .where(or_(last.c.at.is_(None), last.c.at < lo), *_houses(cell_ids)))
    for house_id, cell_id, at in s.execute(houses):
        zh = f"最近走访 {local_date(at)}" if at else "从未走访"
        en = f"Last visited {local_date(at)}" if at else "Never visited"
        out.append(_f("stale", "stale", "house", house_id, cell_id, house_id,
                      f"{zh}（应在 {cfg.visit_max_age_days} 天内）", f"{en} (within {cfg.visit_max_age_days} days expected)",
                      last=local_date(at).isoformat() if at else None))
    return out


def _visited(scanned_missing: bool) -> Drill:
    def drill(s: Session, cycle: Cycle, today: date, cell_ids: frozenset[uuid.UUID] | None,
              cfg: RuleSettings) -> list[Flag]:
        lo, hi = utc_bounds(cycle)
        # Per house, through its visits' index (house_id, visited_at): `NOT IN (the cycle's
        # visits)` is rescanned per house on PostgreSQL once that list outgrows work_mem.
        in_cycle = and_(Visit.house_id == House.id, Visit.deleted_at.is_(None), Visit.visited_at >= lo,
                        Visit.visited_at < hi)
        visited = exists().where(in_cycle)
        if scanned_missing:
            where = [visited, ~exists().where(in_cycle, Visit.plate_scanned.is_(True))]
            zh, en, metric = "本周期走访均未扫门牌码", "Visited this cycle, plate never scanned", "unscanned"
        else:
            where = [~visited]
            zh, en, metric = f"{cycle.name} 周期内未走访", f"Not visited in cycle {cycle.name}", "unvisited"
        return [_f(metric, metric, "house", hid, cid, hid, zh, en)
                for hid, cid in s.execute(select(House.id, House.cell_id).where(*where, *_houses(cell_ids))
                                          .order_by(House.road, House.number, House.building, House.room))]

    return drill


def tasks(s: Session, cycle: Cycle, today: date, cell_ids: frozenset[uuid.UUID] | None,
         cfg: RuleSettings) -> list[Flag]:
    # The tasks the backlog counts (geo.coverage): planned visits are not backlog.
    where = [Task.status == "open", Task.deleted_at.is_(None), Task.source.not_in(PLANNED_VISITS)]
    if cell_ids is not None:
        where.append(Task.cell_id.in_(list(cell_ids)) if cell_ids else false())
    return [_f("tasks", kind, "house", house_id, cell_id, house_id, f"{local_date(at)} 线索：{text or kind}",
               f"Task of {local_date(at)}: {text or kind}")
            for house_id, cell_id, kind, text, at in s.execute(
                select(Task.house_id, Task.cell_id, Task.kind, Task.text, Task.created_at).where(*where)
                .order_by(Task.created_at))]


def conflicts(s: Session, cycle: Cycle, today: date, cell_ids: frozenset[uuid.UUID] | None,
              cfg: RuleSettings) -> list[Flag]:
    where: list[ColumnElement[bool]] = [Conflict.resolved_at.is_(None)]
    if cell_ids is not None:
        where.append(Conflict.cell_id.in_(list(cell_ids)) if cell_ids else false())
    from sync.conflicts import KINDS  # the conflict queue's own words for its kinds

    out = []
    # Eight columns are more than `select()`'s typed overloads take. The detail as `object`
    # values: an `Any` in the row type makes `Session.execute` match every overload and
    # return untyped rows.
    queued: Select[uuid.UUID, str, str, uuid.UUID | None, uuid.UUID | None, uuid.UUID | None, datetime,
                   dict[str, object]] = (
        select(Conflict.id, Conflict.kind, Conflict.record_type, Conflict.record_id, Conflict.house_id,
               Conflict.cell_id, Conflict.created_at, Conflict.detail).where(*where).order_by(Conflict.created_at))
    for cid, kind, rtype, rid, house_id, cell_id, at, detail in s.execute(queued):
        record_type = rtype if rtype in ("person", "house", "unit") and rid else "house"
        record_id = rid if record_type == rtype else house_id
        if record_id is None:
            continue
        zh, en = KINDS.get(kind, (kind, kind))
        out.append(_f("conflicts", kind, record_type, record_id, cell_id, house_id,
                      f"{local_date(at)} 冲突：{(detail or {}).get('zh') or zh}",
                      f"Conflict of {local_date(at)}: {(detail or {}).get('en') or en}", conflict_id=str(cid)))
    return out


def reviews(s: Session, cycle: Cycle, today: date, cell_ids: frozenset[uuid.UUID] | None,
            cfg: RuleSettings) -> list[Flag]:
    """Reviews still waiting, oldest move first (those over LATE_AFTER_DAYS are the counted ones)."""
    out = []
    for rid, kind, status, house_id, cell_id, person_id, since in s.execute(
            select(Review.id, Review.kind, Review.status, Review.house_id, House.cell_id, Review.person_id,
                   Review.changed_at).join(House, House.id == Review.house_id)
            .where(Review.deleted_at.is_(None), Review.status != "approved", *_houses(cell_ids))
            .order_by(Review.changed_at)):
        days = (today - to_local(since).date()).days
        zh_kind, en_kind = ReviewKind(kind).label("zh"), ReviewKind(kind).label("en")
        zh_status, en_status = ReviewStatus(status).label("zh"), ReviewStatus(status).label("en")
        out.append(_f("reviews", status, "person", person_id, cell_id, house_id,
                      f"{zh_kind}{zh_status}，已 {days} 天", f"{en_kind} {en_status.lower()} for {days} days",
                      days=days, late=days > LATE_AFTER_DAYS, review_id=str(rid)))
    return out


DRILLS: dict[str, Drill] = {
    "incomplete": incomplete, "violations": violations, "late": _changes(True), "changes": _changes(False),
    "stale": stale, "unvisited": _visited(False), "unscanned": _visited(True), "tasks": tasks, "conflicts": conflicts,
    "reviews": reviews,
}


def drill(session: Session, metric: str, cycle: Cycle, *, today: date, settings: RuleSettings,
          cell_ids: frozenset[uuid.UUID] | None) -> list[Flag]:
    return DRILLS[metric](session, cycle, today, cell_ids, settings)
