"""Staff administration (/admin/users): who may manage which logins and cells, creating and
changing logins, and giving coordinators and grid leads their cells.

The centre manages every login but its own (that is /account). A committee manages the
coordinators and grid leads it created or was given (`User.committee_id`), only with its own
cells. Sessions, passwords and deactivation are webapp.oversight.accounts'; this module calls
it. Plain SQLAlchemy (no Flask): the caller hashes passwords, audits and commits.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, false, func, insert, or_, select, true
from sqlalchemy.orm import Session, selectinload

from sync import devices
from webapp.models import Cell, Committee, Device, User, cell_coordinator
from webapp.models.enums import Role
from webapp.oversight import accounts
from webapp.registry import privacy
from webapp.registry.scope import allowed

# The roles a committee may give; the centre gives any.
COMMITTEE_ROLES = (Role.COORDINATOR, Role.GRID_LEAD)
# Roles that work cells, and so are given cells here.
CELL_ROLES = (Role.COORDINATOR, Role.GRID_LEAD)
# Roles whose login belongs to a committee: required for these two, optional for cell workers.
NEEDS_COMMITTEE = (Role.COMMITTEE, Role.REPORTER)
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$")


class StaffError(ValueError):
    """A refusal to show to the person: a code, in Chinese and in English."""

    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.code, self.zh, self.en = code, zh, en


def manageable(actor: User) -> ColumnElement[bool]:
    """The users `actor` may manage (never themselves)."""
    if actor.role == Role.CENTRE:
        return User.id != actor.id
    if actor.role == Role.COMMITTEE and actor.committee_id is not None:
        return and_(User.committee_id == actor.committee_id, User.role.in_(COMMITTEE_ROLES), User.id != actor.id)
    return false()


def may_manage(actor: User, user: User) -> bool:
    if user.id == actor.id:
        return False
    if actor.role == Role.CENTRE:
        return True
    return (actor.role == Role.COMMITTEE and actor.committee_id is not None
            and user.committee_id == actor.committee_id and user.role in COMMITTEE_ROLES)


def roles_for(actor: User) -> list[Role]:
    return list(Role) if actor.role == Role.CENTRE else list(COMMITTEE_ROLES) if actor.role == Role.COMMITTEE else []


def committees_for(session: Session, actor: User) -> list[Committee]:
    stmt = select(Committee).where(Committee.deleted_at.is_(None)).order_by(Committee.code)
    if actor.role != Role.CENTRE:
        stmt = stmt.where(Committee.id == actor.committee_id)
    return list(session.scalars(stmt))


def cells_for(session: Session, actor: User, user: User | None = None) -> list[Cell]:
    """The live cells `actor` may give (to `user`: within the user's committee, if any)."""
    stmt = select(Cell).where(Cell.deleted_at.is_(None)).order_by(Cell.code).options(selectinload(Cell.grid_lead))
    if actor.role != Role.CENTRE:
        stmt = stmt.where(Cell.committee_id == actor.committee_id) if actor.committee_id else stmt.where(false())
    if user is not None and user.committee_id is not None and user.role in CELL_ROLES:
        stmt = stmt.where(Cell.committee_id == user.committee_id)
    return list(session.scalars(stmt))


@dataclass
class UserRow:
    user: User
    committee: str
    cells: list[str] = field(default_factory=list)  # cell codes
    devices: int = 0  # live (neither revoked nor expired) phone tokens


@dataclass
class UserFilters:
    q: str = ""
    role: str | None = None
    committee_id: uuid.UUID | None = None
    active: bool | None = True


def list_users(session: Session, actor: User, filters: UserFilters, *, idle_days: int, now: datetime,
               offset: int = 0, limit: int = 50) -> tuple[list[UserRow], int]:
    """The users `actor` manages, filtered, by username; and how many there are."""
    where: list[Any] = [manageable(actor)]
    if filters.q:
        like = f"%{filters.q.strip()}%"
        where.append(or_(User.username.ilike(like), User.display_name.ilike(like)))
    if filters.role:
        where.append(User.role == filters.role)
    if filters.committee_id:
        where.append(User.committee_id == filters.committee_id)
    if filters.active is not None:
        where.append(User.active.is_(filters.active))
    total = session.scalar(select(func.count()).select_from(User).where(*where)) or 0
    users = list(session.scalars(select(User).where(*where).order_by(User.username).offset(offset).limit(limit)))
    ids = [u.id for u in users]
    names = dict(session.execute(select(Committee.id, Committee.name)).all())
    # Keyed as `Cell.grid_lead_id` is typed (nullable); the queries keep these users only.
    cells: dict[int | None, list[str]] = {}
    if ids:
        # Annotated: the association table's columns are untyped.
        coordinated: Select[int, str] = (
            select(cell_coordinator.c.user_id, Cell.code).join(Cell, Cell.id == cell_coordinator.c.cell_id)
            .where(cell_coordinator.c.user_id.in_(ids), Cell.deleted_at.is_(None)).order_by(Cell.code))
        for uid, code in session.execute(coordinated):
            cells.setdefault(uid, []).append(code)
        for lead_id, code in session.execute(select(Cell.grid_lead_id, Cell.code).where(
                Cell.grid_lead_id.in_(ids), Cell.deleted_at.is_(None)).order_by(Cell.code)):
            cells.setdefault(lead_id, []).append(code)
    live: dict[int, int] = {}
    if ids:
        for d in session.scalars(select(Device).where(Device.user_id.in_(ids), Device.revoked_at.is_(None))):
            if not devices.is_expired(d, idle_days, now):
                live[d.user_id] = live.get(d.user_id, 0) + 1
    return [UserRow(u, names.get(u.committee_id, "") if u.committee_id else "", cells.get(u.id, []), live.get(u.id, 0))
            for u in users], total


def _committee(session: Session, actor: User, role: str, committee_id: uuid.UUID | None) -> uuid.UUID | None:
    if actor.role == Role.COMMITTEE:
        return actor.committee_id  # a committee's people are its own
    if committee_id is not None and session.get(Committee, committee_id) is None:
        raise StaffError("committee.unknown", "没有这个居委会", "No such committee.")
    if role in NEEDS_COMMITTEE and committee_id is None:
        raise StaffError("committee.required", "该角色需要选择居委会", "This role needs a committee.")
    if role not in (*NEEDS_COMMITTEE, *CELL_ROLES):
        return None  # the centre and the police belong to no committee
    return committee_id


def _role(actor: User, role: str) -> str:
    if role not in {r.value for r in roles_for(actor)}:
        raise StaffError("role.refused", "不能授予该角色", "You cannot give this role.")
    return role


def create(session: Session, actor: User, *, username: str, display_name: str, role: str,
           committee_id: uuid.UUID | None, phone: str | None, password_hash: str) -> User:
    """A new login with a temporary password, to be changed at its first login; flush."""
    username = username.strip()
    if not USERNAME.match(username):
        raise StaffError("username.invalid", "用户名为 2–64 个字母、数字或 _ . -，以字母或数字开头",
                         "A username is 2–64 letters, digits or _ . -, starting with a letter or digit.")
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
        raise StaffError("username.taken", "该用户名已被使用", "This username is taken.")
    user = User(username=username, display_name=display_name.strip() or username, role=_role(actor, role),
                committee_id=_committee(session, actor, role, committee_id), phone=phone or None,
                password_hash=password_hash, must_change_password=True)
    session.add(user)
    session.flush()
    return user


def sees_less(old_role: str, new_role: str) -> bool:
    """Whether `new_role` sees some personal field a phone may hold less than `old_role` did:
    in clear before and not now, or shown before (clear or masked) and hidden now
    (webapp/registry/privacy.py). A phone keeps what it pulled under the old role, and later
    pulls send only records that change: its clear numbers would stay."""
    for record, name in privacy.POLICY:
        if name in privacy.NOT_ON_PHONES.get(record, ()):
            continue
        before, after = privacy.show(old_role, record, name), privacy.show(new_role, record, name)
        if (before is privacy.Show.CLEAR and after is not privacy.Show.CLEAR) or (
                before is not privacy.Show.HIDDEN and after is privacy.Show.HIDDEN):
            return True
    return False


@dataclass
class Edit:
    diff: dict[str, tuple[Any, Any]]  # {field: (old, new)}
    devices_revoked: int = 0  # phone tokens ended by the change
    # Why they ended: "no_device" (the new role holds no phone) or "sees_less" (it sees personal
    # fields masked or hidden that the phone holds in clear: it must log in again for a new snapshot).
    revoked_because: str | None = None


def update(session: Session, actor: User, user: User, *, display_name: str, role: str,
           committee_id: uuid.UUID | None, phone: str | None) -> Edit:
    """Change a login. A new role or committee is a new scope: the user's sessions end, and
    cells or phones the new role cannot have are taken away. A new role that sees less of a
    person than the old one (a coordinator made a committee or grid lead) also ends the phone
    tokens: the phone holds what the old role saw, and only a new login's snapshot replaces it."""
    if not may_manage(actor, user):
        raise StaffError("user.refused", "不能管理该账号", "You cannot manage this login.")
    role = _role(actor, role)
    changes = {"display_name": display_name.strip() or user.username, "role": role,
               "committee_id": _committee(session, actor, role, committee_id), "phone": phone or None}
    diff = {k: (getattr(user, k), v) for k, v in changes.items() if getattr(user, k) != v}
    old_role = user.role
    for k, (_old, new) in diff.items():
        setattr(user, k, new)
    out = Edit(diff)
    if "role" in diff or "committee_id" in diff:
        if role != Role.COORDINATOR or "committee_id" in diff:
            session.execute(delete(cell_coordinator).where(cell_coordinator.c.user_id == user.id))
        if role != Role.GRID_LEAD or "committee_id" in diff:
            for cell in session.scalars(select(Cell).where(Cell.grid_lead_id == user.id)):
                cell.grid_lead_id = None
                cell.changed_by_id = actor.id
        why = "no_device" if not allowed(role, "device") else "sees_less" if sees_less(old_role, role) else None
        if why is not None:
            out.devices_revoked = devices.revoke_all(session, user, actor.id)
            out.revoked_because = why if out.devices_revoked else None
        accounts.end_sessions(session, user)
    session.flush()
    return out


def cells_of(session: Session, user: User) -> set[uuid.UUID]:
    if user.role == Role.COORDINATOR:
        return set(session.scalars(select(cell_coordinator.c.cell_id).where(cell_coordinator.c.user_id == user.id)))
    if user.role == Role.GRID_LEAD:
        return set(session.scalars(select(Cell.id).where(Cell.grid_lead_id == user.id, Cell.deleted_at.is_(None))))
    return set()


@dataclass
class Assignment:
    added: list[str]  # cell codes
    removed: list[str]
    taken_from: dict[str, str] = field(default_factory=dict)  # cell code → the lead it had before


def set_cells(session: Session, actor: User, user: User, cell_ids: set[uuid.UUID]) -> Assignment:
    """Give `user` exactly these cells among those `actor` may give (others they have are kept).
    A cell has one grid lead: giving it to a lead takes it from the one it had."""
    if not may_manage(actor, user):
        raise StaffError("user.refused", "不能管理该账号", "You cannot manage this login.")
    if user.role not in CELL_ROLES:
        raise StaffError("cells.role", "只有协管员和网格长分配网格", "Only coordinators and grid leads are given cells.")
    if not user.active:
        raise StaffError("cells.inactive", "该账号已停用", "This login is deactivated.")
    givable = {c.id: c for c in cells_for(session, actor, user)}
    unknown = cell_ids - set(givable)
    if unknown:
        raise StaffError("cells.refused", "有网格不在您可分配的范围内", "Some of these cells are not yours to give.")
    before = cells_of(session, user) & set(givable)
    add, remove = cell_ids - before, before - cell_ids
    out = Assignment(sorted(givable[c].code for c in add), sorted(givable[c].code for c in remove))
    if user.role == Role.COORDINATOR:
        if remove:
            session.execute(delete(cell_coordinator).where(cell_coordinator.c.user_id == user.id,
                                                           cell_coordinator.c.cell_id.in_(remove)))
        if add:
            session.execute(insert(cell_coordinator), [{"cell_id": c, "user_id": user.id} for c in add])
    else:
        leads = {u.id: u.username for u in session.scalars(
            select(User).where(User.id.in_({givable[c].grid_lead_id for c in add} - {None})))}
        for c in add:
            cell = givable[c]
            if cell.grid_lead_id is not None:
                out.taken_from[cell.code] = leads.get(cell.grid_lead_id, "")
            cell.grid_lead_id, cell.changed_by_id = user.id, actor.id
        for c in remove:
            givable[c].grid_lead_id, givable[c].changed_by_id = None, actor.id
    session.flush()
    return out


def set_cell_people(session: Session, actor: User, cell: Cell, lead_id: int | None,
                    coordinator_ids: set[int]) -> dict[str, Any]:
    """One cell's grid lead and coordinators at once (the cell's side of `set_cells`)."""
    if cell.id not in {c.id for c in cells_for(session, actor)}:
        raise StaffError("cells.refused", "该网格不在您可分配的范围内", "This cell is not yours to give.")
    people = workers_for(session, actor, cell)
    leads = {u.id for u in people if u.role == Role.GRID_LEAD}
    coordinators = {u.id for u in people if u.role == Role.COORDINATOR}
    if (lead_id is not None and lead_id not in leads) or not coordinator_ids <= coordinators:
        raise StaffError("cells.people", "只能选择本居委会在岗的网格长和协管员",
                         "Choose active grid leads and coordinators of this cell's committee.")
    before: set[int] = set(session.scalars(  # annotated: the association table's columns are untyped
        select(cell_coordinator.c.user_id).where(cell_coordinator.c.cell_id == cell.id)))
    mine = before & coordinators  # others (another committee's, deactivated) are left as they are
    add, remove = coordinator_ids - mine, mine - coordinator_ids
    if remove:
        session.execute(delete(cell_coordinator).where(cell_coordinator.c.cell_id == cell.id,
                                                       cell_coordinator.c.user_id.in_(remove)))
    if add:
        session.execute(insert(cell_coordinator), [{"cell_id": cell.id, "user_id": u} for u in add])
    out: dict[str, Any] = {"added": sorted(add), "removed": sorted(remove)}
    if lead_id is None and cell.grid_lead_id is not None and cell.grid_lead_id not in leads:
        lead_id = cell.grid_lead_id  # a lead the actor does not manage is not theirs to remove
    if cell.grid_lead_id != lead_id:
        out["lead"] = [cell.grid_lead_id, lead_id]
        cell.grid_lead_id, cell.changed_by_id = lead_id, actor.id
    session.flush()
    return out


def workers_for(session: Session, actor: User, cell: Cell) -> list[User]:
    """Active coordinators and grid leads who may work this cell and whom `actor` manages."""
    return list(session.scalars(
        select(User).where(manageable(actor), User.active.is_(True), User.role.in_(CELL_ROLES),
                           or_(User.committee_id.is_(None), User.committee_id == cell.committee_id)
                           if actor.role == Role.CENTRE else true())
        .order_by(User.role, User.username)))


def deactivate(session: Session, actor: User, user: User) -> int:
    if not may_manage(actor, user):
        raise StaffError("user.refused", "不能管理该账号", "You cannot manage this login.")
    return accounts.deactivate(session, user, actor.id)


def reactivate(session: Session, actor: User, user: User) -> None:
    """Allow the login again, with a password to change first (the old one may have leaked
    with the person who left): the caller sets a temporary one."""
    if not may_manage(actor, user):
        raise StaffError("user.refused", "不能管理该账号", "You cannot manage this login.")
    user.active = True
    session.flush()
