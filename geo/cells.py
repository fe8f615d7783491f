"""Import and export grid cells as a GeoJSON FeatureCollection (RFC 7946, WGS-84 lon/lat).

Each feature is one cell; its properties: `code`, `name`, `committee_code`,
`committee_name`, `grid_lead` (username) and `coordinators` (usernames). An import first
checks everything — each feature, users and committees, overlaps with every other cell
(including stored cells the file does not mention) and gaps inside committees — and writes
nothing if any error is found. Otherwise it creates or updates committees and cells, each
change an ordinary new version (`apply_changes`). The caller commits; re-assigning houses
afterwards is `geo.assign.assign_houses`.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from geo import topology
from geo.issues import ERROR, WARNING, Issue
from geo.parse import CellFeature, area_m2, load
from geo.settings import GeoSettings, default_settings
from geo.shapes import MetricFrame, polygon
from webapp.models import Cell, Committee, User
from webapp.models.enums import Role
from webapp.registry.changes import apply_changes


@dataclass
class CellImportReport:
    dry_run: bool
    features: int = 0
    issues: list[Issue] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    committees_created: list[str] = field(default_factory=list)
    committees_updated: list[str] = field(default_factory=list)
    # Cells whose boundary is new or changed: houses should be re-assigned.
    boundaries_changed: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "dry_run": self.dry_run, "written": self.written, "features": self.features,
            "issues": [i.to_dict() for i in self.issues], "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "committees_created": self.committees_created,
            "committees_updated": self.committees_updated, "boundaries_changed": self.boundaries_changed,
        }


def import_cells(
    session: Session,
    data: str | bytes | dict[str, Any],
    *,
    by_user_id: int | None = None,
    dry_run: bool = False,
    between_committees: bool = False,
    settings: GeoSettings | None = None,
) -> CellImportReport:
    settings = settings or default_settings()
    features, issues = load(data)
    report = CellImportReport(dry_run=dry_run, features=len(features), issues=issues)
    if not features and not report.ok:
        return report  # not a readable collection: nothing more to check
    session.flush()  # so that the checks below see the session's own pending rows
    report.issues += _check_features(features, settings)
    committees = {c.code: c for c in session.scalars(
        select(Committee).where(Committee.code.in_({f.committee_code for f in features})))}
    cells = {c.code: c for c in session.scalars(
        select(Cell).options(selectinload(Cell.coordinators)).where(Cell.code.in_({f.code for f in features})))}
    users = _users(session, features)
    report.issues += _check_references(features, committees, users)
    # A huge cell (a mistyped coordinate) would overlap everything: reported once is enough.
    huge = {i.feature_index for i in report.issues if i.kind == "too_large"}
    report.issues += _check_topology(session, [f for f in features if f.index not in huge], settings,
                                     between_committees)
    if not report.ok:
        return report
    _write(session, features, committees, cells, users, by_user_id, report)
    return report


def _check_features(features: list[CellFeature], settings: GeoSettings) -> list[Issue]:
    issues: list[Issue] = []
    first: dict[str, int] = {}
    names: dict[str, tuple[str, int]] = {}
    limit = settings.cell_max_area_km2 * 1e6
    for f in features:
        if f.code and f.code in first:
            issues.append(Issue("duplicate_code", f.index, f.code, detail=str(first[f.code]),
                                point=_point(f)))
        first.setdefault(f.code, f.index)
        if f.committee_name and f.committee_code:
            seen = names.setdefault(f.committee_code, (f.committee_name, f.index))
            if seen[0] != f.committee_name:
                issues.append(Issue("committee_name_conflict", f.index, f.code,
                                    detail=f"{f.committee_code}: {seen[0]} / {f.committee_name}"))
        if f.geom is not None:
            area = area_m2(f.geom)
            if area > limit:
                x0, y0, x1, y1 = f.geom.bounds
                issues.append(Issue("too_large", f.index, f.code,
                                    detail=f"{area / 1e6:.2f} km² > {settings.cell_max_area_km2:g} km²",
                                    point=_point(f), bbox=(x0, y0, x1, y1), area_m2=round(area, 1)))
    return issues


def _point(f: CellFeature) -> tuple[float, float] | None:
    if f.geom is None:
        return None
    p = f.geom.representative_point()
    return (round(p.x, 7), round(p.y, 7))


def _users(session: Session, features: Iterable[CellFeature]) -> dict[str, User]:
    names: set[str] = set()
    for f in features:
        names.update(f.coordinators or ())
        if f.grid_lead:
            names.add(f.grid_lead)
    if not names:
        return {}
    return {u.username: u for u in session.scalars(select(User).where(User.username.in_(names)))}


def _check_references(features: list[CellFeature], committees: dict[str, Committee],
                      users: dict[str, User]) -> list[Issue]:
    issues: list[Issue] = []
    named = {f.committee_code for f in features if f.committee_name}
    for f in features:
        if f.committee_code and f.committee_code not in committees and f.committee_code not in named:
            issues.append(Issue("committee_name_required", f.index, f.code, detail=f.committee_code))
        wanted = [(f.grid_lead, Role.GRID_LEAD)] if f.grid_lead else []
        wanted += [(u, Role.COORDINATOR) for u in f.coordinators or ()]
        for username, role in wanted:
            user = users.get(username)
            if user is None:
                issues.append(Issue("unknown_user", f.index, f.code, detail=username))
            elif user.role != role:
                issues.append(Issue("wrong_role", f.index, f.code, detail=f"{username}: {user.role} ≠ {role.value}"))
    return issues


def _check_topology(session: Session, features: list[CellFeature], settings: GeoSettings,
                    between_committees: bool) -> list[Issue]:
    """Overlaps and gaps among the cells as they will be: the file's, plus stored cells it omits."""
    placed = [topology.Placed(f.code, f.committee_code, f.geom, f.index) for f in features if f.geom is not None]
    in_file = {f.code for f in features}
    # With the JSON boundary (a dict[str, Any]) in it, select() types its rows as Any, which unpack as object.
    stored: Sequence[tuple[str, str, dict[str, Any] | None]] = session.execute(
        select(Cell.code, Committee.code, Cell.boundary).join(Committee, Cell.committee_id == Committee.id)
        .where(Cell.deleted_at.is_(None), Cell.boundary.is_not(None))
    ).all()
    for code, committee_code, boundary in stored:
        geom = polygon(boundary)
        if code not in in_file and geom is not None:
            placed.append(topology.Placed(code, committee_code, geom, None))
    if not placed:
        return []
    frame = MetricFrame.around(np.array([p.geom for p in placed], dtype=object))
    tol = settings.cell_overlap_tolerance_m2
    return topology.overlaps(placed, frame, tol) + topology.gaps(
        placed, frame, tol, between_committees=between_committees)


def _write(session: Session, features: list[CellFeature], committees: dict[str, Committee],
           cells: dict[str, Cell], users: dict[str, User], by_user_id: int | None,
           report: CellImportReport) -> None:
    """Apply the checked file; in a dry run only say what would change."""
    for f in features:
        committee = committees.get(f.committee_code)
        if committee is None:
            committee = Committee(code=f.committee_code, name=f.committee_name or f.committee_code,
                                  changed_by_id=by_user_id)
            committees[f.committee_code] = committee
            report.committees_created.append(f.committee_code)
            if not report.dry_run:
                session.add(committee)
                session.flush()
        elif f.committee_name and committee.name != f.committee_name and f.committee_code not in (
                report.committees_updated + report.committees_created):
            report.committees_updated.append(f.committee_code)
            if not report.dry_run:
                apply_changes(committee, {"name": f.committee_name}, by_user_id)
        changes: dict[str, Any] = {"name": f.name, "committee_id": committee.id, "boundary": f.boundary}
        if f.has_grid_lead:
            changes["grid_lead_id"] = users[f.grid_lead].id if f.grid_lead else None
        coordinators = [users[u] for u in dict.fromkeys(f.coordinators)] if f.coordinators is not None else None
        cell = cells.get(f.code)
        if cell is None:
            report.created.append(f.code)
            if f.boundary is not None:
                report.boundaries_changed.append(f.code)
            if not report.dry_run:
                cell = Cell(code=f.code, changed_by_id=by_user_id, **changes)
                cell.coordinators = coordinators or []
                session.add(cell)
            continue
        if cell.deleted_at is not None:
            changes["deleted_at"] = None  # the code of a deleted cell is re-used: bring it back
        diff = {k: v for k, v in changes.items() if getattr(cell, k) != v}
        same_people = coordinators is None or {u.id for u in coordinators} == {u.id for u in cell.coordinators}
        if not diff and same_people:
            report.unchanged.append(f.code)
            continue
        report.updated.append(f.code)
        if "boundary" in diff:
            report.boundaries_changed.append(f.code)
        if not report.dry_run:
            apply_changes(cell, diff, by_user_id)
            if not same_people:
                cell.coordinators = coordinators or []
    if not report.dry_run:
        session.flush()


def export_cells(session: Session, *, cell_ids: Iterable[Any] | None = None) -> dict[str, Any]:
    """Live cells as a FeatureCollection, ordered by code; re-importing it changes nothing."""
    stmt = (select(Cell).where(Cell.deleted_at.is_(None)).order_by(Cell.code)
            .options(selectinload(Cell.committee), selectinload(Cell.grid_lead), selectinload(Cell.coordinators)))
    if cell_ids is not None:
        stmt = stmt.where(Cell.id.in_(list(cell_ids)))
    features = []
    for cell in session.scalars(stmt):
        features.append({
            "type": "Feature",
            "id": cell.code,
            "geometry": cell.boundary,
            "properties": {
                "code": cell.code,
                "name": cell.name,
                "committee_code": cell.committee.code,
                "committee_name": cell.committee.name,
                "grid_lead": cell.grid_lead.username if cell.grid_lead else None,
                "coordinators": sorted(u.username for u in cell.coordinators),
            },
        })
    return {"type": "FeatureCollection", "features": features}
