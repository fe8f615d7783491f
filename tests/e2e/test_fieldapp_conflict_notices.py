"""Readable outcomes (issue 16 §5): a change the registry could not take says whose record (name,
address), which field in Chinese, what this phone sent and what the registry holds, and that the
centre decides; a toast says so after the sync. Once the centre decides, the phone shows the
decision once ("中心已采用…") and the notice goes."""
from __future__ import annotations

import uuid


from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.resolve import Decision, open_case, resolve
from tests import factories as f
from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from webapp.models import Conflict, Person, User


def _centre(server: LiveServer) -> int:
    with Session(server.engine) as s:
        user = s.scalar(select(User).where(User.username == "centre_notices"))
        if user is None:
            user = f.user(s, "centre_notices", "centre")
            s.commit()
        return user.id


def _decide(server: LiveServer, person_id: str, **choices: Decision) -> None:
    by = _centre(server)
    with Session(server.engine) as s:
        conflict = s.scalars(select(Conflict).where(Conflict.record_id == uuid.UUID(person_id),
                                                    Conflict.resolved_at.is_(None))).one()
        case = open_case(s, conflict)
        resolve(s, case, choices, by, expected_version=case.target.version if case.target else None)
        s.commit()


def _edit(page: Page, house: str, person: str, **values: str) -> None:
    fa.go(page, f"#/house/{house}/person/{person}/edit")
    for name, value in values.items():
        page.fill(f"[name={name}]", value)
    page.click("button[type=submit]")
    fa.wait(page, "location.hash === arg", f"#/house/{house}")


def test_a_conflict_reads_as_words_and_clears_once_decided(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server, houses=1)
    fa.app_login(page, area.username)
    page.context.set_offline(True)
    _edit(page, area.houses[0], area.person_id, phone="13911112222")
    with Session(live_server.engine) as s:  # meanwhile the committee corrected the same phone
        person = s.get(Person, uuid.UUID(area.person_id))
        assert person is not None
        person.set_phone("13700001111")
        s.commit()
    page.context.set_offline(False)
    fa.sync(page)
    expect(page.locator("#toast")).to_contain_text("1条修改与登记库不一致，已转中心处理")
    fa.go(page, "#/outbox")
    notice = page.locator("#conflicts .conflict")
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text(f"修改人员信息 · {area.person_name} · 谷阳北路100号1号楼101室")
    field = notice.locator("[data-field=phone]")
    expect(field).to_contain_text("手机号码：")
    expect(field.locator(".sent")).to_have_text("本机： 13911112222")
    expect(field.locator(".registry")).to_contain_text("登记库： 13700001111")
    expect(notice.locator(".outcome")).to_have_text("已转中心，由中心裁决；在此之前以登记库为准")
    # Kept sealed at rest like the rest of a person's data (SECURITY.md, "What a phone holds").
    assert fa.in_clear(fa.idb_dump(page), ["13911112222", "13700001111"]) == []
    # The phone shows the registry's value meanwhile, not its own as if it had been saved.
    fa.go(page, f"#/house/{area.houses[0]}")
    expect(page.locator(f"#occupants li[data-person='{area.person_id}']")).to_contain_text("137****1111")

    _decide(live_server, area.person_id, phone=Decision("take"))
    fa.sync(page)
    expect(page.locator("#toast")).to_contain_text("中心已处理您的1条修改")
    fa.go(page, "#/outbox")
    expect(page.locator("#conflicts")).to_have_count(0)
    decided = page.locator("#decided .conflict")
    expect(decided).to_have_count(1)
    expect(decided.locator("[data-field=phone] .decision")).to_have_text(" · 中心已采用本机的值 13911112222")
    expect(decided.locator(".outcome")).to_have_text("中心已采用本机的修改")
    assert fa.in_clear(fa.idb_dump(page), ["13911112222", "13700001111"]) == []
    fa.go(page, f"#/house/{area.houses[0]}")
    expect(page.locator(f"#occupants li[data-person='{area.person_id}']")).to_contain_text("139****2222")
    # Shown once: after the next sync it is gone.
    fa.sync(page)
    fa.go(page, "#/outbox")
    expect(page.locator("#decided")).to_have_count(0)
    expect(page.locator("#conflicts")).to_have_count(0)
    assert fa.meta(page, "conflicts") == []


def test_a_kept_registry_value_is_said_so(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server, houses=1)
    fa.app_login(page, area.username)
    page.context.set_offline(True)
    _edit(page, area.houses[0], area.person_id, name=f"改名{area.tag}")
    with Session(live_server.engine) as s:
        person = s.get(Person, uuid.UUID(area.person_id))
        assert person is not None
        person.name = f"中心名{area.tag}"
        s.commit()
    page.context.set_offline(False)
    fa.sync(page)
    _decide(live_server, area.person_id, name=Decision("keep"))
    fa.sync(page)
    fa.go(page, "#/outbox")
    decided = page.locator("#decided .conflict")
    expect(decided.locator("[data-field=name]")).to_contain_text(f"姓名：本机： 改名{area.tag} · 登记库： 中心名{area.tag}")
    expect(decided.locator("[data-field=name] .decision")).to_have_text(f" · 中心已采用登记库的值 中心名{area.tag}")
    expect(decided.locator(".outcome")).to_have_text("中心已采用登记库的值，本机的修改未采用")
    fa.go(page, f"#/house/{area.houses[0]}")
    expect(page.locator("#occupants .name")).to_have_text(f"中心名{area.tag}")

