"""Key-area campaigns (重点区域排查整治): open, generate their tasks, count progress, close.

- Opening makes one task per live house in the area (`geo.area.houses_in_area`), source
  `campaign`, due on the target date, key `campaign:<id>:<house>`: generating again (for
  houses added to the area since) makes none twice, and a task once closed does not return.
  Houses in no cell get no task (no coordinator would see it); they are counted apart.
- Progress, per cell of the area: houses, houses visited since the campaign's first day,
  of those with the plate scanned, its tasks open and closed, and how they closed.
- Closing stores those figures in `Campaign.figures`; from then on they are what is shown.
  The open tasks stay open (the coordinators finish them; escalation treats them as any
  other task): closing them unvisited would record a result nobody found.
"""
from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Unpack

from sqlalchemy import Select, case, func, select, update
from sqlalchemy.orm import Session

from geo.area import houses_in_area
from webapp.models import Campaign, Cell, Committee, Task, Visit
from webapp.models.enums import TaskResult, TaskSource, TaskStatus
from webapp.models.task import TASK_TEXT_MAX
from webapp.oversight.tasks.batch import TaskBatch, used_keys
from webapp.registry.tasks.defaults import sole_coordinators
from webapp.base.timeutil import local_day_bounds_utc, utcnow

_CHUNK = 5000  # ids per IN (…) list
RESULTS = tuple(r.value for r in TaskResult)
FIGURES = ("houses", "visited", "visited_scanned", "tasks", "tasks_open", "tasks_closed", *RESULTS)


class CampaignError(ValueError):
    """A campaign action that cannot be done as asked (message in Chinese / English)."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en


@dataclass
class CellProgress:
    cell_id: uuid.UUID | None  # None: houses of the area in no cell
    cell_code: str
    cell_name: str
    committee_id: uuid.UUID | None
    committee_name: str
    houses: int = 0
    visited: int = 0
    visited_scanned: int = 0
    tasks: int = 0
    tasks_open: int = 0
    tasks_closed: int = 0
    changed: int = 0
    no_change: int = 0
    not_found: int = 0
    duplicate: int = 0

    @property
    def ratio(self) -> float:
        return self.visited / self.houses if self.houses else 0.0

    def figures(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in FIGURES}

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(cell_id=str(self.cell_id) if self.cell_id else None,
                   committee_id=str(self.committee_id) if self.committee_id else None)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CellProgress:
        return cls(uuid.UUID(d["cell_id"]) if d.get("cell_id") else None, d["cell_code"], d["cell_name"],
                   uuid.UUID(d["committee_id"]) if d.get("committee_id") else None, d["committee_name"],
                   **{k: int(d.get(k, 0)) for k in FIGURES})


@dataclass
class Progress:
    campaign: Campaign
    cells: list[CellProgress] = field(default_factory=list)
    frozen: bool = False  # read from the figures stored when it closed
    as_of: datetime | None = None

    @property
    def total(self) -> CellProgress:
        out = CellProgress(None, "", "", None, "")
        for c in self.cells:
            for k in FIGURES:
                setattr(out, k, getattr(out, k) + getattr(c, k))
        return out


@dataclass
class Opened:
    made: int = 0  # tasks made now
    houses: int = 0  # houses in the area
    unplaced: int = 0  # houses of the area in no cell: no task


def _chunks(ids: Sequence[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(ids), _CHUNK):
        yield list(ids[i:i + _CHUNK])


def area_houses(session: Session, campaign: Campaign) -> list[tuple[uuid.UUID, uuid.UUID | None]]:
    return houses_in_area(session, cell_ids=campaign.cell_ids(), boundary=campaign.boundary)


def task_text(campaign: Campaign) -> str:
    return f"【重点区域排查】{campaign.name}：请于 {campaign.due_on.isoformat()} 前上门核查"[:TASK_TEXT_MAX]


def generate_tasks(session: Session, campaign: Campaign) -> Opened:
    """A task for every house of the area that never had one from this campaign; flush, no
    commit. Assignee: the cell's coordinator when it has exactly one (the usual default)."""
    if campaign.is_closed:
        raise CampaignError("活动已结束，不能再生成任务", "The campaign is closed: no more tasks are generated")
    houses = area_houses(session, campaign)
    prefix = campaign.key_prefix
    used = used_keys(session, prefix)
    placed = [(h, c) for h, c in houses if c is not None]
    batch = TaskBatch(session, sole_coordinators(session, {c for _h, c in placed}))
    text = task_text(campaign)
    out = Opened(houses=len(houses), unplaced=len(houses) - len(placed))
    for house_id, cell_id in placed:
        key = f"{prefix}{house_id}"
        if key not in used:
            batch.add(house_id=house_id, cell_id=cell_id, source=TaskSource.CAMPAIGN, text=text, key=key,
                      due_on=campaign.due_on)
    out.made = batch.write()
    return out


def open_campaign(session: Session, *, name: str, starts_on: date, due_on: date, by_user_id: int | None,
                  cell_ids: Collection[uuid.UUID] = (), boundary: dict[str, Any] | None = None,
                  note: str = "") -> tuple[Campaign, Opened]:
    """Create the campaign and its tasks; flush, no commit (the caller audits and commits)."""
    name = " ".join(name.split())
    if not name:
        raise CampaignError("请填写活动名称", "Give the campaign a name")
    if due_on < starts_on:
        raise CampaignError("目标日期不能早于开始日期", "The target date cannot be before the start date")
    if (boundary is None) == (not cell_ids):
        raise CampaignError("请选择网格，或画出一个区域（二选一）", "Choose cells or draw an area (one of the two)")
    if session.scalar(select(Campaign.id).where(Campaign.name == name)) is not None:
        raise CampaignError("已有同名活动", "A campaign of that name exists")
    cells = list(session.scalars(select(Cell).where(Cell.id.in_(list(cell_ids)), Cell.deleted_at.is_(None)))) \
        if cell_ids else []
    if len(cells) != len(set(cell_ids)):
        raise CampaignError("所选网格不存在", "A chosen cell does not exist")
    campaign = Campaign(name=name, note=note.strip(), starts_on=starts_on, due_on=due_on, boundary=boundary,
                        created_by_id=by_user_id, cells=cells)
    session.add(campaign)
    session.flush()
    return campaign, generate_tasks(session, campaign)


def _since(campaign: Campaign) -> datetime:
    return local_day_bounds_utc(campaign.starts_on)[0]


def live_progress(session: Session, campaign: Campaign, cell_ids: frozenset[uuid.UUID] | None = None,
                  now: datetime | None = None) -> Progress:
    """Figures now, per cell of the area (limited to `cell_ids`, a scope, when given)."""
    now = now or utcnow()
    houses = area_houses(session, campaign)
    if cell_ids is not None:
        houses = [(h, c) for h, c in houses if c in cell_ids]
    rows: dict[uuid.UUID | None, CellProgress] = {}
    cell_of = dict(houses)
    for _h, c in houses:
        rows.setdefault(c, CellProgress(c, "", "", None, ""))
    # The campaign's tasks (by the cell asked to act), also of houses since moved out of the area.
    task_where = [Task.origin_key.startswith(campaign.key_prefix, autoescape=True), Task.deleted_at.is_(None)]
    if cell_ids is not None:
        task_where.append(Task.cell_id.in_(list(cell_ids)))
    closed = Task.status != TaskStatus.OPEN
    # Annotated: `func.sum` of a `case` is typed Any, which leaves the rows untyped; integer
    # sums, one per result after the open and closed ones.
    counts: Select[uuid.UUID | None, int, int | None, int | None, Unpack[tuple[int | None, ...]]] = (
        select(Task.cell_id, func.count(), func.sum(case((closed, 0), else_=1)), func.sum(case((closed, 1), else_=0)),
               *(func.sum(case((closed & (Task.result == r), 1), else_=0)) for r in RESULTS))
        .where(*task_where).group_by(Task.cell_id))
    tasks = session.execute(counts).all()
    for cell_id, n, n_open, n_closed, *results in tasks:
        row = rows.setdefault(cell_id, CellProgress(cell_id, "", "", None, ""))
        row.tasks, row.tasks_open, row.tasks_closed = int(n), int(n_open or 0), int(n_closed or 0)
        for r, v in zip(RESULTS, results, strict=True):
            setattr(row, r, int(v or 0))
    since = _since(campaign)
    for ids in _chunks([h for h, _c in houses]):
        # Annotated, as above (`func.max` of a `case`): 1 where a visit scanned the plate.
        visits: Select[uuid.UUID, int | None] = (
            select(Visit.house_id, func.max(case((Visit.plate_scanned.is_(True), 1), else_=0)))
            .where(Visit.house_id.in_(ids), Visit.deleted_at.is_(None), Visit.visited_at >= since,
                   Visit.visited_at <= now)
            .group_by(Visit.house_id))
        for house_id, scanned in session.execute(visits):
            row = rows[cell_of[house_id]]
            row.visited += 1
            row.visited_scanned += int(scanned or 0)
    for _h, c in houses:
        rows[c].houses += 1
    _name(session, rows)
    return Progress(campaign, sorted(rows.values(), key=lambda r: (r.cell_id is None, r.cell_code)), as_of=now)


def _name(session: Session, rows: dict[uuid.UUID | None, CellProgress]) -> None:
    ids = [c for c in rows if c is not None]
    if not ids:
        return
    for cell_id, code, name, committee_id, committee_name in session.execute(
            select(Cell.id, Cell.code, Cell.name, Committee.id, Committee.name)
            .join(Committee, Committee.id == Cell.committee_id).where(Cell.id.in_(ids))):
        row = rows[cell_id]
        row.cell_code, row.cell_name, row.committee_id, row.committee_name = code, name, committee_id, committee_name


def progress(session: Session, campaign: Campaign, cell_ids: frozenset[uuid.UUID] | None = None) -> Progress:
    """The frozen figures of a closed campaign, else the live ones; limited to `cell_ids`.
    Houses in no cell are shown only to those who see every cell (cell_ids None)."""
    if campaign.figures is not None:
        cells = [CellProgress.from_dict(d) for d in campaign.figures.get("cells", [])]
        if cell_ids is not None:
            cells = [c for c in cells if c.cell_id in cell_ids]
        as_of = campaign.figures.get("as_of")
        return Progress(campaign, cells, frozen=True, as_of=datetime.fromisoformat(as_of) if as_of else None)
    return live_progress(session, campaign, cell_ids)


def close_campaign(session: Session, campaign: Campaign, by_user_id: int | None,
                   now: datetime | None = None) -> Progress:
    """Freeze the figures and mark the campaign closed; its open tasks stay open. Flush only."""
    if campaign.is_closed:
        raise CampaignError("活动已结束", "The campaign is already closed")
    now = now or utcnow()
    session.flush()
    # Claimed in the database first: a campaign has no version, and two closes at one moment
    # both passed the check above on PostgreSQL (two close records, the figures frozen twice).
    # The second UPDATE waits for the first's row lock, then finds the campaign closed.
    claimed = session.execute(update(Campaign).where(Campaign.id == campaign.id, Campaign.closed_at.is_(None))
                              .values(closed_at=now, closed_by_id=by_user_id)
                              .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise CampaignError("活动已结束", "The campaign is already closed")
    live = live_progress(session, campaign, None, now)
    campaign.figures = {"as_of": now.isoformat(), "cells": [c.to_dict() for c in live.cells],
                        "total": live.total.figures()}
    campaign.closed_at = now
    campaign.closed_by_id = by_user_id
    session.flush()
    return progress(session, campaign)


def visible_campaigns(session: Session, cell_ids: frozenset[uuid.UUID] | None) -> list[Campaign]:
    """Campaigns, newest first; for a scope, those with a task or a chosen cell in its cells."""
    stmt = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    campaigns = list(session.scalars(stmt))
    if cell_ids is None:
        return campaigns
    return [c for c in campaigns if touches(session, c, cell_ids)]


def touches(session: Session, campaign: Campaign, cell_ids: frozenset[uuid.UUID]) -> bool:
    """Does the campaign concern any of these cells (a chosen cell, a house, a task)?"""
    if not cell_ids:
        return False
    if campaign.cell_ids() & cell_ids:
        return True
    if campaign.figures is not None:
        return any(d.get("cell_id") and uuid.UUID(d["cell_id"]) in cell_ids for d in campaign.figures.get("cells", []))
    if session.scalar(select(Task.id).where(Task.origin_key.startswith(campaign.key_prefix, autoescape=True),
                                           Task.cell_id.in_(list(cell_ids))).limit(1)) is not None:
        return True
    return any(c in cell_ids for _h, c in area_houses(session, campaign))
