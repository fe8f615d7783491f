"""Test helper: give a house a real plate code (the `area` fixture's "A1CODE0001" has none of
our check characters, so it is not a code the public page would accept)."""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from webapp.models import House, HouseCode
from webapp.registry.plates import assign_plates
from webapp.base.timeutil import utcnow


def give_plate(session: Session, house: House) -> str:
    """Retire the house's plates, assign it a new one, commit; return the new code."""
    session.execute(update(HouseCode).where(HouseCode.house_id == house.id, HouseCode.kind == "plate")
                    .values(retired_at=utcnow(), version=HouseCode.version + 1))
    code = assign_plates(session, House.id == house.id)[0].code
    session.commit()
    return code
