"""What may still be recorded at a house that no longer exists (demolished, or split and so
retired): the one rule the push and the centre's resolutions share.

A phone offline for days may bring a new occupant, a room or a plate for a house the
console demolished meanwhile. Written as sent, the register would show someone living in a
house that is gone, and the next rule run would never flag them as without a home. History
stays welcome: a stay that ended by the day the house went, and any visit (a record of
having been there, finding it gone included).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from webapp.base.timeutil import local_date

# Records that say something is at the house now: an occupant, a room, an organisation, a
# plate, a flag on its state. A visit is not among them, nor a task or a review (the
# demolition closes those itself: webapp/registry/house_history.py).
STANDING = frozenset({"residency", "room", "unit", "house_code", "house_flag"})
ZH = "该房屋已注销（已拆除或已分户），不能再登记新的居住、房间、单位或门牌"
EN = "This house no longer exists (demolished or split): no new stay, room, organisation or plate can be recorded at it"


def removed_on(house: Mapping[str, Any] | None) -> date | None:
    """The local day the house was removed, or None while it stands."""
    deleted_at: datetime | None = house.get("deleted_at") if house is not None else None
    return local_date(deleted_at) if deleted_at is not None else None


def stands(kind: str, record: Mapping[str, Any], removed: date) -> bool:
    """Whether `record` (its values as they would be stored) says something is at a house
    removed on `removed`. A stay ending on that day or before is history."""
    if kind not in STANDING or record.get("deleted_at") is not None:
        return False
    if kind == "residency":
        end = record.get("end_date")
        return end is None or end > removed
    return True


def newly_stands(kind: str, after: Mapping[str, Any], before: Mapping[str, Any] | None,
                 house: Mapping[str, Any] | None) -> bool:
    """Whether writing `after` over `before` (None: a new record) would put something at
    `house` (the row `after` names) although the house is removed. A record that already
    stood there before stays editable: the demolition decided about it."""
    removed = removed_on(house)
    if removed is None or not stands(kind, after, removed):
        return False
    return before is None or before.get("house_id") != after.get("house_id") or not stands(kind, before, removed)
