"""Conflicts: what sync could not merge, with base, registry and device values side by side."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table

from webapp.base.ids import new_id
from sync.batch import Mutation
from sync.state import CellCommittees
from sync.wire import to_wire
from webapp.models import Conflict, Device
from webapp.registry.rules.tasks import conflict_kinds

TABLE = cast(Table, Conflict.__table__)

# Kinds sync raises, with what the centre is asked to decide.
SYNC_KINDS = {
    "field": ("字段冲突：两处修改了同一字段", "Both sides changed the same field"),
    "duplicate_person": ("同一人被重复登记（已合并）", "The same person recorded twice (merged)"),
    "duplicate_house": ("同一地址被重复新建", "The same new house created twice"),
    "overlapping_residency": ("同一人同时居住在两处", "One person living in two houses at once"),
    "edit_deleted": ("修改了已删除或已合并的记录", "An edit to a deleted or merged record"),
    "out_of_scope": ("涉及本机网格以外或不存在的记录", "A change touching a record outside the device's cells, or unknown"),
    # Held for the centre without telling the phone (sync/moves.py hold_for_centre).
    "identity_elsewhere": ("身份证号已登记在录入人看不到的人员名下（网格以外，或其角色只见遮蔽号码）："
                           "确认迁入（合并）或更正号码",
                           "ID number already registered to someone the recorder may not see (outside their cells, "
                           "or their role sees numbers masked): confirm the move-in (merge) or correct the number"),
    "address_elsewhere": ("新建房屋的地址已登记在本机网格以外：合并或更正地址",
                          "A new house at an address already registered outside the device's cells: merge or "
                          "correct the address"),
    "constraint": ("与其他同时提交的数据冲突", "Clashed with data written at the same moment"),
    "house_removed": ("新记录指向已注销（已拆除或已分户）的房屋", "A new record at a house that was demolished or split"),
    "id_reused": ("用已有记录的编号新建了内容不同的记录", "A create under the id of an existing record, with other values"),
}
# Every kind in the conflict queue: sync's and the rules' duplicate findings (`rule_*`,
# labelled where the rules define them), for the queue's labels and kind filter.
KINDS: dict[str, tuple[str, str]] = {**SYNC_KINDS, **conflict_kinds()}


@dataclass(frozen=True)
class Context:
    device: Device
    mutation: Mutation
    house_id: uuid.UUID | None
    cell_id: uuid.UUID | None
    # The cell's committee is read only when a conflict or a review asks for it: most
    # mutations (door visits) never do, and a query for it on every push added up.
    cells: CellCommittees | None = None

    @property
    def committee_id(self) -> uuid.UUID | None:
        return self.cells.get(self.cell_id) if self.cells is not None and self.cell_id else None


def row(ctx: Context, kind: str, *, base: dict[str, Any], registry: dict[str, Any], device: dict[str, Any],
        detail: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A conflict row ready for insert; the device's values are kept whole."""
    m = ctx.mutation
    return {
        "id": new_id(), "kind": kind, "record_type": m.type, "record_id": m.record_id,
        "house_id": ctx.house_id, "cell_id": ctx.cell_id, "committee_id": ctx.committee_id,
        "device_id": ctx.device.id, "user_id": ctx.device.user_id, "mutation_id": m.id,
        "base_values": {k: to_wire(v) for k, v in base.items()},
        "registry_values": {k: to_wire(v) for k, v in registry.items()},
        "device_values": {k: to_wire(v) for k, v in device.items()},
        "detail": {**detail, "op": m.op, "base_version": m.base_version,
                   "device_time": to_wire(m.at)},
        "created_at": now,
    }
