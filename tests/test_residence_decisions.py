"""合法稳定住所 decisions (seed art. 5(2)): the committee certifies an applicant's residence on
a basis, with a certificate the public plate page verifies, or records its refusal with the
reason (不予出具). A house the rules refuse gets no certificate."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests import factories as f
from tests.conftest import csrf_token, login, logout, valid_id
from webapp.models import AuditEntry, House, HouseCode, Person, ResidenceCheck, Room
from webapp.registry.plates import assign_plates


def _plate(db_session, house) -> str:  # type: ignore[no-untyped-def]
    return db_session.scalar(select(HouseCode.code).where(HouseCode.house_id == house.id, HouseCode.kind == "plate"))


def _decide(client, house, person, **data: str):  # type: ignore[no-untyped-def]
    return client.post(f"/houses/{house.id}/residence-decision",
                       data={"csrf_token": csrf_token(client, "/"), "person": str(person.id), **data})


def test_a_certificate_is_printed_and_verified_at_the_plate(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    assign_plates(db_session)
    db_session.commit()
    house, person = area.houses["A2"], area.persons["A2"]  # A1's test plate code has no valid check
    login(client, "comm")
    page = client.get(f"/houses/{house.id}").get_data(as_text=True)
    assert 'id="residence-decision"' in page and "登记备案的租赁住房" in page
    response = _decide(client, house, person, result="stable", basis="registered_lease")
    assert response.status_code == 302 and "/residence-certificates/" in response.headers["Location"]
    printed = client.get(response.headers["Location"]).get_data(as_text=True)
    number = re.search(r'id="certificate-no">([0-9]+)<', printed).group(1)  # type: ignore[union-attr]
    code = re.search(r'id="check-code">([0-9A-Z]+)<', printed).group(1)  # type: ignore[union-attr]
    assert person.name in printed and "440***********0014" in printed  # the committee sees the number masked
    db_session.rollback()
    check = db_session.scalar(select(ResidenceCheck).where(ResidenceCheck.certificate_no == number))
    assert (check.person_id, check.basis, check.result, check.checked_by_id) == (
        person.id, "registered_lease", "stable", area.users["committee"].id)
    assert {a.action for a in db_session.scalars(select(AuditEntry))} >= {"residence_decision", "view_certificate"}
    # Anyone at the door: genuine with the right code, for this house only; no name shown.
    plate = _plate(db_session, house)
    public = client.get(f"/h/{plate}?certificate={number}&check={code.lower()}").get_data(as_text=True)
    assert f"{number}" in public and "真实有效" in public and person.name not in public
    wrong = client.get(f"/h/{plate}?certificate={number}&check=AAAAAA").get_data(as_text=True)
    assert "未为本地址出具" in wrong
    other = _plate(db_session, area.houses["B1"])
    assert "未为本地址出具" in client.get(f"/h/{other}?certificate={number}&check={code}").get_data(as_text=True)


def test_a_house_the_rules_refuse_gets_only_a_refusal(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    """Group renting the rules compute (three strangers in one room) refuses the certificate."""
    house = area.houses["A1"]
    house.use = "rented"
    room = Room(house_id=house.id, name="301")
    db_session.add(room)
    db_session.flush()
    for n in range(3):
        p = f.person(db_session, name=f"租客{n}", id_number=valid_id(f"34010219900101{n:03d}"))
        f.residency(db_session, p, house, room_id=room.id)
    db_session.commit()
    applicant = area.persons["A1"]
    login(client, "comm")
    page = client.get(f"/houses/{house.id}").get_data(as_text=True)
    decision_form = page[page.index('id="residence-decision"'):]
    assert "群租嫌疑（按登记计算）" in page and 'value="stable"' not in decision_form[:decision_form.index("</form>")]
    assert _decide(client, house, applicant, result="stable", basis="owned").status_code == 302
    db_session.rollback()
    assert db_session.scalar(select(ResidenceCheck)) is None  # refused: nothing recorded
    _decide(client, house, applicant, result="refused", note="")
    db_session.rollback()
    assert db_session.scalar(select(ResidenceCheck)) is None  # a refusal needs its reason
    _decide(client, house, applicant, result="refused", note="群租，不予出具")
    db_session.rollback()
    refusal = db_session.scalar(select(ResidenceCheck))
    assert (refusal.result, refusal.note, refusal.certificate_no) == ("refused", "群租，不予出具", None)
    assert any("群租嫌疑" in r for r in refusal.reasons)
    assert "群租，不予出具" in client.get(f"/houses/{house.id}").get_data(as_text=True)


def test_only_committees_and_the_centre_decide(client, area) -> None:  # type: ignore[no-untyped-def]
    house, person = area.houses["A1"], area.persons["A1"]
    for who in ("coord", "lead", "police"):
        login(client, who)
        assert _decide(client, house, person, result="stable", basis="owned").status_code == 403
        logout(client)
    login(client, "comm")
    assert _decide(client, area.houses["B1"], area.persons["B1"], result="stable", basis="owned").status_code == 404


def test_checks_are_limited_per_address(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    from webapp.public.views import CERTIFICATE_CHECKS_PER_HOUR

    assign_plates(db_session)
    db_session.commit()
    plate = _plate(db_session, area.houses["A2"])
    answers = [client.get(f"/h/{plate}?certificate=2026{n:08d}&check=ABCDEF").status_code
               for n in range(CERTIFICATE_CHECKS_PER_HOUR + 1)]
    assert answers[:-1] == [200] * CERTIFICATE_CHECKS_PER_HOUR and answers[-1] == 429


def test_the_same_certificate_form_sent_twice_issues_one(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    # A double-click issued two certificates, both genuine at the plate.
    house, person = area.houses["A2"], area.persons["A2"]
    login(client, "comm")
    first = _decide(client, house, person, result="stable", basis="registered_lease")
    again = _decide(client, house, person, result="stable", basis="registered_lease")
    assert first.status_code == 302 and again.status_code == 302
    db_session.rollback()
    [issued] = db_session.scalars(select(ResidenceCheck.certificate_no)).all()
    assert f"今天已为此人出具证明（编号 {issued}）" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_one_applicants_refusal_is_theirs_not_the_houses(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    # Refusing one applicant (their own missing lease) refused every other resident of the
    # house, and showed that applicant's reason as the house's verdict.
    house, refused = area.houses["A2"], area.persons["A2"]
    neighbour = f.person(db_session, name="李邻", id_number=valid_id("31011719900303123"), category="migrant")
    f.residency(db_session, neighbour, house)
    db_session.commit()
    login(client, "comm")
    assert _decide(client, house, refused, result="refused", note="本人未带租赁合同").status_code == 302
    assert _decide(client, house, neighbour, result="stable", basis="registered_lease").status_code == 302
    db_session.rollback()
    results = {c.person_id: c.result for c in db_session.scalars(select(ResidenceCheck))}
    assert results == {refused.id: "refused", neighbour.id: "stable"}
    page = client.get(f"/houses/{house.id}").get_data(as_text=True)
    assert "核实不予认定" not in page  # not the house's verdict (the decisions table still lists it)


def test_two_certificate_forms_at_the_same_moment_issue_one(engine, area, db_session) -> None:  # type: ignore[no-untyped-def]
    """A true double-post: the second request checks for today's certificate while the first
    has written its own but not yet committed. On PostgreSQL both passed the check and two
    certificates were issued; the race is made certain, not left to timing. (SQLite runs one
    writer at a time: the second waits at its BEGIN IMMEDIATE and then sees the first.)"""
    from sqlalchemy.orm import Session

    from tests.races import first_writes_then_second
    from webapp.base.timeutil import local_today
    from webapp.registry import residence_decisions
    from webapp.registry.rules.settings import default_settings

    house_id, person_id = area.houses["A2"].id, area.persons["A2"].id
    by = area.users["committee"].id

    def post(_name: str, session: Session) -> str:
        house, person = session.get(House, house_id), session.get(Person, person_id)
        try:
            check = residence_decisions.decide(session, house, person, result="stable", basis="registered_lease",
                                               note=None, by_user_id=by, today=local_today(),
                                               settings=default_settings())
        except residence_decisions.DecisionError as refused:
            session.rollback()
            return refused.zh
        return f"issued {check.certificate_no}"

    results = first_writes_then_second(engine, post)
    db_session.rollback()
    [issued] = db_session.scalars(select(ResidenceCheck.certificate_no)).all()
    assert results == {"first": f"issued {issued}", "second": f"今天已为此人出具证明（编号 {issued}），不再重复出具"}
