"""Recent visits: coordinators at doors, most scanning the plate, GPS near the house."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from webapp.models import Visit
from webapp.models.enums import HouseUse, VisitOutcome
from webapp.registry.demo.records import _House
from webapp.registry.demo.reference import _SHANGHAI, REFERENCE_DATE
from webapp.registry.demo.state import _State
from webapp.registry.demo.writer import _synced


class _Visits(_State):
    # -- visits --

    def visits(self) -> None:
        """Coordinators at doors over the last 60 days: most scan the plate, GPS near the house."""
        n = round(len(self.houses) * 0.35)
        self.out.begin("visits", n)
        for _ in range(n):
            self.visit(self.rng.choice(self.houses))
            self.out.done += 1
        self.out.flush()

    def visit(self, rec: _House) -> None:
        rng = self.rng
        day = rng.randint(0, 59)
        # Working hours 09:00–18:30 Shanghai; today's visits are all before REFERENCE_TIME (noon).
        minutes = rng.randint(0, 180 if day == 0 else 570)
        local = datetime.combine(REFERENCE_DATE - timedelta(days=day), datetime.min.time(), _SHANGHAI)
        at = (local + timedelta(hours=9, minutes=minutes, seconds=rng.randint(0, 59))).astimezone(timezone.utc)
        if rec.use == HouseUse.IDLE:
            outcome = rng.choice((VisitOutcome.VACANT, VisitOutcome.VACANT, VisitOutcome.NO_ANSWER))
        else:
            outcome = rng.choices(
                (VisitOutcome.VERIFIED, VisitOutcome.NO_ANSWER, VisitOutcome.REFUSED, VisitOutcome.OTHER),
                cum_weights=(75, 91, 94, 100),
            )[0]
        scanned = rng.random() < 0.88
        has_gps = scanned or rng.random() < 0.7
        user = rng.choice(self.cells[rec.cell].coordinators)
        self.out.add(Visit, _synced(
            self.new_id(), changed_by_id=user, house_id=rec.id, user_id=user, visited_at=at,
            outcome=str(outcome), plate_scanned=scanned, note=None,
            lat=round(rec.lat + rng.gauss(0, 0.00012), 7) if has_gps else None,
            lon=round(rec.lon + rng.gauss(0, 0.00014), 7) if has_gps else None,
            accuracy_m=round(rng.uniform(4, 35), 1) if has_gps else None,
        ))
