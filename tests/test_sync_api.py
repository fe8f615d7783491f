"""The sync API over HTTP: table-driven, status and error code together."""
from __future__ import annotations

import gzip
import json
import uuid
from typing import Any

import pytest

from tests.conftest import valid_id


@pytest.fixture
def phone(client, area):  # type: ignore[no-untyped-def]
    response = client.post("/api/devices", json={"username": "coord", "password": "pw", "label": "t"})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    return {"Authorization": f"Bearer {body['token']}"}


def _visit(area, seq: int = 1) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {"id": str(uuid.uuid4()), "seq": seq, "type": "visit", "op": "create", "record_id": str(uuid.uuid4()),
            "fields": {"house_id": str(area.houses["A1"].id), "visited_at": "2026-11-26T08:00:00Z",
                       "outcome": "verified", "plate_scanned": True}}


CASES = [
    # (name, headers?, body or raw, expected status, expected code)
    ("no token", None, {"protocol": 1, "mutations": []}, 401, "device_unknown"),
    ("bad token", {"Authorization": "Bearer nope"}, {"protocol": 1, "mutations": []}, 401, "device_unknown"),
    ("old protocol", "phone", {"protocol": 0, "mutations": []}, 426, "protocol_outdated"),
    ("not an object", "phone", [1, 2], 422, "invalid_batch"),
    ("mutations not a list", "phone", {"protocol": 1, "mutations": {}}, 422, "invalid_batch"),
    ("bad mutation id", "phone", {"protocol": 1, "mutations": [{"id": "x", "seq": 1, "type": "visit", "op": "create",
                                                               "record_id": str(uuid.uuid4())}]}, 422, "invalid_mutation"),
    ("unknown type", "phone", {"protocol": 1, "mutations": [{"id": str(uuid.uuid4()), "seq": 1, "type": "user",
                                                            "op": "create", "record_id": str(uuid.uuid4())}]},
     422, "invalid_mutation"),
    ("mutation time without a zone", "phone", {"protocol": 2, "mutations": [{"id": str(uuid.uuid4()), "seq": 1,
     "type": "visit", "op": "create", "record_id": str(uuid.uuid4()), "at": "2026-11-26T08:00:00"}]},
     422, "invalid_mutation"),
    ("empty batch", "phone", {"protocol": 1, "mutations": []}, 200, None),
]


def _good() -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "seq": 1, "type": "visit", "op": "create", "record_id": str(uuid.uuid4())}


# (what is wrong, the body, the name its message must give)
MALFORMED = [
    ("not an object", [1], "JSON"),
    ("mutations not a list", {"protocol": 2, "mutations": {}}, "mutations"),
    ("too many", {"protocol": 2, "mutations": [_good()] * 5001}, "5000"),
    ("mutation not an object", {"protocol": 2, "mutations": [1]}, "mutations[0]"),
    ("seq", {"protocol": 2, "mutations": [{**_good(), "seq": 0}]}, "mutations[0].seq"),
    ("type", {"protocol": 2, "mutations": [{**_good(), "type": "user"}]}, "mutations[0].type"),
    ("op", {"protocol": 2, "mutations": [{**_good(), "op": "merge"}]}, "mutations[0].op"),
    ("fields", {"protocol": 2, "mutations": [{**_good(), "fields": [1]}]}, "fields"),
    ("id", {"protocol": 2, "mutations": [{**_good(), "id": "x"}]}, "mutations[0].id"),
    ("record_id", {"protocol": 2, "mutations": [{**_good(), "record_id": 5}]}, "mutations[0].record_id"),
    ("clock", {"protocol": 2, "clock": "noon", "mutations": []}, "clock"),
    ("clock without zone", {"protocol": 2, "clock": "2026-11-26T08:00:00", "mutations": []}, "clock"),
    ("at", {"protocol": 2, "mutations": [{**_good(), "at": "yesterday"}]}, "mutations[0].at"),
    ("at without zone", {"protocol": 2, "mutations": [{**_good(), "at": "2026-11-26T08:00:00"}]}, "mutations[0].at"),
    ("seq twice", {"protocol": 2, "mutations": [_good(), _good()]}, "mutations[1].seq"),
]


@pytest.mark.parametrize(("body", "names"), [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_a_malformed_batch_is_told_in_both_languages_and_names_its_field(body: Any, names: str) -> None:
    """Every refusal of the envelope says what is wrong in English and Chinese and names the
    field: half of them were English only, and a mutation's bad `at` was called the clock."""
    from sync.batch import BatchInvalid, parse_batch

    with pytest.raises(BatchInvalid) as refused:
        parse_batch(body, frozenset({1, 2}))
    detail = refused.value.detail
    assert names in detail, detail
    assert any("\u4e00" <= c <= "\u9fff" for c in detail) and any(c.isascii() and c.isalpha() for c in detail), detail
    if ".at" in names:
        assert "clock" not in detail


@pytest.mark.parametrize(("name", "headers", "body", "status", "code"), CASES, ids=[c[0] for c in CASES])
def test_push_answers(client, phone, name, headers, body, status, code) -> None:  # type: ignore[no-untyped-def]
    sent = phone if headers == "phone" else headers or {}
    response = client.post("/api/sync/push", json=body, headers=sent)
    assert response.status_code == status, response.get_data(as_text=True)
    if code:
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["code"] == code


def test_push_wrong_content_type_and_broken_json(client, phone) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/sync/push", data="protocol=1", headers=phone, content_type="text/plain")
    assert (r.status_code, r.get_json()["code"]) == (415, "unsupported_media_type")
    r = client.post("/api/sync/push", data=b"{\xff", headers=phone, content_type="application/json")
    assert (r.status_code, r.get_json()["code"]) == (400, "invalid_json")


def test_push_then_retry_then_pull(client, phone, area) -> None:  # type: ignore[no-untyped-def]
    visit = _visit(area)
    body = {"protocol": 1, "app_version": "0.1", "clock": "2026-11-26T08:00:05Z", "mutations": [visit]}
    first = client.post("/api/sync/push", json=body, headers=phone).get_json()
    assert [o["status"] for o in first["outcomes"]] == ["applied"] and first["last_seq"] == 1
    again = client.post("/api/sync/push", json=body, headers=phone).get_json()
    assert [o["status"] for o in again["outcomes"]] == ["already_applied"]
    pulled = client.get("/api/sync/pull?protocol=1", headers={**phone, "Accept-Encoding": "gzip"})
    assert pulled.headers["Content-Encoding"] == "gzip"
    page = json.loads(gzip.decompress(pulled.data))
    assert page["last_applied_seq"] == 1 and not page["more"]
    assert visit["record_id"] in {v["id"] for v in page["changes"]["visit"]}
    assert {h["id"] for h in page["changes"]["house"]} == {str(area.houses["A1"].id)}
    persons = page["changes"]["person"]
    assert [p["name"] for p in persons] == ["王A1"] and "id_rev" not in persons[0]


def test_pull_refuses_old_protocol_and_bad_cursor(client, phone) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/sync/pull?protocol=0", headers=phone)
    assert (r.status_code, r.get_json()["code"]) == (426, "protocol_outdated")
    r = client.get("/api/sync/pull", headers=phone)  # no protocol at all: not "update the app"
    assert (r.status_code, r.get_json()["code"]) == (422, "invalid_protocol")
    r = client.get("/api/sync/pull?protocol=1&cursor=garbage", headers=phone)
    assert (r.status_code, r.get_json()["code"]) == (422, "cursor_invalid")


def test_revoked_device_is_told_to_hand_over_and_wipe(client, phone, area, db_session) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from webapp.models import Device

    device = db_session.scalar(select(Device))
    device.revoked_at = device.created_at
    db_session.commit()
    r = client.get("/api/sync/pull?protocol=1", headers=phone)
    assert (r.status_code, r.get_json()["code"], r.get_json()["wipe_after_handover"]) == (403, "device_revoked", True)


def test_register_refuses_wrong_password(client, area) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/devices", json={"username": "coord", "password": "bad"})
    assert (r.status_code, r.get_json()["code"]) == (401, "login_failed")


def test_rejection_is_an_outcome_not_an_error(client, phone, area) -> None:  # type: ignore[no-untyped-def]
    number = valid_id("31011719900101123")
    wrong = number[:-1] + ("1" if number[-1] == "0" else "0")
    bad = {"id": str(uuid.uuid4()), "seq": 1, "type": "person", "op": "create", "record_id": str(uuid.uuid4()),
           "fields": {"name": "坏", "id_number": wrong}}
    good = _visit(area, seq=2)
    r = client.post("/api/sync/push", json={"protocol": 1, "mutations": [bad, good]}, headers=phone)
    assert r.status_code == 200
    statuses = [(o["status"], o.get("errors", [{}])[0].get("code")) for o in r.get_json()["outcomes"]]
    assert statuses[1] == ("applied", None)
    assert statuses[0] == ("rejected", "id.check")


def test_openapi_document(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.") and {"/api/devices", "/api/sync/push", "/api/sync/pull"} <= set(doc["paths"])


def test_a_busy_database_is_a_transient_503(client, phone, area, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import OperationalError

    import webapp.api.views as views

    def busy(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("UPDATE change_counter", {}, Exception("database is locked"))

    monkeypatch.setattr(views, "apply_batch", busy)
    r = client.post("/api/sync/push", json={"protocol": 1, "mutations": [_visit(area)]}, headers=phone)
    assert (r.status_code, r.get_json()["code"], r.headers["Retry-After"]) == (503, "unavailable", "5")
