"""Repeated measurement on a noisy, shared machine: both sides of a ratio alternate in the
same run (so a burst of someone else's load hits both), and we keep median and spread."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Sample:
    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else 0.0

    @property
    def spread(self) -> tuple[float, float]:
        return (min(self.values), max(self.values)) if self.values else (0.0, 0.0)


def alternate(sides: dict[str, Callable[[int], float]], repeats: int) -> dict[str, Sample]:
    """Run every side once per repeat, in turn; each callable gets the repeat index and
    returns its measured value."""
    out = {name: Sample() for name in sides}
    for i in range(repeats):
        for name, measure in sides.items():
            out[name].values.append(float(measure(i)))
    return out


class Clock:
    """`with Clock() as c: ...; c.seconds` — a monotonic stopwatch."""

    seconds: float = 0.0

    def __enter__(self) -> Clock:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self._start
