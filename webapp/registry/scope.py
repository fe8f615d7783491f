"""Data scope: who may see and change which cells. The one place this is decided (how much
of each record a role sees is the privacy policy's: webapp/registry/privacy.py).

Pure SQLAlchemy, so the console, search, exports and sync all ask the same question.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, bindparam, exists, false, select, true
from sqlalchemy.orm import Session

from webapp.models import Cell, House, Person, Residency, User, cell_coordinator
from webapp.models.enums import Role

# What each role may do, within its cells. Police read everything and change nothing.
# Community reporters (楼组长, volunteers, property guards) see no cells of the registry:
# they file reports for their committee's houses (`report_cells`) and follow their own.
PERMISSIONS: dict[str, frozenset[str]] = {
    "view": frozenset(Role) - {Role.REPORTER},
    "edit": frozenset({Role.COORDINATOR, Role.GRID_LEAD, Role.COMMITTEE, Role.CENTRE}),
    "export": frozenset({Role.COMMITTEE, Role.CENTRE, Role.POLICE}),
    "import": frozenset({Role.CENTRE}),
    "admin": frozenset({Role.CENTRE}),
    # Sync conflicts: decided within one's cells by those answerable for the data there.
    "resolve": frozenset({Role.GRID_LEAD, Role.COMMITTEE, Role.CENTRE}),
    # Phones: the centre, and a committee for the people working its cells.
    "devices": frozenset({Role.COMMITTEE, Role.CENTRE}),
    # Holding a phone (the field app): only roles that change the registry; a read-only phone
    # would only be a copy of personal data to lose (issue 15).
    "device": frozenset({Role.COORDINATOR, Role.GRID_LEAD, Role.COMMITTEE, Role.CENTRE}),
    # The 合法稳定住所 decision for an applicant, and its certificate (seed art. 5(2): the committee).
    "residence_decision": frozenset({Role.COMMITTEE, Role.CENTRE}),
    # Re-plating, splitting and demolishing a house: the committee and the centre.
    "house_history": frozenset({Role.COMMITTEE, Role.CENTRE}),
    # A phone's exported outbox is imported as that phone: the centre only.
    "rescue": frozenset({Role.CENTRE}),
    # Quality grades (达标) are the committees' and the centre's business; police may read them.
    "see_grades": frozenset({Role.COMMITTEE, Role.CENTRE, Role.POLICE}),
    # Tasks: reassign to another coordinator of the cell, move the due date.
    "assign": frozenset({Role.GRID_LEAD, Role.COMMITTEE, Role.CENTRE}),
    # Review (审核) of coordinators' registrations and move-outs: approve, or return with a reason.
    "review": frozenset({Role.GRID_LEAD, Role.COMMITTEE, Role.CENTRE}),
    # Whether a committee's coordinators' entries need review: the committee itself and the centre.
    "review_settings": frozenset({Role.COMMITTEE, Role.CENTRE}),
    # File a community report for a house (by plate code or address) and follow its outcome.
    "report": frozenset({Role.REPORTER}),
    # The reporters' contribution (reports that led to a change), per reporter.
    "see_reporters": frozenset({Role.COMMITTEE, Role.CENTRE}),
    # Key-area campaigns: open, generate their tasks, close; run the collection cycle.
    # Everyone who may view sees their progress within their cells.
    "campaigns": frozenset({Role.CENTRE}),
    # Logins (/admin/users): the centre all of them; a committee its own coordinators and grid
    # leads (webapp/oversight/staff.py says which users and cells each may manage).
    "admin_users": frozenset({Role.COMMITTEE, Role.CENTRE}),
    # The audit log (/audit) and a person's access report (PIPL art. 45): the centre.
    "see_audit": frozenset({Role.CENTRE}),
    # Statistics of the register (/statistics): counts of one's cells; the police read them
    # (lists behind a figure masked, as everywhere).
    "see_statistics": frozenset({Role.GRID_LEAD, Role.COMMITTEE, Role.CENTRE, Role.POLICE}),
    # The coordinators' work (/reports/coordinators, the year's roll-up): of one's cells.
    "see_coordinators": frozenset({Role.GRID_LEAD, Role.COMMITTEE, Role.CENTRE}),
}

ALL_CELLS_ROLES = frozenset({Role.CENTRE, Role.POLICE})


def allowed(role: str, action: str) -> bool:
    return role in PERMISSIONS[action]


@dataclass(frozen=True)
class Scope:
    role: str
    # None means every cell, including houses not yet placed in a cell.
    cell_ids: frozenset[uuid.UUID] | None

    def may(self, action: str) -> bool:
        return allowed(self.role, action)

    def covers_cell(self, cell_id: uuid.UUID | None) -> bool:
        if self.cell_ids is None:
            return True
        return cell_id is not None and cell_id in self.cell_ids

    def house_clause(self) -> ColumnElement[bool]:
        if self.cell_ids is None:
            return true()
        if not self.cell_ids:
            return false()
        return House.cell_id.in_(self.cell_ids)

    def cell_clause(self) -> ColumnElement[bool]:
        if self.cell_ids is None:
            return true()
        if not self.cell_ids:
            return false()
        return Cell.id.in_(self.cell_ids)

    def person_clause(self) -> ColumnElement[bool]:
        """A person is visible while they live (an open residency) in a visible house.

        Former residents are their old house's history (name and dates on its page), not a
        record to open or edit: someone who moved to another committee's cell is theirs now.
        A person with no open residency at all is visible only to the all-cells roles: such
        records are the centre's to place (possible omissions).
        """
        if self.cell_ids is None:
            return true()
        in_scope = (
            select(Residency.id)
            .join(House, House.id == Residency.house_id)
            .where(Residency.person_id == Person.id, Residency.end_date.is_(None),
                   Residency.deleted_at.is_(None), self.house_clause())
        )
        return exists(in_scope)


def scope_for(session: Session, user: User) -> Scope:
    role = user.role
    if role in ALL_CELLS_ROLES:
        return Scope(role, None)
    key: uuid.UUID | int | None
    if role == Role.COMMITTEE:
        key = user.committee_id
    elif role in (Role.GRID_LEAD, Role.COORDINATOR):
        key = user.id
    else:
        # Reporters among them: no registry data at all (see `report_cells`).
        return Scope(role, frozenset())
    if key is None:  # a committee account not yet given its committee: no cells, not those without one
        return Scope(role, frozenset())
    return Scope(role, frozenset(session.scalars(_CELLS_OF[role], {"key": key})))


# Built once (every push and pull asks): the cells each role's user is given.
_CELLS_OF: dict[str, Select[uuid.UUID]] = {
    Role.COMMITTEE: select(Cell.id).where(Cell.committee_id == bindparam("key")),
    Role.GRID_LEAD: select(Cell.id).where(Cell.grid_lead_id == bindparam("key")),
    Role.COORDINATOR: select(cell_coordinator.c.cell_id).where(cell_coordinator.c.user_id == bindparam("key")),
}


def report_cells(session: Session, user: User) -> frozenset[uuid.UUID]:
    """The cells whose houses a community reporter may file reports for: their committee's.
    Only addresses are shown for them, never who lives there."""
    if user.role != Role.REPORTER or user.committee_id is None:
        return frozenset()
    return frozenset(session.scalars(select(Cell.id).where(Cell.committee_id == user.committee_id)))
