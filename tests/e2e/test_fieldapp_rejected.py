"""A change the server refuses: the outbox shows it with the server's reason (zh and en), the
coordinator fixes it in the resend form — which runs the same checks as the add form — and it
syncs, with what it blocked, exactly once."""
from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from webapp import validation
from webapp.models import Person, Residency


def _wrong_check(number: str) -> str:
    """The same number with another check character: what a typo in the last digit gives."""
    return number[:17] + ("1" if number[17] != "1" else "2")


def _server_error(number: str) -> validation.FieldError:
    try:
        validation.parse_person_id(number, "resident")
    except validation.ValidationError as error:
        return error.errors[0]
    raise AssertionError(f"{number} passes the server's checks")


def _add_form_message(page: Page, house: str, number: str) -> str:
    """What the add-occupant form says about this ID number (then leaves without saving)."""
    fa.go(page, f"#/house/{house}/add-person")
    page.fill("[name=name]", "试填")
    page.fill("[name=id_number]", number)
    page.click("button[type=submit]")
    error = page.locator('[data-error-for="id_number"]')
    expect(error).to_be_visible()
    text = error.inner_text()
    fa.go(page, f"#/house/{house}")
    return text


def test_rejected_entry_is_fixed_and_resent(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    house = area.houses[0]
    good = fa.fresh_id()
    bad = _wrong_check(good)
    refused = _server_error(bad)
    assert refused.code == "id.check"
    name = f"退回{uuid.uuid4().hex[:4]}"
    # Queued as an older build of the app would have (its form did not check the number): the
    # server's own rule (sync/validate.py → validation.parse_person_id) is the one that refuses.
    fa.queue(page, fa.occupant_mutations(house, name, bad))
    result = fa.sync(page)
    assert result["ok"], result
    states = sorted(e["state"] for e in fa.outbox(page))
    assert states == ["blocked", "rejected"]  # the residency waits for its person

    fa.go(page, "#/outbox")
    expect(page.locator("#rejected-count")).to_have_text("1")
    form = page.locator("form.rejected")
    expect(form).to_have_count(1)
    error = form.locator('[data-error-for="id_number"]')
    expect(error).to_have_text(refused.zh)
    expect(form.locator("[name=id_number]")).to_have_value(bad)  # what was sent, to correct
    expect(form.locator(".blocked-group")).to_contain_text(f"登记入住 · {name}")  # what it blocks is resent with it
    page.click("#lang")
    expect(page.locator("form.rejected [data-error-for=id_number]")).to_have_text(refused.en)
    page.click("#lang")

    # A fix that is still wrong is refused on the phone, in the add form's words.
    worse = _wrong_check(fa.fresh_id())
    expected = _add_form_message(page, house, worse)
    assert expected == _server_error(worse).zh
    fa.block_sync(page)  # nothing may leave the phone for a refused fix
    fa.go(page, "#/outbox")
    page.fill("form.rejected [name=id_number]", worse)
    page.click("form.rejected button[type=submit]")
    expect(page.locator("form.rejected [data-error-for=id_number]")).to_have_text(expected)
    assert sorted(e["state"] for e in fa.outbox(page)) == ["blocked", "rejected"]

    page.fill("form.rejected [name=id_number]", good)
    page.click("form.rejected button[type=submit]")
    expect(page.locator("form.rejected")).to_have_count(0)
    expect(page.locator("#pending-count")).to_have_text("2")
    fa.unblock_sync(page)
    result = fa.sync(page)
    assert result["ok"], result
    assert fa.outbox(page) == []
    # The phone's own copy shows the corrected number, masked.
    fa.go(page, f"#/house/{house}")
    row = page.locator("#occupants li", has_text=name)
    expect(row).to_contain_text(good[:3])
    expect(row).to_contain_text(good[-4:])
    expect(row).not_to_contain_text(bad[-4:])

    with Session(live_server.engine) as s:
        people = s.scalars(select(Person).where(Person.name == name)).all()
        assert [p.id_number for p in people] == [good]
        stays = s.scalar(select(func.count()).select_from(Residency).where(Residency.person_id == people[0].id))
        assert stays == 1
