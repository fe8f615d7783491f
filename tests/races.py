"""Two requests at the same moment, made certain rather than left to timing.

`first_writes_then_second` runs one piece of work twice, each on its own thread in its own
session: the second starts only once the first has written (its rows flushed, not
committed), and the first commits only after the second has had a second to run on. A check
the second makes unlocked then sees nothing of the first's (the race lost on PostgreSQL);
a check behind a lock waits for the first's commit. SQLite runs one writer at a time: the
second waits at its BEGIN IMMEDIATE and then sees the first.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

Work = Callable[[str, Session], Any]  # ("first" | "second", its session) → its result


def first_writes_then_second(engine: Engine, work: Work, *, wait: float = 30.0) -> dict[str, Any]:
    """Each run's result by name ("first", "second"); what either raised is raised here."""
    written, release = threading.Event(), threading.Event()
    results: dict[str, Any] = {}
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            with Session(engine) as session:
                if name == "second":
                    written.wait(wait)
                results[name] = work(name, session)
                if name == "first":
                    written.set()
                    release.wait(wait)
                session.commit()
        except BaseException as error:  # noqa: BLE001 (raised again below, on the test's thread)
            errors.append(error)
        finally:
            written.set()  # a first run that failed must not keep the second waiting

    threads = [threading.Thread(target=run, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    written.wait(wait)
    threads[1].join(1.0)  # the second now waits for the first (a lock) or has raced ahead
    release.set()
    for thread in threads:
        thread.join(60)
    if errors:
        raise errors[0]
    return results
