"""The task settings, as plain values (the services never read Flask's config)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webapp.models.enums import TaskSource

FALLBACK_DUE_DAYS = 7


@dataclass(frozen=True)
class TaskSettings:
    # "source:days,…" (TASK_DUE_DAYS): days from creation to the due date.
    task_due_days: str = "public:3,lead:3,volunteer:3,property:3,sync:7,rules:14,permit:14,unvisited:7"
    # The last this-many days of a cycle count as "late" (TASK_UNVISITED_LATE_DAYS).
    task_unvisited_late_days: int = 7

    def __post_init__(self) -> None:
        self.due_days()  # refuse a bad value at start-up, not at the first task

    @classmethod
    def from_config(cls, cfg: Any) -> TaskSettings:
        """From a mapping (app.config) or an object with attributes (the Config class)."""
        get = cfg.get if hasattr(cfg, "get") else lambda key: getattr(cfg, key, None)
        due, late = get("TASK_DUE_DAYS"), get("TASK_UNVISITED_LATE_DAYS")
        return cls(task_due_days=str(due) if due is not None else cls.task_due_days,
                   task_unvisited_late_days=int(late) if late is not None else cls.task_unvisited_late_days)

    def due_days(self) -> dict[str, int]:
        known = {s.value for s in TaskSource}
        out: dict[str, int] = {}
        for part in filter(None, (p.strip() for p in self.task_due_days.split(","))):
            source, _, days = part.partition(":")
            if source.strip() not in known or not days.strip().isdigit():
                raise ValueError(f"TASK_DUE_DAYS: expected source:days with a source of {sorted(known)}, not {part!r}")
            out[source.strip()] = int(days)
        return out

    def days_for(self, source: str) -> int:
        return self.due_days().get(source, FALLBACK_DUE_DAYS)


def default_settings() -> TaskSettings:
    from config import Config  # plain module: reads the environment, imports no Flask

    return TaskSettings.from_config(Config)
