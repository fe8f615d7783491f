"""Hostile input: oversized, deep, mistyped, undecodable and injected bodies, on both backends.

None may cause a 5xx. The API answers problem+json with a code; pages answer a 4xx page.
Injected text is stored verbatim and rendered inert (escaped).
"""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy import select

from tests.conftest import csrf_token, login, valid_id

SCRIPT = '<script>alert("x")</script>'
SQL = "x'); DROP TABLE person; --"
INJECTIONS = [SCRIPT, SQL, '"><img src=x onerror=alert(1)>', "王' OR '1'='1"]


@pytest.fixture
def phone(client, area) -> dict[str, str]:  # type: ignore[no-untyped-def]
    response = client.post("/api/devices", json={"username": "coord", "password": "pw", "label": "t"})
    assert response.status_code == 201, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def _problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["code"]
    if code:
        assert body["code"] == code
    return body


def _push(client, phone, *mutations: dict[str, Any]) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    r = client.post("/api/sync/push", json={"protocol": 1, "mutations": list(mutations)}, headers=phone)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return r.get_json()["outcomes"]  # type: ignore[no-any-return]


def _mutation(seq: int, kind_: str, op_: str, record_id: Any = None, **fields: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "seq": seq, "type": kind_, "op": op_,
            "record_id": str(record_id or uuid.uuid4()), "fields": fields}


# ---- bodies ---------------------------------------------------------------------------

def test_oversized_body_is_413_problem(client, app, phone) -> None:  # type: ignore[no-untyped-def]
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    r = client.post("/api/sync/push", data=b"[" + b"1," * 20_000 + b"1]", headers=phone,
                    content_type="application/json")
    _problem(r, 413)


@pytest.mark.parametrize("depth", [100, 5_000, 200_000])
def test_deeply_nested_json_is_refused(client, phone, depth: int) -> None:  # type: ignore[no-untyped-def]
    inner = "[" * depth + "]" * depth
    raw = '{"protocol": 1, "mutations": [{"id": "%s", "seq": 1, "type": "house", "op": "update", ' \
          '"record_id": "%s", "fields": {"note": %s}}]}' % (uuid.uuid4(), uuid.uuid4(), inner)
    for url in ("/api/sync/push", "/api/devices"):
        r = client.post(url, data=raw, headers=phone, content_type="application/json")
        assert r.status_code in (400, 422), (url, r.status_code)
        assert r.mimetype == "application/problem+json" and r.get_json()["code"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/xml"])
def test_wrong_content_type_is_415(client, phone, content_type: str) -> None:  # type: ignore[no-untyped-def]
    for url in ("/api/sync/push", "/api/devices"):
        r = client.post(url, data=b'{"protocol": 1, "mutations": []}', headers=phone, content_type=content_type)
        _problem(r, 415, "unsupported_media_type")


def test_invalid_utf8_is_400(client, phone, area) -> None:  # type: ignore[no-untyped-def]
    for url in ("/api/sync/push", "/api/devices"):
        r = client.post(url, data=b'{"protocol": 1, "x": "\xff\xfe"}', headers=phone, content_type="application/json")
        _problem(r, 400)
    # A form post with undecodable bytes: a page, never a 500.
    token = csrf_token(client)
    r = client.post("/login", data=b"username=\xff\xfe&password=\xc3&csrf_token=" + token.encode(),
                    content_type="application/x-www-form-urlencoded")
    assert r.status_code < 500


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 10**40, -(10**40)])
def test_numbers_the_database_cannot_hold_are_refused(client, phone, area, value) -> None:  # type: ignore[no-untyped-def]
    """NaN, infinities and integers past 64 bits: refused with the body, never a 500."""
    for fields, seq in (({"lon": value}, 1), ({"floor": value}, 1), ({}, value)):
        m = {**_mutation(1, "house", "update", area.houses["A1"].id, **fields), "seq": seq}
        r = client.post("/api/sync/push", headers=phone, json={"protocol": 1, "mutations": [m]})
        assert r.status_code in (400, 422), r.get_data(as_text=True)
        assert r.get_json()["code"] in ("invalid_json", "number_out_of_range")


@pytest.mark.parametrize("digits", [20, 4301, 50_000])
def test_an_integer_too_long_for_any_column_is_out_of_range_not_broken_json(client, phone, area, digits: int) -> None:  # type: ignore[no-untyped-def]
    """Valid JSON with an integer of thousands of digits: CPython's int() refuses past 4,300
    digits, and that was answered 400 invalid_json, as if the body were broken."""
    body = b'{"protocol": 2, "mutations": [], "pending": ' + b"9" * digits + b"}"
    r = client.post("/api/sync/push", headers=phone, data=body, content_type="application/json")
    assert (r.status_code, r.get_json()["code"]) == (422, "number_out_of_range")


@pytest.mark.parametrize("value", ["\x00", "a\x00b", "\ud800"])
def test_text_the_database_cannot_hold_is_rejected(client, phone, area, value: str) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL refuses NUL in text and lone surrogates cannot be encoded: a rejection."""
    m = {**_mutation(1, "house", "update", area.houses["A1"].id, note=value), "base_version": 1}
    outcomes = _push(client, phone, m)
    assert outcomes[0]["status"] == "rejected", outcomes
    assert outcomes[0]["errors"][0]["code"] == "field.characters"


def test_id_number_with_wrong_check_is_rejected(client, phone, area) -> None:  # type: ignore[no-untyped-def]
    number = valid_id("31011719900101123")
    wrong = number[:-1] + ("1" if number[-1] == "0" else "0")
    outcomes = _push(client, phone, _mutation(1, "person", "create", name="坏", id_number=wrong))
    assert outcomes[0]["status"] == "rejected"
    assert [e["code"] for e in outcomes[0]["errors"]] == ["id.check"]


# ---- injection: stored verbatim, rendered escaped -------------------------------------

HOUSE_TEXT = ("road", "number", "building", "unit", "room", "note")
PERSON_TEXT = ("name", "hukou_address", "permit_number", "note")


def _assert_inert(html: str, payload: str, shown: bool) -> None:
    """The raw markup never appears; where the page shows the value, it shows it escaped."""
    assert "<script>alert" not in html and "<img src=x" not in html
    if shown and "<" in payload:
        assert escape(payload[:16]) in html, payload


def test_injection_in_console_forms(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    from webapp.models import House, Person

    login(client, "centre")
    house = area.houses["A1"]
    for payload in INJECTIONS:
        db_session.rollback()
        version = db_session.get(House, house.id).version
        limits = {"road": 64, "number": 16, "building": 16, "unit": 16, "room": 16, "note": 200}
        form = {name: payload[:limits[name]] for name in HOUSE_TEXT}
        form |= {"version": str(version), "use": "rented", "floor": "", "floor_area": "", "living_area": "",
                 "lon": "", "lat": "", "csrf_token": csrf_token(client, "/")}
        r = client.post(f"/houses/{house.id}/edit", data=form)
        assert r.status_code == 302, r.get_data(as_text=True)[:500]
        db_session.rollback()
        stored = db_session.get(House, house.id)
        assert stored.road == payload[:64] and stored.note == payload  # verbatim
        for page, shown in ((f"/houses/{house.id}", True), (f"/houses/{house.id}/edit", True),
                            (f"/cells/{area.cells['A1'].id}", True), ("/search?q=" + payload[:10], False)):
            r = client.get(page)
            assert r.status_code < 500, page
            _assert_inert(r.get_data(as_text=True), payload, shown)
    person = area.persons["A1"]
    for payload in INJECTIONS:
        db_session.rollback()
        p = db_session.get(Person, person.id)
        form = {"version": str(p.version), "name": payload[:64], "id_type": "resident", "id_number": p.id_number,
                "phone": "", "category": "migrant", "hukou_address": payload, "permit_number": payload[:32],
                "permit_expiry": "", "note": payload, "csrf_token": csrf_token(client, "/")}
        r = client.post(f"/persons/{person.id}/edit", data=form)
        assert r.status_code == 302, r.get_data(as_text=True)[:500]
        db_session.rollback()
        assert db_session.get(Person, person.id).note == payload
        for page, shown in ((f"/persons/{person.id}", True), (f"/houses/{area.houses['A1'].id}", True),
                            ("/search?q=" + payload[:8], False)):
            r = client.get(page)
            assert r.status_code < 500, page
            _assert_inert(r.get_data(as_text=True), payload, shown)


@pytest.mark.parametrize("field", ["floor_area", "living_area", "lon", "lat", "floor"])
@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1e400", "99999999999999999999999"])
def test_console_numbers_that_are_not_numbers_are_refused(client, area, db_session, field: str, value: str) -> None:  # type: ignore[no-untyped-def]
    """A house form's numbers: NaN, infinities and numbers past every range are the form shown
    again with its error, never a 500 and never stored (SQLite would keep NaN as NULL, and
    PostgreSQL a NaN no range check excludes)."""
    from webapp.models import House

    login(client, "centre")
    house = area.houses["A1"]
    before = db_session.get(House, house.id)
    version, stored = before.version, {name: getattr(before, name) for name in ("floor_area", "living_area", "lon", "lat", "floor")}
    form = {"version": str(version), "use": "rented", "road": before.road or "路", "number": before.number or "1",
            "building": "", "unit": "", "room": before.room or "", "note": "", "floor": "", "floor_area": "",
            "living_area": "", "lon": "", "lat": "", "csrf_token": csrf_token(client, "/")}
    r = client.post(f"/houses/{house.id}/edit", data={**form, field: value})
    assert r.status_code in (200, 422), r.status_code  # the form again, with what was wrong
    db_session.rollback()
    after = db_session.get(House, house.id)
    assert after.version == version
    assert {name: getattr(after, name) for name in stored} == stored


def test_injection_through_sync(client, phone, area, db_session) -> None:  # type: ignore[no-untyped-def]
    from webapp.models import House, Person, Room, Unit, Visit

    login(client, "centre")
    house = area.houses["A1"]
    seq = 0
    for payload in INJECTIONS:
        seq += 1
        db_session.rollback()
        version = db_session.get(House, house.id).version
        fields = {name: payload[:16] for name in ("number", "building", "unit", "room")} | {"note": payload,
                                                                                            "road": payload}
        m = {**_mutation(seq, "house", "update", house.id, **fields), "base_version": version}
        person_id, unit_id, visit_id, room_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        hukou = {"hukou_road": payload[:64], "hukou_number": payload[:16], "hukou_building": payload[:16],
                 "hukou_room": payload[:16]}
        outcomes = _push(
            client, phone, m,
            _mutation(seq + 1, "person", "create", person_id, name=payload[:64], hukou_address=payload, note=payload,
                      id_type="resident", id_number=valid_id(f"31011719900101{seq:03d}"), category="huji",
                      hukou_region="310117", **hukou),
            _mutation(seq + 2, "unit", "create", unit_id, name=payload, house_id=str(house.id), kind="enterprise"),
            _mutation(seq + 3, "visit", "create", visit_id, house_id=str(house.id), note=payload,
                      visited_at="2026-11-26T08:00:00Z", outcome="verified"),
            _mutation(seq + 4, "room", "create", room_id, name=payload[:32], house_id=str(house.id)),
        )
        seq += 4
        assert [o["status"] for o in outcomes] in (["applied"] * 5, ["merged"] + ["applied"] * 4), outcomes
        db_session.rollback()
        assert db_session.get(House, house.id).note == payload
        assert db_session.get(Person, person_id).note == payload
        assert {k: getattr(db_session.get(Person, person_id), k) for k in hukou} == {
            k: v.strip() or None for k, v in hukou.items()}
        assert db_session.get(Room, room_id).name == payload[:32].strip()
        assert db_session.get(Unit, unit_id).name == payload
        assert db_session.get(Visit, visit_id).note == payload
        for page, shown in ((f"/houses/{house.id}", True), (f"/persons/{person_id}", True),
                            ("/search?q=" + payload[:8], False), ("/", False)):
            r = client.get(page)
            assert r.status_code < 500, page
            _assert_inert(r.get_data(as_text=True), payload, shown)
    # And back out through pull, verbatim (JSON, not HTML).
    page = client.get("/api/sync/pull?protocol=1", headers=phone).get_json()
    assert INJECTIONS[-1] in {h["note"] for h in page["changes"]["house"]}


# ---- plates and QR content -------------------------------------------------------------

BAD_CODES = ["", "%00", "%0A", "%20", "..%2F..%2Fetc%2Fpasswd", "A" * 5_000, "<script>alert(1)</script>", "' OR 1=1 --",
             "%E2%80%AE", "%FF%FE", "a/b/c", "A1CODE0001%00", "https://evil.example/h/A1CODE0001"]


@pytest.mark.parametrize("code", BAD_CODES)
def test_malformed_house_codes(client, area, code: str) -> None:  # type: ignore[no-untyped-def]
    r = client.get(f"/h/{code}")
    assert r.status_code in (200, 302, 308, 400, 404, 410), r.status_code
    html = r.get_data(as_text=True)
    assert "<script>alert" not in html
    assert area.persons["A1"].name not in html


def test_malformed_code_in_a_task_post(client, area) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/h/<x>", data={"kind": "problem", "text": SCRIPT})
    assert r.status_code < 500


def test_plate_lookup_of_garbage_qr_content(db_session, area) -> None:  # type: ignore[no-untyped-def]
    from webapp.registry.code_lookup import Outcome, look_up

    for content in ["", "\x00", "http://", "https://x/h/", "WIFI:S:x;;", "A" * 10_000, "😀" * 50, "A1CODE0001\n"]:
        found = look_up(db_session, content)
        assert found.outcome is not Outcome.LIVE or found.house is not None


# ---- GeoJSON to the cells import (geo.cells public API) --------------------------------

def _collection(coords: list[list[float]], code: str = "X1") -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [coords]},
        "properties": {"code": code, "name": "X", "committee_code": "C-X", "committee_name": "X居委"}}]}


@pytest.mark.parametrize("name,coords", [
    ("bow tie", [[121.20, 31.00], [121.21, 31.01], [121.21, 31.00], [121.20, 31.01], [121.20, 31.00]]),
    ("huge", [[73.0, 3.0], [136.0, 3.0], [136.0, 54.0], [73.0, 54.0], [73.0, 3.0]]),
    ("many vertices", [[121.2 + 0.001 * (i % 2), 31.0 + 0.00001 * i] for i in range(50_000)] + [[121.2, 31.0]]),
    ("not numbers", [["a", "b"], [1, 2], [3], [None, None]]),
    ("out of range", [[500.0, 100.0], [501.0, 100.0], [501.0, 101.0], [500.0, 100.0]]),
])
def test_hostile_cells_geojson_is_refused(db_session, area, name: str, coords) -> None:  # type: ignore[no-untyped-def]
    from geo.cells import import_cells
    from webapp.models import Cell

    before = db_session.scalar(select(Cell.id).order_by(Cell.id).limit(1))
    report = import_cells(db_session, _collection(coords))
    assert not report.ok and not report.written, (name, report.to_dict())
    assert [i for i in report.issues if i.severity == "error"]
    db_session.rollback()
    assert db_session.scalar(select(Cell.id).order_by(Cell.id).limit(1)) == before


DEEP = pytest.param("[" * 100_000, id="deep")


@pytest.mark.parametrize("data", [b"\xff\xfe", "{}", '{"type": "FeatureCollection", "features": 1}', "null", DEEP],
                         ids=["not utf-8", "empty object", "features not a list", "null", "deep"])
def test_cells_import_refuses_garbage_documents(db_session, data) -> None:  # type: ignore[no-untyped-def]
    from geo.cells import import_cells

    assert not import_cells(db_session, data).ok


def test_nul_in_pages_and_forms_is_400(client, area) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL refuses NUL in text: refused up front, never a 500 from a query."""
    login(client, "centre")
    assert client.get("/search?q=%00").status_code == 400
    assert client.get("/h/A1CODE0001%00").status_code == 400
    house = area.houses["A1"]
    r = client.post(f"/houses/{house.id}/edit", data={"road": "a\x00b", "number": "1", "version": "1",
                                                      "csrf_token": csrf_token(client, "/")})
    assert r.status_code == 400
    assert client.get(f"/houses/{house.id}").status_code == 200


def test_integers_past_the_columns_are_refused(client, phone, area) -> None:  # type: ignore[no-untyped-def]
    """Versions and INTEGER fields are 32-bit in the database, seq 64-bit up to 2^53 - 1: larger
    is a 422 or a field rejection, never a 500 (found by the fuzzer on PostgreSQL)."""
    m = {**_mutation(2**53, "visit", "create"), "fields": {}}
    r = client.post("/api/sync/push", headers=phone, json={"protocol": 1, "mutations": [m]})
    assert (r.status_code, r.get_json()["code"]) == (422, "invalid_mutation")
    m = {**_mutation(2**40, "visit", "create"), "fields": {}}  # a Date.now() numbering: taken
    assert _push(client, phone, m)[0]["errors"][0]["code"] == "field.required"
    m = {**_mutation(1, "house", "update", area.houses["A1"].id, floor=2**40), "base_version": 1}
    outcome = _push(client, phone, m)[0]
    assert outcome["status"] == "rejected" and outcome["errors"][0]["code"] == "field.type"
    body = {"protocol": 1, "pending": 2**40, "mutations": [{**_mutation(2, "visit", "create"), "fields": {}}]}
    assert client.post("/api/sync/push", headers=phone, json=body).status_code == 200


def test_a_phone_clock_years_off_is_not_an_error(client, phone, area) -> None:  # type: ignore[no-untyped-def]
    """Found by the fuzzer: the clock offset (ms) overflowed its 32-bit column on PostgreSQL."""
    body = {"protocol": 1, "clock": "2000-01-01T00:00:00Z", "mutations": [_mutation(1, "task", "create")]}
    r = client.post("/api/sync/push", headers=phone, json=body)
    assert r.status_code == 200 and r.get_json()["outcomes"][0]["status"] == "rejected"


def test_a_sequence_number_reused_by_another_mutation_is_refused(client, phone, area) -> None:  # type: ignore[no-untyped-def]
    """Found by tests/test_injection.py (was a 500): a buggy or hostile phone sends seq 1 twice
    with new ids. The second is refused without a receipt, the rest of its batch applied."""
    visit = {"house_id": str(area.houses["A1"].id), "visited_at": "2026-11-26T08:00:00Z", "outcome": "verified"}
    _push(client, phone, _mutation(1, "visit", "create", **visit))
    r = client.post("/api/sync/push", headers=phone, json={"protocol": 1, "mutations": [
        _mutation(1, "visit", "create", **visit), _mutation(2, "visit", "create", **visit)]})
    assert r.status_code == 200, r.get_data(as_text=True)
    reused, fresh = r.get_json()["outcomes"]
    assert reused["status"] == "rejected" and [e["code"] for e in reused["errors"]] == ["seq.reused"]
    assert "序号 1" in reused["errors"][0]["zh"] and "sequence number 1" in reused["errors"][0]["en"]
    assert fresh["status"] == "applied"


def test_a_sequence_number_twice_in_one_batch_is_422(client, phone, area) -> None:  # type: ignore[no-untyped-def]
    """Found by the fuzzer once its batches could reach the push (was a 500). The same mutation
    twice is a harmless repeat; two mutations under one number are a broken outbox."""
    visit = {"house_id": str(area.houses["A1"].id), "visited_at": "2026-11-26T08:00:00Z", "outcome": "verified"}
    r = client.post("/api/sync/push", headers=phone, json={"protocol": 1, "mutations": [
        _mutation(1, "visit", "create", **visit), _mutation(1, "visit", "create", **visit)]})
    _problem(r, 422, "invalid_batch")
    assert "mutations[1].seq" in r.get_json()["detail"]
    same = _mutation(1, "visit", "create", **visit)
    r = client.post("/api/sync/push", headers=phone, json={"protocol": 1, "mutations": [same, same]})
    assert r.status_code == 200 and sorted(o["status"] for o in r.get_json()["outcomes"]) == ["already_applied", "applied"]


@pytest.mark.parametrize("extra", [{"label": "\x00"}, {"label": "a\ud800"}, {"label": ["x"]}, {"label": 5},
                                   {"label": {"a": 1}}, {"app_version": "\x00"}, {"app_version": {"a": 1}}],
                         ids=["nul", "surrogate", "list", "number", "object", "version-nul", "version-object"])
def test_device_registration_with_a_hostile_label_is_422(client, area, extra) -> None:  # type: ignore[no-untyped-def]
    """Found looking past the fuzzer (its generated logins never succeed): these were 500s."""
    r = client.post("/api/devices", json={"username": "coord", "password": "pw", **extra})
    _problem(r, 422, "invalid_device")


def test_push_with_an_unstorable_app_version_is_422(client, phone, area) -> None:  # type: ignore[no-untyped-def]
    """Found by the fuzzer on PostgreSQL (NUL in the device row's app_version): was a 500."""
    for version in ("\x00", "1.0\ud800"):
        r = client.post("/api/sync/push", headers=phone, json={"protocol": 1, "app_version": version, "mutations": []})
        _problem(r, 422, "invalid_batch")
    r = client.post("/api/sync/push", headers=phone, json={"protocol": 1, "app_version": ["x"], "mutations": []})
    assert r.status_code == 200
