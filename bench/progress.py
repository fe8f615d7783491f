"""One visible line per step of an unattended run: when it started, which backend, how long
it took; the same lines go into BENCHMARKS.md's notes, so a slow step shows there too."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Steps:
    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.log: list[str] = []
        self.durations: dict[str, float] = {}

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def say(self, msg: str, keep: bool = False) -> None:
        t = self.elapsed()
        print(f"[{int(t // 60):02d}:{int(t % 60):02d}] {msg}", flush=True)
        if keep:
            self.log.append(msg)

    def begin(self, name: str) -> None:
        self.say(f"{name} …")
        self._current = (name, time.perf_counter())

    def end(self) -> None:
        name, began = self._current
        seconds = time.perf_counter() - began
        self.durations[name] = seconds
        self.say(f"{name}: done in {seconds:.0f} s", keep=True)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.begin(name)
        yield
        self.end()
