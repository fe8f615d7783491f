"""The sync API in the scope matrix: anonymous, unknown, revoked and disabled devices, and a
coordinator's phone that tries to read or write outside its cells (and search).

(Kept beside tests/test_scope_matrix.py, which covers the pages, so that each file stays
readable; the same `area` fixture and the same VISIBLE rule.)
"""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import login, valid_id
from tests.test_scope_matrix import VISIBLE

PUSH = {"protocol": 1, "mutations": []}
# (who, expected status, expected code) for both endpoints.
DEVICES = [
    ("anonymous", 401, "device_unknown"),
    ("unknown token", 401, "device_unknown"),
    ("malformed header", 401, "device_unknown"),
    ("revoked device", 403, "device_revoked"),
    ("disabled user", 401, "user_inactive"),
    ("coordinator", 200, None),
]


def _register(client, username: str = "coord") -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/devices", json={"username": username, "password": "pw", "label": "t"})
    assert r.status_code == 201, r.get_data(as_text=True)
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def _headers(who: str, client, db_session, area) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from webapp.models import Device

    if who == "anonymous":
        return {}
    if who == "unknown token":
        return {"Authorization": "Bearer " + "x" * 43}
    if who == "malformed header":
        return {"Authorization": "Basic Y29vcmQ6cHc="}
    headers = _register(client)
    db_session.rollback()
    device = db_session.scalar(select(Device))
    if who == "revoked device":
        device.revoked_at = device.created_at
    if who == "disabled user":
        device.user.active = False
    db_session.commit()
    return headers


@pytest.mark.parametrize("endpoint", ["push", "pull"])
@pytest.mark.parametrize(("who", "status", "code"), DEVICES, ids=[d[0] for d in DEVICES])
def test_sync_api_matrix(client, db_session, area, endpoint: str, who: str, status: int, code: str | None) -> None:  # type: ignore[no-untyped-def]
    headers = _headers(who, client, db_session, area)
    if endpoint == "push":
        r = client.post("/api/sync/push", json=PUSH, headers=headers)
    else:
        r = client.get("/api/sync/pull?protocol=1", headers=headers)
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    if code:
        assert r.mimetype == "application/problem+json" and r.get_json()["code"] == code


def _pull_all(client, headers) -> dict[str, dict[str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    cursor = None
    for _ in range(20):
        url = "/api/sync/pull?protocol=1&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=headers).get_json()
        for table, items in page["changes"].items():
            for item in items:
                rows.setdefault(table, {})[item["id"]] = item
        cursor = page["cursor"]
        if not page["more"]:
            return rows
    raise AssertionError("pull did not finish")


def test_pull_never_returns_other_cells(client, area) -> None:  # type: ignore[no-untyped-def]
    headers = _register(client)
    rows = _pull_all(client, headers)
    seen = VISIBLE["coordinator"]
    assert set(rows["house"]) == {str(area.houses[k].id) for k in seen}
    assert set(rows["person"]) == {str(area.persons[k].id) for k in seen}
    assert {r["house_id"] for r in rows.get("residency", {}).values()} == {str(area.houses[k].id) for k in seen}
    assert set(rows["cell"]) == {str(area.cells["A1"].id)}
    others = {str(p.id_number) for k, p in area.persons.items() if k not in seen}
    everything = repr(rows)
    assert not any(number in everything for number in others)


def test_push_outside_the_cells_is_a_conflict_never_applied(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    from webapp.models import Conflict, House, Person, Residency, Visit

    headers = _register(client)
    outside = area.houses["B1"]

    def m(seq: int, kind: str, op: str, record_id: Any, **extra: Any) -> dict[str, Any]:
        return {"id": str(uuid.uuid4()), "seq": seq, "type": kind, "op": op, "record_id": str(record_id), **extra}

    new_person = uuid.uuid4()
    mutations = [
        m(1, "house", "update", outside.id, base_version=outside.version, fields={"note": "越界"},
          base={"note": None}),
        m(2, "visit", "create", uuid.uuid4(), fields={"house_id": str(outside.id), "outcome": "verified",
                                                     "visited_at": "2026-11-26T08:00:00Z"}),
        m(3, "person", "create", new_person, fields={"name": "越界人", "id_number": valid_id("31011719950505123")}),
        m(4, "residency", "create", uuid.uuid4(), fields={"person_id": str(new_person), "house_id": str(outside.id),
                                                         "start_date": "2026-11-01"}),
        m(5, "person", "update", area.persons["B1"].id, base_version=area.persons["B1"].version,
          fields={"phone": "13900001111"}, base={"phone": area.persons["B1"].phone}),
    ]
    r = client.post("/api/sync/push", json={"protocol": 1, "mutations": mutations}, headers=headers)
    assert r.status_code == 200
    outcomes = {o["seq"]: o for o in r.get_json()["outcomes"]}
    for seq in (1, 2, 4, 5):
        assert outcomes[seq]["status"] in ("conflict", "blocked"), outcomes[seq]
    db_session.rollback()
    assert db_session.get(House, outside.id).note is None
    assert db_session.get(House, outside.id).version == outside.version
    assert db_session.get(Person, area.persons["B1"].id).phone == area.persons["B1"].phone
    assert db_session.scalar(select(func.count()).select_from(Visit).where(Visit.house_id == outside.id)) == 0
    assert db_session.scalar(select(func.count()).select_from(Residency)
                             .where(Residency.house_id == outside.id, Residency.person_id == new_person)) == 0
    kinds = set(db_session.scalars(select(Conflict.kind)))
    assert kinds == {"out_of_scope"}, kinds


@pytest.mark.parametrize("query_of", ["name", "id_number", "id_tail", "phone_tail", "address"])
def test_search_stays_in_scope(client, area, query_of: str) -> None:  # type: ignore[no-untyped-def]
    login(client, "coord")
    for key, person in area.persons.items():
        q = {"name": person.name, "id_number": person.id_number, "id_tail": person.id_number[-6:],
             "phone_tail": person.phone[-4:], "address": area.houses[key].road}[query_of]
        page = client.get("/search", query_string={"q": q}).get_data(as_text=True)
        # The page repeats the query itself, so look for the record's link, not its name.
        found = f"/persons/{person.id}" in page or f"/houses/{area.houses[key].id}" in page
        assert found == (key in VISIBLE["coordinator"]) or query_of == "address", (key, q)
        if key not in VISIBLE["coordinator"]:
            assert not found, (key, q)
