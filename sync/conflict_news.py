"""What a phone is told of the conflicts its user's pushes raised: still open, or decided.

A conflict leaves the registry's value in place, so the phone that sent the edit must learn
that value (to show it beside its own and to stop showing its own as saved), and later the
centre's decision, once. The first page of every pull round carries the user's conflicts
that are open and those decided in the last `DECIDED_DAYS` days; the phone matches them with
the notices it keeps and forgets a notice the list no longer names. Stateless on the server:
a phone that missed a round hears the same again.

What a phone may learn stays what its pushes could tell it: cases held for the centre
without a word to the phone (`identity_elsewhere`, `address_elsewhere`: sync/moves.py) are
left out, and a conflict whose record lies outside the device's cells now (`out_of_scope`, a
house that moved away, a resident who moved away) carries no values, only that it is open or
decided. Values go through the privacy policy for the user's role (webapp/registry/privacy.py),
as the pull's rows do: a masked field travels masked, with `masked: true`; what phones never
keep (a unit's contact persons: privacy.NOT_ON_PHONES) is left out.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, or_, select
from sqlalchemy.orm import Session

from sync.wire import to_wire
from webapp.models import Conflict, Device, House, Person
from webapp.registry import privacy
from webapp.registry.scope import Scope, scope_for

DECIDED_DAYS = 30
MOST = 200  # a phone with more waiting has bigger problems than a long list
QUIET_KINDS = frozenset({"identity_elsewhere", "address_elsewhere"})
NO_VALUES_KINDS = frozenset({"out_of_scope"})


def conflicts_for(session: Session, device: Device, now: datetime, scope: Scope | None = None) -> list[dict[str, Any]]:
    """The user's conflicts the phone should show: open ones, and those decided lately
    (`scope`: the user's, when the caller has it already)."""
    user = device.user
    scope = scope or scope_for(session, user)
    since = now - timedelta(days=DECIDED_DAYS)
    rows = list(session.connection().execute(_USERS_CONFLICTS, {"user": user.id, "since": since}))
    persons = _visible_persons(session, scope, rows)
    cells = _cells_now(session, rows)
    return [_news(c, user.role, _visible(c, scope, persons, cells)) for c in rows]


# Built once: the first page of every pull round reads it. Rows, not Conflict objects: only
# read, and almost always none, so loading as objects was most of the cost.
_CONFLICT = cast(Table, Conflict.__table__)
_USERS_CONFLICTS = (
    select(_CONFLICT).where(_CONFLICT.c.user_id == bindparam("user"), _CONFLICT.c.kind.not_in(QUIET_KINDS),
                            or_(_CONFLICT.c.resolved_at.is_(None), _CONFLICT.c.resolved_at >= bindparam("since")))
    .order_by(_CONFLICT.c.created_at.desc(), _CONFLICT.c.id).limit(MOST))


def _target(c: Row[Any]) -> uuid.UUID | None:
    merged = (c.detail or {}).get("merged_into")
    return uuid.UUID(merged) if merged else c.record_id


def _visible_persons(session: Session, scope: Scope, rows: list[Row[Any]]) -> set[uuid.UUID]:
    """The persons of these conflicts the scope sees now: where they live now, not where the
    conflict found them (a resident who moved away takes the centre's decision along)."""
    wanted = {t for c in rows if c.record_type == "person" and (t := _target(c)) is not None}
    if not wanted:
        return set()
    return set(session.scalars(select(Person.id).where(Person.id.in_(wanted), scope.person_clause())))


def _cells_now(session: Session, rows: list[Row[Any]]) -> dict[uuid.UUID, uuid.UUID | None]:
    """The cell each conflict's house is in now (a house may have moved since)."""
    houses = {c.house_id for c in rows if c.house_id is not None and c.record_type != "person"}
    if not houses:
        return {}
    return {house_id: cell_id for house_id, cell_id in session.execute(select(House.id, House.cell_id).where(House.id.in_(houses)))}


def _visible(c: Row[Any], scope: Scope, persons: set[uuid.UUID], cells: dict[uuid.UUID, uuid.UUID | None]) -> bool:
    if c.kind in NO_VALUES_KINDS:
        return False
    if c.record_type == "person":
        return _target(c) in persons
    if c.house_id is not None and c.house_id in cells:
        return scope.covers_cell(cells[c.house_id])
    return c.cell_id is not None and scope.covers_cell(c.cell_id)


def _news(c: Row[Any], role: str, visible: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": str(c.id), "kind": c.kind, "record_type": c.record_type,
                           "record_id": str(c.record_id) if c.record_id else None,
                           "mutation_id": str(c.mutation_id) if c.mutation_id else None,
                           "created_at": to_wire(c.created_at), "resolved_at": to_wire(c.resolved_at),
                           "fields": {}, "decision": None}
    if visible:
        names = sorted((set(c.registry_values) if c.kind == "field" else set(c.device_values))
                       - privacy.NOT_ON_PHONES.get(c.record_type, frozenset()))
        out["fields"] = {n: {"registry": _seen(role, c.record_type, n, c.registry_values.get(n)),
                             "device": _seen(role, c.record_type, n, c.device_values.get(n)),
                             **({"masked": True} if not privacy.clear(role, c.record_type, n) else {})}
                         for n in names}
    if c.resolved_at is not None and c.resolution is not None:
        fields = c.resolution.get("fields") or {}
        out["decision"] = {"action": c.resolution.get("action"), "fields": {
            n: {"choice": d.get("choice"),
                **({"value": _seen(role, c.record_type, n, d.get("value"))} if visible and "value" in d else {})}
            for n, d in sorted(fields.items()) if n not in privacy.NOT_ON_PHONES.get(c.record_type, ())}}
    return out


def _seen(role: str, record_type: str, name: str, value: Any) -> Any:
    if (record_type, name) not in privacy.POLICY:
        return value
    return privacy.seen(role, record_type, name, value)
