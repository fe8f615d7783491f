"""A push that carries its pull (docs/sync.md §3): one round trip a sync. The page it answers
is the one `GET /api/sync/pull` gives for the same cursor after the push, through the same
privacy policy, scope and audit; a bad `pull` refuses the batch before anything is applied;
a cursor the server refuses leaves the page out, never the outcomes. Both backends."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from webapp.models import AuditEntry, SyncMutation, Visit

NOW = "2026-11-26T08:00:00Z"


def _phone(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/devices", json={"username": "coord", "password": "pw", "label": "t"})
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def _visit(area, seq: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {"id": str(uuid.uuid4()), "seq": seq, "type": "visit", "op": "create", "record_id": str(uuid.uuid4()),
            "at": NOW, "fields": {"house_id": str(area.houses["A1"].id), "visited_at": NOW, "outcome": "verified"}}


def _rename(area, seq: int, name: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    person = area.persons["A1"]
    return {"id": str(uuid.uuid4()), "seq": seq, "type": "person", "op": "update", "record_id": str(person.id),
            "base_version": person.version, "fields": {"name": name}, "base": {"name": person.name}, "at": NOW}


def _push(client, phone, mutations: list[dict[str, Any]], pull: Any = None, protocol: int = 2):  # type: ignore[no-untyped-def]
    body: dict[str, Any] = {"protocol": protocol, "mutations": mutations}
    if pull is not None:
        body["pull"] = pull
    return client.post("/api/sync/push", json=body, headers=phone)


def _cursor(client, phone, protocol: int = 2) -> str:  # type: ignore[no-untyped-def]
    """The cursor after a first round (a snapshot) of this phone."""
    cursor = None
    while True:
        page = client.get("/api/sync/pull", query_string={"protocol": protocol, **({"cursor": cursor} if cursor else {})},
                          headers=phone).get_json()
        cursor = page["cursor"]
        if not page["more"]:
            return str(cursor)


@pytest.mark.parametrize("protocol", [1, 2])
def test_the_page_a_push_carries_is_the_pull_after_it(client, area, protocol: int) -> None:  # type: ignore[no-untyped-def]
    phone, other = _phone(client), _phone(client)
    cursor = _cursor(client, phone, protocol)
    # Changed elsewhere since the cursor: the page must bring it.
    assert _push(client, other, [_rename(area, 1, "王甲")], protocol=protocol).status_code == 200
    answer = _push(client, phone, [_visit(area, 1)], pull={"cursor": cursor, "limit": 10000}, protocol=protocol)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert [o["status"] for o in body["outcomes"]] == ["applied"]
    carried = body["pull"]
    assert "王甲" in str(carried["changes"]["person"])
    # The same cursor pulled afterwards answers the same page: same rows, same next cursor.
    pulled = client.get("/api/sync/pull", query_string={"protocol": protocol, "cursor": cursor, "limit": 10000},
                        headers=phone).get_json()
    assert carried == pulled


def test_the_phones_own_visit_is_not_carried_back(client, area) -> None:  # type: ignore[no-untyped-def]
    phone = _phone(client)
    cursor = _cursor(client, phone)
    body = _push(client, phone, [_visit(area, 1)], pull={"cursor": cursor}).get_json()
    assert body["outcomes"][0]["status"] == "applied"
    assert body["pull"]["changes"].get("visit") is None and body["pull"]["echoes"] == 1
    assert body["pull"]["more"] is False and body["pull"]["cursor"] != cursor


def test_persons_a_push_carries_are_audited_as_a_pulls_are(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    phone = _phone(client)
    before = db_session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "sync_pull"))
    body = _push(client, phone, [], pull={"cursor": None}).get_json()
    assert body["outcomes"] == [] and body["pull"]["snapshot"] is True
    assert body["pull"]["changes"]["person"]["name"] == ["王A1"]  # only the coordinator's cell
    db_session.rollback()  # a fresh snapshot: the request committed since
    after = db_session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "sync_pull"))
    assert after == before + 1


def test_a_refused_cursor_leaves_the_page_out_not_the_outcomes(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    phone = _phone(client)
    answer = _push(client, phone, [_visit(area, 1)], pull={"cursor": "not-a-cursor"})
    assert answer.status_code == 200
    body = answer.get_json()
    assert [o["status"] for o in body["outcomes"]] == ["applied"] and "pull" not in body
    db_session.rollback()  # a fresh snapshot: the request committed since
    assert db_session.scalar(select(func.count()).select_from(Visit)) == 1
    # The phone's own pull then hears why, and starts again without a cursor.
    refused = client.get("/api/sync/pull", query_string={"protocol": 2, "cursor": "not-a-cursor"}, headers=phone)
    assert refused.status_code == 422 and refused.get_json()["code"] == "cursor_invalid"


@pytest.mark.parametrize(("pull", "code"), [
    ([], "invalid_batch"), ("cursor", "invalid_batch"), ({"cursor": 5}, "invalid_batch"),
    ({"cursor": ["x"]}, "invalid_batch"), ({"limit": 0}, "invalid_limit"), ({"limit": 10001}, "invalid_limit"),
    ({"limit": True}, "invalid_limit"), ({"limit": "10"}, "invalid_limit"), ({"limit": 1.5}, "invalid_limit"),
])
def test_a_bad_pull_refuses_the_batch_before_anything_is_applied(client, area, db_session, pull: Any,
                                                                 code: str) -> None:  # type: ignore[no-untyped-def]
    phone = _phone(client)
    answer = _push(client, phone, [_visit(area, 1)], pull=pull)
    assert answer.status_code == 422
    problem = answer.get_json()
    assert problem["code"] == code and "pull" in problem["detail"]
    assert " / " in problem["detail"]  # English, then Chinese
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(SyncMutation)) == 0


def test_a_push_without_pull_answers_as_before(client, area) -> None:  # type: ignore[no-untyped-def]
    phone = _phone(client)
    body = _push(client, phone, [_visit(area, 1)]).get_json()
    assert set(body) == {"protocol", "last_seq", "outcomes"}


@pytest.mark.parametrize("cursor", ["1.0.99999999999999999999999.0.0.", "1.0.5.0.99999999999999999999999.",
                                    "1.9223372036854775808.9223372036854775808.13.0.", "1.0.5.0.-1."])
def test_a_cursor_past_64_bits_is_refused_at_both_doors(client, area, db_session, cursor: str) -> None:  # type: ignore[no-untyped-def]
    """It answered 500 (the driver cannot bind the number) at GET /api/sync/pull."""
    phone = _phone(client)
    pulled = client.get("/api/sync/pull", query_string={"protocol": 2, "cursor": cursor}, headers=phone)
    assert pulled.status_code == 422 and pulled.get_json()["code"] == "cursor_invalid"
    pushed = _push(client, phone, [_visit(area, 1)], pull={"cursor": cursor})
    assert pushed.status_code == 200 and "pull" not in pushed.get_json()
    assert [o["status"] for o in pushed.get_json()["outcomes"]] == ["applied"]
