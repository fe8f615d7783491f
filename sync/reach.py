"""Whether a mutation stays inside the device's cells: every record it reads or writes,
judged on what it is before the change *and* on what the change makes of it.

A residency is checked by its house and by its person (a residency in one's own house for
someone living elsewhere would move them in and hand over their record); a house by the
cell it is in and the cell it is moved to; everything else by its house; every reference by
the record it names. A person is in reach when they live (have an open residency) only in
the device's cells, or were created by this very batch.

A house's coordinates are its cell to come: `flask cells assign` places a house by them, so
a point that lies in another cell would hand the house (and who lives there) to that cell's
committee at the next run. A phone may not move a house's point into a cell outside its own,
as the console may not (webapp/console/views.py `_foreign_cell`); the point's cell comes from
`geo/` through `Locate`, which the caller passes in (sync/ does not import geo/).

For a device with a limited scope, a record that does not exist and one outside its cells
get the same answer (sync/apply.py makes both an `out_of_scope` conflict that keeps the
typed values for the centre), so a push cannot be used to learn what lies outside.
"""
from __future__ import annotations

import uuid
from typing import Any, Protocol

from sync.batch import Mutation
from sync.state import State
from webapp.registry.scope import Scope


class Locate(Protocol):
    """The cell `flask cells assign` would place a house at this point in, the house being in
    `current` now; None outside every cell (geo.assign.CellFinder)."""

    def __call__(self, lon: float, lat: float, current: uuid.UUID | None) -> uuid.UUID | None: ...


class Reach:
    """The questions a push asks about one scope, over the batch's loaded rows."""

    def __init__(self, state: State, scope: Scope, locate: Locate) -> None:
        self.state, self.scope, self.locate = state, scope, locate

    @property
    def everywhere(self) -> bool:
        return self.scope.cell_ids is None

    def house(self, house_id: Any) -> bool:
        row = self.state.get("house", house_id)
        return row is not None and self.scope.covers_cell(row.get("cell_id"))

    def person(self, person_id: Any) -> bool:
        row = self.state.get("person", person_id)
        if row is None:
            return False
        if row["id"] in self.state.new["person"]:
            return True  # made by this batch: the device's own, not yet living anywhere
        homes = {r["house_id"] for r in self.state.open_residencies(row["id"])}
        # Where they lived when the batch began: a move-out earlier in this batch does not
        # make a resident a stranger to the same push.
        homes |= self.state.homes.get(row["id"], set())
        return bool(homes) and all(self.house(h) for h in homes)

    def record(self, kind: str, row: dict[str, Any]) -> bool:
        if kind == "house":
            return self.scope.covers_cell(row.get("cell_id"))
        if kind == "person":
            return self.person(row.get("id"))
        if kind == "residency":
            # An ended (or deleted) residency is its house's history, whoever and wherever the
            # person is now: a move-out date may be corrected there. An open one makes the
            # person live here, so the person must be the device's already (no moving in).
            ended = row.get("end_date") is not None or row.get("deleted_at") is not None
            return self.house(row.get("house_id")) and (ended or self.person(row.get("person_id")))
        if kind == "cell":
            return self.scope.covers_cell(row.get("id"))
        # Everything else hangs off a house: codes, flags, rooms, units, visits, tasks, reviews.
        return self.house(row.get("house_id"))

    def ref(self, kind: str, ref: uuid.UUID) -> bool:
        if kind == "cell":
            return self.scope.covers_cell(ref)
        row = self.state.get(kind, ref)
        return row is not None and self.record(kind, row)


def outside(m: Mutation, rid: uuid.UUID, values: dict[str, Any], refs: tuple[tuple[str, str], ...],
            reach: Reach) -> bool:
    """True when the mutation would read or write anything outside the scope (or unknown)."""
    if reach.everywhere:
        return False
    current = reach.state.get(m.type, rid)
    if current is not None and not reach.record(m.type, current):
        return True  # before: the record as it is (also a create over an id taken outside)
    if m.op != "create" and current is None:
        return True  # unknown: answered as if outside
    for name, kind in refs:
        ref = values.get(name)
        if ref is not None and not reach.ref(kind, ref):
            return True
    if m.op == "create" and m.type == "person":
        return False  # a new person lives nowhere yet: their residency is judged on its own
    after = {**(current or {}), **values, "id": rid}
    if m.type == "house" and _point_elsewhere(current, after, reach):
        return True
    return not reach.record(m.type, after)


def _point_elsewhere(current: dict[str, Any] | None, after: dict[str, Any], reach: Reach) -> bool:
    """True when the house's new point lies in a cell outside the scope. An unchanged point
    is not judged again (a house placed by hand may sit elsewhere), nor is a point outside
    every cell (the house keeps its cell there)."""
    lon, lat = after.get("lon"), after.get("lat")
    if lon is None or lat is None or (current and (current.get("lon"), current.get("lat")) == (lon, lat)):
        return False
    target = reach.locate(float(lon), float(lat), after.get("cell_id"))
    return target is not None and not reach.scope.covers_cell(target)
