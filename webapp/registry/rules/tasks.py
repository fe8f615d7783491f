"""Turn findings into work for people: a conflict for each duplicate (the centre decides;
nothing is merged), a task for the cell to check each suspected group renting or landlord.

Idempotent: a finding already raised (open or decided) is not raised again, so running
the rules daily does not refill the queues with what someone has already looked at.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Cell, Conflict, Task
from webapp.models.enums import TaskKind, TaskSource, TaskStatus
from webapp.models.task import TASK_TEXT_MAX
from webapp.registry.rules.base import RULES, Flag

# Conflict kinds of the duplicate findings (Conflict.kind is String(24)).
CONFLICT_KINDS = {"same_id": "rule_same_id", "merged_record": "rule_merged_record",
                  "likely_person": "rule_likely_duplicate", "same_uscc": "rule_same_uscc"}
TASK_RULES = ("group_rent", "landlord_register")


@dataclass
class Raised:
    conflicts: int = 0
    tasks: int = 0
    skipped: int = 0


def _task_prefix(flag: Flag) -> str:
    return f"【规则检查·{RULES[flag.rule].zh}】"


def raise_tasks(session: Session, flags: Iterable[Flag], by_user_id: int | None) -> Raised:
    """Add conflicts and tasks for the findings not raised before; flush, no commit."""
    flags = [f for f in flags if (f.rule == "duplicates" and f.kind in CONFLICT_KINDS) or f.rule in TASK_RULES]
    out = Raised()
    if not flags:
        return out
    known = {c.detail.get("key") for c in session.scalars(
        select(Conflict).where(Conflict.kind.in_(list(CONFLICT_KINDS.values()))))}
    open_tasks = {(t.house_id, t.text.split("】", 1)[0] + "】") for t in session.scalars(
        select(Task).where(Task.source == TaskSource.RULES, Task.status == TaskStatus.OPEN, Task.deleted_at.is_(None)))}
    cells = {c.id: c.committee_id for c in session.scalars(select(Cell))}
    for f in flags:
        if f.rule == "duplicates":
            key = f.numbers.get("key")
            if key in known:
                out.skipped += 1
                continue
            known.add(key)
            session.add(Conflict(
                kind=CONFLICT_KINDS[f.kind], record_type=f.record_type, record_id=f.record_id, house_id=f.house_id,
                cell_id=f.cell_id, committee_id=cells.get(f.cell_id) if f.cell_id else None, user_id=by_user_id,
                detail={"rule": f.rule, "finding": f.kind, "key": key, "ids": f.numbers.get("ids", []),
                        "zh": f.zh, "en": f.en}))
            out.conflicts += 1
        elif f.house_id is not None:
            prefix = _task_prefix(f)
            if (f.house_id, prefix) in open_tasks:
                out.skipped += 1
                continue
            open_tasks.add((f.house_id, prefix))
            # The flag's cell is its house's cell: both rules count a house where it is.
            session.add(Task(house_id=f.house_id, cell_id=f.cell_id, kind=TaskKind.PROBLEM,
                            text=(prefix + f.zh)[:TASK_TEXT_MAX], status=TaskStatus.OPEN, source=TaskSource.RULES,
                            changed_by_id=by_user_id))
            out.tasks += 1
    session.flush()
    return out


def conflict_kinds() -> dict[str, tuple[str, str]]:
    """Labels of the conflict kinds raised here, for the conflict queue."""
    kinds = RULES["duplicates"].kinds
    return {v: kinds[k] for k, v in CONFLICT_KINDS.items()}


__all__ = ["CONFLICT_KINDS", "Raised", "conflict_kinds", "raise_tasks"]
