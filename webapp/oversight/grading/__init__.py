"""Quality grading (达标) of each residents' committee, per collection cycle.

Live for an open cycle; frozen in `GradeSnapshot` rows when the cycle closes, so a closed
month's grades never change afterwards (not when records are corrected, nor when the
thresholds are retuned). Coverage comes from `geo.coverage` (frozen with the cycle too).
Pure SQLAlchemy: no Flask.
"""
from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.coverage import close_cycle as close_coverage
from geo.coverage import cycle_coverage
from geo.settings import GeoSettings
from webapp.models import Cell, Committee, Cycle, GradeSnapshot
from webapp.models.grading import SUBDISTRICT_KEY
from webapp.oversight.grading.figures import CellCounts, Change, completeness, reviews, timeliness
from webapp.oversight.grading.score import COUNTS, Scored, add, score
from webapp.registry import address_keys
from webapp.registry.rules import RULES, Context, evaluate
from webapp.registry.rules.settings import RuleSettings, default_settings

__all__ = ["COUNTS", "Change", "GradeReport", "GradeRow", "close_and_freeze", "freeze", "grade_cycle", "trend"]


@dataclass
class GradeRow:
    committee_id: uuid.UUID | None  # None: the subdistrict (or all that was asked for)
    name: str
    code: str
    cells: int
    scored: Scored

    @property
    def grade(self) -> str | None:
        return self.scored.grade

    @property
    def score(self) -> float | None:
        return self.scored.score


@dataclass
class GradeReport:
    cycle: Cycle
    rows: list[GradeRow]
    total: GradeRow
    frozen: bool
    as_of: date
    settings: RuleSettings
    frozen_at: datetime | None = None
    changes: list[Change] = field(default_factory=list)  # live only: behind the timeliness figures


def _committees(session: Session, cell_ids: frozenset[uuid.UUID] | None) -> tuple[dict[uuid.UUID, uuid.UUID],
                                                                                  dict[uuid.UUID, Committee]]:
    stmt = (select(Cell.id, Committee).join(Committee, Committee.id == Cell.committee_id)
            .where(Cell.deleted_at.is_(None)))
    if cell_ids is not None:
        stmt = stmt.where(Cell.id.in_(list(cell_ids)))
    cell_to, committees = {}, {}
    for cell_id, committee in session.execute(stmt):
        cell_to[cell_id] = committee.id
        committees[committee.id] = committee
    return cell_to, committees


def _live(session: Session, cycle: Cycle, today: date, settings: RuleSettings, geo_settings: GeoSettings | None,
          cell_ids: frozenset[uuid.UUID] | None) -> GradeReport:
    as_of = min(today, cycle.ends_on)
    counts: CellCounts = {}
    address_keys.stamp(session)  # the 人户分离 terms compare keys: those of rows written here too
    # The rules' resident terms are counted in the persons' pass; the rules find the rest.
    ctx = Context(session, settings, today, cell_ids, errors_only=True, terms_counted=True)
    terms = [t for r in RULES.values() if r.finds_errors and r.resident_terms for t in r.resident_terms(ctx).values()]
    completeness(session, cell_ids, counts, terms)
    found = timeliness(session, cycle, as_of, cell_ids, settings, counts)
    reviews(session, as_of, cell_ids, counts)
    for flag in evaluate(session, today=today, settings=settings, cell_ids=cell_ids, errors_only=True,
                         terms_counted=True):
        per = counts.setdefault(flag.cell_id, {})
        per["violations"] = per.get("violations", 0) + 1
    # Grades use no `unverified` figure: skip the per-visit plausibility pass, the costliest.
    coverage = cycle_coverage(session, cycle, cell_ids=cell_ids, settings=geo_settings, judge_visits=False)
    for c in coverage.cells:
        per = counts.setdefault(c.cell_id, {})
        for mine, theirs in (("cov_houses", c.houses), ("visited", c.visited), ("visited_scanned", c.visited_scanned),
                             ("open_tasks", c.open_tasks), ("open_conflicts", c.open_conflicts)):
            per[mine] = per.get(mine, 0) + theirs
    cell_to, committees = _committees(session, cell_ids)
    per_committee: dict[uuid.UUID, dict[str, int]] = {cid: {} for cid in committees}
    cells_of: dict[uuid.UUID, int] = dict.fromkeys(committees, 0)
    for owner in cell_to.values():
        cells_of[owner] += 1
    total: dict[str, int] = {}
    for cell_id, per in counts.items():
        add(total, per)  # houses in no cell count in the subdistrict only
        committee_id = cell_to.get(cell_id) if cell_id is not None else None
        if committee_id is not None:
            add(per_committee[committee_id], per)
    rows = sorted((GradeRow(cid, committees[cid].name, committees[cid].code, cells_of[cid], score(c, settings))
                   for cid, c in per_committee.items()), key=lambda r: r.code)
    return GradeReport(cycle, rows, GradeRow(None, "", "", len(cell_to), score(total, settings)), False, as_of,
                       settings, changes=found)


def grade_cycle(session: Session, cycle: Cycle, *, today: date, settings: RuleSettings | None = None,
                geo_settings: GeoSettings | None = None, cell_ids: frozenset[uuid.UUID] | None = None) -> GradeReport:
    """Grades of the committees with cells in `cell_ids` (None: all, and the subdistrict)."""
    settings = settings or default_settings()
    snaps = session.scalars(select(GradeSnapshot).where(GradeSnapshot.cycle_id == cycle.id)).all()
    if cycle.closed_at is not None and snaps:
        return _frozen(session, cycle, list(snaps), cell_ids)
    return _live(session, cycle, today, settings, geo_settings, cell_ids)


def _row(snap: GradeSnapshot) -> GradeRow:
    f = snap.figures
    scored = Scored(f["counts"], f["rates"], f["scores"], snap.score, snap.grade)
    return GradeRow(snap.committee_id, f.get("name", ""), f.get("code", ""), int(f.get("cells", 0)), scored)


def _frozen(session: Session, cycle: Cycle, snaps: list[GradeSnapshot],
            cell_ids: frozenset[uuid.UUID] | None) -> GradeReport:
    whole = next(s for s in snaps if s.committee_key == SUBDISTRICT_KEY)
    settings = RuleSettings(**whole.figures["settings"])
    visible = None if cell_ids is None else set(_committees(session, cell_ids)[1])
    rows = sorted((_row(s) for s in snaps if s.committee_key != SUBDISTRICT_KEY
                   and (visible is None or s.committee_id in visible)), key=lambda r: r.code)
    if visible is None:
        total = _row(whole)
    else:
        # Only some committees: their sum, scored as it was scored then.
        counts: dict[str, int] = {}
        for r in rows:
            add(counts, r.scored.counts)
        total = GradeRow(None, "", "", sum(r.cells for r in rows), score(counts, settings))
        if len(rows) == 1:
            total.scored = rows[0].scored
    as_of = date.fromisoformat(whole.figures["as_of"])
    return GradeReport(cycle, rows, total, True, as_of, settings, frozen_at=whole.created_at)


def freeze(session: Session, cycle: Cycle, by_user_id: int | None, *, today: date,
           settings: RuleSettings | None = None, geo_settings: GeoSettings | None = None) -> GradeReport:
    """Write the cycle's grades once, for every committee and the subdistrict; no commit."""
    if session.scalar(select(GradeSnapshot.id).where(GradeSnapshot.cycle_id == cycle.id).limit(1)) is not None:
        raise ValueError(f"grades of cycle {cycle.name} are already frozen (等级已冻结)")
    settings = settings or default_settings()
    report = _live(session, cycle, today, settings, geo_settings, None)
    common: dict[str, Any] = {"settings": asdict(settings), "as_of": report.as_of.isoformat()}
    for r in [*report.rows, report.total]:
        key = str(r.committee_id) if r.committee_id else SUBDISTRICT_KEY
        session.add(GradeSnapshot(
            cycle_id=cycle.id, committee_id=r.committee_id, committee_key=key, grade=r.grade, score=r.score,
            created_by_id=by_user_id,
            figures={"name": r.name, "code": r.code, "cells": r.cells, "counts": r.scored.counts,
                     "rates": r.scored.rates, "scores": r.scored.scores, **common}))
    session.flush()
    return report


def still_running(cycle: Cycle, today: date) -> bool:
    """A cycle closes after its last day: closed early, its coverage and grades froze with
    weeks of visits still to come, and a close is not undone."""
    return today <= cycle.ends_on


def close_and_freeze(session: Session, cycle: Cycle, by_user_id: int | None, *, today: date,
                     settings: RuleSettings | None = None, geo_settings: GeoSettings | None = None) -> None:
    """Close the cycle (coverage freezes in geo.coverage) and freeze its grades, the
    coordinators' figures (webapp.oversight.coordinators) and the unit figures
    (webapp.oversight.unit_figures); no commit."""
    from webapp.oversight import coordinators, unit_figures

    close_coverage(session, cycle, by_user_id, settings=geo_settings)
    freeze(session, cycle, by_user_id, today=today, settings=settings, geo_settings=geo_settings)
    coordinators.freeze(session, cycle, geo_settings)
    unit_figures.freeze(session, cycle)


def trend(session: Session, committee_ids: list[uuid.UUID | None], limit: int = 12) -> list[
        tuple[Cycle, dict[uuid.UUID | None, tuple[str | None, float | None]]]]:
    """The last `limit` frozen cycles, oldest first: per committee (None: subdistrict) its
    grade and score."""
    cycles = list(session.scalars(
        select(Cycle).where(Cycle.id.in_(select(GradeSnapshot.cycle_id))).order_by(Cycle.starts_on.desc())
        .limit(limit)))[::-1]
    keys = [str(c) if c else SUBDISTRICT_KEY for c in committee_ids]
    out: dict[uuid.UUID, dict[uuid.UUID | None, tuple[str | None, float | None]]] = {c.id: {} for c in cycles}
    if cycles:
        for snap in session.scalars(select(GradeSnapshot).where(
                GradeSnapshot.cycle_id.in_([c.id for c in cycles]), GradeSnapshot.committee_key.in_(keys))):
            out[snap.cycle_id][snap.committee_id] = (snap.grade, snap.score)
    return [(c, out[c.id]) for c in cycles]
