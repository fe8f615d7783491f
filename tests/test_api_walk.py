"""GET /api/walk: each cell's houses in walking order, for a phone's or a console user's cells."""
from __future__ import annotations

from tests import factories as f
from tests.conftest import login


def _phone(client, username: str = "coord") -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/devices", json={"username": username, "password": "pw", "label": "t"})
    assert r.status_code == 201, r.get_data(as_text=True)
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def test_phone_gets_its_cells_houses_building_by_building(client, db_session, area) -> None:  # type: ignore[no-untyped-def]
    a1 = area.cells["A1"]
    # Two buildings 300 m apart; doors inside a building by unit, floor, room ("2" < "10").
    near = [f.house(db_session, a1, road="谷阳北路", number="88", building="2", unit=u, floor=fl, room=r,
                    lon=121.2300, lat=31.0000) for u, fl, r in (("2", 1, "101"), ("1", 10, "1001"), ("1", 2, "201"))]
    far = f.house(db_session, a1, road="谷阳北路", number="88", building="9", room="101", lon=121.2330, lat=31.0)
    gone = f.house(db_session, a1, road="谷阳北路", number="88", building="9", room="102", lon=121.2330, lat=31.0)
    gone.deleted_at = gone.changed_at
    db_session.commit()
    r = client.get("/api/walk", headers=_phone(client))
    assert r.status_code == 200, r.get_data(as_text=True)
    cells = r.get_json()["cells"]
    assert [c["cell_id"] for c in cells] == [str(a1.id)]  # the coordinator's one cell
    order = cells[0]["houses"]
    building_2 = [str(near[2].id), str(near[1].id), str(near[0].id)]  # unit 1 floor 2, unit 1 floor 10, unit 2
    assert str(gone.id) not in order
    assert set(order) == {str(area.houses["A1"].id), *building_2, str(far.id)}
    at = order.index(building_2[0])
    assert order[at:at + 3] == building_2
    assert cells[0]["total_m"] > 200


def test_console_user_sees_its_cells_and_one_cell_on_request(client, area) -> None:  # type: ignore[no-untyped-def]
    login(client, "lead")
    cells = client.get("/api/walk").get_json()["cells"]
    assert {c["cell_id"] for c in cells} == {str(area.cells["A1"].id), str(area.cells["A2"].id)}
    r = client.get(f"/api/walk?cell={area.cells['A2'].id}")
    assert [c["houses"] for c in r.get_json()["cells"]] == [[str(area.houses["A2"].id)]]
    for outside in (area.cells["B1"].id, "not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        r = client.get(f"/api/walk?cell={outside}")
        assert r.status_code == 404 and r.mimetype == "application/problem+json"
        assert r.get_json()["code"] == "not_found"


def test_refused_without_a_device_or_login(client, db_session, area) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/walk")
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    assert r.get_json()["code"] == "device_unknown"
    assert client.get("/api/walk", headers={"Authorization": "Bearer " + "x" * 43}).status_code == 401
    headers = _phone(client)
    area.users["coordinator"].active = False
    db_session.commit()
    assert client.get("/api/walk", headers=headers).get_json()["code"] == "user_inactive"


def test_described_in_the_openapi_document(client) -> None:  # type: ignore[no-untyped-def]
    assert "/api/walk" in client.get("/api/openapi.json").get_json()["paths"]
