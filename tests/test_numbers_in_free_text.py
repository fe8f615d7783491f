"""Free text that others read whole (a resident's report on the plate page, a community
reporter's report) refuses an ID or mobile number typed in it: the task's text reaches the
workers' phones and the police in clear. One detector, webapp.validation.names_id_or_mobile."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import csrf_token, login
from tests.plating import give_plate
from webapp.models import Task
from webapp.validation import names_id_or_mobile

REFUSED = {"zh-CN": "请不要在说明中填写证件号码或手机号码；联系电话请填在电话栏。",
           "en": "Please don't type ID or phone numbers in the description; put a contact phone in the phone field."}
REFUSED_REPORTER = {"zh-CN": "请不要在说明中填写证件号码或手机号码。",
                    "en": "Please don't type ID or phone numbers in the description."}


@pytest.mark.parametrize("text", [
    "310117199001011234", "身份证31011719900101123X", "31011719900101123x号",
    "３１０１１７１９９００１０１１２３４",  # full-width, as a Chinese IME types it
    "3101 1719 9001 0112 34", "310117-19900101-1234", "310 117 1990 0101 123 x",
    "310117900101123",  # the old 15-digit form
    "13812345678", "电话：13812345678。", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678",
    "１３８－１２３４－５６７８", "１９９　１２３４　５６７８",  # full-width hyphens, ideographic spaces
    "王某 310117199001011234 13812345678",  # two numbers one space apart
    "\u0661\u0663\u0668\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668",  # another script's digits
])
def test_numbers_as_people_type_them_are_found(text: str) -> None:
    assert names_id_or_mobile(text), text


@pytest.mark.parametrize("text", [
    "", "地下室住人", "1201室搬来两位租客", "3楼", "2026-12-07", "2026-12-07 13:30", "上周六 2026年12月5日",
    "1301 1302 1303 三户", "13-501-1201", "12812345678", "1381234567", "138123456789",
    "12345678901234", "1234567890123456",  # neither an ID number's length nor a mobile
    "工单20261207123", "门牌 A1CODE0001",
])
def test_ordinary_text_passes(text: str) -> None:
    assert not names_id_or_mobile(text), text


@pytest.fixture
def code(area, db_session: Session) -> str:  # type: ignore[no-untyped-def]
    return give_plate(db_session, area.houses["A1"])


def _tasks(db_session: Session) -> int:
    db_session.rollback()
    return db_session.scalar(select(func.count()).select_from(Task)) or 0


def _send(client, code: str, language: str, **data: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, f"/h/{code}")
    return client.post(f"/h/{code}", data={"csrf_token": token, **data}, headers={"Accept-Language": language},
                       environ_base={"REMOTE_ADDR": "203.0.113.9"})


@pytest.mark.parametrize("language", ["zh-CN", "en"])
@pytest.mark.parametrize("text", ["302室住了王某，身份证3101 1719 9001 0112 34", "房东电话 １３８－１２３４－５６７８"])
def test_the_plate_page_refuses_a_number_in_the_text(client, area, code, db_session, text, language) -> None:  # type: ignore[no-untyped-def]
    response = _send(client, code, language, kind="moved_in", text=text, contact_phone="13912345678")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert REFUSED[language] in html.unescape(page)
    assert text in html.unescape(page)  # the form comes back as typed: nothing is lost
    assert _tasks(db_session) == 0


def test_the_plate_page_takes_ordinary_text_and_a_phone_in_its_field(client, area, code, db_session) -> None:  # type: ignore[no-untyped-def]
    response = _send(client, code, "zh-CN", kind="moved_in", text="1201室搬来两位租客，2026-12-07起，3楼",
                     contact_phone="13912345678")
    assert response.status_code == 303
    assert _tasks(db_session) == 1


@pytest.fixture
def reporter(area, db_session):  # type: ignore[no-untyped-def]
    user = f.user(db_session, "rep", "reporter", display_name="赵楼组长", committee_id=area.committees["A"].id)
    db_session.commit()
    return user


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_a_community_report_refuses_a_number_in_the_text(client, area, reporter, db_session, language) -> None:  # type: ignore[no-untyped-def]
    login(client, "rep")
    url = f"/community/houses/{area.houses['A1'].id}/report"
    typed = "群租，联系人13812345678"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "kind": "problem",
                                      "reporting_as": "volunteer", "text": typed},
                           headers={"Accept-Language": language})
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert REFUSED_REPORTER[language] in page and typed in page
    assert _tasks(db_session) == 0
    ok = client.post(url, data={"csrf_token": csrf_token(client, url), "kind": "problem",
                                "reporting_as": "volunteer", "text": "1201室群租"})
    assert ok.status_code == 302
    assert _tasks(db_session) == 1
