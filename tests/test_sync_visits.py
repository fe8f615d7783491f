"""A visit pushed from a phone is the phone user's visit: `visit.user_id` is who walked there.

The walking-speed check (geo.plausibility, "too_fast") compares a coordinator's visits in
time order, so a visit without its visitor escapes it.
"""
from __future__ import annotations

import uuid

from sqlalchemy import select

from geo.plausibility import TOO_FAST, HouseSpot, check_visits
from tests import factories as f
from webapp.models import House, Visit


def test_a_pushed_visit_is_the_phone_users_and_is_judged_for_walking_speed(client, db_session, area) -> None:  # type: ignore[no-untyped-def]
    near = area.houses["A1"]
    near.lon, near.lat = 121.2600, 31.3800
    far = f.house(db_session, area.cells["A1"], road="墨玉南路", lon=121.3100, lat=31.3800)  # ~4.7 km east
    db_session.commit()
    token = client.post("/api/devices", json={"username": "coord", "password": "pw", "label": "t"}).get_json()["token"]
    visits = []
    for seq, (house, at) in enumerate([(near, "2026-11-26T08:00:00Z"), (far, "2026-11-26T08:02:00Z")], start=1):
        visits.append(str(uuid.uuid4()))
        visit = {"id": str(uuid.uuid4()), "seq": seq, "type": "visit", "op": "create", "record_id": visits[-1],
                 "fields": {"house_id": str(house.id), "visited_at": at, "outcome": "verified", "plate_scanned": True}}
        answer = client.post("/api/sync/push", json={"protocol": 1, "mutations": [visit]},
                             headers={"Authorization": f"Bearer {token}"})
        assert answer.get_json()["outcomes"][0]["status"] == "applied"
    db_session.rollback()
    rows = db_session.scalars(select(Visit).where(Visit.id.in_([uuid.UUID(v) for v in visits]))
                              .order_by(Visit.visited_at)).all()
    assert [r.user_id for r in rows] == [area.users["coordinator"].id] * 2
    spots = {h.id: HouseSpot(h.lon, h.lat, (h.road, h.number, h.building))
             for h in db_session.scalars(select(House).where(House.id.in_([near.id, far.id])))}
    verdicts = check_visits(rows, spots)
    assert verdicts[rows[0].id] == ()
    assert TOO_FAST in verdicts[rows[1].id]
