"""Building conflicts the real way: register a phone and push its mutations through
`sync.push.apply_batch`, exactly as `/api/sync/push` does."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from sync import devices
from sync.batch import parse_batch
from sync.push import apply_batch
from webapp.models import Device, User
from geo.assign import CellFinder

NOW = "2026-11-26T08:00:00Z"


class Phone:
    def __init__(self, session: Session, user: User, label: str = "test phone") -> None:
        self.session = session
        registration = devices.register(session, user, label, "0.3.0")
        self.device: Device = registration.device
        self.token = registration.token
        session.commit()
        self.seq = 0

    def mutation(self, kind: str, op: str, record_id: Any = None, **extra: Any) -> dict[str, Any]:
        self.seq += 1
        return {"id": str(uuid.uuid4()), "seq": self.seq, "type": kind, "op": op,
                "record_id": str(record_id or uuid.uuid4()), "at": NOW, **extra}

    def push(self, *mutations: dict[str, Any], pending: int | None = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"protocol": 1, "app_version": "0.3.0", "clock": NOW, "mutations": list(mutations)}
        if pending is not None:
            body["pending"] = pending
        result = apply_batch(self.session, self.device, parse_batch(body), locate=CellFinder(self.session))
        self.session.commit()
        return [o.to_wire() for o in result.outcomes]

    def conflict(self, kind: str, op: str, record_id: Any = None, **extra: Any) -> uuid.UUID:
        """Push one mutation that must end in the conflict queue; return the conflict's id."""
        outcome = self.push(self.mutation(kind, op, record_id, **extra))[0]
        assert outcome.get("conflict_id"), outcome
        return uuid.UUID(outcome["conflict_id"])
