"""Protocol 2 over HTTP (both backends): compact pages and answers, no echo, content codings
both ways with a cap on what a body expands to, and protocol 1 served for its days of grace."""
from __future__ import annotations

import gzip
import io
import json
import uuid
import zlib
from datetime import timedelta
from typing import Any

import brotli
import pytest
import zstandard
from sqlalchemy import delete, update

from sync import compact
from sync import protocol as versions
from tests.conftest import valid_id
from tests.sync_client import expand_page, registered_phone
from webapp.models import Person, SyncProtocol
from webapp.base.timeutil import utcnow

NOW = "2026-11-26T08:00:00Z"


@pytest.fixture
def token(client, area):  # type: ignore[no-untyped-def]
    r = client.post("/api/devices", json={"username": "coord", "password": "pw", "label": "t"})
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def _m(kind: str, op: str, rid: str, fields: dict[str, Any], seq: int, **extra: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "seq": seq, "type": kind, "op": op, "record_id": rid, "fields": fields,
            "base": {}, "at": NOW, **extra}


def _push(client, headers, mutations: list[dict[str, Any]], protocol: int = 2, coding: str | None = None,
          raw: bytes | None = None):  # type: ignore[no-untyped-def]
    body = raw if raw is not None else json.dumps({"protocol": protocol, "mutations": mutations}).encode()
    sent = {"gzip": lambda b: gzip.compress(b), "deflate": zlib.compress, "zstd": zstandard.compress,
            "br": brotli.compress, None: lambda b: b}[coding](body) if raw is None else body
    extra = {"Content-Encoding": coding} if coding else {}
    return client.post("/api/sync/push", data=sent, headers={**headers, **extra, "Content-Type": "application/json"})


def _pull(client, headers, cursor: str | None = None, protocol: int = 2, encoding: str | None = None):  # type: ignore[no-untyped-def]
    query = {"protocol": str(protocol), **({"cursor": cursor} if cursor else {})}
    return client.get("/api/sync/pull", query_string=query,
                      headers={**headers, **({"Accept-Encoding": encoding} if encoding else {})})


def _round(client, headers, cursor: str | None = None) -> tuple[list[dict[str, Any]], str]:  # type: ignore[no-untyped-def]
    pages = []
    while True:
        page = expand_page(_pull(client, headers, cursor).get_json())
        pages.append(page)
        cursor = page["cursor"]
        if not page["more"]:
            return pages, cursor


def _newcomer(area) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    pid = str(uuid.uuid4())
    return [_m("person", "create", pid, {"name": "新住户", "id_type": "resident",
                                         "id_number": valid_id("11010519850312004"), "category": "migrant"}, 1),
            _m("residency", "create", str(uuid.uuid4()), {"person_id": pid, "house_id": str(area.houses["A1"].id),
                                                          "start_date": "2026-11-20"}, 2),
            _m("visit", "create", str(uuid.uuid4()), {"house_id": str(area.houses["A1"].id), "visited_at": NOW,
                                                      "outcome": "verified"}, 3),
            _m("person", "update", str(area.persons["A1"].id), {"phone": "13900001111"}, 4, base_version=1,
               base={"phone": "13812345678"})]


def test_a_pull_never_sends_back_the_phones_own_writes(client, token, area, db_session) -> None:  # type: ignore[no-untyped-def]
    _pages, cursor = _round(client, token)
    mutations = _newcomer(area)
    answer = _push(client, token, mutations, coding="gzip")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    outcomes = answer.get_json()["outcomes"]
    # Compact: only what the phone does not know; what the server derived comes as `set`.
    assert [o["status"] for o in outcomes] == ["applied"] * 4
    assert all(set(o) <= {"seq", "status", "version", "set"} for o in outcomes), outcomes
    assert outcomes[0]["version"] == 1 and outcomes[0]["set"]["sex"] == "F" and \
        outcomes[0]["set"]["birth_date"] == "1985-03-12"
    assert outcomes[2]["set"]["user_id"] == area.users["coordinator"].id
    assert outcomes[3] == {"seq": 4, "status": "applied", "version": 2}
    # Someone else changes one of them afterwards: that change comes; the rest do not.
    pages, _ = _round(client, token, cursor)
    assert sum(p["count"] for p in pages) == 0 and sum(p["echoes"] for p in pages) == 4
    db_session.rollback()
    db_session.execute(update(Person).where(Person.id == area.persons["A1"].id)
                       .values(note="居委会补记", version=Person.version + 1))
    db_session.commit()
    pages, _ = _round(client, token, cursor)
    persons = [r for p in pages for r in p["changes"].get("person", [])]
    assert [(r["id"], r["version"], r["note"]) for r in persons] == [(str(area.persons["A1"].id), 3, "居委会补记")]


def test_a_merged_or_conflicting_write_comes_back_whole(client, token, area, db_session) -> None:  # type: ignore[no-untyped-def]
    _pages, cursor = _round(client, token)
    db_session.rollback()
    db_session.execute(update(Person).where(Person.id == area.persons["A1"].id)
                       .values(note="中心改过", version=Person.version + 1))
    db_session.commit()
    stale = _m("person", "update", str(area.persons["A1"].id), {"phone": "13900002222"}, 1, base_version=1,
               base={"phone": "13812345678"})
    [outcome] = _push(client, token, [stale]).get_json()["outcomes"]
    assert outcome["status"] == "merged" and "set" not in outcome
    pages, _ = _round(client, token, cursor)
    [row] = [r for p in pages for r in p["changes"].get("person", [])]
    assert (row["phone"], row["note"], row["version"]) == ("13900002222", "中心改过", 3)


def test_a_resent_batch_tells_the_version_and_what_was_set_again(client, token, area) -> None:  # type: ignore[no-untyped-def]
    mutations = _newcomer(area)[:1]
    first = _push(client, token, mutations).get_json()["outcomes"][0]
    again = _push(client, token, mutations).get_json()["outcomes"][0]
    assert again == {**first, "status": "already_applied", "first_status": "applied"}


def test_protocol_1_still_gets_its_echo_and_its_long_answers(client, token, area) -> None:  # type: ignore[no-untyped-def]
    cursor = _pull(client, token, protocol=1).get_json()["cursor"]
    mutations = _newcomer(area)
    outcomes = _push(client, token, mutations, protocol=1).get_json()["outcomes"]
    assert outcomes[0]["id"] == mutations[0]["id"] and outcomes[0]["record_id"] == mutations[0]["record_id"]
    page = _pull(client, token, cursor, protocol=1).get_json()
    assert {r["id"] for r in page["changes"]["person"]} >= {mutations[0]["record_id"]}
    assert "seq" in page["changes"]["person"][0] and "echoes" not in page


def test_compact_tables_carry_any_column_and_no_bookkeeping() -> None:
    rows = [{"id": "b", "version": 1, "seq": 9, "changed_at": "x", "changed_by_id": "u", "new_column": 5,
             "person_id": "p2"},
            {"id": "a", "version": 2, "seq": 9, "changed_at": "x", "changed_by_id": "u", "id_number_masked": "110***",
             "person_id": "p1"}]
    table = compact.table(rows, "residency")
    # Column by column, rows in the order of their first reference (the person).
    assert table == {"id": ["a", "b"], "version": [2, 1], "new_column": [None, 5], "person_id": ["p1", "p2"],
                     "id_number_masked": ["110***", None]}
    assert compact.expand(table)[1] == {"id": "b", "version": 1, "new_column": 5, "person_id": "p2",
                                        "id_number_masked": None}


def test_a_snapshot_page_is_compact(client, token, area) -> None:  # type: ignore[no-untyped-def]
    page = _pull(client, token).get_json()
    person = page["changes"]["person"]
    assert "id" in person and not {"seq", "changed_at", "changed_by_id"} & set(person)
    assert sum(len(t["id"]) for t in page["changes"].values()) == page["count"]


@pytest.mark.parametrize(("accept", "coding"), [
    ("gzip, deflate, br, zstd", "zstd"), ("gzip, br", "br"), ("gzip", "gzip"), ("zstd;q=0, gzip", "gzip"),
    ("identity", None), (None, None), ("gzip;q=1, zstd;q=0.5", "gzip"), ("br;q=0.9, zstd;q=0.8, gzip;q=0.1", "br"),
    ("*", "zstd"), ("*;q=0, gzip;q=0.2", "gzip")])
def test_answers_in_the_best_coding_the_client_accepts(client, token, area, accept: str | None,
                                                      coding: str | None) -> None:  # type: ignore[no-untyped-def]
    r = _pull(client, token, encoding=accept)
    assert r.status_code == 200 and r.headers.get("Content-Encoding") == coding
    raw = r.get_data()
    body = {"zstd": lambda b: zstandard.ZstdDecompressor().stream_reader(io.BytesIO(b)).read(),
            "br": brotli.decompress, "gzip": gzip.decompress, None: lambda b: b}[coding](raw)
    assert json.loads(body)["protocol"] == 2 and "Accept-Encoding" in r.headers["Vary"]


@pytest.mark.parametrize("coding", ["gzip", "deflate", "zstd", "br"])
def test_a_compressed_push_is_applied(client, token, area, coding: str) -> None:  # type: ignore[no-untyped-def]
    r = _push(client, token, _newcomer(area)[2:3], coding=coding)
    assert r.status_code == 200 and r.get_json()["outcomes"][0]["status"] == "applied"


_EMPTY = b'{"protocol": 2, "mutations": []}'


@pytest.mark.parametrize("coding", ["gzip", "zstd"])
def test_a_body_in_several_members_or_frames_is_applied_whole(client, token, area, coding: str) -> None:  # type: ignore[no-untyped-def]
    """gzip allows a series of members and zstd a series of frames (RFC 1952 §2.2, RFC 8878
    §3.1): a streaming compressor may end one per chunk. The server read only the first and
    refused the body as broken JSON (or, had the first part been a document, dropped the rest)."""
    body = json.dumps({"protocol": 2, "mutations": _newcomer(area)[:2]}).encode()
    squeeze = {"gzip": lambda b: gzip.compress(b, mtime=0), "zstd": zstandard.compress}[coding]
    half = len(body) // 2
    r = _push(client, token, [], coding=coding, raw=squeeze(body[:half]) + squeeze(body[half:]))
    assert r.status_code == 200, r.get_json()
    assert [o["status"] for o in r.get_json()["outcomes"]] == ["applied", "applied"]


@pytest.mark.parametrize(("coding", "raw", "status", "code"), [
    ("gzip", gzip.compress(b"[" + b" " * (17 * 1024 * 1024) + b"]"), 413, "body_too_large"),
    ("zstd", zstandard.compress(b" " * (17 * 1024 * 1024)), 413, "body_too_large"),
    ("br", brotli.compress(b" " * (17 * 1024 * 1024)), 413, "body_too_large"),
    ("deflate", zlib.compress(b" " * (17 * 1024 * 1024)), 413, "body_too_large"),
    ("gzip", b"not gzip at all", 400, "invalid_encoding"),
    ("gzip", gzip.compress(b'{"protocol": 2, "mutations": []}')[:-12], 400, "invalid_encoding"),
    ("compress", b"x", 415, "unsupported_encoding"),
    ("gzip", gzip.compress(_EMPTY, mtime=0) + b"junk", 400, "invalid_encoding"),
    ("deflate", zlib.compress(_EMPTY) + b"junk", 400, "invalid_encoding"),
    ("zstd", zstandard.compress(_EMPTY) + b"junk", 400, "invalid_encoding"),
    ("zstd", zstandard.compress(_EMPTY)[:-3], 400, "invalid_encoding"),
    ("gzip", gzip.compress(b"[", mtime=0) + gzip.compress(b" " * (17 * 1024 * 1024) + b"]", mtime=0),
     413, "body_too_large"),
], ids=["gzip-bomb", "zstd-bomb", "br-bomb", "deflate-bomb", "not-gzip", "gzip-cut", "unknown-coding",
        "gzip-trailing", "deflate-trailing", "zstd-trailing", "zstd-cut", "gzip-bomb-in-second-member"])
# Named ids: gzip's header carries the time, and xdist's workers must collect the same names.
def test_a_body_past_the_cap_or_undecodable_is_refused_whole(client, token, area, coding: str, raw: bytes,
                                                             status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    r = _push(client, token, [], coding=coding, raw=raw)
    assert (r.status_code, r.get_json()["code"]) == (status, code)


@pytest.fixture
def grace():  # type: ignore[no-untyped-def]
    """The start of protocol 2 is cached per process: forgotten after the test that moves it."""
    yield
    versions.forget()


def test_protocol_1_is_served_for_its_days_then_told_to_update(app, client, token, area, db_session,
                                                              grace) -> None:  # type: ignore[no-untyped-def]
    visit = _newcomer(area)[2]
    assert _push(client, token, [visit], protocol=1).status_code == 200
    db_session.rollback()
    # The migration recorded when protocol 2 began (the tests empty every table): days ago.
    db_session.execute(delete(SyncProtocol))
    days = app.config["PROTOCOL_PREVIOUS_DAYS"]
    db_session.add(SyncProtocol(protocol=2, since=utcnow() - timedelta(days=days - 1)))
    db_session.commit()
    versions.forget()
    assert _push(client, token, [{**visit, "id": str(uuid.uuid4()), "seq": 2}], protocol=1).status_code == 200
    db_session.execute(update(SyncProtocol).values(since=utcnow() - timedelta(days=days, seconds=1)))
    db_session.commit()
    versions.forget()
    for r in (_push(client, token, [{**visit, "id": str(uuid.uuid4()), "seq": 3}], protocol=1),
              _pull(client, token, protocol=1)):
        assert (r.status_code, r.get_json()["code"]) == (426, "protocol_outdated")
    # The same work under the new app goes through.
    assert _push(client, token, [{**visit, "id": str(uuid.uuid4()), "seq": 3}]).status_code == 200
    assert _pull(client, token).status_code == 200


@pytest.mark.parametrize("protocol", [1, 2])
def test_the_reference_client_keeps_what_the_server_holds(client, area, protocol: int) -> None:  # type: ignore[no-untyped-def]
    """The client written from docs/sync.md, both protocols: after its own push and a pull it
    holds the server's values, though protocol 2 never sent them back."""
    phone = registered_phone(client, "coord", protocol=protocol)
    for m in _newcomer(area):
        phone.queue(m["type"], m["op"], m["record_id"], m["fields"])
    phone.sync()
    fresh = registered_phone(client, "coord", protocol=2)
    for table, rows in fresh.rows.items():
        for rid, row in rows.items():
            assert {k: phone.rows[table][rid].get(k) for k in row} == row, (table, row)


def test_base_versions_as_the_doc_says(client, token, area, db_session) -> None:  # type: ignore[no-untyped-def]
    """docs/sync.md §3: an edit of a record whose create is not answered yet sends
    base_version 0; a delete after a change elsewhere needs base {deleted_at: null}."""
    from webapp.models import HouseFlag

    flag = str(uuid.uuid4())
    made = {"house_id": str(area.houses["A1"].id), "kind": "group_rent", "note": "甲"}
    answers = _push(client, token, [_m("house_flag", "create", flag, made, 1),
                                    _m("house_flag", "update", flag, {"note": "乙"}, 2, base_version=0,
                                       base={"note": "甲"})]).get_json()["outcomes"]
    assert [(o["status"], o.get("version")) for o in answers] == [("applied", 1), ("merged", 1)], answers
    db_session.rollback()
    db_session.execute(update(HouseFlag).where(HouseFlag.id == uuid.UUID(flag))
                       .values(note="居委会改", version=HouseFlag.version + 1))
    db_session.commit()
    [refused] = _push(client, token, [_m("house_flag", "delete", flag, {}, 3, base_version=1)]).get_json()["outcomes"]
    assert refused["status"] == "conflict"
    [deleted] = _push(client, token, [_m("house_flag", "delete", flag, {}, 4, base_version=1,
                                         base={"deleted_at": None})]).get_json()["outcomes"]
    assert deleted["status"] == "merged"


def test_protocol_1_still_calls_a_task_tip(client, token, area, db_session) -> None:  # type: ignore[no-untyped-def]
    """Issue 20 renamed tip to task. The app of protocol 1 says "tip": its push of type "tip" is
    a task, and its answers and pulls say "tip"; protocol 2 says "task" and knows no "tip"."""
    from webapp.models import Task
    from webapp.registry.tasks import create_task

    task = create_task(db_session, area.houses["A1"], "moved_in", "旧称")
    db_session.commit()
    old = _pull(client, token, protocol=1).get_json()
    assert str(task.id) in [r["id"] for r in old["changes"]["tip"]] and "task" not in old["changes"]
    new = expand_page(_pull(client, token).get_json())
    assert str(task.id) in [r["id"] for r in new["changes"]["task"]] and "tip" not in new["changes"]

    closing = {"status": "done", "outcome": "已核实", "result": "no_change"}
    refused = _push(client, token, [_m("tip", "update", str(task.id), closing, 1, base_version=task.version)])
    assert refused.status_code == 422 and "tip" in refused.get_json()["detail"]  # protocol 2: unknown type
    answer = _push(client, token, [_m("tip", "update", str(task.id), closing, 1, base_version=task.version)],
                   protocol=1)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    [outcome] = answer.get_json()["outcomes"]
    assert (outcome["status"], outcome["type"]) == ("applied", "tip"), outcome
    db_session.rollback()
    assert db_session.get(Task, task.id).status == "done"  # type: ignore[union-attr]
    # A closed task leaves the phone: protocol 1 hears of it as a tip.
    later = _pull(client, token, cursor=old["cursor"], protocol=1).get_json()
    while later["more"]:
        later = _pull(client, token, cursor=later["cursor"], protocol=1).get_json()
    assert later["changes"]["tip"][0]["status"] == "done", later
    assert "task" not in later["changes"] and "task" not in later["evict"], later
