"""`generate()`: runs the stages in order (area, houses, units, people, visits) and sums up."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from webapp.registry.demo.areas import _Areas
from webapp.registry.demo.houses import _Houses
from webapp.registry.demo.people import _People
from webapp.registry.demo.units import _Units
from webapp.registry.demo.visits import _Visits
from webapp.registry.demo.writer import Progress


@dataclass
class DemoSummary:
    seed: int
    scale: float
    counts: dict[str, int]
    # (username, role, display name, what they see); a sample covering every role.
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)


def generate(
    session: Session,
    *,
    scale: float = 1.0,
    seed: int = 20180210,
    password_hash: str,
    progress: Progress | None = None,
) -> DemoSummary:
    """Fill an empty database with a demo subdistrict; flushes but never commits."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    gen = _Generator(session, scale, seed, password_hash, progress)
    return gen.run()


class _Generator(_Areas, _Houses, _Units, _People, _Visits):
    """Every stage over one state. The order in run() fixes the order of the random draws:
    reordering the stages would change every seed's rows."""

    def run(self) -> DemoSummary:
        self.areas()
        self.all_houses()
        self.all_units()
        self.all_people()
        self.visits()
        self.out.flush()
        counts = dict(self.out.counts)
        counts["users"] = self.user_count
        return DemoSummary(self.seed, self.scale, counts, self.logins)
