"""The public plate page /h/<code>: the address and public information, never personal data."""
from __future__ import annotations

import uuid
from datetime import date
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import login, valid_id
from tests.plating import give_plate
from webapp.models import House, HouseCode, Unit
from webapp.registry.plates import candidate_code, spaced
from webapp.validation import make_temp_house_code, mask_id, mask_phone


@pytest.fixture
def crowded(area, db_session: Session):  # type: ignore[no-untyped-def]
    """House A1 with a plate, four current occupants, one past occupant and a unit."""
    house = area.houses["A1"]
    people = [area.persons["A1"]]
    for i, (name, first17, phone) in enumerate([
        ("欧阳娜娜", "31011719900307112", "13912340001"),
        ("司马相如", "31011719851111223", "15800009999"),
        ("Jane Example", "44052419880101001", "17722223333"),
    ]):
        person = f.person(db_session, name=name, id_number=valid_id(first17), phone=phone)
        f.residency(db_session, person, house, start_date=date(2024, 1, 1 + i))
        people.append(person)
    former = f.person(db_session, name="诸葛旧住", id_number=valid_id("32010219700101334"), phone="13600001111")
    f.residency(db_session, former, house, start_date=date(2020, 1, 1), end_date=date(2023, 6, 30))
    people.append(former)
    db_session.add(Unit(name="隐秘贸易有限公司", house_id=house.id,
                        contacts=[{"name": "钱多多", "phone": "13055556666", "role": "法人"}]))
    db_session.commit()
    return house, give_plate(db_session, house), people


def _personal_strings(people) -> list[str]:  # type: ignore[no-untyped-def]
    out = []
    for p in people:
        out += [p.name, p.id_number, mask_id(p.id_number), p.id_number[-6:], p.phone, mask_phone(p.phone)]
    return out + ["钱多多", "13055556666", mask_phone("13055556666"), "隐秘贸易有限公司"]


@pytest.mark.parametrize("who", [None, "centre"])
def test_page_shows_the_address_and_no_personal_data(client, area, crowded, who) -> None:  # type: ignore[no-untyped-def]
    house, code, people = crowded
    if who:
        login(client, who)  # a logged-in worker scanning a plate sees the public page too
    response = client.get(f"/h/{code}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert house.address in html and spaced(code) in html
    assert area.committees["A"].name in html
    for text in _personal_strings(people):
        assert text not in html, text
    # Nothing that counts occupants either, and no console navigation.
    for word in ("Occupant", "在住人员", "曾住人员", "action=\"/search\"", "/logout", "/persons/"):
        assert word not in html, word
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["Cache-Control"] == "no-store"
    assert "style-src 'self'" in response.headers["Content-Security-Policy"]
    assert "style=" not in html and "<script>" not in html


def test_service_phone_and_notice_come_from_settings(app, client, crowded) -> None:  # type: ignore[no-untyped-def]
    _house, code, _people = crowded
    app.config.update(PUBLIC_SERVICE_PHONE="021-57830000", PUBLIC_NOTICE="每周六上午居委会值班")
    html = client.get(f"/h/{code}").get_data(as_text=True)
    assert "021-57830000" in html and "每周六上午居委会值班" in html


def test_code_is_read_as_people_type_it(client, crowded) -> None:  # type: ignore[no-untyped-def]
    house, code, _people = crowded
    for typed in (code.lower(), spaced(code), code.replace("0", "O")):
        response = client.get(f"/h/{quote(typed)}")
        assert response.status_code == 200, typed
        assert house.address in response.get_data(as_text=True)


def test_temporary_and_external_codes_resolve(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    house = area.houses["A2"]
    temp = make_temp_house_code(house.id)
    db_session.add_all([HouseCode(code=temp, kind="temporary", house_id=house.id),
                        HouseCode(code="SJ-310117-00042", kind="external", house_id=house.id)])
    db_session.commit()
    for code in (temp, "SJ-310117-00042"):
        response = client.get(f"/h/{code}")
        assert response.status_code == 200 and house.address in response.get_data(as_text=True)


def test_a_retired_plate_points_nowhere(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    house = area.houses["A1"]
    old = give_plate(db_session, house)
    new = give_plate(db_session, house)
    response = client.get(f"/h/{old}")
    html = response.get_data(as_text=True)
    assert response.status_code == 410
    assert "此门牌已停用" in html and "no longer used" in html
    assert house.address not in html and new not in html and spaced(new) not in html
    assert 'name="kind"' not in html  # no task form on a dead plate


def _bilingual_404(response, *parts: str) -> str:  # type: ignore[no-untyped-def]
    html = response.get_data(as_text=True)
    assert response.status_code == 404, html[:300]
    assert "门牌码无效" in html or "未找到该门牌" in html
    assert "Not a valid house code" in html or "No house has this code" in html
    for part in parts:
        assert part in html
    return html


def test_malformed_codes_answer_a_bilingual_page(client, area, crowded) -> None:  # type: ignore[no-untyped-def]
    _house, code, _people = crowded
    wrong_check = code[:-1] + ("0" if code[-1] != "0" else "1")
    _bilingual_404(client.get(f"/h/{wrong_check}"), "校验不通过", "failed its check")
    _bilingual_404(client.get("/h/ABC"), "现为3位", "got 3")
    _bilingual_404(client.get(f"/h/{candidate_code(uuid.uuid4())}"), "No house has this code")
    _bilingual_404(client.get("/h/%E2%98%83%E2%98%83"))  # snowmen
    _bilingual_404(client.get("/h/a/b/c"))
    long = client.get("/h/" + "A" * 5000)
    assert long.status_code == 400 and "too long" in long.get_data(as_text=True)


@pytest.mark.parametrize("attack", [
    '<script>alert("x")</script>',
    '"><img src=x onerror=alert(1)>',
    "' OR '1'='1",
    "'; DROP TABLE house; --",
    "javascript:alert(1)",
])
def test_injection_in_the_code_is_inert(client, area, db_session, attack: str) -> None:  # type: ignore[no-untyped-def]
    html = _bilingual_404(client.get("/h/" + quote(attack, safe="")))
    assert attack not in html and "<script>alert" not in html and "onerror=alert" not in html
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(House)) == 4


def test_a_removed_house_is_not_found(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    house = db_session.get(House, area.houses["B1"].id)
    code = give_plate(db_session, house)
    house.tombstone(None)
    db_session.commit()
    html = _bilingual_404(client.get(f"/h/{code}"))
    assert house.address not in html


def test_public_page_in_english(client, crowded) -> None:  # type: ignore[no-untyped-def]
    _house, code, _people = crowded
    html = client.get(f"/h/{code}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "Residents' committee" in html


@pytest.mark.parametrize(("language", "words"), [
    ("zh-CN", ("个人信息告知", "手机号码选填", "办结30天后删除")),
    ("en", ("the mobile number is optional", "network address", "erased 30 days after the report is closed")),
])
def test_the_report_form_says_what_is_kept_of_the_resident_and_for_how_long(app, client, area, crowded, language,
                                                                           words) -> None:  # type: ignore[no-untyped-def]
    """PIPL art. 17: before a resident leaves a number, the page says who uses it, for what,
    what else is kept (the address digest) and when both go (the purge's own setting)."""
    _house, code, _people = crowded
    app.config.update(TOMBSTONE_RETENTION_DAYS=30)
    html = client.get(f"/h/{code}", headers={"Accept-Language": language}).get_data(as_text=True)
    notice = html[html.index('id="privacy-notice"'):]
    notice = notice[:notice.index("</p>")]
    for word in (*words, area.committees["A"].name):
        assert word in notice, (word, notice)
