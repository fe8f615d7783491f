"""No English and no raw codes on a Chinese user's screen (issue 18): every console page (every
GET route of the app that answers HTML), rendered in zh-CN for every role over the demo
subdistrict, shows no ASCII word outside an allow-list: codes (house, plate, ID and credit
codes, cell codes), units (m²), the data's own words (foreign names, logins), and names the
centre needs verbatim (a command to run). The field app's views are checked the same way in
tests/e2e/test_fieldapp_zh_views.py.

A route this test cannot fill in fails it: a new page must say here what to open it with.
"""
from __future__ import annotations

import re
import uuid
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import login, logout
from webapp.models import Cell, Conflict, Device, House, HouseCode, Person, Residency, Unit, User, cell_coordinator
from webapp.registry.demo import REFERENCE_DATE, generate
from webapp.oversight.grading.drill import METRICS
from webapp.registry.reports import LISTS
from webapp.base.timeutil import utcnow

ROLES = {"centre": "centre", "police": "police", "committee": "jw01", "grid_lead": "wg01", "coordinator": "xg01"}
# Words a Chinese screen may carry as they are: units, file formats the buttons name, and the
# abbreviations Chinese users read as they are.
ALLOWED = {"GPS", "CSV", "XLSX", "Excel", "JSON", "GeoJSON", "PIN", "QR", "ID", "SVG", "UC", "QQ",
           # The language switch names the other language in that language.
           "English", "EN"}
# Code-like words: a plate code's halves, a check code (the plates' alphabet, no I O S V Z).
CODE = re.compile(r"[0-9A-HJ-NP-RT-UW-Y]{4,}")
# Routes that answer no screen (files, JSON, images) or need no role.
# Not screens: files, the API, and the queue's old addresses (/tips..., redirects since issue 20).
NOT_SCREENS = re.compile(r"\.(json|svg|ico|webmanifest)$|\.<fmt>$|^/(static|vendor|api|sw\.js|app/|favicon|tips\b)")
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*")


class _Visible(HTMLParser):
    """The text a person reads: element text and the attributes shown (titles, placeholders,
    labels), not scripts, styles, machine attributes, nor <code> (ids, commands and settings
    shown verbatim to the centre)."""

    SHOWN = ("title", "placeholder", "aria-label", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code"):
            self.skip += 1
        for name, value in attrs:
            if value and (name in self.SHOWN or (tag == "input" and name == "value" and
                                                 ("type", "submit") in attrs)):
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def english(html: str, allowed: set[str]) -> set[str]:
    """ASCII words of the visible text that are neither codes nor allowed."""
    parser = _Visible()
    parser.feed(html)
    out = set()
    text = re.sub(r"https?://\S+", " ", " ".join(parser.parts))  # an address is a code too
    for word in WORD.findall(text):
        letters = re.sub(r"[^A-Za-z]", "", word)
        if len(letters) < 2 or word in allowed or word in ALLOWED or CODE.fullmatch(word):
            continue
        if any(c.isdigit() for c in word) and word == word.upper():
            continue  # a code: 31011719900101123X, 91310117MA1J3K4L5Q, A1CODE0001, C01
        out.add(word)
    return out


@pytest.fixture
def demo(db_session: Session, app) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The demo subdistrict at a tenth of its size, and one of what the demo leaves out: a
    conflict, a campaign, a certificate."""
    from werkzeug.security import generate_password_hash

    from webapp.registry import residence_decisions
    from webapp.registry.rules import RuleSettings
    from webapp.oversight.tasks.campaigns import open_campaign

    s = db_session
    generate(s, scale=0.1, password_hash=generate_password_hash("pw", method="pbkdf2:sha256:1"))
    s.commit()
    xg01 = s.scalar(select(User).where(User.username == "xg01"))
    cell = s.scalar(select(Cell).join(cell_coordinator, cell_coordinator.c.cell_id == Cell.id)
                    .where(cell_coordinator.c.user_id == xg01.id).order_by(Cell.code))
    house = s.scalar(select(House).join(Residency, Residency.house_id == House.id)
                     .where(House.cell_id == cell.id, Residency.end_date.is_(None)).order_by(House.road))
    person = s.scalar(select(Person).join(Residency, Residency.person_id == Person.id)
                      .where(Residency.house_id == house.id, Residency.end_date.is_(None)))
    unit = s.scalar(select(Unit).join(House, House.id == Unit.house_id).where(House.cell_id == cell.id)) or \
        s.scalar(select(Unit))
    if unit.house_id is None or s.get(House, unit.house_id).cell_id != cell.id:
        unit.house_id = house.id
    s.add(Conflict(kind="field", record_type="house", record_id=house.id, house_id=house.id, cell_id=cell.id,
                   committee_id=cell.committee_id, base_values={"use": "owner_occupied"},
                   registry_values={"use": "rented"}, device_values={"use": "idle"}, detail={"fields": ["use"]}))
    campaign = open_campaign(s, name="重点区域排查", starts_on=date(2026, 1, 1), due_on=date(2030, 1, 1),
                             by_user_id=None, cell_ids={cell.id})[0]
    centre = s.scalar(select(User).where(User.username == "centre"))
    check = residence_decisions.decide(s, house, person, result="refused", basis=None, note="未实际居住",
                                       by_user_id=centre.id, today=REFERENCE_DATE, settings=RuleSettings())
    check.result, check.basis, check.note = "stable", "owned", None
    check.certificate_no, check.check_code = "202600000001", "ABCDEF"
    # A phone of the coordinator, named by its browser as the app does (platform / user agent).
    s.add(Device(user_id=xg01.id, token_hash="0" * 64, label="Linux armv8l / Mozilla/5.0 (Linux; Android 13; 22081212C) "
                 "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"[:100], app_version="0.6.0"))
    s.commit()
    plate = s.scalar(select(HouseCode.code).where(HouseCode.house_id == house.id, HouseCode.kind == "plate"))
    allowed = set(s.scalars(select(User.username)))
    for name in s.scalars(select(Person.name).where(Person.id_type.in_(("passport", "foreign_permanent")))):
        allowed |= set(WORD.findall(name or ""))
    return {"cell_id": cell.id, "house_id": house.id, "person_id": person.id, "unit_id": unit.id,
            "committee_id": cell.committee_id, "campaign_id": campaign.id, "check_id": check.id,
            "conflict_id": s.scalar(select(Conflict.id)), "user_id": xg01.id, "code": plate,
            "y": REFERENCE_DATE.year, "allowed": allowed}


def _urls(app, demo: dict[str, Any]) -> list[str]:  # type: ignore[no-untyped-def]
    """Every screen of the app, filled in with the demo's records (several for a list name)."""
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or NOT_SCREENS.search(rule.rule):
            continue
        choices: list[dict[str, Any]] = [{}]
        for arg in rule.arguments:
            if arg == "name":
                values = list(LISTS)
            elif arg == "metric":
                values = list(METRICS)
            elif arg in demo:
                values = [demo[arg]]
            else:
                raise AssertionError(f"{rule.rule}: say here what to open it with ({arg})")
            choices = [{**c, arg: v} for c in choices for v in values]
        out += [_build(app, rule.endpoint, c) for c in choices]
    return sorted(set(out))


def _build(app, endpoint: str, values: dict[str, Any]) -> str:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **values)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_no_english_on_a_chinese_screen(client, app, demo, role: str) -> None:  # type: ignore[no-untyped-def]
    login(client, ROLES[role], password="pw")
    found: dict[str, set[str]] = {}
    seen = 0
    for url in _urls(app, demo):
        response = client.get(url, headers={"Accept-Language": "zh-CN"})
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        seen += 1
        words = english(response.get_data(as_text=True), demo["allowed"])
        if words:
            found[url] = words
    assert seen > 20
    assert not found, found
    logout(client)


def test_the_public_page_and_the_login_are_chinese(client, demo) -> None:  # type: ignore[no-untyped-def]
    for url in ("/login", f"/h/{demo['code']}", f"/h/{demo['code']}?certificate=202600000001&check=ABCDEF"):
        response = client.get(url, headers={"Accept-Language": "zh-CN"})
        assert response.status_code == 200
        assert english(response.get_data(as_text=True), demo["allowed"]) == set(), url


def test_the_nav_names_the_task_page_as_the_page_does(client, area) -> None:  # type: ignore[no-untyped-def]
    """Issue 18: the nav said 线索 for a page titled 待办任务 (and "Tasks" for "Tasks")."""
    login(client, "centre", password="pw")
    for language, word in (("zh-CN", "待办任务"), ("en", "Tasks")):
        html = client.get("/tasks", headers={"Accept-Language": language}).get_data(as_text=True)
        assert f'<a href="/tasks">{word}</a>' in html and f"<h1>{word} " in html, language


def test_the_move_out_task_reads_in_chinese() -> None:
    """Issue 18: "登记在新住址，请上门确认迁出 / registered at a new address: confirm the move-out
    (<uuid>)" was the task's text; now its name and what to do, in Chinese only."""
    from sync.moves import _move_out_task

    task = _move_out_task({"id": uuid.uuid4(), "cell_id": uuid.uuid4()}, "王小明", utcnow())
    assert task["text"] == "王小明已在别处登记入住，请上门确认是否已从本户迁出"
    assert english(f"<p>{task['text']}</p>", set()) == set()


def test_a_phone_is_named_as_people_name_it(app) -> None:  # type: ignore[no-untyped-def]
    from webapp.devices.labels import device_name

    ua = "Linux armv8l / Mozilla/5.0 (Linux; Android 13; 22081212C) AppleWebKit/537.36 Chrome/131.0.0.0 Mobile"
    wechat = "iPhone / Mozilla/5.0 (iPhone; CPU iPhone OS 17_1) AppleWebKit Mobile/15E148 MicroMessenger/8.0.44"
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert device_name(ua) == "安卓手机 · 谷歌浏览器 131"
        assert device_name(wechat) == "苹果手机 · 微信内置浏览器 8"
        assert device_name(None) == "手机"
        assert device_name("Redmi A") == "Redmi A"  # a name given, kept


def test_the_check_finds_english() -> None:
    """The guard works: English words and lower-case tokens are found, codes and units are not."""
    html = ('<p title="Save it">保存 A1CODE0001 91310117MA1J3K4L5Q 12.5 m² <b>tenant</b> xg01</p>'
            '<script>const english = "ignored";</script>')
    assert english(html, {"xg01"}) == {"Save", "it", "tenant"}


def test_my_area_counts_households_and_persons_apart(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    """Issue 18: 我的区域's "住户" column counted persons. A family of two and a lodger on their
    own, with the person already there: 3 households (住户), 4 persons living there."""
    from tests import factories as f

    s = db_session
    house = area.houses["A1"]
    family = uuid.uuid4()
    for name, household in (("户主", family), ("配偶", family), ("租客", None)):
        f.residency(s, f.person(s, name=name), house, household_id=household)
    s.commit()
    login(client, "centre", password="pw")
    html = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    row = re.search(rf"{area.cells['A1'].code} [^<]*</a></td>(.*?)</tr>", html, re.S)
    assert row is not None
    assert re.findall(r'<td class="num">(\d+)</td>', row.group(1)) == ["1", "3", "4"]
    assert "户数" in html and "在住人数" in html
