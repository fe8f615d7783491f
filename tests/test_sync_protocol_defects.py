"""Issue 17's defects, found by an independent client written from docs/sync.md: each one's
regression test (both backends)."""
from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from sync import devices
from sync.batch import parse_batch
from sync.push import apply_batch
from tests import factories as f
from tests.conftest import valid_id
from tests.races import first_writes_then_second
from tests.sync_client import registered_phone
from webapp.base.dbsetup import refresh_statistics
from webapp.models import Conflict, Person, Residency, SyncMutation
from geo.assign import CellFinder

NOW = "2026-11-26T08:00:00Z"


def _mutation(kind: str, op: str, record_id: str, fields: dict[str, Any], seq: int = 1, **extra: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "seq": seq, "type": kind, "op": op, "record_id": record_id, "fields": fields,
            "base": {}, "at": NOW, **extra}


def _push(client, headers, *mutations: dict[str, Any], protocol: Any = 1) -> Any:  # type: ignore[no-untyped-def]
    return client.post("/api/sync/push", json={"protocol": protocol, "mutations": list(mutations)}, headers=headers)


@pytest.fixture
def headers(client, area):  # type: ignore[no-untyped-def]
    r = client.post("/api/devices", json={"username": "coord", "password": "pw", "label": "t"})
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def _concurrently(engine: Engine, *jobs: Any) -> list[Any]:
    """Run each job(session) in its own thread and session, released at the same moment."""
    barrier, results, errors = threading.Barrier(len(jobs)), [None] * len(jobs), []

    def run(i: int, job: Any) -> None:
        try:
            with Session(engine) as session:
                barrier.wait()
                results[i] = job(session)
                session.commit()
        except Exception as error:  # noqa: BLE001 (reported below, with its type)
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


@pytest.mark.parametrize("locked_by", ["push", "authentication"])
def test_the_same_batch_sent_twice_at_once_is_applied_once(db_session, engine, area, locked_by: str) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL answered 500 (a duplicate receipt key) 19-27 times in 100 fault trials.
    The device row is locked by the push itself, or (as the API does, a round trip less)
    by the query that authenticates the phone."""
    s = db_session
    token = devices.register(s, area.users["coordinator"], None, None).token
    s.commit()
    body = {"protocol": 1, "mutations": [_mutation("visit", "create", str(uuid.uuid4()), {
        "house_id": str(area.houses["A1"].id), "visited_at": NOW, "outcome": "verified"}, seq=n + 1)
        for n in range(50)]}

    def push(session: Session) -> list[str]:
        locked = locked_by == "authentication"
        device = devices.authenticate(session, token, lock=locked)
        return [o.status for o in apply_batch(session, device, parse_batch(body), locate=CellFinder(session), device_locked=locked).outcomes]

    for _ in range(3):
        first, second = _concurrently(engine, push, push)
        assert sorted({tuple(set(first)), tuple(set(second))}) in (
            [("already_applied",), ("applied",)], [("already_applied",)])
    s.rollback()
    assert s.scalar(select(SyncMutation.id).where(SyncMutation.device_seq == 50)) is not None


def test_a_duplicate_person_race_ends_the_same_on_both_backends(db_session, engine, area) -> None:  # type: ignore[no-untyped-def]
    """Two phones of one cell register the same newcomer at the same moment: merged, with the
    first one's id (on PostgreSQL it was a conflict without canonical_id, 8 of 15 races).
    The race is made certain: the second push starts while the first has written but not
    committed."""
    s = db_session
    other = f.user(s, "coord2", "coordinator")
    area.cells["A1"].coordinators.append(other)
    tokens = [devices.register(s, u, None, None).token for u in (area.users["coordinator"], other)]
    # Each phone at its own door of the cell: no row both pushes lock (a shared house would
    # queue them, hiding the race).
    houses = {"first": str(area.houses["A1"].id), "second": str(f.house(s, area.cells["A1"]).id)}
    s.commit()
    number = valid_id("42010119900101777")
    tokens_by = dict(zip(("first", "second"), tokens, strict=True))

    def push(name: str, session: Session) -> list[dict[str, Any]]:
        pid = str(uuid.uuid4())
        body = {"protocol": 1, "mutations": [
            _mutation("person", "create", pid, {"name": "新来的", "id_number": number}),
            _mutation("residency", "create", str(uuid.uuid4()), {"person_id": pid, "house_id": houses[name],
                                                                 "start_date": "2026-11-20"}, seq=2)]}
        device = devices.authenticate(session, tokens_by[name])
        return [o.to_wire() for o in apply_batch(session, device, parse_batch(body), locate=CellFinder(session)).outcomes]

    results = first_writes_then_second(engine, push)
    first, second = results["first"][0], results["second"][0]
    assert first["status"] == "applied"
    assert (second["status"], second.get("canonical_id")) == ("merged", first["record_id"]), second
    s.rollback()
    assert len(s.scalars(select(Person).where(Person.id_number == number, Person.deleted_at.is_(None))).all()) == 1


def test_a_create_over_a_taken_id_with_other_values_is_kept_for_the_centre(client, db_session, area, headers) -> None:  # type: ignore[no-untyped-def]
    """It was answered `merged` and its values dropped: typed data lost."""
    house = str(area.houses["A1"].id)
    vid = str(uuid.uuid4())
    visit = {"house_id": house, "visited_at": NOW, "outcome": "verified"}
    assert _push(client, headers, _mutation("visit", "create", vid, visit)).get_json()["outcomes"][0]["status"] == "applied"
    again = _push(client, headers, _mutation("visit", "create", vid, visit, seq=2)).get_json()["outcomes"][0]
    assert again["status"] == "merged"  # the same values: a retry under a new mutation id
    other = _push(client, headers, _mutation("visit", "create", vid, {**visit, "outcome": "no_answer"}, seq=3))
    [outcome] = other.get_json()["outcomes"]
    assert outcome["status"] == "conflict"
    db_session.rollback()
    conflict = db_session.get(Conflict, uuid.UUID(outcome["conflict_id"]))
    assert conflict.kind == "id_reused" and conflict.device_values["outcome"] == "no_answer"
    assert conflict.registry_values == {"outcome": "verified"}


def test_a_residency_created_over_a_taken_id_elsewhere_is_a_conflict(client, db_session, area, headers) -> None:  # type: ignore[no-untyped-def]
    """The same defect for a residency: another person or house under an existing id."""
    houses = [str(area.houses["A1"].id), str(f.house(db_session, area.cells["A1"]).id)]
    db_session.commit()
    pid, rid = str(uuid.uuid4()), str(uuid.uuid4())
    person = _mutation("person", "create", pid, {"name": "新来的", "id_number": valid_id("42010119900101888")})
    residency = {"person_id": pid, "house_id": houses[0], "start_date": "2026-11-20"}
    first = _push(client, headers, person, _mutation("residency", "create", rid, residency, seq=2))
    assert [o["status"] for o in first.get_json()["outcomes"]] == ["applied", "applied"]
    moved = _push(client, headers, _mutation("residency", "create", rid, {**residency, "house_id": houses[1]}, seq=3))
    [outcome] = moved.get_json()["outcomes"]
    assert outcome["status"] == "conflict", outcome
    db_session.rollback()
    conflict = db_session.get(Conflict, uuid.UUID(outcome["conflict_id"]))
    assert conflict.kind == "id_reused" and conflict.registry_values == {"house_id": houses[0]}


def test_a_seq_past_two_to_the_31_is_accepted_and_a_wild_base_version_refuses_only_its_mutation(
        client, db_session, area, headers) -> None:  # type: ignore[no-untyped-def]
    """A client numbering by Date.now() could never push again: the whole batch was refused."""
    stamp = 1_764_144_000_000  # Date.now() on 2025-11-26
    visit = _mutation("visit", "create", str(uuid.uuid4()), {"house_id": str(area.houses["A1"].id),
                                                            "visited_at": NOW, "outcome": "verified"}, seq=stamp)
    wild = _mutation("house", "update", str(area.houses["A1"].id), {"note": "x"}, seq=stamp + 1, base_version=2**40)
    r = _push(client, headers, visit, wild)
    assert r.status_code == 200, r.get_data(as_text=True)
    outcomes = r.get_json()["outcomes"]
    assert [o["status"] for o in outcomes] == ["applied", "rejected"]
    assert outcomes[1]["errors"][0]["code"] == "base_version.range" and r.get_json()["last_seq"] == stamp + 1
    assert _push(client, headers, visit).get_json()["outcomes"][0]["status"] == "already_applied"
    too_big = _mutation("visit", "create", str(uuid.uuid4()), {}, seq=2**53)
    assert _push(client, headers, too_big).status_code == 422


@pytest.mark.parametrize(("protocol", "status", "code"), [
    (3, 400, "protocol_unsupported"),  # newer than the server: not "update the app"
    (0, 426, "protocol_outdated"),
    ("1", 422, "invalid_protocol"),
    (None, 422, "invalid_protocol"),
])
def test_protocol_answers_say_who_must_update(client, headers, protocol: Any, status: int, code: str) -> None:
    r = _push(client, headers, protocol=protocol)
    assert (r.status_code, r.get_json()["code"]) == (status, code)
    if protocol != "1":
        query = {} if protocol is None else {"protocol": str(protocol)}
        pulled = client.get("/api/sync/pull", query_string=query, headers=headers)
        assert (pulled.status_code, pulled.get_json()["code"]) == (status, code)


@pytest.mark.parametrize("limit", ["0", "x", "10001", "-5", "2.5"])
def test_a_bad_pull_limit_is_refused_not_guessed(client, headers, limit: str) -> None:
    r = client.get("/api/sync/pull", query_string={"protocol": "1", "limit": limit}, headers=headers)
    assert (r.status_code, r.get_json()["code"]) == (422, "invalid_limit")
    assert client.get("/api/sync/pull", query_string={"protocol": "1", "limit": "1"}, headers=headers).status_code == 200


@pytest.mark.parametrize(("field", "value"), [("floor_area", 1e308), ("living_area", -1), ("lat", 91), ("lon", 0)])
def test_numbers_out_of_any_plausible_range_are_rejected(client, area, headers, field: str, value: float) -> None:
    m = _mutation("house", "update", str(area.houses["A1"].id), {field: value}, base_version=1)
    [outcome] = _push(client, headers, m).get_json()["outcomes"]
    assert outcome["status"] == "rejected" and [e["code"] for e in outcome["errors"]] == ["field.range"]


@pytest.mark.parametrize(("kind", "field", "value"), [
    ("person", "permit_issued", "9999-01-01"), ("person", "permit_expiry", "0202-03-01"),
    ("person", "permit_endorsed_on", "2100-01-01"), ("residency", "end_date", "9999-12-31"),
    ("residency", "start_date", "1899-12-31")])
def test_days_out_of_any_plausible_range_are_rejected(client, area, db_session, headers, kind: str, field: str,
                                                      value: str) -> None:
    """A day typed as 9999 ("long-term") or 0202 (for 2020) was stored; a permit issued in 9999
    then failed the district's whole rules run (tests/vectors/permits.json)."""
    person = area.persons["A1"]
    record = person if kind == "person" else db_session.scalars(select(Residency).where(Residency.person_id == person.id)).one()
    m = _mutation(kind, "update", str(record.id), {field: value}, base_version=record.version)
    [outcome] = _push(client, headers, m).get_json()["outcomes"]
    assert outcome["status"] == "rejected" and [e["code"] for e in outcome["errors"]] == ["field.range"]
    assert "1900-01-01" in outcome["errors"][0]["zh"] and "2099-12-31" in outcome["errors"][0]["en"]


@pytest.mark.parametrize(("kind", "fields"), [
    ("person", {"name": "   "}), ("person", {"name": None}), ("person", {"id_number": None}), ("person", {"id_number": ""}),
    ("house", {"road": " "}), ("house", {"number": None})],
    ids=["name-spaces", "name-null", "id-null", "id-empty", "road-space", "number-null"])
def test_a_change_cannot_empty_what_a_record_must_have(client, area, db_session, headers, kind: str,
                                                       fields: dict[str, Any]) -> None:
    """A create must give a person's name and ID number (a house's road and number), yet a change
    could empty them: a person was left without a name or number ("applied"), a house's blank
    road reached the database's NOT NULL and went to the centre as a conflict."""
    record = area.persons["A1"] if kind == "person" else area.houses["A1"]
    [outcome] = _push(client, headers, _mutation(kind, "update", str(record.id), fields,
                                                 base_version=record.version)).get_json()["outcomes"]
    [name] = fields
    assert outcome["status"] == "rejected" and [(e["field"], e["code"]) for e in outcome["errors"]] == [(name, "field.required")]
    db_session.rollback()
    assert getattr(db_session.get(type(record), record.id), name)


def test_a_bulk_load_leaves_the_planner_statistics(db_session, backend, area) -> None:  # type: ignore[no-untyped-def]
    """A first pull after seeding ran past the worker timeout on PostgreSQL until autovacuum's
    first ANALYZE: the seed, an extract import and a restore now refresh the statistics."""
    s = db_session
    refresh_statistics(s)
    if backend != "postgresql":
        return
    analysed = s.scalar(text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'person'"))
    assert analysed is not None


def _spy_on_statistics(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[str]:
    """Calls of `module.refresh_statistics`, which still runs."""
    calls: list[str] = []
    real = module.refresh_statistics

    def spy(session: Any) -> None:
        calls.append(session.get_bind().dialect.name)
        real(session)
    monkeypatch.setattr(module, "refresh_statistics", spy)
    return calls


def _persons_csv() -> bytes:
    from webapp.validation import check_char_gb11643

    number = "31011719900315021" + check_char_gb11643("31011719900315021")
    return f"证件类型,证件号码,姓名,手机,人员类别\nresident,{number},赵六,13900002222,来沪\n".encode("utf-8-sig")


def test_the_demo_seed_refreshes_the_statistics(runner, db_session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import webapp.cli

    calls = _spy_on_statistics(monkeypatch, webapp.cli)
    result = runner.invoke(args=["seed-demo", "--scale", "0.01"])
    assert result.exit_code == 0, result.output
    assert len(calls) == 1


def test_an_extract_import_refreshes_the_statistics_when_it_wrote(runner, client, area, tmp_path,  # type: ignore[no-untyped-def]
                                                                   monkeypatch) -> None:
    import io

    import webapp.cli
    import webapp.extract.views
    from tests.conftest import csrf_token, login

    by_command = _spy_on_statistics(monkeypatch, webapp.cli)
    csv = tmp_path / "persons.csv"
    csv.write_bytes(_persons_csv())
    assert runner.invoke(args=["import-extract", "--persons", str(csv), "--dry-run"]).exit_code == 0
    assert by_command == []  # nothing written, nothing to refresh
    result = runner.invoke(args=["import-extract", "--persons", str(csv)])
    assert result.exit_code == 0, result.output
    assert len(by_command) == 1
    by_page = _spy_on_statistics(monkeypatch, webapp.extract.views)
    login(client, "centre")
    upload = {"csrf_token": csrf_token(client, "/extract/"),
              "persons": (io.BytesIO(_persons_csv().replace("赵六".encode(), "赵七".encode())), "persons.csv")}
    assert client.post("/extract/import", data=upload, content_type="multipart/form-data").status_code == 200
    assert len(by_page) == 1


def test_an_old_client_keeps_its_queue_across_a_new_seq_numbering(client, area) -> None:  # type: ignore[no-untyped-def]
    """Receipts keep the big numbers: the device's last_seq reaches the pull as is."""
    phone = registered_phone(client, "coord")
    phone.next_seq = 2**40
    phone.queue("visit", "create", str(uuid.uuid4()), {"house_id": str(area.houses["A1"].id), "visited_at": NOW,
                                                        "outcome": "verified"})
    assert [o["status"] for o in phone.push()] == ["applied"]
    page = phone.send("pull", None, None)
    assert page["last_applied_seq"] == 2**40  # a 64-bit column (migration h4)
