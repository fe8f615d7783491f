"""Progress callbacks for long imports (the CLI prints them)."""
from __future__ import annotations

from collections.abc import Callable

ProgressFn = Callable[[str, int, "int | None"], None]

PROGRESS_EVERY = 1000


class _Progress:
    """Calls the caller's callback every PROGRESS_EVERY items and once at the end of a stage."""

    def __init__(self, fn: ProgressFn | None) -> None:
        self.fn = fn

    def tick(self, stage: str, done: int, total: int | None = None) -> None:
        if self.fn and done % PROGRESS_EVERY == 0:
            self.fn(stage, done, total)

    def end(self, stage: str, done: int) -> None:
        if self.fn:
            self.fn(stage, done, done)
